import type { PeersetRecord } from '../record/types.js'
import { ExpiryQueue } from './expiry-queue.js'

/** What the record index needs from the per-bucket fingerprint index (sync's `BucketIndex`). */
export interface BucketMembership {
  add(id: string, createdAtSeconds: number): void
  remove(id: string): void
}

/**
 * The engine's in-memory view of the committed records (the seed's `recordStore`): by id, by
 * (author, uuid) — a record's address — and by author. It mirrors storage exactly: the engine
 * changes it only after a write has committed, and rebuilds it from storage on open.
 * Every change is O(1) and is forwarded to the bucket index, which keeps the fingerprints.
 *
 * Withdrawals (tombstones, `record.withdrawn`) are held like records — by id, at their address, in
 * the buckets (so sync carries them) and in the expiry queue — but they are not *live*: `size`,
 * `authorCount`, `idsOfAuthor`, `values` and `newestFirst` see live records only, and
 * `withdrawalsOfAuthor` the tombstones.
 */
export class RecordIndex {
  readonly #byId = new Map<string, PeersetRecord>()
  readonly #byAddress = new Map<string, string>()
  readonly #byAuthor = new Map<string, Set<string>>()
  readonly #withdrawalsByAuthor = new Map<string, Set<string>>()
  #withdrawals = 0
  readonly #buckets: BucketMembership
  /** Records with a NIP-40 expiration, soonest first. */
  readonly #expiring = new ExpiryQueue()
  #newestFirst: PeersetRecord[] | undefined

  constructor(buckets: BucketMembership) {
    this.#buckets = buckets
  }

  /** Live records (tombstones not counted). */
  get size(): number {
    return this.#byId.size - this.#withdrawals
  }

  /** Tombstones held. */
  get withdrawalCount(): number {
    return this.#withdrawals
  }

  /** Authors with live records. */
  get authorCount(): number {
    return this.#byAuthor.size
  }

  get(id: string): PeersetRecord | undefined {
    return this.#byId.get(id)
  }

  has(id: string): boolean {
    return this.#byId.has(id)
  }

  /** The current version of the record at (author, uuid), if any. */
  atAddress(author: string, uuid: string): PeersetRecord | undefined {
    const id = this.#byAddress.get(addressOf(author, uuid))
    return id === undefined ? undefined : this.#byId.get(id)
  }

  /** Ids of an author's live records. */
  idsOfAuthor(author: string): ReadonlySet<string> {
    return this.#byAuthor.get(author) ?? EMPTY
  }

  /** Ids of an author's tombstones. */
  withdrawalsOfAuthor(author: string): ReadonlySet<string> {
    return this.#withdrawalsByAuthor.get(author) ?? EMPTY
  }

  /** Add a record. The caller has made sure its address is free (see `atAddress`). */
  add(record: PeersetRecord): void {
    if (this.#byId.has(record.id)) return
    this.#byId.set(record.id, record)
    this.#byAddress.set(addressOf(record.author, record.uuid), record.id)
    const byAuthor = record.withdrawn ? this.#withdrawalsByAuthor : this.#byAuthor
    if (record.withdrawn) this.#withdrawals++
    let ids = byAuthor.get(record.author)
    if (!ids) byAuthor.set(record.author, (ids = new Set()))
    ids.add(record.id)
    this.#buckets.add(record.id, record.createdAt)
    if (record.expiresAt !== undefined) this.#expiring.add(record.id, record.expiresAt)
    this.#newestFirst = undefined
  }

  /** Remove a record by id; returns it, or undefined if it was not there. */
  remove(id: string): PeersetRecord | undefined {
    const record = this.#byId.get(id)
    if (!record) return undefined
    this.#byId.delete(id)
    const address = addressOf(record.author, record.uuid)
    if (this.#byAddress.get(address) === id) this.#byAddress.delete(address)
    const byAuthor = record.withdrawn ? this.#withdrawalsByAuthor : this.#byAuthor
    if (record.withdrawn) this.#withdrawals--
    const ids = byAuthor.get(record.author)
    ids?.delete(id)
    if (ids && ids.size === 0) byAuthor.delete(record.author)
    this.#buckets.remove(id)
    this.#newestFirst = undefined
    if (record.expiresAt !== undefined) this.#expiring.compact(this.#byId.size, this.#isLive)
    return record
  }

  /**
   * Ids of the records whose NIP-40 `expiration` is at or before `nowSeconds` (O(k log n) for k of
   * them, through a min-heap: the prune tick does not scan the index).
   */
  expiredBy(nowSeconds: number): string[] {
    return this.#expiring.expiredBy(nowSeconds, this.#isLive)
  }

  readonly #isLive = (id: string, at: number): boolean => this.#byId.get(id)?.expiresAt === at

  /** Every live record, newest first (creation time, then id). Cached until the next change. */
  newestFirst(): readonly PeersetRecord[] {
    if (!this.#newestFirst) {
      this.#newestFirst = [...this.values()].sort(compareNewestFirst)
    }
    return this.#newestFirst
  }

  /** Every live record (tombstones left out). */
  /** Every record held, tombstones included. */
  all(): IterableIterator<PeersetRecord> {
    return this.#byId.values()
  }

  *values(): IterableIterator<PeersetRecord> {
    for (const record of this.#byId.values()) if (!record.withdrawn) yield record
  }
}

const EMPTY: ReadonlySet<string> = new Set()

function addressOf(author: string, uuid: string): string {
  return `${author}:${uuid}`
}

/** Newest first: later creation time first; equal times by id, ascending (stable across peers). */
export function compareNewestFirst(a: PeersetRecord, b: PeersetRecord): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

/**
 * The replacement rule for two versions of one (author, uuid): the newer creation time wins; on
 * equal times the lower id wins (NIP-01's rule for addressable events). Every peer applies the
 * same rule, so every peer keeps the same version whatever order the versions arrive in.
 * @returns true if `candidate` should replace `current`.
 */
export function supersedes(
  candidate: Pick<PeersetRecord, 'id' | 'createdAt'>,
  current: Pick<PeersetRecord, 'id' | 'createdAt'>,
): boolean {
  if (candidate.createdAt !== current.createdAt) return candidate.createdAt > current.createdAt
  return candidate.id < current.id
}
