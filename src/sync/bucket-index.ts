/**
 * The per-bucket id sets (the seed's `uuidStore`, keyed by event id) with a fingerprint per bucket
 * and one over everything. Every add and remove updates them in O(1); nothing is recomputed by
 * scanning while running. Sync reads it; the engine's record index writes it.
 */
import type { Granularity } from '../buckets/types.js'
import { PeersetError } from '../errors.js'
import { isLowerHex } from '../protocol/bytes.js'
import type { BucketFingerprint, BucketWindow, FingerprintValue } from '../protocol/messages.js'
import { Fingerprint } from './fingerprint.js'

/** The fingerprints of the buckets of a window, and their root. */
export interface IndexSummary extends FingerprintValue {
  window: BucketWindow
  /** The non-empty buckets inside the window, in increasing order. */
  buckets: BucketFingerprint[]
}

interface Bucket {
  readonly ids: Set<string>
  readonly fp: Fingerprint
  /** The ids in hex order, built on demand and dropped on change. */
  sorted: string[] | undefined
}

const EMPTY_SET: ReadonlySet<string> = new Set()

/** Options of {@link BucketIndex}. */
export interface BucketIndexOptions {
  /**
   * The owner's own record of each id's creation time (Unix seconds), so that the index keeps
   * no map of its own (one entry less per id). The owner then answers for every id added and not
   * removed: it holds an id before calling `add` and still holds it when calling `remove`, and it
   * forgets the ids that {@link BucketIndex.dropBucketsBefore} returns.
   */
  createdAtOf?: (id: string) => number | undefined
}

/**
 * Which record ids exist, by time bucket, with incremental fingerprints.
 *
 * @example
 * ```ts
 * const index = new BucketIndex(dailyBuckets())
 * index.add(id, 1_767_225_600)          // createdAt in Unix seconds
 * index.summary(dailyBuckets().windowAt(Date.now())) // { window, count: 1, digest, buckets: [{ bucket, count: 1, digest }] }
 * index.dropBucketsBefore(index.bucketOfTime(1_767_312_000)) // [id]
 * ```
 */
export class BucketIndex {
  readonly granularity: Granularity
  /** Each id's creation time in Unix seconds (its bucket is computed from it: no object per id), unless the owner keeps them. */
  readonly #entries: Map<string, number> | undefined
  readonly #createdAtOf: (id: string) => number | undefined
  #size = 0
  readonly #buckets = new Map<number, Bucket>()
  readonly #total = new Fingerprint()
  #sortedBuckets: number[] | undefined = []
  #version = 0
  #rootCache: { oldest: number; newest: number; version: number; value: FingerprintValue } | undefined

  constructor(granularity: Granularity, options: BucketIndexOptions = {}) {
    if (typeof granularity !== 'object' || granularity === null || typeof granularity.bucketOf !== 'function') {
      throw new PeersetError('INVALID_ARGUMENT', 'BucketIndex: expected a Granularity (e.g. dailyBuckets())')
    }
    this.granularity = granularity
    const { createdAtOf } = options
    if (createdAtOf === undefined) {
      const entries = new Map<string, number>()
      this.#entries = entries
      this.#createdAtOf = (id) => entries.get(id)
    } else {
      if (typeof createdAtOf !== 'function') throw new PeersetError('INVALID_ARGUMENT', 'BucketIndex: options.createdAtOf must be a function')
      this.#entries = undefined
      this.#createdAtOf = createdAtOf
    }
  }

  /** Number of ids. */
  get size(): number {
    return this.#size
  }

  /** Number of non-empty buckets. */
  get bucketCount(): number {
    return this.#buckets.size
  }

  /** A counter that changes whenever the set changes. */
  get version(): number {
    return this.#version
  }

  /** The bucket of a creation time in Unix seconds. */
  bucketOfTime(createdAtSeconds: number): number {
    if (!Number.isSafeInteger(createdAtSeconds) || !Number.isSafeInteger(createdAtSeconds * 1000)) {
      throw new PeersetError('INVALID_ARGUMENT', `BucketIndex: createdAtSeconds must be an integer number of seconds, got ${String(createdAtSeconds)}`)
    }
    return this.granularity.bucketOf(createdAtSeconds * 1000)
  }

