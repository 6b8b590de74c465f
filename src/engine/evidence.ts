/**
 * Moderation evidence: the signed records that earned their author a strike here, kept (bounded)
 * so that they can be sent to peers, which run their own moderation on them and so reach the same
 * strikes and bans whoever received the records first. Refused records are never stored as
 * records nor served to `want`s: evidence is a separate, small set, written in the same storage
 * transaction as the ledger change it backs, and pruned when its strike expires.
 */
import type { PeersetRecord } from '../record/types.js'
import { compareRecords } from '../moderation/normalize.js'

/** Evidence kept per author: `min(2 × threshold, 64)`, at least `threshold` (enough to ban again). */
export function evidencePerAuthor(threshold: number): number {
  return Math.max(threshold, Math.min(2 * threshold, 64))
}

/** Most evidence records kept in all (about 6 MB at the largest record size; a few hundred KB typically). */
export const MAX_EVIDENCE = 512

/** The store's metadata key of the evidence ids (each event is under `EVIDENCE_META_PREFIX + id`). */
export const EVIDENCE_META_KEY = 'moderation:evidence'
export const EVIDENCE_META_PREFIX = 'moderation:evidence:'

/** A staged change: evidence added (`record`) or dropped (`null`). */
export type EvidenceChanges = ReadonlyMap<string, PeersetRecord | null>

/** The committed evidence, in memory. */
export class EvidenceSet {
  readonly #byId = new Map<string, PeersetRecord>()
  readonly perAuthor: number
  readonly max: number

  constructor(perAuthor: number, max = MAX_EVIDENCE) {
    this.perAuthor = perAuthor
    this.max = max
  }

  get size(): number {
    return this.#byId.size
  }

  has(id: string): boolean {
    return this.#byId.has(id)
  }

  get(id: string): PeersetRecord | undefined {
    return this.#byId.get(id)
  }

  values(): IterableIterator<PeersetRecord> {
    return this.#byId.values()
  }

  /** Ids, sorted (what the store keeps under {@link EVIDENCE_META_KEY}). */
  ids(): string[] {
    return [...this.#byId.keys()].sort()
  }

  /** Apply a committed batch's changes. */
  apply(changes: EvidenceChanges): void {
    for (const [id, record] of changes) {
      if (record === null) this.#byId.delete(id)
      else this.#byId.set(id, record)
    }
  }
}

/**
 * The evidence as a batch sees it. `add` keeps the caps: an author over `perAuthor` loses its
 * oldest evidence (by createdAt, id); over `max` in all, the oldest evidence of an author with
 * the fewest goes first (a flood of fresh keys with a strike each pushes out its own kind before
 * the records that reproduce a ban).
 */
export class StagedEvidence {
  readonly #base: EvidenceSet
  readonly #changes = new Map<string, PeersetRecord | null>()

  constructor(base: EvidenceSet) {
    this.#base = base
  }

  get changes(): EvidenceChanges {
    return this.#changes
  }

  has(id: string): boolean {
    const staged = this.#changes.get(id)
    return staged === undefined ? this.#base.has(id) : staged !== null
  }

  /** The live evidence (committed plus staged). */
  values(): PeersetRecord[] {
    const out: PeersetRecord[] = []
    for (const record of this.#base.values()) if (!this.#changes.has(record.id)) out.push(record)
    for (const record of this.#changes.values()) if (record !== null) out.push(record)
    return out
  }

  add(record: PeersetRecord): void {
    if (this.has(record.id)) return
    this.#changes.set(record.id, record)
    const ofAuthor = this.values().filter((r) => r.author === record.author).sort(compareRecords)
    for (const old of ofAuthor.slice(0, Math.max(0, ofAuthor.length - this.#base.perAuthor))) this.remove(old.id)
    let all = this.values()
    while (all.length > this.#base.max) {
      const counts = new Map<string, number>()
      for (const r of all) counts.set(r.author, (counts.get(r.author) ?? 0) + 1)
      const victim = all.sort((a, b) => counts.get(a.author)! - counts.get(b.author)! || compareRecords(a, b))[0]!
      this.remove(victim.id)
      all = this.values()
    }
  }

  remove(id: string): void {
    if (this.#changes.get(id) !== undefined && !this.#base.has(id)) this.#changes.delete(id)
    else if (this.#base.has(id)) this.#changes.set(id, null)
  }
}
