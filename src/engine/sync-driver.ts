import type { GranularityDescriptor } from '../buckets/types.js'
import { PeersetError } from '../errors.js'
import type { Signer } from '../identity/types.js'
import { decodeMessage, encodeMessage, type RejectClass, type SyncMessage } from '../protocol/index.js'
import type { PeersetRecord } from '../record/types.js'
import { toNostrEvent } from '../record/index.js'
import {
  createPeerSession,
  isHelloFrame,
  isSessionInitiator,
  PeerRegistry,
  type CloseReason,
  type PeerSession,
  type SessionAction,
  type SessionLimits,
  type SessionState,
  type SessionTimeouts,
  TokenBucket,
} from '../session/index.js'
import { createSyncCore, type BucketIndex, type Outbound, type SyncCore } from '../sync/index.js'
import type { TransportHandlers, TransportRoom } from '../transport/types.js'
import type { IngestOutcome, Ingestor, RecordOrigin } from './ingest.js'
import type { RecordIndex } from './record-index.js'

/** What the driver reports about peers. */
export interface PeerListener {
  /** A session changed state. */
  state(peerId: string, from: SessionState, to: SessionState): void
  /** A peer proved its key: it syncs from now on. */
  authenticated(peerId: string, pubkey: string): void
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
}

export interface SyncDriverOptions {
  room: string
  signer: Signer
  publicKey: string
  granularity: GranularityDescriptor
  moderationDigest: string
  buckets: BucketIndex
  index: RecordIndex
  ingestor: Ingestor
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
}

/** How often a full peer frees one place for newcomers. */
const ROTATE_MS = 60_000
/** Transport callbacks kept before `attach`. */
const MAX_EARLY_CALLBACKS = 1_000
/** Ids this peer refused for good are remembered (so they are never requested again), up to this many. */
const MAX_REMEMBERED_REJECTIONS = 100_000
/** Pubkeys of peers that gave us records, remembered to keep room for them when the room is full. */
const MAX_USEFUL_PEERS = 1_000

interface PeerEntry {
  session: PeerSession
  pubkey: string | undefined
  authenticated: boolean
  authenticatedAt: number
  /** Records received from this peer and added. */
  useful: number
  /** Records we serve this peer (answers to its `want`s): bounded, so a small request cannot make us send without limit. */
  served: TokenBucket
}

/** Most ids one `want` may ask for (the core asks for at most 64 at a time); the rest are dropped. */
const MAX_WANT_IDS = 256
/** Records served to one peer per second, and the burst. */
const SERVE_RATE = 500
const SERVE_BURST = 2_000
/** Records a peer may owe us at once: answers to our wants are never counted as a flood, up to this. */
const MAX_EXPECTED_RECORDS = 1_024

/**
 * Connects the transport, the peer sessions, the wire codec, the pure sync core and the ingest
 * path. Every frame goes through the peer's session first (state allowed? within budget?); only an
 * authenticated session delivers sync frames, and only authenticated peers are synced with.
 */
export class SyncDriver {
  readonly #o: SyncDriverOptions
  #core: SyncCore | undefined
  #room: TransportRoom | undefined
  readonly #rejected = new Set<string>()
  /** Peers the transport reports present, whether or not they have a session. */
  readonly #present = new Set<string>()
  readonly #sessions = new Map<string, PeerEntry>()
  readonly #useful = new Set<string>()
  #lastRotation = Number.NEGATIVE_INFINITY
  readonly #rotatedOut = new Map<string, number>()
  readonly #pendingHave = new Map<string, Map<number, string[]>>()
  #haveFlushQueued = false
  #stopped = false
  /** Whether records are wanted, and how many were added since that started. */
  #busy = false
  #addedWhileBusy = 0
  /** Callbacks that arrived before `attach` (a transport may report peers during `join`). */
  readonly #early: Array<() => void> = []

  constructor(options: SyncDriverOptions) {
    this.#o = options
  }

