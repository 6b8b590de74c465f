/**
 * How the sync core answers each message from a ready peer (internal; see `createSyncCore`).
 * Pure: every handler is given the core's state and `nowMs`, and appends what to send to a list.
 */
import { MAX_WIRE_EVENT_BYTES } from '../protocol/encode.js'
import type { RootMessage, SummaryMessage, SyncMessage, WireEvent } from '../protocol/messages.js'
import { wireEventSize } from '../protocol/wire-event.js'
import type { Outbound, ReceiveResult } from './core-types.js'
import { applyReconcile, mayStartRound, offerAnnounced, out, pullingNothing, pullRequests, rememberRejected, sendRoot, wantingFrom, type CoreState, type PeerState } from './core-state.js'
import { compactSummary, saltedDigest } from './summary.js'
import { onFetch, onOffer, onPushed, startFetch } from './core-fetch.js'
import type { BucketDiff } from './reconciler.js'
import { onGossip } from './core-gossip.js'

/** A decoded message from `peerId`: what to send, the requested records that arrived, and what was ignored. */
export function receiveMessage(s: CoreState, peerId: string, message: SyncMessage, nowMs: number): ReceiveResult {
  const result: ReceiveResult = { send: [], records: [], ignored: 0, unrequested: [] }
  const peer = s.peers.get(peerId)
  if (!peer || typeof message !== 'object' || message === null || !Object.hasOwn(s.received, message.type)) {
    result.ignored = 1
    s.ignoredTotal++
    return result
  }
  s.received[message.type]++
  s.requests.heard(peerId, nowMs)
  const list = result.send
  switch (message.type) {
    case 'root':
      onRoot(s, peerId, peer, message, nowMs, list)
      break
    case 'summary':
      result.ignored += onSummary(s, peerId, peer, message, nowMs, list)
      break
    case 'ranges':
    case 'symbols':
    case 'more':
      result.ignored += applyReconcile(s, peerId, peer, s.reconciler.receive({ peerId, index: s.index, nowMs }, message), nowMs, list)
      break
    case 'have':
      result.ignored += onHave(s, peerId, message, nowMs, list)
      break
    case 'want':
      onWant(s, peerId, peer, message.ids, list)
      break
    case 'records':
      onRecords(s, peerId, message.events, result)
      break
    case 'reject':
      onReject(s, peerId, peer, message.items, nowMs, list)
      break
    case 'fetch':
      onFetch(s, peerId, peer, message, nowMs, list)
      break
    case 'pushed':
      onPushed(s, peerId, peer, message, nowMs, result)
      pullRequests(s, nowMs, list)
      break
    case 'offer':
      result.ignored += onOffer(s, peerId, peer, message.buckets, nowMs)
      pullRequests(s, nowMs, list)
      break
    case 'gossip':
      result.ignored += onGossip(s, peerId, message, nowMs, list, (ids) => onWant(s, peerId, peer, ids, list))
      break
  }
  s.ignoredTotal += result.ignored
  return result
}

function onRoot(s: CoreState, peerId: string, peer: PeerState, m: RootMessage, nowMs: number, list: Outbound[]): void {
  peer.rootsReceived++
  peer.rootAsk = undefined // any root answers an ask for one
  peer.remoteRoot = { digest: m.digest, wanting: m.wanting }
  const ours = s.index.root(m.window)
  if (ours.count === m.count && ours.digest === m.digest) {
    peer.roundOwed = false
    return
  }
  const key = `${ours.digest}/${m.digest}`
  // An empty side fetches what the other holds (no ids announced): the full side only answers.
  if (m.count === 0 || ours.count === 0) {
    // Not while records fetched from any peer are still coming or being checked (they are not in the index yet).
    if (ours.count === 0) fetchWindow(s, peerId, peer, m, nowMs, list)
    else if (peer.rootsReceived === 1) sendRoot(s, peerId, peer, nowMs, list)
    return
  }
  // Neither side is pulling from the other (ids a third peer announced, and may never deliver, do not count).
  const started = peer.leads && m.wanting === 0 && wantingFrom(s, peerId) === 0 && mayStartRound(s, peer, key, nowMs)
  peer.roundOwed = peer.leads && !started
  if (started) {
    const window = s.granularity.windowAt(nowMs)
    out(s, peerId, compactSummary(s.index, window), list)
    s.reconciler.opened(peerId, window, nowMs)
  } else if (peer.rootsReceived === 1 || (!peer.leads && nowMs - peer.lastRootSentAt >= s.minRoundGapMs / 2 && pullingNothing(s))) {
    // The peer may not have been ready for our first root: answer its first one once. A follower
    // that pulls nothing also answers a leader's later root (at most once a second): the leader
    // asks for a fresh root when it may start a round it owes (see `resumeRounds`).
    sendRoot(s, peerId, peer, nowMs, list)
  }
}

