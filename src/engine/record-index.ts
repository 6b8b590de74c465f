import type { PeersetRecord } from '../record/types.js'
import { ExpiryQueue } from './expiry-queue.js'
import { packRecord, unpackRecord, type PackedRecord } from './packed-record.js'

/** What the record index needs from the per-bucket fingerprint index (sync's `BucketIndex`). */
export interface BucketMembership {
  add(id: string, createdAtSeconds: number): void
  remove(id: string): void
}

/** What a query of live records filters on (see {@link RecordIndex.query}). */
export interface RecordFilter {
  author?: string | undefined
  since?: number | undefined
  until?: number | undefined
}

/**
 * The engine's in-memory view of the committed records (the seed's `recordStore`): by id, by
 * (author, uuid) — a record's address — and by author. It mirrors storage exactly: the engine
 * changes it only after a write has committed, and rebuilds it from storage on open.
 * Every change is O(1) and is forwarded to the bucket index, which keeps the fingerprints.
 *
 * Records are held packed (see `packed-record.ts`): `get`, `atAddress`, `values` and `query`
 * return a plain object equal to the record added (the same object while it is among the last
 * {@link UNPACKED_CACHE_SIZE} read by `get` or `atAddress`; otherwise a new one). An author's and a uuid's strings
 * are held once (the maps' keys), however many records share them, and go with their last record;
 * the room hash is shared with the record added before (one room: one string).
 *
 * Withdrawals (tombstones, `record.withdrawn`) are held like records — by id, at their address, in
 * the buckets (so sync carries them) and in the expiry queue — but they are not *live*: `size`,
 * `authorCount`, `idsOfAuthor`, `values` and `query` see live records only, and
 * `withdrawalsOfAuthor` the tombstones.
 */
