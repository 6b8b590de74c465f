/**
 * The sync driver: connects the transport, the peer sessions, the wire codec, the pure sync core
 * and the ingest path. It composes three parts: the peer table (who may have a session), the frame
 * router (frames through sessions to the sync core and the ingest path) and the outbox (frames out).
 */
import type { GranularityDescriptor } from '../buckets/types.js'
import type { Signer } from '../identity/types.js'
import type { PeersetRecord } from '../record/types.js'
import { toNostrEvent } from '../record/index.js'
import type { CloseReason, PeerRegistry, SessionLimits, SessionState, SessionTimeouts } from '../session/index.js'
import { createSyncCore, type BucketIndex } from '../sync/index.js'
import type { TransportHandlers, TransportRoom } from '../transport/types.js'
import type { DriverState } from './driver-state.js'
import type { EvidenceSet } from './evidence.js'
import { FrameRouter, type EvidenceStats } from './frame-router.js'
import type { Ingestor, RecordOrigin } from './ingest.js'
import { Outbox } from './outbox.js'
import { PeerTable } from './peer-table.js'
import type { RecordIndex } from './record-index.js'
import { SyncProgress, type SyncCounters, type SyncProgressInfo } from './sync-progress.js'

/**
 * Reports in a row (see `onUndelivered` in the sync core) after which a peer that announces ids
 * and never delivers them is struck, and struck again after as many more: the first report comes
 * after 16 requests and 2 request time-outs without an answer, each further one after 2 more
 * time-outs, so a strike takes at least 12 time-outs (2 minutes with the default 10 s) of silence
 * while it keeps sending other frames, and a ban (3 strikes) at least 6 minutes. Honest peers on
 * a lossy link get a first report, and a very slow device may get a few (QA: 4 reports in a row
 * banned an honest peer on a device 50 times slower than the timers).
 */
export const UNDELIVERED_STRIKE_REPORTS = 6

/** What the driver reports about peers. */
export interface PeerListener {
  /** A session changed state. */
  state(peerId: string, from: SessionState, to: SessionState): void
  /** A peer proved its key: it syncs from now on. */
  /** A peer proved its key; `strikes` counts those remembered for its id or key. */
  authenticated(peerId: string, pubkey: string, strikes: number): void
  /** A peer's session ended (it had authenticated or not). */
  closed(peerId: string, reason: CloseReason, detail: string, wasAuthenticated: boolean): void
  /** A peer earned a strike (a cryptographic, protocol or rate violation). */
  strike(peerId: string, reason: string, count: number, detail: string): void
  /** A peer was banned. */
  banned(peerId: string, pubkey: string | undefined, untilMs: number, reason: string): void
  /** The registry of bans and cool-downs changed: persist it. */
  registryChanged(registry: PeerRegistry): void
  /** Catching up started (records are wanted) or ended (none are wanted any more). */
  syncStarted(wanted: number): void
  syncIdle(recordsAdded: number): void
  /** How the catch-up is going (throttled, see `sync-progress.ts`): at its start, during it, at its end. */
  syncProgress(progress: SyncProgressInfo): void
}

/** What the sync driver needs: the local state, the session settings and where to report. */
export interface SyncDriverOptions {
  room: string
  signer: Signer
  publicKey: string
  granularity: GranularityDescriptor
  moderationDigest: string
  /** The other settings that change the kept set, agreed in the hello (see `keptSetRules`). */
  settingRules?: Readonly<Record<string, number>>
  buckets: BucketIndex
  index: RecordIndex
  ingestor: Ingestor
  /** The moderation evidence kept here, sent to each peer once it authenticates. */
  evidence?: EvidenceSet
  clock: () => number
  clockSkewMs: number
  registry: PeerRegistry
  /** Most concurrent peer sessions; a quarter is kept for peers that have been useful before. */
  maxPeers: number
  sessionLimits?: Partial<SessionLimits>
  sessionTimeouts?: Partial<SessionTimeouts>
  /** Leading zero bits required of a peer's session proof (NIP-13); 0 = off. */
  proofOfWork?: number
  peers: PeerListener
  onError(error: unknown): void
  /** Whether records may be pulled from peers now (false while storage fails); `pulled` after each request batch. */
  pullGate?: { mayPull(): boolean; pulled(): void }
}

/** Transport callbacks kept before `attach`. */
const MAX_EARLY_CALLBACKS = 1_000

/**
 * Connects the transport, the peer sessions, the wire codec, the pure sync core and the ingest
 * path. Every frame goes through the peer's session first (state allowed? within budget?); only an
 * authenticated session delivers sync frames, and only authenticated peers are synced with.
 */
