/**
 * Reconciliation of differing buckets with a rateless IBLT over 64-bit short ids (see riblt.ts).
 * The follower (who compared the leader's summary) streams coded symbols of its ids in the
 * differing buckets (at most {@link MAX_TAGS} buckets per stream), salted afresh for the round;
 * each element is tagged with its bucket's place in the stream (see riblt.ts: the tag rides in the
 * checksum, free on the wire). The leader subtracts its own symbols and peels:
 * - decoded: the leader's ids the follower lacks are announced by short id (`theyLackShort`: a
 *   `gossip` `found`), and the short ids it lacks, with the buckets their tags name, are wanted at
 *   once from the follower (`weLack`: pulled by gossip id through the request scheduler). The short
 *   id of an id is its gossip id, its first 8 bytes: 8 bytes to announce, 8 to request, never 32,
 *   and no turn is spent asking the follower to announce what it holds.
 * - not yet: it asks for `more` symbols at once, as many as its estimate of the differences left
 *   calls for with a margin (so one extra round trip is the rule), or the missing part of a batch
 *   a lost frame cut short.
 * The first batch is sized from what the summary tells: per differing bucket, at least the count
 * gap (and 2 when the counts are equal, as the parity of the gap is that of the differences).
 * Work is bounded: the leader takes symbols only for a round it opened, over buckets of its window,
 * and at most {@link MAX_SYMBOLS_PER_ELEMENT} per element of both sides (plus a few): a stream that
 * never decodes is then dropped and its frames counted as ignored.
 */
import { hexToBytes, randomBytes } from '@noble/hashes/utils.js'
import { toHex } from '../protocol/bytes.js'
import { SYMBOL_SALT_BYTES, type BucketWindow, type SymbolsMessage } from '../protocol/messages.js'
import type { BucketIndex } from './bucket-index.js'
import { heldWithGossipId } from './gossip-ids.js'
import type { BucketDiff, ReconcileContext, ReconcileMessage, Reconciler, ReconcileResult } from './reconciler.js'
import { MAX_TAGS, SymbolDecoder, SymbolSource, shortIdHex, type ShortId } from './riblt.js'

/** Symbols are never requested past this many per element of both sides (plus {@link SYMBOL_SLACK}). */
export const MAX_SYMBOLS_PER_ELEMENT = 3
const SYMBOL_SLACK = 64

/**
 * Symbols to ask for in all to decode `d` differences at once, almost always: measured over random
 * sets (riblt.ts), decoding took 1.46 symbols per difference at d=100 (1.76 at the 99th
 * percentile), 1.39 at d=1,000 (1.45) and 1.38 at d=5,000 (1.40); small d need a few more.
 */
function symbolsFor(d: number): number {
  return Math.ceil(1.4 * d + 3 * Math.sqrt(d)) + 4
}

/** Streams older than this are forgotten. */
const STREAM_TTL_MS = 60_000
/** A round of ours with no symbols for this long (a frame was lost) is given up, and may start again. */
const STALL_MS = 10_000

interface Ids {
  source: SymbolSource
}

interface Sending extends Ids {
  salt: string
  buckets: number[]
  /** Symbols this stream may still send in all (first batch, `more`s and re-sent gaps together). */
  cap: number
  atMs: number
}

interface Receiving extends Ids {
  salt: string
  /** The stream's buckets: a recovered element's tag is its bucket's place here. */
  buckets: readonly number[]
  decoder: SymbolDecoder
  cap: number
  /** The batch end asked for last (a gap below it is asked again once). */
  askedTo: number
  atMs: number
}

interface PeerStreams {
  /** The round we lead: its window, when it last progressed, buckets taken by a stream, and whether a stream is still undecoded. */
  round: { window: BucketWindow; atMs: number; progressMs: number; taken: Set<number>; pending: boolean } | undefined
  /** Streams by salt (one per summary part answered). */
  sending: Map<string, Sending>
  receiving: Map<string, Receiving>
}

/** Most streams open with one peer at once, each way (a summary spans at most a few frames). */
const MAX_STREAMS = 64

/**
 * The ids of `buckets` (at most {@link MAX_TAGS}) as elements keyed with `salt`, each tagged with
 * its bucket's place in `buckets` (ids sharing a short id are elements each).
 */
