/**
 * The sync core: decoded messages in, messages to send out. Pure — no timers, no I/O, no clock:
 * every call is given `nowMs`. The engine owns the transport, the codec calls and the record path.
 *
 * The conversation between two ready peers (the one with the lower id leads):
 * 1. Both send `root` (window, root fingerprint, how many ids they are still fetching).
 * 2. Equal roots: done. A peer whose window is empty gets every id announced at once (`have`).
 *    Otherwise the leader sends its `summary` (per-bucket fingerprints) — unless either side is
 *    still fetching, or the same pair of roots was already reconciled less than `roundRetryMs` ago.
 * 3. The follower compares buckets and the {@link Reconciler} narrows the differing ones down
 *    (`ranges`), each side announcing with `have` the ids it finds the other lacks.
 * 4. Each side pulls what it lacks: `want` to one peer at a time per id, bounded in flight;
 *    `records` come back; the engine checks them and reports with `recordResolved`; refusals go
 *    back as `reject`, and an id refused for good is never offered to that peer again.
 * New records are announced with `have` to every peer; idle peers rebroadcast `root` on `tick`.
 */
import { PeersetError } from '../errors.js'
import { MAX_WIRE_EVENT_BYTES } from '../protocol/encode.js'
import type { RootMessage, SummaryMessage, SyncMessage, SyncMessageType, WireEvent } from '../protocol/messages.js'
import { wireEventSize } from '../protocol/wire-event.js'
import { computeEventId } from '../record/serialize.js'
import type { Outbound, ReceiveResult, SyncCore, SyncCoreOptions } from './core-types.js'
import { createRangeReconciler } from './range-reconciler.js'
import type { BucketDiff, ReconcileResult } from './reconciler.js'
import { RequestScheduler } from './requests.js'

export type { Outbound, ReceiveResult, RecordOutcome, ResolveDetail, SyncCore, SyncCoreOptions, SyncStats } from './core-types.js'

interface PeerState {
  readonly leads: boolean
  readonly rejected: Set<string>
  rootsReceived: number
  lastRootSentAt: number
  lastRoundAt: number
  lastRoundKey: string
  /** The last time we announced everything to this peer (it said it had nothing), and our digest then. */
  lastPushAt: number
  lastPushDigest: string
  followerRound: { key: string; atMs: number; answered: Set<number> } | undefined
}

