/**
 * Fetch streams (internal; see `createSyncCore`): a peer whose part of the window is empty where
 * the other's is not pulls that part whole, in (bucket, id) order, without any id being announced
 * (`have`) or requested (`want`) one by one. The receiver keeps the flow control: it has one
 * `fetch` outstanding per peer, asks for at most {@link FETCH_BATCH} records minus those it is
 * still checking, and a bucket is fetched from one peer at a time.
 */
import { MAX_WIRE_EVENT_BYTES } from '../protocol/encode.js'
import { CURSOR_ID_BYTES, MAX_FETCH_RECORDS, type FetchCursor, type FetchMessage, type PushedMessage, type WireEvent } from '../protocol/messages.js'
import { wireEventSize } from '../protocol/wire-event.js'
import type { Outbound, ReceiveResult } from './core-types.js'
import { out, type CoreState, type PeerState } from './core-state.js'
import { sortedIndex } from './bucket-index.js'

/** Records asked for in one `fetch` (minus those still being checked), at most... */
export const FETCH_BATCH = 1_024
/** ...and at first, and again whenever pulling was paused (e.g. the store failed): the batch grows 4-fold per answer. */
export const FETCH_FIRST_BATCH = 64
/** After an answer with no record that did not end the span (the peer's serving budget was spent), wait this long. */
const FETCH_BACKOFF_MS = 1_000
/** Most records (served or skipped) looked at for one `fetch`. */
const FETCH_SCAN_LIMIT = 4 * MAX_FETCH_RECORDS

/** A span of buckets to fetch whole. */
export interface FetchSpan {
  from: number
  to: number
}

/** What one peer's fetch stream from another has left to do. */
export interface FetchStream {
  /** Spans still to fetch, in order; the first is the current one. */
  spans: FetchSpan[]
  cursor: FetchCursor | undefined
  outstanding: { max: number; received: number; atMs: number } | undefined
  waitUntilMs: number
  /** Records to ask for in the next fetch (grows from {@link FETCH_FIRST_BATCH} to {@link FETCH_BATCH}). */
  batch: number
  /** Fetches asked again in a row after a time-out (see {@link FETCH_RETRIES}). */
  retries: number
}

/** A fetch unanswered for the request time-out is asked again from the cursor (a frame of it or of its answer was lost) this many times in a row, before the stream is given up. */
export const FETCH_RETRIES = 3

const CURSOR_CHARS = CURSOR_ID_BYTES * 2

/** Whether a bucket is being fetched from some peer. */
export function isFetching(s: CoreState, bucket: number): boolean {
  for (const peer of s.peers.values()) for (const span of peer.fetch?.spans ?? []) if (bucket >= span.from && bucket <= span.to) return true
  return false
}

/** Whether records are being fetched from any peer but `except`, or records pushed by one are still being checked. */
export function fetchActive(s: CoreState, except?: PeerState): boolean {
  for (const [peerId, peer] of s.peers) if (peer !== except && (peer.fetch || s.requests.pushedPending(peerId) > 0)) return true
  return false
}

/**
 * Start fetching `buckets` (increasing) from `peerId`, skipping those already fetched from some peer.
 * Consecutive buckets make one span. Returns false if nothing was started (another stream runs,
 * records pushed earlier are still being checked, or the peer is barred).
 */
export function startFetch(s: CoreState, peerId: string, peer: PeerState, spans: readonly FetchSpan[], nowMs: number): boolean {
  // One stream at a time: records pushed earlier may still be on their way or being checked (not
  // in the index yet), and the same buckets would be fetched twice.
  if (nowMs < peer.fetchBarredUntilMs || fetchActive(s, peer)) return false
  if (!peer.fetch && s.requests.pushedPending(peerId) > 0) return false
  const added: FetchSpan[] = []
  for (const span of spans) {
    for (let b = span.from; b <= span.to; b++) {
      if (isFetching(s, b)) continue
      const last = added[added.length - 1]
      if (last && last.to === b - 1) last.to = b
      else added.push({ from: b, to: b })
    }
  }
  if (added.length === 0) return false
  if (peer.fetch) peer.fetch.spans.push(...added)
  else peer.fetch = { spans: added, cursor: undefined, outstanding: undefined, waitUntilMs: nowMs, batch: FETCH_FIRST_BATCH, retries: 0 }
  return true
}