/**
 * Our window is empty and the peer's is not: fetch the buckets of both windows from it whole (the
 * peer announces nothing, so an empty root it receives costs it nothing, whatever it claims).
 */
function fetchWindow(s: CoreState, peerId: string, peer: PeerState, m: RootMessage, nowMs: number, list: Outbound[]): void {
  const window = s.granularity.windowAt(nowMs)
  const from = Math.max(window.oldest, m.window.oldest)
  const to = Math.min(window.newest, m.window.newest)
  if (from > to || peer.fetch) return
  startFetch(s, peerId, peer, [{ from, to }], nowMs)
  pullRequests(s, nowMs, list)
}

/** The follower compares the leader's buckets with its own and starts reconciling those that differ. */
function onSummary(s: CoreState, peerId: string, peer: PeerState, m: SummaryMessage, nowMs: number, list: Outbound[]): number {
  if (peer.leads) return 1 // only the leader sends summaries
  const key = `${m.window.oldest}:${m.window.newest}:${m.count}:${m.digest}`
  const previous = peer.followerRound
  let round = previous
  // The same summary again, a second or more after the first: the leader started the round again
  // (it never does within `minRoundGapMs`), most likely because something of the first was lost,
  // so every bucket is answered anew. Sooner, it is a copy of the same frame.
  if (round === undefined || round.key !== key || nowMs - round.atMs >= s.minRoundGapMs / 2) {
    // Half the leader's gap, so network jitter never makes a follower drop a legitimate round.
    if (previous !== undefined && nowMs - previous.atMs < s.minRoundGapMs / 2) return 1
    round = peer.followerRound = { key, atMs: nowMs, answered: new Set() }
  }
  const window = s.granularity.windowAt(nowMs)
  const lo = Math.max(m.from, window.oldest)
  const hi = Math.min(m.to, window.newest)
  if (lo > hi) return 0
  const all = differingBuckets(s, m, lo, hi, round.answered)
  // Buckets empty on one side are fetched whole by that side: we fetch ours, and offer the leader its.
  const empty = all.filter((d) => d.remote.count > 0 && s.index.bucketIds(d.bucket).size === 0)
  const offered = all.filter((d) => d.remote.count === 0).map((d) => d.bucket)
  let diffs = all.filter((d) => d.remote.count > 0 && s.index.bucketIds(d.bucket).size > 0)
  if (offered.length > 0) out(s, peerId, { type: 'offer', buckets: offered }, list)
  if (empty.length > 0) {
    // Fetched whole if we can now; otherwise reconciled like the others.
    if (startFetch(s, peerId, peer, empty.map((d) => ({ from: d.bucket, to: d.bucket })), nowMs)) pullRequests(s, nowMs, list)
    else diffs = all.filter((d) => d.remote.count > 0)
  }
  if (diffs.length === 0) return 0
  return applyReconcile(s, peerId, peer, s.reconciler.begin({ peerId, index: s.index, nowMs }, diffs), nowMs, list)
}