const MESSAGE_TYPES: SyncMessageType[] = ['root', 'summary', 'ranges', 'have', 'want', 'records', 'reject']

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new PeersetError('INVALID_ARGUMENT', `createSyncCore: ${name} must be a positive integer, got ${String(v)}`)
  }
  return v
}

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
  if (typeof options !== 'object' || options === null) throw new PeersetError('INVALID_ARGUMENT', 'createSyncCore: options must be an object')
  const { selfId, index } = options
  if (typeof selfId !== 'string' || selfId === '') throw new PeersetError('INVALID_ARGUMENT', 'createSyncCore: selfId must be a non-empty string')
  if (typeof index !== 'object' || index === null || typeof index.summary !== 'function') {
    throw new PeersetError('INVALID_ARGUMENT', 'createSyncCore: index must be a BucketIndex')
  }
  if (typeof options.lookup !== 'function') throw new PeersetError('INVALID_ARGUMENT', 'createSyncCore: lookup must be a function')
  const lookup = options.lookup
  const isKnownRejected = options.isKnownRejected ?? (() => false)
  const computeId = options.computeId ?? computeEventId
  const reconciler = options.reconciler ?? createRangeReconciler()
  const granularity = index.granularity
  const requestTimeoutMs = positive(options.requestTimeoutMs, 10_000, 'requestTimeoutMs')
  const rebroadcastMs = positive(options.rebroadcastMs, 30_000, 'rebroadcastMs')
  const minRoundGapMs = positive(options.minRoundGapMs, 2_000, 'minRoundGapMs')
  const roundRetryMs = positive(options.roundRetryMs, 300_000, 'roundRetryMs')
  const clockSkewMs = positive(options.clockSkewMs, 300_000, 'clockSkewMs')
  const maxRejectedPerPeer = positive(options.maxRejectedPerPeer, 100_000, 'maxRejectedPerPeer')
  const requests = new RequestScheduler({
    maxInFlightPerPeer: positive(options.maxInFlight, 64, 'maxInFlight'),
    maxInFlightTotal: positive(options.maxInFlightTotal, 256, 'maxInFlightTotal'),
    maxWanted: positive(options.maxWanted, 500_000, 'maxWanted'),
    maxWantedPerPeer: positive(options.maxWantedPerPeer, 200_000, 'maxWantedPerPeer'),
  })

  const peers = new Map<string, PeerState>()
  const sent = Object.fromEntries(MESSAGE_TYPES.map((t) => [t, 0])) as Record<SyncMessageType, number>
  const received = { ...sent }
  let ignoredTotal = 0

  const out = (to: string, message: SyncMessage, list: Outbound[]): void => {
    sent[message.type]++
    list.push({ to, message })
  }

  const rootMessage = (nowMs: number): RootMessage => {
    const window = granularity.windowAt(nowMs)
    const { count, digest } = index.root(window)
    return { type: 'root', window, count, digest, wanting: requests.wanting }
  }

  const sendRoot = (peerId: string, peer: PeerState, nowMs: number, list: Outbound[]): void => {
    peer.lastRootSentAt = nowMs
    out(peerId, rootMessage(nowMs), list)
  }

  /** Whether a new round (summary or push-all) may start with this peer for this pair of roots. */
  const mayStartRound = (peer: PeerState, key: string, nowMs: number): boolean => {
    if (nowMs - peer.lastRoundAt < minRoundGapMs) return false
    if (key === peer.lastRoundKey && nowMs - peer.lastRoundAt < roundRetryMs) return false
    peer.lastRoundAt = nowMs
    peer.lastRoundKey = key
    return true
  }

  /** `have` messages for local ids, minus those the peer refused for good. */
  const announce = (peerId: string, peer: PeerState, ids: Iterable<string>, list: Outbound[]): void => {
    const groups = new Map<number, string[]>()
    for (const id of ids) {
      if (peer.rejected.has(id)) continue
      const bucket = index.bucketOfId(id)
      if (bucket === undefined) continue
      let g = groups.get(bucket)
      if (!g) groups.set(bucket, (g = []))
      g.push(id)
    }
    if (groups.size === 0) return
    out(peerId, { type: 'have', groups: [...groups].map(([bucket, ids]) => ({ bucket, ids })) }, list)
  }

  const pullRequests = (nowMs: number, list: Outbound[]): void => {
    const oldest = granularity.windowAt(nowMs).oldest
    const stillWanted = (id: string, bucket: number) => bucket >= oldest && !index.has(id) && !isKnownRejected(id)
    for (const [peerId, ids] of requests.pull(nowMs, stillWanted)) out(peerId, { type: 'want', ids }, list)
  }

  const applyReconcile = (peerId: string, peer: PeerState, result: ReconcileResult, list: Outbound[]): number => {
    for (const m of result.send) out(peerId, m, list)
    announce(peerId, peer, result.theyLack, list)
    return result.ignored
  }

  const onRoot = (peerId: string, peer: PeerState, m: RootMessage, nowMs: number, list: Outbound[]): void => {
    peer.rootsReceived++
    const ours = index.root(m.window)
    if (ours.count === m.count && ours.digest === m.digest) return
    const key = `${ours.digest}/${m.digest}`
    if (m.count === 0) {
      // The peer has nothing in its window: announce everything of ours inside both windows. The
      // round key ignores the peer's digest (meaningless for an empty set), so a peer cannot make
      // us announce everything again and again by varying it: only a change on our side, or
      // `roundRetryMs`, allows the next full announcement.
      if (peer.lastPushDigest === ours.digest && nowMs - peer.lastPushAt < roundRetryMs) return
      if (!mayStartRound(peer, `${ours.digest}/empty`, nowMs)) return
      peer.lastPushAt = nowMs
      peer.lastPushDigest = ours.digest
      const window = granularity.windowAt(nowMs)
      const lo = Math.max(window.oldest, m.window.oldest)
      const hi = Math.min(window.newest, m.window.newest)
      const ids: string[] = []
      for (const b of index.buckets()) if (b >= lo && b <= hi) for (const id of index.bucketIds(b)) ids.push(id)
      announce(peerId, peer, ids, list)
      return
    }
    const started = peer.leads && ours.count > 0 && m.wanting === 0 && requests.wanting === 0 && mayStartRound(peer, key, nowMs)
    if (started) {
      const window = granularity.windowAt(nowMs)
      const summary = index.summary(window)
      const message: SummaryMessage = { type: 'summary', ...summary, from: window.oldest, to: window.newest }
      out(peerId, message, list)
      reconciler.opened(peerId, window, nowMs)
    } else if (peer.rootsReceived === 1) {
      // The peer may not have been ready for our first root: answer its first one once.
      sendRoot(peerId, peer, nowMs, list)
    }
  }

  const onSummary = (peerId: string, peer: PeerState, m: SummaryMessage, nowMs: number, list: Outbound[]): number => {
    if (peer.leads) return 1 // only the leader sends summaries
    const key = `${m.window.oldest}:${m.window.newest}:${m.count}:${m.digest}`
    const previous = peer.followerRound
    let round = previous
    if (round === undefined || round.key !== key || nowMs - round.atMs >= requestTimeoutMs) {
      // Half the leader's gap, so network jitter never makes a follower drop a legitimate round.
      if (previous !== undefined && nowMs - previous.atMs < minRoundGapMs / 2) return 1
      round = peer.followerRound = { key, atMs: nowMs, answered: new Set() }
    }
    const window = granularity.windowAt(nowMs)
    const lo = Math.max(m.from, window.oldest)
    const hi = Math.min(m.to, window.newest)
    if (lo > hi) return 0
    const remote = new Map<number, { count: number; digest: string }>()
    for (const b of m.buckets) if (b.bucket >= lo && b.bucket <= hi) remote.set(b.bucket, b)
    const candidates = new Set(remote.keys())
    for (const b of index.buckets()) if (b >= lo && b <= hi) candidates.add(b)
    const diffs: BucketDiff[] = []
    for (const bucket of [...candidates].sort((a, b) => a - b)) {
      if (round.answered.has(bucket)) continue
      round.answered.add(bucket)
      const theirs = remote.get(bucket) ?? { count: 0, digest: '' }
      const ours = index.bucketFingerprint(bucket)
      if (ours.count === theirs.count && (ours.count === 0 || ours.digest === theirs.digest)) continue
      diffs.push({ bucket, remote: theirs })
    }
    if (diffs.length === 0) return 0
    return applyReconcile(peerId, peer, reconciler.begin({ peerId, index, nowMs }, diffs), list)
  }

  const onHave = (peerId: string, m: Extract<SyncMessage, { type: 'have' }>, nowMs: number, list: Outbound[]): number => {
    const oldest = granularity.windowAt(nowMs).oldest
    const newest = granularity.windowAt(nowMs + clockSkewMs).newest
    let ignored = 0
    for (const g of m.groups) {
      if (g.bucket < oldest || g.bucket > newest) continue
      for (const id of g.ids) {
        if (index.has(id) || isKnownRejected(id)) continue
        if (!requests.offer(peerId, id, g.bucket)) ignored++
      }
    }
    pullRequests(nowMs, list)
    return ignored
  }

  const onWant = (peerId: string, peer: PeerState, ids: readonly string[], list: Outbound[]): void => {
    const events: WireEvent[] = []
    for (const id of ids) {
      if (peer.rejected.has(id)) continue
      const e = lookup(id)
      if (e === undefined) continue
      try {
        if (wireEventSize(e) > MAX_WIRE_EVENT_BYTES) continue
      } catch {
        continue // a stored record the codec cannot carry is not served
      }
      events.push({ pubkey: e.pubkey, created_at: e.created_at, kind: e.kind, tags: e.tags, content: e.content, sig: e.sig })
    }
    if (events.length > 0) out(peerId, { type: 'records', events }, list)
  }

  const onRecords = (peerId: string, events: readonly WireEvent[], result: ReceiveResult): void => {
    for (const event of events) {
      let id: string
      try {
        id = computeId(event)
      } catch {
        result.ignored++
        continue
      }
      if (requests.arrived(peerId, id)) result.records.push({ id, ...event })
      else result.ignored++
    }
  }

  const rememberRejected = (peer: PeerState, id: string): void => {
    if (peer.rejected.has(id)) return
    if (peer.rejected.size >= maxRejectedPerPeer) {
      const oldest = peer.rejected.values().next()
      if (!oldest.done) peer.rejected.delete(oldest.value)
    }
    peer.rejected.add(id)
  }

  return {
    peerReady(peerId, nowMs) {
      if (typeof peerId !== 'string' || peerId === '' || peerId === selfId) {
        throw new PeersetError('INVALID_ARGUMENT', 'SyncCore.peerReady: peerId must be a non-empty string other than selfId')
      }
      if (peers.has(peerId)) return []
      const peer: PeerState = {
        leads: selfId < peerId,
        rejected: new Set(),
        rootsReceived: 0,
        lastRootSentAt: nowMs,
        lastRoundAt: -Infinity,
        lastRoundKey: '',
        lastPushAt: Number.NEGATIVE_INFINITY,
        lastPushDigest: '',
        followerRound: undefined,
      }
      peers.set(peerId, peer)
      requests.addPeer(peerId)
      const list: Outbound[] = []
      sendRoot(peerId, peer, nowMs, list)
      return list
    },

    peerGone(peerId, nowMs) {
      if (!peers.delete(peerId)) return []
      requests.removePeer(peerId)
      reconciler.peerGone(peerId)
      const list: Outbound[] = []
      pullRequests(nowMs, list)
      return list
    },

    receive(peerId, message, nowMs) {
      const result: ReceiveResult = { send: [], records: [], ignored: 0 }
      const peer = peers.get(peerId)
      if (!peer || typeof message !== 'object' || message === null || !Object.hasOwn(received, message.type)) {
        result.ignored = 1
        ignoredTotal++
        return result
      }
      received[message.type]++
      const list = result.send
      switch (message.type) {
        case 'root':
          onRoot(peerId, peer, message, nowMs, list)
          break
        case 'summary':
          result.ignored += onSummary(peerId, peer, message, nowMs, list)
          break
        case 'ranges':
          result.ignored += applyReconcile(peerId, peer, reconciler.receive({ peerId, index, nowMs }, message), list)
          break
        case 'have':
          result.ignored += onHave(peerId, message, nowMs, list)
          break
        case 'want':
          onWant(peerId, peer, message.ids, list)
          break
        case 'records':
          onRecords(peerId, message.events, result)
          break
        case 'reject':
          for (const item of message.items) if (item.permanent) rememberRejected(peer, item.id)
          break
      }
      ignoredTotal += result.ignored
      return result
    },

    localRecordsAdded(ids, nowMs, fromPeerId) {
      const list: Outbound[] = []
      for (const id of ids) requests.resolve(id)
      for (const [peerId, peer] of peers) if (peerId !== fromPeerId) announce(peerId, peer, ids, list)
      pullRequests(nowMs, list)
      return list
    },

    recordResolved(id, outcome, nowMs, detail = {}) {
      const list: Outbound[] = []
      const resolved = requests.resolve(id)
      const from = detail.fromPeerId
      if (outcome === 'rejected' && from !== undefined && peers.has(from)) {
        const reject = detail.reject ?? { reason: 'other', permanent: false }
        out(from, { type: 'reject', items: [{ id, reason: reject.reason, permanent: reject.permanent }] }, list)
      } else if (outcome === 'accepted') {
        for (const [peerId, peer] of peers) {
          if (peerId === from || resolved?.sources.has(peerId)) continue
          announce(peerId, peer, [id], list)
        }
      }
      pullRequests(nowMs, list)
      return list
    },

    tick(nowMs) {
      const list: Outbound[] = []
      requests.timeouts(nowMs, requestTimeoutMs)
      reconciler.expire(nowMs)
      for (const [peerId, peer] of peers) if (nowMs - peer.lastRootSentAt >= rebroadcastMs) sendRoot(peerId, peer, nowMs, list)
      pullRequests(nowMs, list)
      return list
    },

    isWanted: (id) => requests.isWanted(id),
    peerRejected: (peerId, id) => peers.get(peerId)?.rejected.has(id) ?? false,

    stats: () => ({
      peers: peers.size,
      wanted: requests.wanting,
      inFlight: requests.inFlight,
      ignored: ignoredTotal,
      sent: { ...sent },
      received: { ...received },
    }),
  }
}
