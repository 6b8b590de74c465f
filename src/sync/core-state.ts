/**
 * The state of one sync core and the small steps its handlers share (internal; see `createSyncCore`).
 * Pure: every function is given the state and `nowMs`.
 */
import type { Granularity } from '../buckets/types.js'
import { PeersetError } from '../errors.js'
import type { RootMessage, SyncMessage, SyncMessageType, WireEvent } from '../protocol/messages.js'
import { computeEventId } from '../record/serialize.js'
import type { BucketIndex } from './bucket-index.js'
import type { Outbound, SyncCoreOptions } from './core-types.js'
import { createRatelessReconciler } from './riblt-reconciler.js'
import type { Reconciler, ReconcileResult } from './reconciler.js'
import { GOSSIP_ID_CHARS, gossipIdOf, heldWithGossipId } from './gossip-ids.js'
import { RequestScheduler } from './requests.js'
import { fetchActive, isFetching, pullFetches, slowFetches, type FetchStream } from './core-fetch.js'

/** What the core knows of one ready peer. */
export interface PeerState {
  readonly leads: boolean
  readonly rejected: Set<string>
  rootsReceived: number
  lastRootSentAt: number
  lastRoundAt: number
  lastRoundKey: string
  /** Rounds started again for {@link lastRoundKey}, and whether the last round announced or asked for announcements (see `mayStartRound`). */
  sameRoundRetries: number
  roundAnnounced: boolean
  /** What we are fetching whole from this peer (parts of the window empty here), if anything. */
  fetch: FetchStream | undefined
  /** No fetch stream with this peer before then (a fetch of ours went unanswered). */
  fetchBarredUntilMs: number
  /** Spans fetched from this peer lately, newest last (at most `MAX_ASKED_SPANS`): a record pushed in one of them later is a late or repeated answer. */
  fetchedSpans: Array<{ from: number; to: number }>
  followerRound: { key: string; atMs: number; answered: Set<number> } | undefined
  /** The peer's last `root`: its window's digest, and how many ids it was still fetching from us. */
  remoteRoot: { digest: string; wanting: number } | undefined
  /** We lead, our roots differ, and a round could not start then: ask for a fresh `root` once one may (see `resumeRounds`). */
  roundOwed: boolean
  /**
   * We lead, sent our first `root` or asked for a fresh one to start a round we owed (see
   * `resumeRounds`), and no `root` of the peer has come since: when, and how many times it was asked
   * again (see `repeatRootAsks`).
   */
  rootAsk: { atMs: number; repeats: number } | undefined
}

/** The options of a sync core with their defaults applied, its peers, requests and counters. */
export interface CoreState {
  readonly selfId: string
  readonly index: BucketIndex
  readonly granularity: Granularity
  readonly lookup: (id: string) => WireEvent | undefined
  readonly isKnownRejected: (id: string) => boolean
  readonly computeId: (event: WireEvent) => string
  readonly reconciler: Reconciler
  readonly requestTimeoutMs: number
  readonly rebroadcastMs: number
  readonly minRoundGapMs: number
  readonly roundRetryMs: number
  readonly clockSkewMs: number
  readonly maxRejectedPerPeer: number
  readonly mayPull: () => boolean
  readonly onPull: (ids: number) => void
  readonly onUndelivered: (peerId: string, ids: number, silentMs: number, reports: number) => void
  readonly requests: RequestScheduler
  readonly peers: Map<string, PeerState>
  /** Gossip ids of records refused here for good, recently (so a gossiped one is not pulled again; see `core-gossip.ts`). */
  readonly refusedGossipIds: Set<string>
  /** Messages sent and received, by type. */
  readonly sent: Record<SyncMessageType, number>
  readonly received: Record<SyncMessageType, number>
  ignoredTotal: number
  /** Records came in from a reconciliation or a fetch (not by gossip) since we last sent every peer our `root`. */
  caughtUp: boolean
}

/**
 * Ids one peer said it refused for good, remembered per peer by default (oldest forgotten first).
 * Only ids we hold are remembered (an honest peer refuses what we served it), so a peer cannot fill
 * the set with made-up ids, and it cannot grow past this whatever the peer sends.
 */
export const MAX_REJECTED_PER_PEER = 10_000

