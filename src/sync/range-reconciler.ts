/**
 * Range reconciliation of differing buckets with short id lists. A differing range (a bucket, or
 * the ids of a bucket under a hex prefix) is answered, by whichever side received its fingerprint:
 * - equal fingerprints: nothing;
 * - the other side is empty there: every local id of it is announced (`have`), no further round;
 * - this side is empty there: an empty `ids` entry ("I have nothing"), so the other side announces;
 * - at most `idListMax` local ids (or the deepest level): an `ids` entry with all local short ids;
 *   the receiver announces what the list lacks and answers `need` for short ids it lacks;
 * - otherwise: a `split` entry with the fingerprints of the range's 16 children, one hex digit deeper.
 * Each side accepts an entry only for a range it asked about and not yet answered, so every round
 * ends after at most {@link MAX_RANGE_DEPTH} levels and garbage costs bounded work.
 */
import {
  CHILD_DIGEST_BYTES,
  MAX_RANGE_DEPTH,
  RANGE_BRANCHES,
  SHORT_ID_BYTES,
  type BucketWindow,
  type FingerprintValue,
  type RangeEntry,
} from '../protocol/messages.js'
import { PeersetError } from '../errors.js'
import { sortedIndex, type BucketIndex } from './bucket-index.js'
import { Fingerprint } from './fingerprint.js'
import type { BucketDiff, ReconcileContext, ReconcileMessage, Reconciler, ReconcileResult } from './reconciler.js'

/** Options of {@link createRangeReconciler}. */
export interface RangeReconcilerOptions {
  /** A differing range with at most this many local ids is answered with its id list; a bigger one is split. Default 32. */
  idListMax?: number
  /** Most short ids in one `ids` entry (reached only at the deepest level, by forged ids). Default 1024. */
  maxIdsPerEntry?: number
  /** An expected answer older than this is no longer accepted. Default 60,000 ms. */
  pendingTtlMs?: number
}

const HEX = '0123456789abcdef'
const SHORT_START = 8
const SHORT_END = SHORT_START + SHORT_ID_BYTES * 2

/**
 * The short id of an id: hex digits 8..23 (bytes 4..11), past any range prefix.
 * @example
 * ```ts
 * shortIdOf('00112233' + '4455667788990011' + 'aa'.repeat(20)) // '4455667788990011'
 * ```
 */
export function shortIdOf(id: string): string {
  return id.slice(SHORT_START, SHORT_END)
}

interface Expectation {
  /** `reply`: we sent this range's fingerprint; `need`: we sent its id list. */
  expect: 'reply' | 'need'
  atMs: number
}

interface Round {
  oldest: number
  newest: number
  answered: Set<number>
  atMs: number
}

interface PeerRanges {
  round: Round | undefined
  pending: Map<string, Expectation>
}

/** A slice `lo..hi` of a bucket's sorted ids. */
interface Slice {
  ids: readonly string[]
  lo: number
  hi: number
}

function rangeKey(bucket: number, prefix: string): string {
  return `${bucket}:${prefix}`
}


function sliceOf(index: BucketIndex, bucket: number, prefix: string): Slice {
  const ids = index.sortedBucketIds(bucket)
  if (prefix === '') return { ids, lo: 0, hi: ids.length }
  // Every hex digit sorts before 'g', so prefix + 'g' bounds the ids that start with prefix.
  return { ids, lo: sortedIndex(ids, prefix), hi: sortedIndex(ids, `${prefix}g`) }
}

function fingerprintOf(s: Slice): Fingerprint {
  const fp = new Fingerprint()
  for (let i = s.lo; i < s.hi; i++) fp.add(s.ids[i]!)
  return fp
}

/** A child's fingerprint as a split entry carries it (short digest). */
function childValue(fp: Fingerprint): FingerprintValue {
  return { count: fp.count, digest: fp.digest().slice(0, CHILD_DIGEST_BYTES * 2) }
}

/** Compares a remote fingerprint with a local one, on as many digest digits as the remote sent. */
function sameFingerprint(remote: FingerprintValue, local: FingerprintValue): boolean {
  return remote.count === local.count && (local.count === 0 || (remote.digest.length >= CHILD_DIGEST_BYTES * 2 && local.digest.startsWith(remote.digest)))
}

function checkPositiveInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new PeersetError('INVALID_ARGUMENT', `createRangeReconciler: ${name} must be a positive integer, got ${String(value)}`)
  }
  return value
}

/**
 * The range reconciler: short id lists for small differing ranges, 16-way splits for big ones.
 *
 * @example
 * ```ts
 * const core = createSyncCore({ selfId, index, lookup, reconciler: createRangeReconciler({ idListMax: 64 }) })
 * ```
 */
export function createRangeReconciler(options: RangeReconcilerOptions = {}): Reconciler {
  return new RangeReconciler(options)
}

class RangeReconciler implements Reconciler {
  readonly name = 'ranges'
  readonly #idListMax: number
  readonly #maxIdsPerEntry: number
  readonly #ttl: number
  readonly #peers = new Map<string, PeerRanges>()

  constructor(options: RangeReconcilerOptions) {
    this.#idListMax = checkPositiveInt(options.idListMax ?? 32, 'idListMax')
    this.#maxIdsPerEntry = checkPositiveInt(options.maxIdsPerEntry ?? 1024, 'maxIdsPerEntry')
    this.#ttl = checkPositiveInt(options.pendingTtlMs ?? 60_000, 'pendingTtlMs')
    if (this.#maxIdsPerEntry < this.#idListMax) {
      throw new PeersetError('INVALID_ARGUMENT', 'createRangeReconciler: maxIdsPerEntry must be at least idListMax')
    }
  }