export class SyncDriver {
  readonly #o: SyncDriverOptions
  readonly #state: DriverState = { room: undefined, core: undefined, stopped: false }
  readonly #peers: PeerTable
  readonly #outbox: Outbox
  readonly #router: FrameRouter
  /** Whether records are wanted, and how many records had been added when that started. */
  #busy = false
  #addedBeforeBusy = 0
  readonly #progress = new SyncProgress()
  /** Callbacks that arrived before `attach` (a transport may report peers during `join`). */
  readonly #early: Array<() => void> = []
  /** Peers the sync core reported as announcing and not delivering, struck after its tick. */

  constructor(options: SyncDriverOptions) {
    this.#o = options
    const guard = (fn: () => void) => this.#guard(fn)
    this.#peers = new PeerTable(options)
    this.#outbox = new Outbox(this.#state, this.#peers, guard)
    this.#router = new FrameRouter(options, this.#state, this.#peers, this.#outbox, guard)
  }

  /** The transport callbacks. They never throw: a failure becomes an `error` event. */
  readonly handlers: TransportHandlers = {
    onPeerJoin: (peerId) => this.#guard(() => this.#later(() => this.#peerJoined(peerId))),
    onPeerLeave: (peerId) => this.#guard(() => this.#later(() => this.#peerLeft(peerId))),
    onMessage: (peerId, data) => this.#guard(() => this.#later(() => this.#router.frame(peerId, data))),
  }

  /** Start working in a joined room (again after a rejoin: the transport may give a new self id). */
  attach(room: TransportRoom): void {
    this.#state.room = room
    this.#peers.restartRotation(this.#o.clock())
    const { index, buckets, clockSkewMs } = this.#o
    this.#state.core = createSyncCore({
      selfId: room.selfId,
      index: buckets,
      lookup: (id) => {
        const record = index.get(id)
        return record ? toNostrEvent(record) : undefined
      },
      isKnownRejected: (id) => this.#router.isKnownRejected(id),
      clockSkewMs: Math.max(1, Math.round(clockSkewMs)),
      onUndelivered: (peerId, ids, silentMs, reports) => this.#guard(() => this.#undelivered(peerId, ids, silentMs, reports)),
      ...pullGateOptions(this.#o.pullGate),
    })
    for (const run of this.#early.splice(0)) this.#guard(run)
  }