/** Send the next `fetch` to each peer whose stream is idle and whose records we are mostly done checking. */
export function pullFetches(s: CoreState, nowMs: number, list: Outbound[]): void {
  for (const [peerId, peer] of s.peers) {
    const f = peer.fetch
    if (!f || f.outstanding || nowMs < f.waitUntilMs) continue
    const span = f.spans[0]!
    const pending = s.requests.pushedPending(peerId)
    if (pending > f.batch / 2) continue
    const max = f.batch - pending
    f.outstanding = { max, received: 0, atMs: nowMs }
    f.batch = Math.min(FETCH_BATCH, f.batch * 4)
    const message: FetchMessage = { type: 'fetch', from: span.from, to: span.to, after: f.cursor, max }
    rememberSpan(peer, span)
    out(s, peerId, message, list)
    s.onPull(max)
  }
}

/** Pulling is paused (e.g. the store fails): every fetch stream starts again from a small batch. */
export function slowFetches(s: CoreState): void {
  for (const peer of s.peers.values()) if (peer.fetch) peer.fetch.batch = FETCH_FIRST_BATCH
}

/**
 * A fetch unanswered for the request time-out is asked again from the cursor, in a small batch
 * ({@link FETCH_RETRIES} times in a row: a lost frame must not bar an honest peer); after that the
 * stream is given up, and nothing is fetched from that peer for `roundRetryMs` (a peer that claims
 * records and serves none cannot hold buckets up): the next rounds with other peers find what is left.
 */
export function expireFetches(s: CoreState, nowMs: number): void {
  for (const peer of s.peers.values()) {
    const f = peer.fetch
    if (!f?.outstanding || nowMs - f.outstanding.atMs < s.requestTimeoutMs) continue
    if (f.retries < FETCH_RETRIES) {
      f.retries++
      f.outstanding = undefined
      f.batch = FETCH_FIRST_BATCH
    } else {
      peer.fetch = undefined
      peer.fetchBarredUntilMs = nowMs + s.roundRetryMs
    }
  }
}


/** Whether a stored record can travel in a `pushed` frame (one flags byte less than a `records` frame). */
function pushable(e: WireEvent): boolean {
  try {
    return wireEventSize(e) <= MAX_WIRE_EVENT_BYTES - 1
  } catch {
    return false
  }
}

/** Serve a `fetch`: our records of its span inside our window, after its cursor, at most `max`. */
export function onFetch(s: CoreState, peerId: string, peer: PeerState, m: FetchMessage, nowMs: number, list: Outbound[]): void {
  const window = s.granularity.windowAt(nowMs)
  const lo = Math.max(m.from, window.oldest, m.after?.bucket ?? -Infinity)
  const hi = Math.min(m.to, window.newest)
  const events: WireEvent[] = []
  let scanned = 0
  let exhausted = true
  outer: for (const bucket of s.index.buckets()) {
    if (bucket < lo) continue
    if (bucket > hi) break
    const ids = s.index.sortedBucketIds(bucket)
    const start = m.after && bucket === m.after.bucket ? sortedIndex(ids, `${m.after.id}g`) : 0
    for (let i = start; i < ids.length; i++) {
      if (events.length >= m.max || scanned >= FETCH_SCAN_LIMIT) {
        exhausted = false
        break outer
      }
      scanned++
      const id = ids[i]!
      const e = peer.rejected.has(id) ? undefined : s.lookup(id)
      if (e === undefined || !pushable(e)) continue
      events.push({ pubkey: e.pubkey, created_at: e.created_at, kind: e.kind, tags: e.tags, content: e.content, sig: e.sig })
    }
  }
  const message: PushedMessage = { type: 'pushed', events, last: true, exhausted }
  out(s, peerId, message, list)
}

/** Whether (bucket, id) comes after the cursor. */
function after(cursor: FetchCursor | undefined, bucket: number, id: string): boolean {
  if (!cursor) return true
  return bucket > cursor.bucket || (bucket === cursor.bucket && id.slice(0, CURSOR_CHARS) > cursor.id)
}