  #peer(peerId: string): PeerRanges {
    let state = this.#peers.get(peerId)
    if (!state) this.#peers.set(peerId, (state = { round: undefined, pending: new Map() }))
    return state
  }

  opened(peerId: string, window: BucketWindow, nowMs: number): void {
    this.#peer(peerId).round = { oldest: window.oldest, newest: window.newest, answered: new Set(), atMs: nowMs }
  }

  begin(ctx: ReconcileContext, diffs: readonly BucketDiff[]): ReconcileResult {
    const state = this.#peer(ctx.peerId)
    const out: ReconcileResult = { send: [], theyLack: [], ignored: 0 }
    const entries: RangeEntry[] = []
    for (const diff of diffs) {
      this.#answer(ctx, state, diff.bucket, '', diff.remote, sliceOf(ctx.index, diff.bucket, ''), entries, out)
    }
    if (entries.length > 0) out.send.push({ type: 'ranges', entries })
    return out
  }

  receive(ctx: ReconcileContext, message: ReconcileMessage): ReconcileResult {
    const state = this.#peer(ctx.peerId)
    const out: ReconcileResult = { send: [], theyLack: [], ignored: 0 }
    if (message.type !== 'ranges') return { ...out, ignored: 1 }
    const entries: RangeEntry[] = []
    for (const entry of message.entries) {
      if (!this.#accept(state, entry, ctx.nowMs)) {
        out.ignored++
        continue
      }
      const local = sliceOf(ctx.index, entry.bucket, entry.prefix)
      if (entry.kind === 'split') {
        this.#answerSplit(ctx, state, entry.bucket, entry.prefix, entry.children, local, entries, out)
      } else if (entry.kind === 'ids') {
        const theirs = new Set(entry.shortIds)
        const ours = new Set<string>()
        for (let i = local.lo; i < local.hi; i++) {
          const id = local.ids[i]!
          const short = shortIdOf(id)
          ours.add(short)
          if (!theirs.has(short)) out.theyLack.push(id)
        }
        const need = [...theirs].filter((s) => !ours.has(s))
        if (need.length > 0) entries.push({ bucket: entry.bucket, prefix: entry.prefix, kind: 'need', shortIds: need })
      } else {
        const wanted = new Set(entry.shortIds)
        for (let i = local.lo; i < local.hi; i++) {
          const id = local.ids[i]!
          if (wanted.has(shortIdOf(id))) out.theyLack.push(id)
        }
      }
    }
    if (entries.length > 0) out.send.push({ type: 'ranges', entries })
    return out
  }

  expire(nowMs: number): void {
    for (const state of this.#peers.values()) {
      if (state.round && nowMs - state.round.atMs > this.#ttl) state.round = undefined
      for (const [key, e] of state.pending) if (nowMs - e.atMs > this.#ttl) state.pending.delete(key)
    }
  }

  peerGone(peerId: string): void {
    this.#peers.delete(peerId)
  }

  /** Whether an entry answers something this side asked, not answered yet (and consumes that expectation). */
  #accept(state: PeerRanges, entry: RangeEntry, nowMs: number): boolean {
    if (entry.kind !== 'need' && entry.prefix === '') {
      const round = state.round
      if (!round || nowMs - round.atMs > this.#ttl) return false
      if (entry.bucket < round.oldest || entry.bucket > round.newest || round.answered.has(entry.bucket)) return false
      round.answered.add(entry.bucket)
      return true
    }
    const key = rangeKey(entry.bucket, entry.prefix)
    const expected = state.pending.get(key)
    if (!expected || expected.expect !== (entry.kind === 'need' ? 'need' : 'reply') || nowMs - expected.atMs > this.#ttl) return false
    state.pending.delete(key)
    return true
  }

  /** Answer the remote fingerprint of one range. */
  #answer(
    ctx: ReconcileContext,
    state: PeerRanges,
    bucket: number,
    prefix: string,
    remote: FingerprintValue,
    local: Slice,
    entries: RangeEntry[],
    out: ReconcileResult,
  ): void {
    const count = local.hi - local.lo
    if (remote.count === 0) {
      for (let i = local.lo; i < local.hi; i++) out.theyLack.push(local.ids[i]!)
      return
    }
    if (count === 0) {
      entries.push({ bucket, prefix, kind: 'ids', shortIds: [] })
      return
    }
    // A whole bucket's fingerprint is kept by the index; a sub-range's is computed.
    const localFp = prefix === '' ? ctx.index.bucketFingerprint(bucket) : fingerprintOf(local).value()
    if (sameFingerprint(remote, localFp)) return
    if (count <= this.#idListMax || prefix.length === MAX_RANGE_DEPTH) {
      const shortIds: string[] = []
      const hi = Math.min(local.hi, local.lo + this.#maxIdsPerEntry)
      for (let i = local.lo; i < hi; i++) shortIds.push(shortIdOf(local.ids[i]!))
      entries.push({ bucket, prefix, kind: 'ids', shortIds })
      state.pending.set(rangeKey(bucket, prefix), { expect: 'need', atMs: ctx.nowMs })
      return
    }
    const children: FingerprintValue[] = []
    let i = local.lo
    for (let digit = 0; digit < RANGE_BRANCHES; digit++) {
      const childPrefix = prefix + HEX[digit]!
      const start = i
      while (i < local.hi && local.ids[i]!.charCodeAt(prefix.length) === childPrefix.charCodeAt(prefix.length)) i++
      const fp = fingerprintOf({ ids: local.ids, lo: start, hi: i })
      children.push(childValue(fp))
      if (fp.count > 0) state.pending.set(rangeKey(bucket, childPrefix), { expect: 'reply', atMs: ctx.nowMs })
    }
    entries.push({ bucket, prefix, kind: 'split', children })
  }

  /** Answer a split: compare each child with the local ids under it. */
  #answerSplit(
    ctx: ReconcileContext,
    state: PeerRanges,
    bucket: number,
    prefix: string,
    children: readonly FingerprintValue[],
    local: Slice,
    entries: RangeEntry[],
    out: ReconcileResult,
  ): void {
    let i = local.lo
    for (let digit = 0; digit < RANGE_BRANCHES; digit++) {
      const childPrefix = prefix + HEX[digit]!
      const start = i
      while (i < local.hi && local.ids[i]!.charCodeAt(prefix.length) === childPrefix.charCodeAt(prefix.length)) i++
      this.#answer(ctx, state, bucket, childPrefix, children[digit]!, { ids: local.ids, lo: start, hi: i }, entries, out)
    }
  }
}