  /**
   * A peer keeps talking and answers none of our requests. The core has already charged it (fewer
   * requests in flight, its ids asked of others); it is struck only once it has been reported
   * {@link UNDELIVERED_STRIKE_REPORTS} times in a row without a single answer in between (at least
   * 12 request time-outs of silence), and again after as many more. On a lossy link honest peers do
   * get a first report (a lost `want` or a lost `records` frame looks the same:
   * test/engine/lossy-link.test.ts), never that many.
   */
  #undelivered(peerId: string, ids: number, silentMs: number, reports: number): void {
    if (reports % UNDELIVERED_STRIKE_REPORTS !== 0) return
    const entry = this.#peers.get(peerId)
    if (!entry?.authenticated) return
    const detail = `${ids} requested records not delivered in ${Math.round(silentMs / 1000)} s while it kept talking (${reports} reports in a row)`
    this.#router.apply(peerId, entry.session.strike('undelivered', this.#o.clock(), detail))
  }

  /** Close every session and forget the room (before leaving it, or before a rejoin). */
  detach(): void {
    for (const [peerId, entry] of this.#peers.entries()) this.#router.apply(peerId, entry.session.close('local', 'leaving the room'))
    this.#peers.clearPresent()
    this.#state.room = undefined
    this.#state.core = undefined
  }

  /**
   * Records were added (any origin): announce those added by other means than a pulled record
   * (publishes, imports), and judge again the evidence of their authors that did not strike.
   */
  announce(records: readonly PeersetRecord[], origins: readonly RecordOrigin[]): void {
    const core = this.#state.core
    if (!core || this.#state.stopped) return
    this.#guard(() => this.#router.evidenceContextChanged(records))
    // Skip records already replaced or evicted within their own batch: we could not serve them.
    const ids = records.filter((r, i) => origins[i]?.origin !== 'remote' && this.#o.index.has(r.id)).map((r) => r.id)
    if (ids.length > 0) this.#guard(() => this.#outbox.send(core.localRecordsAdded(ids, this.#o.clock())))
  }

  /** Records were removed (any reason): their authors' records refused for now are asked for again. */
  recordsRemoved(records: readonly PeersetRecord[]): void {
    if (!this.#state.core || this.#state.stopped) return
    const byAuthor = new Map<string, number>()
    for (const r of records) byAuthor.set(r.author, (byAuthor.get(r.author) ?? 0) + 1)
    this.#guard(() => {
      for (const [author, count] of byAuthor) this.#router.placesFreed(author, count)
    })
  }

  /** Send new moderation evidence (committed) to every authenticated peer that is not known to hold it. */
  sendEvidence(records: readonly PeersetRecord[]): void {
    if (!this.#state.core || this.#state.stopped) return
    this.#guard(() => this.#router.sendEvidence(records))
  }

  /** Evidence frames and events sent and received (for tests and diagnostics). */
  get evidenceStats(): Readonly<EvidenceStats> {
    return this.#router.evidenceStats
  }

  /**
   * New session tuning and room size: sessions that start from now on use it (the peer table and
   * the frame router read these options at each admission).
   */
  retune(tuning: Pick<SyncDriverOptions, 'maxPeers' | 'sessionLimits' | 'sessionTimeouts'>): void {
    this.#o.maxPeers = tuning.maxPeers
    this.#o.sessionLimits = tuning.sessionLimits
    this.#o.sessionTimeouts = tuning.sessionTimeouts
  }

  /** The round-trip time measured by the session with `peerId` (see `PeerSession.rttMs`). */
  rttOf(peerId: string): number | undefined {
    return this.#peers.get(peerId)?.session.rttMs
  }

  /** Records sent to a peer in its current session (0 without one). */
  recordsSentTo(peerId: string): number {
    return this.#peers.get(peerId)?.recordsSent ?? 0
  }

  /** Drive timeouts: call about once a second. */
  tick(): void {
    if (this.#state.stopped || !this.#state.core) return
    this.#guard(() => {
      const now = this.#o.clock()
      for (const [peerId, entry] of this.#peers.entries()) this.#router.apply(peerId, entry.session.tick(now))
      this.#router.answerDeferredHellos(now)
      const victim = this.#peers.rotate(now)
      if (victim) this.#router.apply(victim[0], victim[1].session.close('local', 'the room is full: making room for a newcomer'))
      // A dropped peer that is still present: the initiator reconnects once its cool-down is over,
      // in random order (so a freed place does not always go to the same peer), while there is room.
      for (const peerId of this.#peers.reconnectCandidates(this.#state.room!.selfId)) {
        if (this.#peers.size >= this.#o.maxPeers) break
        this.#router.open(peerId, now)
      }
      this.#outbox.send(this.#state.core!.tick(now))
      this.#peers.prune(now)
    })
  }

  /** Close every session for good. */
  stop(): void {
    this.detach()
    this.#state.stopped = true
  }

  #later(run: () => void): void {
    if (this.#state.stopped) return
    if (this.#state.core) return run()
    // Before `attach` (a transport may report peers while joining): keep a bounded backlog.
    if (this.#early.length < MAX_EARLY_CALLBACKS) this.#early.push(run)
  }

  #peerJoined(peerId: string): void {
    this.#peers.setPresent(peerId, true)
    this.#router.open(peerId, this.#o.clock())
  }

  #peerLeft(peerId: string): void {
    this.#peers.setPresent(peerId, false)
    const entry = this.#peers.get(peerId)
    if (entry) this.#router.apply(peerId, entry.session.close('peer-left', 'the transport reported the peer gone'))
  }

  #guard(fn: () => void): void {
    try {
      fn()
      this.#checkBusy()
    } catch (error) {
      this.#o.onError(error)
    }
  }

  /** Report the start, the progress (throttled) and the end of a catch-up. */
  #checkBusy(): void {
    // Detached (closing, or between rooms): a catch-up cut short is not "in sync"; report nothing.
    if (!this.#state.core || this.#state.stopped) return
    const stats = this.#state.core.stats()
    const busy = stats.wanted + stats.inFlight > 0
    const now = this.#o.clock()
    const counters: SyncCounters = { resolved: this.#router.recordsResolved, added: this.#router.recordsAdded, wanted: stats.wanted }
    if (busy === this.#busy) {
      const progress = busy ? this.#progress.update(now, counters) : undefined
      if (progress) this.#o.peers.syncProgress(progress)
      return
    }
    this.#busy = busy
    if (busy) {
      this.#addedBeforeBusy = this.#router.recordsAdded
      this.#o.peers.syncStarted(stats.wanted)
      this.#o.peers.syncProgress(this.#progress.start(now, counters))
    } else {
      this.#o.peers.syncProgress(this.#progress.finish(now, counters))
      this.#o.peers.syncIdle(this.#router.recordsAdded - this.#addedBeforeBusy)
    }
  }
}

/** The sync core's options for the storage pull gate, if any. */
function pullGateOptions(gate: SyncDriverOptions['pullGate']): { mayPull?: () => boolean; onPull?: () => void } {
  return gate ? { mayPull: () => gate.mayPull(), onPull: () => gate.pulled() } : {}
}