/** Buckets in `lo..hi` not yet answered in this round (marked answered now) whose fingerprints differ. */
function differingBuckets(s: CoreState, m: SummaryMessage, lo: number, hi: number, answered: Set<number>): BucketDiff[] {
  const remote = new Map<number, { count: number; digest: string }>()
  for (const b of m.buckets) if (b.bucket >= lo && b.bucket <= hi) remote.set(b.bucket, b)
  const candidates = new Set(remote.keys())
  for (const b of s.index.buckets()) if (b >= lo && b <= hi) candidates.add(b)
  const diffs: BucketDiff[] = []
  for (const bucket of [...candidates].sort((a, b) => a - b)) {
    if (answered.has(bucket)) continue
    answered.add(bucket)
    const theirs = remote.get(bucket) ?? { count: 0, digest: '' }
    const ours = s.index.bucketFingerprint(bucket)
    if (ours.count === theirs.count && (ours.count === 0 || saltedDigest(m.salt, ours.digest) === theirs.digest)) continue
    diffs.push({ bucket, remote: theirs })
  }
  return diffs
}

/** The peer has ids: want those inside the window (and clock skew) that we lack. */
function onHave(s: CoreState, peerId: string, m: Extract<SyncMessage, { type: 'have' }>, nowMs: number, list: Outbound[]): number {
  return offerAnnounced(s, peerId, m.groups, nowMs, list)
}

/**
 * The peer wants records: send those we hold, did not see refused, and the codec can carry. Each
 * id we do not serve (we no longer hold it: it expired, was replaced or removed since we announced
 * it) is answered with a non-permanent `reject` item of class `other`, so the peer asks another
 * source at once and never takes our silence for withholding.
 */
function onWant(s: CoreState, peerId: string, peer: PeerState, ids: readonly string[], list: Outbound[]): void {
  const events: WireEvent[] = []
  const notServed: string[] = []
  for (const id of ids) {
    const e = peer.rejected.has(id) ? undefined : s.lookup(id)
    if (e === undefined || !carried(e)) {
      notServed.push(id)
      continue
    }
    events.push({ pubkey: e.pubkey, created_at: e.created_at, kind: e.kind, tags: e.tags, content: e.content, sig: e.sig })
  }
  if (events.length > 0) out(s, peerId, { type: 'records', events }, list)
  if (notServed.length > 0) out(s, peerId, { type: 'reject', items: notServed.map((id) => ({ id, reason: 'other' as const, permanent: false })) }, list)
}

/** Whether the codec can carry a stored record (one it cannot is not served). */
function carried(e: WireEvent): boolean {
  try {
    return wireEventSize(e) <= MAX_WIRE_EVENT_BYTES
  } catch {
    return false
  }
}

/**
 * `reject` items: an id we asked this peer for (and it has not delivered) means it no longer has
 * it: ask another source. Otherwise it refused a record we served it; a permanent refusal is remembered.
 */
function onReject(s: CoreState, peerId: string, peer: PeerState, items: Extract<SyncMessage, { type: 'reject' }>['items'], nowMs: number, list: Outbound[]): void {
  let moved = 0
  for (const item of items) {
    if (s.requests.notServed(peerId, item.id)) moved++
    else if (item.permanent) rememberRejected(s, peer, item.id)
  }
  if (moved > 0) pullRequests(s, nowMs, list)
}

/**
 * Records from the peer: the requested ones go to the engine with their recomputed ids; the rest are
 * ignored, and those never asked of this peer (not even earlier: a late answer is honest) are
 * listed as `unrequested`, for the engine to strike the sender.
 */
function onRecords(s: CoreState, peerId: string, events: readonly WireEvent[], result: ReceiveResult): void {
  for (const event of events) {
    let id: string
    try {
      id = s.computeId(event)
    } catch {
      result.ignored++
      result.unrequested.push('')
      continue
    }
    // alsoMatches: a holder asked by gossip id sends every record matching it (see core-gossip.ts).
    if (s.requests.arrived(peerId, id) || s.requests.alsoMatches(peerId, id)) result.records.push({ id, ...event })
    else {
      result.ignored++
      if (!s.requests.wasAsked(peerId, id)) result.unrequested.push(id)
    }
  }
}