const MESSAGE_TYPES: SyncMessageType[] = ['root', 'summary', 'ranges', 'have', 'want', 'records', 'reject', 'gossip', 'fetch', 'pushed', 'offer', 'symbols', 'more']

/** Checks the options of `createSyncCore` and applies their defaults. Throws `INVALID_ARGUMENT`. */
export function createCoreState(options: SyncCoreOptions): CoreState {
  if (typeof options !== 'object' || options === null) throw new PeersetError('INVALID_ARGUMENT', 'createSyncCore: options must be an object')
  const { selfId, index } = options
  if (typeof selfId !== 'string' || selfId === '') throw new PeersetError('INVALID_ARGUMENT', 'createSyncCore: selfId must be a non-empty string')
  if (typeof index !== 'object' || index === null || typeof index.summary !== 'function') {
    throw new PeersetError('INVALID_ARGUMENT', 'createSyncCore: index must be a BucketIndex')
  }
  if (typeof options.lookup !== 'function') throw new PeersetError('INVALID_ARGUMENT', 'createSyncCore: lookup must be a function')
  const sent = Object.fromEntries(MESSAGE_TYPES.map((t) => [t, 0])) as Record<SyncMessageType, number>
  return {
    selfId,
    index,
    granularity: index.granularity,
    lookup: options.lookup,
    isKnownRejected: options.isKnownRejected ?? (() => false),
    computeId: options.computeId ?? computeEventId,
    reconciler: options.reconciler ?? createRatelessReconciler(),
    requestTimeoutMs: positive(options.requestTimeoutMs, 10_000, 'requestTimeoutMs'),
    rebroadcastMs: positive(options.rebroadcastMs, 30_000, 'rebroadcastMs'),
    minRoundGapMs: positive(options.minRoundGapMs, 2_000, 'minRoundGapMs'),
    roundRetryMs: positive(options.roundRetryMs, 300_000, 'roundRetryMs'),
    clockSkewMs: positive(options.clockSkewMs, 300_000, 'clockSkewMs'),
    maxRejectedPerPeer: positive(options.maxRejectedPerPeer, MAX_REJECTED_PER_PEER, 'maxRejectedPerPeer'),
    mayPull: options.mayPull ?? (() => true),
    onPull: options.onPull ?? (() => undefined),
    onUndelivered: options.onUndelivered ?? (() => undefined),
    requests: new RequestScheduler({
      maxInFlightPerPeer: positive(options.maxInFlight, 64, 'maxInFlight'),
      maxInFlightTotal: positive(options.maxInFlightTotal, 256, 'maxInFlightTotal'),
      maxWanted: positive(options.maxWanted, 500_000, 'maxWanted'),
      maxWantedPerPeer: positive(options.maxWantedPerPeer, 200_000, 'maxWantedPerPeer'),
    }),
    peers: new Map(),
    refusedGossipIds: new Set(),
    sent,
    received: { ...sent },
    ignoredTotal: 0,
    caughtUp: false,
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new PeersetError('INVALID_ARGUMENT', `createSyncCore: ${name} must be a positive integer, got ${String(v)}`)
  }
  return v
}

/** Queue `message` for `to` on `list`, and count it. */
export function out(s: CoreState, to: string, message: SyncMessage, list: Outbound[]): void {
  s.sent[message.type]++
  list.push({ to, message })
}

/**
 * Our `root` for one peer. Its `wanting` counts the ids we are still fetching that this peer
 * announced: a round with a peer waits while one side pulls from the other, but ids announced by
 * a third peer (that may never deliver them) do not hold it up.
 */
function rootMessage(s: CoreState, peerId: string, nowMs: number): RootMessage {
  const window = s.granularity.windowAt(nowMs)
  const { count, digest } = s.index.root(window)
  return { type: 'root', window, count, digest, wanting: wantingFrom(s, peerId) }
}

/** How much we are still fetching from a peer: ids it announced that we want, plus one while a fetch stream with it runs. */
export function wantingFrom(s: CoreState, peerId: string): number {
  return s.requests.wantingFrom(peerId) + (s.peers.get(peerId)?.fetch ? 1 : 0)
}

/** Whether we pull nothing from any peer: no id wanted, no fetch stream running, no pushed record being checked. */
export function pullingNothing(s: CoreState): boolean {
  return s.requests.wanting === 0 && !fetchActive(s)
}

