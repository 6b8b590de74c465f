/**
 * The sync core: decoded messages in, messages to send out. Pure — no timers, no I/O, no clock:
 * every call is given `nowMs`. The engine owns the transport, the codec calls and the record path.
 *
 * The conversation between two ready peers (the one with the lower id leads):
 * 1. Both send `root` (window, root fingerprint, how many ids announced by the other it is still fetching).
 * 2. Equal roots: done. A peer whose window is empty gets every id announced at once (`have`).
 *    Otherwise the leader sends its `summary` (per-bucket fingerprints) — unless either side is
 *    still fetching ids the other announced, or the same pair of roots was already reconciled less than `roundRetryMs` ago.
 * 3. The follower compares buckets and the {@link Reconciler} finds the differences: by default
 *    coded symbols (`symbols`, `more`, `lacking`), each side then announcing by 8-byte gossip id
 *    (`gossip` `found`) the ids the other lacks; the range reconciler (`ranges`) announces with `have`.
 * 4. Each side pulls what it lacks: `want` to one peer at a time per id, bounded in flight;
 *    `records` come back (an id the peer no longer holds comes back as a `reject` item, and goes to
 *    another source); a request unanswered for `requestTimeoutMs` goes to another source and
 *    shrinks the silent peer's allowance of requests in flight (`onUndelivered` reports a peer that
 *    keeps talking and never answers); the engine checks the records and reports with
 *    `recordResolved`; refusals go back as `reject`, and an id refused for good is never offered
 *    to that peer again.
 * New records are gossiped by 8-byte gossip id (`gossip` messages, see `core-gossip.ts`): by the
 * peer where they appeared to every peer, relayed by others to a few peers only, so the cost of a
 * record per peer does not grow with the room; idle peers rebroadcast `root` on `tick`.
 */
import { PeersetError } from '../errors.js'
import { createCoreState, out, pullingNothing, pullRequests, roundDue, sendRoot, wantingFrom, type CoreState, type PeerState } from './core-state.js'
import { announceNew, relay, rememberRefused } from './core-gossip.js'
import { receiveMessage } from './core-receive.js'
import { expireFetches, isFetching } from './core-fetch.js'
import type { Outbound, RecordOutcome, ResolveDetail, RetryEntry, SyncCore, SyncCoreOptions, SyncStats } from './core-types.js'

export type { Outbound, ReceiveResult, RecordOutcome, ResolveDetail, RetryEntry, SyncCore, SyncCoreOptions, SyncStats } from './core-types.js'

/**
 * Create the sync core of one peer.
 *
 * Who calls what: the engine calls `peerReady` when a session is authenticated, `receive` with
 * every decoded sync frame, `recordResolved` for every record `receive` returned, `localRecordsAdded`
 * after publishing, `tick` every second or so, `peerGone` when a session ends; and sends every
 * returned {@link Outbound} (`encodeMessage(o.message)` gives the frames for `o.to`).
 *
 * @example
 * ```ts
 * const index = new BucketIndex(dailyBuckets())
 * const core = createSyncCore({ selfId: room.selfId, index, lookup: (id) => records.get(id) })
 * const send = (out: Outbound[]) => { for (const o of out) for (const f of encodeMessage(o.message)) room.send(o.to, f) }
 * send(core.peerReady(peerId, Date.now()))
 * // on a frame: const r = core.receive(peerId, decodeMessage(frame), Date.now()); send(r.send); ingest(r.records)
 * ```
 */
export function createSyncCore(options: SyncCoreOptions): SyncCore {
  const s = createCoreState(options)
  return {
    peerReady: (peerId, nowMs) => peerReady(s, peerId, nowMs),
    peerGone: (peerId, nowMs) => peerGone(s, peerId, nowMs),
    receive: (peerId, message, nowMs) => receiveMessage(s, peerId, message, nowMs),
    localRecordsAdded: (ids, nowMs, fromPeerId) => localRecordsAdded(s, ids, nowMs, fromPeerId),
    recordResolved: (id, outcome, nowMs, detail = {}) => recordResolved(s, id, outcome, nowMs, detail),
    retry: (ids, nowMs) => retry(s, ids, nowMs),
    tick: (nowMs) => tick(s, nowMs),
    isWanted: (id) => s.requests.isWanted(id),
    isFetching: (bucket) => isFetching(s, bucket),
    announcement: (id) => s.requests.announcement(id),
    peerRejected: (peerId, id) => s.peers.get(peerId)?.rejected.has(id) ?? false,
    stats: () => stats(s),
  }
}