  /** The transport callbacks. They never throw: a failure becomes an `error` event. */
  readonly handlers: TransportHandlers = {
    onPeerJoin: (peerId) => this.#guard(() => this.#later(() => this.#peerJoined(peerId))),
    onPeerLeave: (peerId) => this.#guard(() => this.#later(() => this.#peerLeft(peerId))),
    onMessage: (peerId, data) => this.#guard(() => this.#later(() => this.#frame(peerId, data))),
  }

  /** Start working in a joined room (again after a rejoin: the transport may give a new self id). */
  attach(room: TransportRoom): void {
    this.#room = room
    this.#lastRotation = this.#o.clock()
    const { index, buckets, clockSkewMs } = this.#o
    this.#core = createSyncCore({
      selfId: room.selfId,
      index: buckets,
      lookup: (id) => {
        const record = index.get(id)
        return record ? toNostrEvent(record) : undefined
      },
      isKnownRejected: (id) => this.#rejected.has(id),
      clockSkewMs: Math.max(1, Math.round(clockSkewMs)),
    })
    for (const run of this.#early.splice(0)) this.#guard(run)
  }

  /** Close every session and forget the room (before leaving it, or before a rejoin). */
  detach(): void {
    for (const [peerId, entry] of [...this.#sessions]) this.#apply(peerId, entry.session.close('local', 'leaving the room'))
    this.#present.clear()
    this.#room = undefined
    this.#core = undefined
  }

  /** Announce records added by other means than a pulled record (publishes, imports). */
  announce(records: readonly PeersetRecord[], origins: readonly RecordOrigin[]): void {
    const core = this.#core
    if (!core || this.#stopped) return
    // Skip records already replaced or evicted within their own batch: we could not serve them.
    const ids = records.filter((r, i) => origins[i]?.origin !== 'remote' && this.#o.index.has(r.id)).map((r) => r.id)
    if (ids.length > 0) this.#guard(() => this.#send(core.localRecordsAdded(ids, this.#o.clock())))
  }

  /** Drive timeouts: call about once a second. */
  tick(): void {
    if (this.#stopped || !this.#core) return
    this.#guard(() => {
      const now = this.#o.clock()
      for (const [peerId, entry] of [...this.#sessions]) this.#apply(peerId, entry.session.tick(now))
      this.#rotate(now)
      // A dropped peer that is still present: the initiator reconnects once its cool-down is over,
      // in random order (so a freed place does not always go to the same peer), while there is room.
      const candidates = [...this.#present].filter((id) => !this.#sessions.has(id) && isSessionInitiator(this.#room!.selfId, id))
      for (const peerId of shuffle(candidates)) {
        if (this.#sessions.size >= this.#o.maxPeers) break
        this.#open(peerId, now)
      }
      this.#send(this.#core!.tick(now))
    })
  }

  stop(): void {
    this.detach()
    this.#stopped = true
  }

  #later(run: () => void): void {
    if (this.#stopped) return
    if (this.#core) return run()
    // Before `attach` (a transport may report peers while joining): keep a bounded backlog.
    if (this.#early.length < MAX_EARLY_CALLBACKS) this.#early.push(run)
  }

  #peerJoined(peerId: string): void {
    this.#present.add(peerId)
    this.#open(peerId, this.#o.clock())
  }

  #peerLeft(peerId: string): void {
    this.#present.delete(peerId)
    const entry = this.#sessions.get(peerId)
    if (entry) this.#apply(peerId, entry.session.close('peer-left', 'the transport reported the peer gone'))
  }

  /** Start a session with a peer unless it is banned, cooling down, or the room is full. */
  #open(peerId: string, now: number, force = false): PeerEntry | undefined {
    const room = this.#room
    if (!room || this.#sessions.has(peerId)) return this.#sessions.get(peerId)
    const { registry } = this.#o
    if (!force && !registry.canConnect(peerId, undefined, now)) return undefined
    const rotatedUntil = this.#rotatedOut.get(peerId)
    if (rotatedUntil !== undefined) {
      if (now < rotatedUntil && !force) return undefined
      this.#rotatedOut.delete(peerId)
    }
    const session = createPeerSession({
      room: this.#o.room,
      selfId: room.selfId,
      peerId,
      signer: this.#o.signer,
      selfPubkey: this.#o.publicKey,
      settings: { granularity: this.#o.granularity, moderationDigest: this.#o.moderationDigest },
      priorStrikes: registry.strikesOf(peerId, undefined, now),
      limits: { maxExpectedRecords: MAX_EXPECTED_RECORDS, ...this.#o.sessionLimits },
      admit: (pubkey, t) => registry.canConnect(peerId, pubkey, t) && this.#hasRoomFor(pubkey),
      ...(this.#o.sessionTimeouts ? { timeouts: this.#o.sessionTimeouts } : {}),
      ...(this.#o.proofOfWork ? { proofOfWork: { requireDifficulty: this.#o.proofOfWork } } : {}),
    })
    const entry: PeerEntry = { session, pubkey: undefined, authenticated: false, authenticatedAt: 0, useful: 0, served: new TokenBucket(SERVE_RATE, SERVE_BURST, now) }
    this.#sessions.set(peerId, entry)
    this.#apply(peerId, session.start(now))
    return entry
  }

  /**
   * Room for one more peer? Counted over authenticated peers only (handshakes in progress do not
   * hold places, or a crowd arriving at once would refuse each other). Fresh identities get three
   * quarters of `maxPeers`; peers that gave us records before may use the rest, so a crowd of new
   * keys cannot push out the useful ones. Handshakes that complete together may overshoot by a few.
   */
  #hasRoomFor(pubkey: string): boolean {
    let authenticated = 0
    for (const entry of this.#sessions.values()) if (entry.authenticated) authenticated++
    const cap = this.#useful.has(pubkey) ? this.#o.maxPeers : Math.max(1, Math.floor(this.#o.maxPeers * 0.75))
    return authenticated < cap
  }

  /**
   * When every place is taken, one place is freed now and then (every `ROTATE_MS`): the session
   * that has given us the fewest records (the newest among equals) ends, so that a newcomer refused
   * by every full peer is not shut out for good. Peers that gave us records are the last to go.
   */
  #rotate(now: number): void {
    if (now - this.#lastRotation < ROTATE_MS) return
    let count = 0
    let victim: [string, PeerEntry] | undefined
    for (const pair of this.#sessions) {
      const entry = pair[1]
      if (!entry.authenticated) continue
      count++
      const v = victim?.[1]
      if (!v || entry.useful < v.useful || (entry.useful === v.useful && entry.authenticatedAt > v.authenticatedAt)) victim = pair
    }
    if (count < this.#o.maxPeers || !victim) return
    this.#lastRotation = now
    // The peer rotated out waits two rotations before it may take a place here again.
    this.#rotatedOut.set(victim[0], now + 2 * ROTATE_MS)
    this.#apply(victim[0], victim[1].session.close('local', 'the room is full: making room for a newcomer'))
  }

  #frame(peerId: string, data: Uint8Array): void {
    const now = this.#o.clock()
    let entry = this.#sessions.get(peerId)
    if (!entry) {
      // A peer may say hello again after a drop; anything else from a peer without a session is dropped.
      if (!this.#present.has(peerId) || !isHelloFrame(data)) return
      entry = this.#open(peerId, now)
      if (!entry) return
    }
    this.#apply(peerId, entry.session.receive(data, now))
  }

  /** Carry out what a session asks for, in order. */
  #apply(peerId: string, actions: readonly SessionAction[]): void {
    for (const action of actions) {
      switch (action.type) {
        case 'send':
          this.#room?.send(peerId, action.bytes)
          break
        case 'deliver':
          this.#deliver(peerId, action.bytes)
          break
        case 'authenticated': {
          const entry = this.#sessions.get(peerId)
          if (!entry || !this.#core) break
          // Handshakes that completed together may overshoot the limit: the newest goes.
          if (!this.#hasRoomFor(action.pubkey)) {
            this.#apply(peerId, entry.session.close('refused', `the room is full (${this.#o.maxPeers} peers)`))
            break
          }
          entry.authenticated = true
          entry.authenticatedAt = this.#o.clock()
          entry.pubkey = action.pubkey
          this.#o.peers.authenticated(peerId, action.pubkey)
          this.#send(this.#core.peerReady(peerId, this.#o.clock()))
          break
        }
        case 'state':
          this.#o.peers.state(peerId, action.from, action.to)
          break
        case 'strike':
          this.#o.peers.strike(peerId, action.reason, action.count, action.detail)
          break
        case 'close': {
          const entry = this.#sessions.get(peerId)
          this.#sessions.delete(peerId)
          if (entry?.authenticated && this.#core) this.#send(this.#core.peerGone(peerId, this.#o.clock()))
          const now = this.#o.clock()
          this.#o.registry.drop(peerId, now, { reason: action.reason, pubkey: entry?.session.peerPubkey, strikes: entry?.session.strikes ?? 0 })
          this.#o.peers.closed(peerId, action.reason, action.detail, entry?.authenticated ?? false)
          // A session that reached its maximum age re-authenticates at once.
          if (action.reason === 're-auth' && this.#present.has(peerId) && !this.#stopped) this.#open(peerId, now, true)
          break
        }
        case 'ban':
          this.#o.registry.ban(peerId, action.pubkey, action.untilMs)
          this.#o.peers.banned(peerId, action.pubkey, action.untilMs, action.reason)
          this.#o.peers.registryChanged(this.#o.registry)
          break
        case 'pending':
          void action.actions.then((later) => this.#guard(() => this.#apply(peerId, later)))
          break
      }
    }
  }

  /** A sync frame from an authenticated peer, within its budget. */
  #deliver(peerId: string, bytes: Uint8Array): void {
    const core = this.#core
    const entry = this.#sessions.get(peerId)
    if (!core || !entry?.authenticated) return
    let message: SyncMessage
    try {
      message = decodeMessage(bytes)
    } catch (error) {
      if (!(error instanceof PeersetError)) throw error
      return this.#apply(peerId, entry.session.strike('malformed', this.#o.clock(), error.message))
    }
    if (message.type === 'want') {
      // Serve what the budget allows; an honest peer re-requests the rest after its timeout.
      const allowed = Math.min(message.ids.length, MAX_WANT_IDS, Math.floor(entry.served.available(this.#o.clock())))
      if (allowed < message.ids.length) message = { type: 'want' as const, ids: message.ids.slice(0, allowed) }
      if (allowed === 0) return
      entry.served.take(allowed, this.#o.clock())
    }
    const result = core.receive(peerId, message, this.#o.clock())
    this.#send(result.send)
    for (const event of result.records) {
      void this.#o.ingestor.submitRemote(event, peerId).then(
        (outcome) => this.#guard(() => this.#resolved(event.id, peerId, outcome)),
        (error) => this.#o.onError(error),
      )
    }
  }

  #resolved(id: string, peerId: string, outcome: IngestOutcome): void {
    const core = this.#core
    if (!core || this.#stopped) return
    const now = this.#o.clock()
    switch (outcome.status) {
      case 'added': {
        const entry = this.#sessions.get(peerId)
        if (entry) entry.useful++
        if (entry?.pubkey) this.#rememberUseful(entry.pubkey)
        this.#addedWhileBusy++
        return this.#send(core.recordResolved(id, 'accepted', now, { fromPeerId: peerId }))
      }
      case 'duplicate':
        return this.#send(core.recordResolved(id, 'duplicate', now, { fromPeerId: peerId }))
      case 'failed':
        return this.#send(core.recordResolved(id, 'rejected', now, { fromPeerId: peerId, reject: { reason: 'other', permanent: false } }))
      case 'rejected': {
        if (outcome.permanent) this.#remember(this.#rejected, id, MAX_REMEMBERED_REJECTIONS)
        const reason = rejectClassOf(outcome.reason)
        this.#send(core.recordResolved(id, 'rejected', now, { fromPeerId: peerId, reject: { reason, permanent: outcome.permanent } }))
        // A forged or broken record is the forwarding peer's fault (it must verify before forwarding).
        const entry = this.#sessions.get(peerId)
        if (outcome.peerFault && entry) this.#apply(peerId, entry.session.strike(outcome.reason, now, `record ${id}: ${outcome.message}`))
        return
      }
    }
  }

  #rememberUseful(pubkey: string): void {
    if (!this.#useful.has(pubkey)) this.#remember(this.#useful, pubkey, MAX_USEFUL_PEERS)
  }

  #remember(set: Set<string>, value: string, max: number): void {
    if (set.size >= max) {
      const oldest = set.values().next().value
      if (oldest !== undefined) set.delete(oldest)
    }
    set.add(value)
  }

  #send(outbound: readonly Outbound[]): void {
    const room = this.#room
    if (!room || this.#stopped) return
    for (const { to, message } of outbound) {
      const entry = this.#sessions.get(to)
      // Nothing but handshake messages go to a peer that has not authenticated.
      if (!entry?.authenticated) continue
      // Records we ask for are flow-controlled, never counted as a flood.
      if (message.type === 'want') entry.session.expectRecords(message.ids.length)
      if (message.type === 'have') {
        this.#queueHave(to, message.groups)
        continue
      }
      for (const frame of encodeMessage(message)) room.send(to, frame)
    }
  }

  /**
   * Announcements made in one turn of the event loop (a committed batch resolves many records at
   * once, each announced on its own) are merged into as few `have` frames as fit, per peer.
   */
  #queueHave(to: string, groups: readonly { bucket: number; ids: string[] }[]): void {
    let buckets = this.#pendingHave.get(to)
    if (!buckets) this.#pendingHave.set(to, (buckets = new Map()))
    for (const { bucket, ids } of groups) {
      const list = buckets.get(bucket)
      if (list) list.push(...ids)
      else buckets.set(bucket, [...ids])
    }
    if (this.#haveFlushQueued) return
    this.#haveFlushQueued = true
    queueMicrotask(() => this.#guard(() => this.#flushHave()))
  }

  #flushHave(): void {
    this.#haveFlushQueued = false
    const pending = [...this.#pendingHave]
    this.#pendingHave.clear()
    const room = this.#room
    if (!room || this.#stopped) return
    for (const [to, buckets] of pending) {
      if (!this.#sessions.get(to)?.authenticated) continue
      const groups = [...buckets].map(([bucket, ids]) => ({ bucket, ids: [...new Set(ids)] }))
      for (const frame of encodeMessage({ type: 'have', groups })) room.send(to, frame)
    }
  }

  #guard(fn: () => void): void {
    try {
      fn()
      this.#checkBusy()
    } catch (error) {
      this.#o.onError(error)
    }
  }

  /** Report the start and the end of a catch-up. */
  #checkBusy(): void {
    const stats = this.#core?.stats()
    const busy = stats !== undefined && stats.wanted + stats.inFlight > 0
    if (busy === this.#busy) return
    this.#busy = busy
    if (busy) {
      this.#addedWhileBusy = 0
      this.#o.peers.syncStarted(stats!.wanted)
    } else {
      this.#o.peers.syncIdle(this.#addedWhileBusy)
    }
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}

function rejectClassOf(reason: string): RejectClass {
  switch (reason) {
    case 'malformed':
    case 'invalid-field':
    case 'too-large':
    case 'not-a-record':
    case 'bad-id':
    case 'bad-signature':
      return 'invalid'
    case 'expired':
    case 'future':
    case 'superseded':
    case 'moderation':
      return reason
    default:
      return 'other'
  }
}