/** Send our `root` to a peer. */
export function sendRoot(s: CoreState, peerId: string, peer: PeerState, nowMs: number, list: Outbound[]): void {
  peer.lastRootSentAt = nowMs
  out(s, peerId, rootMessage(s, peerId, nowMs), list)
}

/**
 * Whether a new round may start with this peer for this pair of roots. The same pair again after a
 * round in which we announced ids or asked for ids we decoded as lacking means that round settled
 * nothing: a frame that ended it may have been lost, and nothing else would repeat it. It is tried
 * again after `requestTimeoutMs`, then after twice as long each time, up to `roundRetryMs`. The same
 * pair after a round that announced nothing (e.g. every difference is one the peer refused for
 * good) waits `roundRetryMs`.
 */
export function mayStartRound(s: CoreState, peer: PeerState, key: string, nowMs: number): boolean {
  if (!roundDue(s, peer, key, nowMs)) return false
  if (key === peer.lastRoundKey) peer.sameRoundRetries++
  else peer.sameRoundRetries = 0
  peer.roundAnnounced = false
  peer.lastRoundAt = nowMs
  peer.lastRoundKey = key
  return true
}

/** Whether {@link mayStartRound} would start a round for this pair of roots now (changes nothing). */
export function roundDue(s: CoreState, peer: PeerState, key: string, nowMs: number): boolean {
  if (nowMs - peer.lastRoundAt < s.minRoundGapMs) return false
  if (key !== peer.lastRoundKey) return true
  const wait = peer.roundAnnounced ? Math.min(s.roundRetryMs, s.requestTimeoutMs * 2 ** peer.sameRoundRetries) : s.roundRetryMs
  return nowMs - peer.lastRoundAt >= wait
}

/** `gossip` `have` (or `found`) for local ids to one peer, minus those it refused for good. */
export function announceTo(s: CoreState, peerId: string, peer: PeerState, ids: Iterable<string>, list: Outbound[], op: 'have' | 'found' = 'have'): void {
  const items: Array<{ id: string; bucket: number }> = []
  for (const id of ids) {
    if (peer.rejected.has(id)) continue
    const bucket = s.index.bucketOfId(id)
    if (bucket !== undefined) items.push({ id: gossipIdOf(id), bucket })
  }
  if (items.length > 0) out(s, peerId, { type: 'gossip', op, groups: byBucket(items) }, list)
}

/** `have` messages for local ids, minus those the peer refused for good. */
export function announce(s: CoreState, peerId: string, peer: PeerState, ids: Iterable<string>, list: Outbound[]): void {
  const groups = new Map<number, string[]>()
  for (const id of ids) {
    if (peer.rejected.has(id)) continue
    const bucket = s.index.bucketOfId(id)
    if (bucket === undefined) continue
    let g = groups.get(bucket)
    if (!g) groups.set(bucket, (g = []))
    g.push(id)
  }
  if (groups.size === 0) return
  out(s, peerId, { type: 'have', groups: [...groups].map(([bucket, ids]) => ({ bucket, ids })) }, list)
}

/**
 * `want` messages for the ids due to be requested (still inside the window, still lacking): by
 * full id when known, else by gossip id (a `gossip` `want`, see `core-gossip.ts`).
 */
export function pullRequests(s: CoreState, nowMs: number, list: Outbound[]): void {
  if (!s.mayPull()) return slowFetches(s)
  pullFetches(s, nowMs, list)
  const oldest = s.granularity.windowAt(nowMs).oldest
  const stillWanted = (id: string, bucket: number, collides: boolean) => bucket >= oldest && (collides ? !s.refusedGossipIds.has(id) : !holds(s, id, bucket))
  let pulled = 0
  for (const [peerId, requests] of s.requests.pull(nowMs, stillWanted)) {
    const ids = requests.filter((r) => r.id.length !== GOSSIP_ID_CHARS).map((r) => r.id)
    if (ids.length > 0) out(s, peerId, { type: 'want', ids }, list)
    if (ids.length < requests.length) out(s, peerId, { type: 'gossip', op: 'want', groups: byBucket(requests.filter((r) => r.id.length === GOSSIP_ID_CHARS)) }, list)
    pulled += requests.length
  }
  if (pulled > 0) s.onPull(pulled)
}