function idsOf(index: BucketIndex, buckets: readonly number[], salt: string): Ids {
  // Sized first, then filled: the elements go straight into typed arrays.
  let n = 0
  for (const b of buckets) n += index.bucketIds(b).size
  const hi = new Uint32Array(n)
  const lo = new Uint32Array(n)
  const tags = new Uint8Array(n)
  let e = 0
  buckets.forEach((b, t) => {
    // Any order will do (the arrays and the source share it): no need to sort the bucket.
    for (const id of index.bucketIds(b)) {
      hi[e] = hexWord(id, 0)
      lo[e] = hexWord(id, 8)
      tags[e++] = t
    }
  })
  return { source: new SymbolSource(hexToBytes(salt), { hi, lo, tags }, Math.max(1, buckets.length)) }
}

/** The 32-bit word of 8 lowercase hex digits of `id` at `at` (ids in the index are lowercase hex), with no substring made. */
function hexWord(id: string, at: number): number {
  let v = 0
  for (let i = at; i < at + 8; i++) {
    const c = id.charCodeAt(i)
    v = (v << 4) | (c <= 57 ? c - 48 : c - 87)
  }
  return v >>> 0
}

/**
 * The peer lacks a short id of ours, in `bucket`: announced by short id (`theyLackShort`), unless
 * several of our ids share it (only ever an attacker's own pair, see `GOSSIP_ID_BYTES`): those are
 * announced by full id (`theyLack`), since the peer holds one of them and would not pull the short
 * id. Returns false if no id of ours has it.
 */
function announceFound(index: BucketIndex, bucket: number, short: ShortId, out: ReconcileResult): boolean {
  const found = heldWithGossipId(index, bucket, shortIdHex(short))
  if (found.length === 1) out.theyLackShort!.push(found[0]!)
  else out.theyLack.push(...found)
  return found.length > 0
}

/**
 * The rateless reconciler: coded symbols for differing buckets, salted per round.
 *
 * @example
 * ```ts
 * const core = createSyncCore({ selfId, index, lookup, reconciler: createRatelessReconciler() })
 * ```
 */
export function createRatelessReconciler(): Reconciler {
  return new RatelessReconciler()
}

class RatelessReconciler implements Reconciler {
  readonly name = 'rateless'
  readonly #peers = new Map<string, PeerStreams>()