  /**
   * Add an id created at `createdAtSeconds`. Returns false if it was there already.
   * @throws PeersetError `INVALID_ARGUMENT` for an id that is not 64 lowercase hex digits or a bad time.
   */
  add(id: string, createdAtSeconds: number): boolean {
    if (!isLowerHex(id, 64)) throw new PeersetError('INVALID_ARGUMENT', 'BucketIndex.add: id must be 64 lowercase hex digits')
    const bucketNumber = this.bucketOfTime(createdAtSeconds)
    if (this.#entries ? this.#entries.has(id) : this.#buckets.get(bucketNumber)?.ids.has(id)) return false
    let bucket = this.#buckets.get(bucketNumber)
    if (!bucket) {
      bucket = { ids: new Set(), fp: new Fingerprint(), sorted: undefined }
      this.#buckets.set(bucketNumber, bucket)
      this.#sortedBuckets = undefined
    }
    bucket.fp.add(id)
    bucket.ids.add(id)
    if (bucket.sorted) bucket.sorted.splice(sortedIndex(bucket.sorted, id), 0, id) // kept sorted: gossip looks ids up in it
    this.#total.add(id)
    this.#entries?.set(id, createdAtSeconds)
    this.#size++
    this.#version++
    return true
  }

  /** Remove an id. Returns false if it was not there. */
  remove(id: string): boolean {
    const createdAt = this.#createdAtOf(id)
    if (createdAt === undefined) return false
    const bucketNumber = this.bucketOfTime(createdAt)
    const bucket = this.#buckets.get(bucketNumber)
    if (!bucket?.ids.has(id)) return false
    bucket.fp.remove(id)
    bucket.ids.delete(id)
    if (bucket.sorted) bucket.sorted.splice(sortedIndex(bucket.sorted, id), 1)
    if (bucket.ids.size === 0) {
      this.#buckets.delete(bucketNumber)
      this.#sortedBuckets = undefined
    }
    this.#total.remove(id)
    this.#entries?.delete(id)
    this.#size--
    this.#version++
    return true
  }

  has(id: string): boolean {
    return this.#entries ? this.#entries.has(id) : this.bucketOfId(id) !== undefined
  }

  /** The creation time (Unix seconds) of an id, if present. */
  createdAtOf(id: string): number | undefined {
    if (this.#entries) return this.#entries.get(id)
    return this.bucketOfId(id) === undefined ? undefined : this.#createdAtOf(id)
  }

  /** The bucket of an id, if present. */
  bucketOfId(id: string): number | undefined {
    const createdAt = this.#createdAtOf(id)
    if (createdAt === undefined) return undefined
    const bucket = this.bucketOfTime(createdAt)
    return this.#buckets.get(bucket)?.ids.has(id) ? bucket : undefined
  }

  /** The ids of a bucket (a live view: do not modify the index while iterating it). */
  bucketIds(bucket: number): ReadonlySet<string> {
    return this.#buckets.get(bucket)?.ids ?? EMPTY_SET
  }

  /** The ids of a bucket in increasing hex order (sorted once, then kept sorted as ids come and go). */
  sortedBucketIds(bucket: number): readonly string[] {
    const b = this.#buckets.get(bucket)
    if (!b) return []
    b.sorted ??= [...b.ids].sort()
    return b.sorted
  }

  /** The fingerprint of one bucket (count 0 and the empty digest if it is empty). */
  bucketFingerprint(bucket: number): FingerprintValue {
    const b = this.#buckets.get(bucket)
    return b ? b.fp.value() : new Fingerprint().value()
  }

  /** The non-empty buckets, in increasing order. */
  buckets(): readonly number[] {
    this.#sortedBuckets ??= [...this.#buckets.keys()].sort((a, b) => a - b)
    return this.#sortedBuckets
  }

  /** The fingerprint of every id inside a window (cached until the set changes). */
  root(window: BucketWindow): FingerprintValue {
    const cache = this.#rootCache
    if (cache && cache.version === this.#version && cache.oldest === window.oldest && cache.newest === window.newest) {
      return cache.value
    }
    const sorted = this.buckets()
    let value: FingerprintValue
    if (sorted.length === 0 || (sorted[0]! >= window.oldest && sorted[sorted.length - 1]! <= window.newest)) {
      value = this.#total.value()
    } else {
      const fp = new Fingerprint()
      for (const b of sorted) if (b >= window.oldest && b <= window.newest) fp.merge(this.#buckets.get(b)!.fp)
      value = fp.value()
    }
    this.#rootCache = { oldest: window.oldest, newest: window.newest, version: this.#version, value }
    return value
  }

  /** The fingerprints of the non-empty buckets inside a window, and their root. */
  summary(window: BucketWindow): IndexSummary {
    const buckets: BucketFingerprint[] = []
    for (const bucket of this.buckets()) {
      if (bucket < window.oldest || bucket > window.newest) continue
      buckets.push({ bucket, ...this.#buckets.get(bucket)!.fp.value() })
    }
    return { window: { oldest: window.oldest, newest: window.newest }, ...this.root(window), buckets }
  }

  /**
   * The ids of every bucket older than `bucket`, without removing them (for an engine that removes
   * records through its own path, which then calls {@link remove} for each).
   */
  idsBefore(bucket: number): string[] {
    const ids: string[] = []
    for (const b of this.buckets()) {
      if (b >= bucket) break
      for (const id of this.#buckets.get(b)!.ids) ids.push(id)
    }
    return ids
  }

  /** Remove every bucket older than `bucket` (whole buckets, at bucket boundaries) and return the removed ids. */
  dropBucketsBefore(bucket: number): string[] {
    const removed: string[] = []
    for (const b of this.buckets()) {
      if (b >= bucket) break
      const dropped = this.#buckets.get(b)!
      this.#total.subtract(dropped.fp)
      for (const id of dropped.ids) {
        this.#entries?.delete(id)
        removed.push(id)
      }
      this.#size -= dropped.ids.size
      this.#buckets.delete(b)
    }
    if (removed.length > 0) {
      this.#sortedBuckets = undefined
      this.#version++
    }
    return removed
  }
}

/** The first index of `sorted` whose id is not below `id` (binary search). */
export function sortedIndex(sorted: readonly string[], id: string): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < id) lo = mid + 1
    else hi = mid
  }
  return lo
}