function peerReady(s: CoreState, peerId: string, nowMs: number): Outbound[] {
  if (typeof peerId !== 'string' || peerId === '' || peerId === s.selfId) {
    throw new PeersetError('INVALID_ARGUMENT', 'SyncCore.peerReady: peerId must be a non-empty string other than selfId')
  }
  if (s.peers.has(peerId)) return []
  const peer: PeerState = {
    leads: s.selfId < peerId,
    rejected: new Set(),
    rootsReceived: 0,
    lastRootSentAt: nowMs,
    lastRoundAt: -Infinity,
    lastRoundKey: '',
    sameRoundRetries: 0,
    roundAnnounced: false,
    fetch: undefined,
    fetchBarredUntilMs: Number.NEGATIVE_INFINITY,
    fetchedSpans: [],
    followerRound: undefined,
    remoteRoot: undefined,
    roundOwed: false,
    rootAsk: undefined,
  }
  // The leader starts every round, from the peer's root: it asks again if none comes (see `repeatRootAsks`).
  if (peer.leads) peer.rootAsk = { atMs: nowMs, repeats: 0 }
  s.peers.set(peerId, peer)
  s.requests.addPeer(peerId)
  const list: Outbound[] = []
  sendRoot(s, peerId, peer, nowMs, list)
  return list
}

function peerGone(s: CoreState, peerId: string, nowMs: number): Outbound[] {
  if (!s.peers.delete(peerId)) return []
  s.requests.removePeer(peerId)
  s.reconciler.peerGone(peerId)
  const list: Outbound[] = []
  pullRequests(s, nowMs, list)
  return list
}

function localRecordsAdded(s: CoreState, ids: readonly string[], nowMs: number, fromPeerId: string | undefined): Outbound[] {
  const list: Outbound[] = []
  for (const id of ids) s.requests.resolve(id)
  announceNew(s, ids, fromPeerId, list)
  pullRequests(s, nowMs, list)
  return list
}

function recordResolved(s: CoreState, id: string, outcome: RecordOutcome, nowMs: number, detail: ResolveDetail): Outbound[] {
  const list: Outbound[] = []
  const resolved = s.requests.resolve(id)
  const from = detail.fromPeerId
  if (resolved?.gossiped !== true) s.caughtUp = true
  if (outcome === 'rejected' && from !== undefined && s.peers.has(from)) {
    const reject = detail.reject ?? { reason: 'other', permanent: false }
    out(s, from, { type: 'reject', items: [{ id, reason: reject.reason, permanent: reject.permanent }] }, list)
    if (reject.permanent) rememberRefused(s, id)
  } else if (outcome === 'accepted' && resolved?.gossiped === true) {
    // Only records announced by gossip id (new ones, spreading) are relayed: those found by a
    // reconciliation or a fetch (a catch-up) are found by the other peers' own rounds.
    relay(s, id, from, resolved.sources, list)
  }
  pullRequests(s, nowMs, list)
  return list
}

function retry(s: CoreState, entries: readonly RetryEntry[], nowMs: number): Outbound[] {
  const list: Outbound[] = []
  for (const { id, bucket, peerIds } of entries) {
    if (s.index.has(id) || s.isKnownRejected(id)) continue
    for (const peerId of peerIds) if (s.peers.has(peerId)) s.requests.offer(peerId, id, bucket, nowMs)
  }
  pullRequests(s, nowMs, list)
  return list
}