/**
 * How ids to offer the request scheduler came: announced by the peer (`have`, `gossip` `found`),
 * gossiped (`gossip` `have`: new records spreading, relayed once accepted), or decoded by a
 * reconciler as held by the peer and lacking here.
 */
export type OfferedAs = 'announced' | 'gossiped' | 'decoded'

/**
 * Ids a peer holds and we lack, offered to the request scheduler, then requests go out. Only
 * those inside the window (and clock skew) that we neither hold nor refused for good; none in a
 * bucket being fetched whole (from this peer or another: the fetch brings its records, and a round
 * after it finds any it did not), unless gossiped. A decoded gossip id that we hold a record with
 * is a collision (only ever an attacker's own pair: we hold one of two ids sharing it): wanted all
 * the same, and every record matching it is taken. Returns how many the scheduler's limits turned away.
 */
export function offerAnnounced(s: CoreState, peerId: string, groups: ReadonlyArray<{ bucket: number; ids: readonly string[] }>, nowMs: number, list: Outbound[], as: OfferedAs = 'announced'): number {
  const oldest = s.granularity.windowAt(nowMs).oldest
  const newest = s.granularity.windowAt(nowMs + s.clockSkewMs).newest
  let ignored = 0
  for (const { bucket, ids } of groups) {
    if (bucket < oldest || bucket > newest || (as !== 'gossiped' && isFetching(s, bucket))) continue
    for (const id of ids) {
      let collides = false
      if (as === 'decoded') {
        if (s.refusedGossipIds.has(id)) continue
        collides = heldWithGossipId(s.index, bucket, id).length > 0
      } else if (holds(s, id, bucket)) continue
      if (!s.requests.offer(peerId, id, bucket, nowMs, as === 'gossiped', collides)) ignored++
    }
  }
  pullRequests(s, nowMs, list)
  return ignored
}

/** Whether we hold or refused for good `id` (a full id, or a gossip id announced in `bucket`). */
export function holds(s: CoreState, id: string, bucket: number): boolean {
  if (id.length !== GOSSIP_ID_CHARS) return s.index.has(id) || s.isKnownRejected(id)
  return s.refusedGossipIds.has(id) || heldWithGossipId(s.index, bucket, id).length > 0
}

/** Ids grouped by bucket, as `have` and `gossip` carry them. */
export function byBucket(items: Iterable<{ id: string; bucket: number }>): Array<{ bucket: number; ids: string[] }> {
  const groups = new Map<number, string[]>()
  for (const { id, bucket } of items) {
    const g = groups.get(bucket)
    if (g) g.push(id)
    else groups.set(bucket, [id])
  }
  // In bucket order: the codec writes each bucket as a difference from the previous one (1 byte).
  return [...groups].sort((x, y) => x[0] - y[0]).map(([bucket, ids]) => ({ bucket, ids }))
}

/** Send what the reconciler asks for and announce what the peer lacks; returns the items it ignored. */
export function applyReconcile(s: CoreState, peerId: string, peer: PeerState, result: ReconcileResult, nowMs: number, list: Outbound[]): number {
  const before = list.length
  for (const m of result.send) out(s, peerId, m, list)
  announce(s, peerId, peer, result.theyLack, list)
  if (result.weLack && result.weLack.length > 0) {
    // Asked of the peer at once: this round settled something, as if it had announced them.
    peer.roundAnnounced = true
    result.ignored += offerAnnounced(s, peerId, byBucket(result.weLack), nowMs, list, 'decoded')
  }
  if (result.theyLackShort && result.theyLackShort.length > 0) announceTo(s, peerId, peer, result.theyLackShort, list, 'found')
  if (list.length > before + result.send.length) peer.roundAnnounced = true
  return result.ignored
}

/** The peer refused `id` for good: never offer it again (the oldest is forgotten past the limit). */
export function rememberRejected(s: CoreState, peer: PeerState, id: string): void {
  if (peer.rejected.has(id) || !s.index.has(id)) return
  if (peer.rejected.size >= s.maxRejectedPerPeer) {
    const oldest = peer.rejected.values().next()
    if (!oldest.done) peer.rejected.delete(oldest.value)
  }
  peer.rejected.add(id)
}