export class RecordIndex {
  readonly #byId = new Map<string, PackedRecord>()
  /** By uuid: the id at that uuid, or several when authors share a uuid (each address has one). */
  readonly #byUuid = new Map<string, string | string[]>()
  /** An author's live ids: one id as a string, more as a set (most authors hold few records). */
  readonly #byAuthor = new Map<string, string | Set<string>>()
  readonly #withdrawalsByAuthor = new Map<string, string | Set<string>>()
  #withdrawals = 0
  readonly #buckets: BucketMembership
  /** Records with a NIP-40 expiration, soonest first. */
  readonly #expiring = new ExpiryQueue()
  #newestFirst: PackedRecord[] | undefined
  /**
   * The records last unpacked, most recent last (at most {@link UNPACKED_CACHE_SIZE}):
   * moderation reads an author's records for each record it reviews, and a record being synced is
   * read several times, so these are not unpacked again each time.
   */
  readonly #unpacked = new Map<string, PeersetRecord>()
  /** The room hash of the last record added, shared by the next ones of that room. */
  #roomHash: string | undefined

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
    const packed = this.#byId.get(id)
    return packed === undefined ? undefined : this.#unpack(packed)
  }

  has(id: string): boolean {
    return this.#byId.has(id)
  }

  /**
   * The creation time (Unix seconds) of a held record: what the bucket index asks when it keeps no
   * times of its own (`new BucketIndex(granularity, { createdAtOf: (id) => index.createdAtOf(id) })`).
   */
  createdAtOf(id: string): number | undefined {
    return this.#byId.get(id)?.createdAt
  }

  /** The current version of the record at (author, uuid), if any. */
  atAddress(author: string, uuid: string): PeersetRecord | undefined {
    const packed = this.#packedAt(author, uuid)
    return packed === undefined ? undefined : this.#unpack(packed)
  }

  /** Ids of an author's live records. */
  idsOfAuthor(author: string): ReadonlySet<string> {
    return asSet(this.#byAuthor.get(author))
  }

  /** Ids of an author's tombstones. */
  withdrawalsOfAuthor(author: string): ReadonlySet<string> {
    return asSet(this.#withdrawalsByAuthor.get(author))
  }

  /** The authors with live records. */
  authors(): IterableIterator<string> {
    return this.#byAuthor.keys()
  }

  /** Add a record. The caller has made sure its address is free (see `atAddress`). */
  add(record: PeersetRecord): void {
    if (!this.#byId.has(record.id)) this.#insert(record, this.#byUuid.get(record.uuid))
  }

  /**
   * Add a record read from storage, unless the version held at its address supersedes it; a
   * version it supersedes is removed first. Returns the id left out (the record's own, or the one
   * it replaced), if any. One lookup of the uuid when the address is free (100k times on open).
   */
  addNewest(record: PeersetRecord): string | undefined {
    if (this.#byId.has(record.id)) return undefined
    const atUuid = this.#byUuid.get(record.uuid)
    if (atUuid === undefined) {
      this.#insert(record, undefined)
      return undefined
    }
    const current = this.#packedAt(record.author, record.uuid)
    if (current === undefined) {
      this.#insert(record, atUuid)
      return undefined
    }
    if (!supersedes(record, current)) return record.id
    this.remove(current.id)
    this.add(record)
    return current.id
  }

  /** Index a record whose id is new; `atUuid` is what `#byUuid` holds at its uuid. */
  #insert(record: PeersetRecord, atUuid: string | string[] | undefined): void {
    if (record.roomHash !== this.#roomHash) this.#roomHash = record.roomHash
    // One lookup per map (this runs 100k times on open): the ids at the uuid and the author's ids
    // give the strings to share, and are then extended.
    const uuid = atUuid === undefined ? record.uuid : (this.#byId.get(typeof atUuid === 'string' ? atUuid : atUuid[0]!)?.uuid ?? record.uuid)
    const byAuthor = record.withdrawn ? this.#withdrawalsByAuthor : this.#byAuthor
    const ids = byAuthor.get(record.author)
    const author = this.#sharedAuthor(record.author, ids ?? (record.withdrawn ? this.#byAuthor : this.#withdrawalsByAuthor).get(record.author))
    const packed = packRecord(record, author, uuid, this.#roomHash)
    this.#byId.set(packed.id, packed)
    this.#byUuid.set(uuid, atUuid === undefined ? packed.id : [...(typeof atUuid === 'string' ? [atUuid] : atUuid), packed.id])
    if (packed.withdrawn) this.#withdrawals++
    if (ids === undefined) byAuthor.set(author, packed.id)
    else if (typeof ids === 'string') byAuthor.set(author, new Set([ids, packed.id]))
    else ids.add(packed.id)
    this.#buckets.add(packed.id, packed.createdAt)
    if (packed.expiresAt !== undefined) this.#expiring.add(packed.id, packed.expiresAt)
    this.#newestFirst = undefined
  }

  /** Remove a record by id; returns it, or undefined if it was not there. */
  remove(id: string): PeersetRecord | undefined {
    const packed = this.#byId.get(id)
    if (!packed) return undefined
    // First the buckets: they may ask this index for the id's creation time (see `createdAtOf`).
    this.#buckets.remove(id)
    this.#byId.delete(id)
    const cached = this.#unpacked.get(id)
    this.#unpacked.delete(id)
    const atUuid = this.#byUuid.get(packed.uuid)
    if (atUuid === id) this.#byUuid.delete(packed.uuid)
    else if (Array.isArray(atUuid)) {
      const others = atUuid.filter((other) => other !== id)
      this.#byUuid.set(packed.uuid, others.length === 1 ? others[0]! : others)
    }
    if (packed.withdrawn) this.#withdrawals--
    removeId(packed.withdrawn ? this.#withdrawalsByAuthor : this.#byAuthor, packed.author, id)
    this.#newestFirst = undefined
    if (packed.expiresAt !== undefined) this.#expiring.compact(this.#byId.size, this.#isLive)
    return cached ?? unpackRecord(packed)
  }

  /**
   * Ids of the records whose NIP-40 `expiration` is at or before `nowSeconds` (O(k log n) for k of
   * them, through a min-heap: the prune tick does not scan the index).
   */
  expiredBy(nowSeconds: number): string[] {
    return this.#expiring.expiredBy(nowSeconds, this.#isLive)
  }

  readonly #isLive = (id: string, at: number): boolean => this.#byId.get(id)?.expiresAt === at

  /**
   * Live records newest first (creation time, then id), filtered, from `offset`, at most `limit`.
   * The order is cached until the next change; only the records returned are unpacked.
   */
  query(filter: RecordFilter = {}, offset = 0, limit?: number): PeersetRecord[] {
    const { author, since, until } = filter
    this.#newestFirst ??= [...this.#byId.values()].filter((p) => !p.withdrawn).sort(compareNewestFirst)
    const out: PeersetRecord[] = []
    let skip = offset
    for (const p of this.#newestFirst) {
      if (limit !== undefined && out.length >= limit) break
      if ((author !== undefined && p.author !== author) || (since !== undefined && p.createdAt < since) || (until !== undefined && p.createdAt > until)) continue
      if (skip > 0) skip--
      else out.push(unpackRecord(p))
    }
    return out
  }

  /** Every record held, tombstones included, unpacked one at a time. */
  *all(): IterableIterator<PeersetRecord> {
    for (const packed of this.#byId.values()) yield unpackRecord(packed)
  }

  /** Every live record (tombstones left out), unpacked one at a time. */
  *values(): IterableIterator<PeersetRecord> {
    for (const packed of this.#byId.values()) if (!packed.withdrawn) yield unpackRecord(packed)
  }

  #unpack(packed: PackedRecord): PeersetRecord {
    const cached = this.#unpacked.get(packed.id)
    if (cached !== undefined) {
      // Most recent last.
      this.#unpacked.delete(packed.id)
      this.#unpacked.set(packed.id, cached)
      return cached
    }
    const record = unpackRecord(packed)
    this.#remember(record)
    return record
  }

  #remember(record: PeersetRecord): void {
    this.#unpacked.set(record.id, record)
    if (this.#unpacked.size > UNPACKED_CACHE_SIZE) this.#unpacked.delete(this.#unpacked.keys().next().value as string)
  }

  #packedAt(author: string, uuid: string): PackedRecord | undefined {
    const atUuid = this.#byUuid.get(uuid)
    if (atUuid === undefined) return undefined
    for (const id of typeof atUuid === 'string' ? [atUuid] : atUuid) {
      const packed = this.#byId.get(id)
      if (packed !== undefined && packed.author === author) return packed
    }
    return undefined
  }

  /** The author string a held record already uses (one of `ids`, the author's), so that it is held once. */
  #sharedAuthor(author: string, ids: string | Set<string> | undefined): string {
    if (ids === undefined) return author
    const id = typeof ids === 'string' ? ids : (ids.values().next().value as string)
    return this.#byId.get(id)?.author ?? author
  }
}

function removeId(map: Map<string, string | Set<string>>, author: string, id: string): void {
  const ids = map.get(author)
  if (ids === id) map.delete(author)
  else if (typeof ids === 'object') {
    ids.delete(id)
    if (ids.size === 1) map.set(author, ids.values().next().value as string)
  }
}

function asSet(ids: string | Set<string> | undefined): ReadonlySet<string> {
  return ids === undefined ? EMPTY : typeof ids === 'string' ? new Set([ids]) : ids
}

const EMPTY: ReadonlySet<string> = new Set()

/** How many unpacked records the index keeps at hand (about 1.5 MB of records of about 450 B). */
export const UNPACKED_CACHE_SIZE = 1_024

/** Newest first: later creation time first; equal times by id, ascending (stable across peers). */
export function compareNewestFirst(a: Pick<PeersetRecord, 'id' | 'createdAt'>, b: Pick<PeersetRecord, 'id' | 'createdAt'>): number {
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