/**
 * Records answering our `fetch`: each must lie in the current span, after the cursor, within the
 * asked number; those that do not are unrequested (the sender's fault). Records we hold or refused
 * are skipped; the others go to the engine like pulled ones.
 */
export function onPushed(s: CoreState, peerId: string, peer: PeerState, m: PushedMessage, nowMs: number, result: ReceiveResult): void {
  const f = peer.fetch
  const o = f?.outstanding
  if (!f || !o) {
    // Unasked, or late after we gave the fetch up: ignored (an honest peer may be late).
    result.ignored += Math.max(1, m.events.length)
    return
  }
  const span = f.spans[0]!
  const oldest = s.granularity.windowAt(nowMs).oldest
  let counted = 0
  for (const event of m.events) {
    let id: string
    let bucket: number
    try {
      id = s.computeId(event)
      bucket = s.index.bucketOfTime(event.created_at)
    } catch {
      result.ignored++
      result.unrequested.push('')
      continue
    }
    if (!after(f.cursor, bucket, id) && bucket >= span.from) {
      // Not after the cursor: a repeated frame (the network may duplicate one), only ignored.
      result.ignored++
      continue
    }
    if (o.received >= o.max || bucket < span.from || bucket > span.to) {
      result.ignored++
      // In a span fetched before: a late or repeated answer (the network may delay or duplicate a
      // frame), only ignored. Elsewhere, or past the number asked: never asked, the sender's fault.
      if (o.received >= o.max || !fetchedBefore(peer, bucket)) result.unrequested.push(id)
      continue
    }
    o.received++
    counted++
    f.cursor = { bucket, id: id.slice(0, CURSOR_CHARS) }
    if (bucket < oldest || s.index.has(id) || s.isKnownRejected(id) || s.requests.isWanted(id)) continue
    if (s.requests.pushed(peerId, id, bucket, nowMs)) result.records.push({ id, ...event })
  }
  // A frame with records none of which answer this fetch is a late or repeated one: its end flags are not this fetch's.
  if (!m.last || (m.events.length > 0 && counted === 0)) return
  f.outstanding = undefined
  f.retries = 0
  if (m.exhausted) {
    f.spans.shift()
    f.cursor = undefined
    if (f.spans.length === 0) peer.fetch = undefined
  } else if (o.received === 0) {
    f.waitUntilMs = nowMs + FETCH_BACKOFF_MS
  }
}

/** Spans remembered per peer (see `PeerState.fetchedSpans`): a day's buckets over 90 days are at most 90 spans. */
export const MAX_ASKED_SPANS = 256

function rememberSpan(peer: PeerState, span: FetchSpan): void {
  const spans = peer.fetchedSpans
  const last = spans[spans.length - 1]
  if (last && last.from === span.from && last.to === span.to) return
  spans.push({ from: span.from, to: span.to })
  if (spans.length > MAX_ASKED_SPANS) spans.shift()
}

function fetchedBefore(peer: PeerState, bucket: number): boolean {
  return peer.fetchedSpans.some((span) => bucket >= span.from && bucket <= span.to)
}

/**
 * The follower offers buckets where our summary listed nothing: fetch those still empty here, if
 * we led a round with it lately. Returns the offered buckets ignored.
 */
export function onOffer(s: CoreState, peerId: string, peer: PeerState, buckets: readonly number[], nowMs: number): number {
  if (!peer.leads || nowMs - peer.lastRoundAt >= s.requestTimeoutMs) return Math.max(1, buckets.length)
  const window = s.granularity.windowAt(nowMs)
  const spans: FetchSpan[] = []
  let ignored = 0
  for (const b of buckets) {
    if (b < window.oldest || b > window.newest || s.index.bucketIds(b).size > 0) ignored++
    else spans.push({ from: b, to: b })
  }
  // Not now (fetching from another peer, or barred): let the next root start a new round at once.
  if (spans.length > 0 && !startFetch(s, peerId, peer, spans, nowMs)) peer.lastRoundKey = ''
  return ignored
}