function tick(s: CoreState, nowMs: number): Outbound[] {
  const list: Outbound[] = []
  const undelivered = s.requests.timeouts(nowMs, s.requestTimeoutMs)
  for (const peerId of s.reconciler.expire(nowMs) ?? []) {
    const peer = s.peers.get(peerId)
    if (!peer) continue
    // The round stalled (a frame of it was lost): a new one may start at once, and the leader owes it.
    peer.lastRoundKey = ''
    if (peer.leads) peer.roundOwed = true
  }
  expireFetches(s, nowMs)
  resumeRounds(s, nowMs, list)
  repeatRootAsks(s, nowMs, list)
  for (const [peerId, peer] of s.peers) if (nowMs - peer.lastRootSentAt >= s.rebroadcastMs) sendRoot(s, peerId, peer, nowMs, list)
  pullRequests(s, nowMs, list)
  for (const u of undelivered) s.onUndelivered(u.peerId, u.ids, u.silentMs, u.reports)
  return list
}

/**
 * Rounds that a pull held up, resumed without waiting for the idle rebroadcast. Once we pull
 * nothing more (no id wanted, no fetch running) after taking in records by a reconciliation or a
 * fetch, every peer gets our new `root` (a leader compares and starts a round; a follower answers
 * with its own). A leader that owes a round (a `root` came while one side was pulling, or too soon
 * after the last round) asks the follower for a fresh `root` once the round may start. Nothing is
 * resumed while we pull anything from anyone: a round then would fetch what is already coming.
 */
function resumeRounds(s: CoreState, nowMs: number, list: Outbound[]): void {
  if (!pullingNothing(s)) return
  if (s.caughtUp) {
    s.caughtUp = false
    for (const [peerId, peer] of s.peers) {
      peer.roundOwed = false
      sendRoot(s, peerId, peer, nowMs, list)
    }
    return
  }
  let ours: string | undefined
  for (const [peerId, peer] of s.peers) {
    const remote = peer.remoteRoot
    if (!peer.roundOwed || remote === undefined || remote.wanting > 0 || wantingFrom(s, peerId) > 0) continue
    ours ??= s.index.root(s.granularity.windowAt(nowMs)).digest
    if (remote.digest === ours) peer.roundOwed = false
    else if (roundDue(s, peer, `${ours}/${remote.digest}`, nowMs)) {
      peer.roundOwed = false
      peer.rootAsk = { atMs: nowMs, repeats: 0 }
      sendRoot(s, peerId, peer, nowMs, list)
    }
  }
}

/** How many times a leader asks again for a fresh `root` that did not come (see {@link repeatRootAsks}). */
export const ROOT_ASK_REPEATS = 2

/**
 * A leader that sent its first `root` to a peer, or asked for a fresh one to start a round it owed
 * (see `resumeRounds`), and heard no `root` back within `requestTimeoutMs` asks again, at most
 * {@link ROOT_ASK_REPEATS} times: its root or the answer was lost, and otherwise the round would wait
 * for the idle rebroadcast (30 s), or the one after if a frame is lost again. Not while we pull
 * anything (the ask waits), nor once the roots we know of are equal. A follower whose root equals
 * ours stays silent: that costs at most two small frames.
 */
function repeatRootAsks(s: CoreState, nowMs: number, list: Outbound[]): void {
  if (!pullingNothing(s)) return
  let ours: string | undefined
  for (const [peerId, peer] of s.peers) {
    const ask = peer.rootAsk
    if (ask === undefined || nowMs - ask.atMs < s.requestTimeoutMs) continue
    ours ??= s.index.root(s.granularity.windowAt(nowMs)).digest
    if (ask.repeats >= ROOT_ASK_REPEATS || peer.remoteRoot?.digest === ours) {
      peer.rootAsk = undefined
      continue
    }
    peer.rootAsk = { atMs: nowMs, repeats: ask.repeats + 1 }
    sendRoot(s, peerId, peer, nowMs, list)
  }
}

function stats(s: CoreState): SyncStats {
  return {
    peers: s.peers.size,
    // Plus one per running fetch stream: a catch-up is not over between two fetches.
    wanted: s.requests.wanting + [...s.peers.values()].filter((p) => p.fetch).length,
    inFlight: s.requests.inFlight,
    ignored: s.ignoredTotal,
    peerRejected: [...s.peers.values()].reduce((sum, p) => sum + p.rejected.size, 0),
    sent: { ...s.sent },
    received: { ...s.received },
  }
}