  #peer(peerId: string): PeerStreams {
    let p = this.#peers.get(peerId)
    if (!p) this.#peers.set(peerId, (p = { round: undefined, sending: new Map(), receiving: new Map() }))
    return p
  }

  opened(peerId: string, window: BucketWindow, nowMs: number): void {
    const p = this.#peer(peerId)
    p.round = { window: { oldest: window.oldest, newest: window.newest }, atMs: nowMs, progressMs: nowMs, taken: new Set(), pending: true }
    p.receiving.clear()
  }

  begin(ctx: ReconcileContext, diffs: readonly BucketDiff[]): ReconcileResult {
    const p = this.#peer(ctx.peerId)
    const sorted = [...diffs].sort((a, b) => a.bucket - b.bucket)
    const send: SymbolsMessage[] = []
    // One stream per MAX_TAGS buckets (a tag names a bucket of its stream).
    for (let i = 0; i < sorted.length; i += MAX_TAGS) send.push(this.#open(ctx, p, sorted.slice(i, i + MAX_TAGS)))
    return { send, theyLack: [], ignored: 0 }
  }

  /** A stream of symbols for some differing buckets: its first batch. */
  #open(ctx: ReconcileContext, p: PeerStreams, diffs: readonly BucketDiff[]): SymbolsMessage {
    const buckets = diffs.map((d) => d.bucket)
    const salt = toHex(randomBytes(SYMBOL_SALT_BYTES))
    const ids = idsOf(ctx.index, buckets, salt)
    let remote = 0
    let atLeast = 0
    for (const d of diffs) {
      remote += d.remote.count
      // At least the count gap, which has the parity of the differences: 2 if the counts are equal.
      atLeast += Math.abs(d.remote.count - ctx.index.bucketIds(d.bucket).size) || 2
    }
    const cap = MAX_SYMBOLS_PER_ELEMENT * (ids.source.size + remote) + SYMBOL_SLACK
    const sending: Sending = { ...ids, salt, buckets, cap, atMs: ctx.nowMs }
    if (p.sending.size >= MAX_STREAMS) p.sending.delete(p.sending.keys().next().value!)
    p.sending.set(salt, sending)
    return this.#symbols(sending, 0, Math.min(cap, symbolsFor(atLeast) - 2))
  }

  receive(ctx: ReconcileContext, m: ReconcileMessage): ReconcileResult {
    const p = this.#peer(ctx.peerId)
    const out: ReconcileResult = { send: [], theyLack: [], theyLackShort: [], weLack: [], ignored: 0 }
    if (m.type === 'symbols') this.#onSymbols(ctx, p, m, out)
    else if (m.type === 'more') {
      const s = p.sending.get(m.salt)
      if (!s || s.cap <= 0 || ctx.nowMs - s.atMs > STREAM_TTL_MS) out.ignored++
      else out.send.push(this.#symbols(s, m.from, m.from + Math.min(s.cap, m.count)))
    } else out.ignored++
    return out
  }

  expire(nowMs: number): string[] {
    const stalled: string[] = []
    for (const [peerId, p] of this.#peers) {
      if (p.round?.pending && nowMs - p.round.progressMs > STALL_MS) {
        stalled.push(peerId)
        p.round = undefined
        p.receiving.clear()
      }
      if (p.round && nowMs - p.round.atMs > STREAM_TTL_MS) p.round = undefined
      for (const [salt, x] of p.sending) if (nowMs - x.atMs > STREAM_TTL_MS) p.sending.delete(salt)
      for (const [salt, x] of p.receiving) if (nowMs - x.atMs > STREAM_TTL_MS) p.receiving.delete(salt)
    }
    return stalled
  }

  peerGone(peerId: string): void {
    this.#peers.delete(peerId)
  }

  #symbols(s: Sending, from: number, to: number): SymbolsMessage {
    s.cap -= to - from
    const symbols = from < to ? s.source.symbols(from, to) : []
    return { type: 'symbols', salt: s.salt, buckets: s.buckets, total: s.source.size, from, end: Math.max(from, to), symbols }
  }

  /** The leader: take the symbols of a stream for the round it opened, decode, answer. */
  #onSymbols(ctx: ReconcileContext, p: PeerStreams, m: SymbolsMessage, out: ReconcileResult): void {
    const round = p.round
    if (!round || ctx.nowMs - round.atMs > STREAM_TTL_MS) return void out.ignored++
    let r = p.receiving.get(m.salt)
    if (!r) {
      const inside = m.buckets.length <= MAX_TAGS && m.buckets.every((b) => b >= round.window.oldest && b <= round.window.newest && !round.taken.has(b))
      if (m.from !== 0 || !inside || p.receiving.size >= MAX_STREAMS) return void out.ignored++
      // Each bucket of the round is reconciled by one stream only.
      for (const b of m.buckets) round.taken.add(b)
      const ids = idsOf(ctx.index, m.buckets, m.salt)
      const cap = MAX_SYMBOLS_PER_ELEMENT * (ids.source.size + m.total) + SYMBOL_SLACK
      r = { ...ids, salt: m.salt, buckets: m.buckets, decoder: new SymbolDecoder(ids.source), cap, askedTo: m.end, atMs: ctx.nowMs }
      p.receiving.set(m.salt, r)
    }
    round.progressMs = ctx.nowMs
    const received = r.decoder.received
    if (m.from !== received) {
      // A frame before this one was lost: ask for the rest of the batch from the gap, once.
      if (m.from > received && r.askedTo <= m.end) {
        r.askedTo = m.end + 1
        out.send.push({ type: 'more', salt: r.salt, from: received, count: m.end - received })
      }
      return void out.ignored++
    }
    r.decoder.add(m.symbols)
    if (r.decoder.done) return this.#decoded(ctx, p, r, out)
    if (r.decoder.received < m.end) return
    if (r.decoder.received >= r.cap) {
      // Never decodes: an honest stream always does well before this. Drop it (counted as ignored).
      p.receiving.delete(r.salt)
      out.ignored++
      return
    }
    // The estimate's spread is about 5% at a thousand symbols (see `estimateRemaining`): a margin
    // over it, so that one more batch decodes, almost always.
    const remaining = r.decoder.estimateRemaining()
    const estimate = r.decoder.recovered.length + 1.1 * remaining + 2 * Math.sqrt(remaining)
    const want = Math.max(symbolsFor(estimate) - r.decoder.received, Math.ceil(r.decoder.received / 4), 4)
    const count = Math.min(want, r.cap - r.decoder.received)
    r.askedTo = r.decoder.received + count
    out.send.push({ type: 'more', salt: r.salt, from: r.decoder.received, count })
  }

  #decoded(ctx: ReconcileContext, p: PeerStreams, r: Receiving, out: ReconcileResult): void {
    for (const x of r.decoder.recovered) {
      if (x.sign === -1) {
        if (!announceFound(ctx.index, r.buckets[x.tag]!, x, out)) out.ignored++
      } else out.weLack!.push({ id: shortIdHex(x), bucket: r.buckets[x.tag]! })
    }
    p.receiving.delete(r.salt)
    if (p.round && p.receiving.size === 0) p.round.pending = false
  }
}
