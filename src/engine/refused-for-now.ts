/**
 * Records refused for now (a transient refusal: over the author's quota, behind a tombstone, a
 * moderation rule that failed), remembered per author so they are asked for again as soon as a
 * record of that author is removed (withdrawn, replaced, evicted, expired): the place they lacked
 * may be free now. Without this they waited for the next periodic round (30 s).
 *
 * Bounded whatever peers send: a few authors, a few ids each (oldest forgotten first), and each
 * removal re-asks for a few ids only, once (an id refused again is remembered again). An
 * attacker's stream of over-quota records thus costs at most {@link RETRY_PER_REMOVAL} requests
 * per record of theirs that goes.
 */
import type { RetryEntry } from '../sync/index.js'

/** Authors whose refused-for-now ids are remembered (the oldest author is forgotten first). */
export const MAX_AUTHORS_REFUSED_FOR_NOW = 256
/** Refused-for-now ids remembered per author (the oldest is forgotten first). */
export const MAX_REFUSED_FOR_NOW_PER_AUTHOR = 32
/** Ids asked for again per removed record of their author. */
export const RETRY_PER_REMOVAL = 8

/** Ids refused for now, by author, with the bucket they were announced in and the peers that sent them. */
export class RefusedForNow {
  readonly #byAuthor = new Map<string, Map<string, { bucket: number; peerIds: Set<string> }>>()
  /** Records removed so far, per author (the same bound on authors): a refusal judged while one went is retried at once. */
  readonly #removals = new Map<string, number>()

  /** How many records of `author` were removed so far (compare before and after judging a record). */
  removalsOf(author: string): number {
    return this.#removals.get(author) ?? 0
  }

  /** `peerId` sent record `id` of `author` (announced in `bucket`) and it was refused for now. */
  remember(author: string, id: string, bucket: number, peerId: string): void {
    let ids = this.#byAuthor.get(author)
    if (ids) this.#byAuthor.delete(author) // re-inserted at the end: most recently refused author last
    else ids = new Map()
    this.#byAuthor.set(author, ids)
    if (this.#byAuthor.size > MAX_AUTHORS_REFUSED_FOR_NOW) this.#byAuthor.delete(this.#byAuthor.keys().next().value!)
    const known = ids.get(id)
    if (known) return void known.peerIds.add(peerId)
    ids.set(id, { bucket, peerIds: new Set([peerId]) })
    if (ids.size > MAX_REFUSED_FOR_NOW_PER_AUTHOR) ids.delete(ids.keys().next().value!)
  }

  /** `removed` records of `author` went: the ids to ask for again now (forgotten here; oldest refused first). */
  take(author: string, removed: number): RetryEntry[] {
    const count = this.removalsOf(author) + removed
    this.#removals.delete(author)
    this.#removals.set(author, count)
    if (this.#removals.size > MAX_AUTHORS_REFUSED_FOR_NOW) this.#removals.delete(this.#removals.keys().next().value!)
    const ids = this.#byAuthor.get(author)
    if (!ids) return []
    const out: RetryEntry[] = []
    for (const [id, { bucket, peerIds }] of ids) {
      if (out.length >= removed * RETRY_PER_REMOVAL) break
      ids.delete(id)
      out.push({ id, bucket, peerIds: [...peerIds] })
    }
    if (ids.size === 0) this.#byAuthor.delete(author)
    return out
  }

  /** How many ids are remembered, over all authors. */
  get size(): number {
    let n = 0
    for (const ids of this.#byAuthor.values()) n += ids.size
    return n
  }
}
