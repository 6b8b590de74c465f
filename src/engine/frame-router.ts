/**
 * The frame router of the sync driver: every frame from a peer goes through its session first
 * (state allowed? within budget?); what the session asks for is carried out here, and only an
 * authenticated session's sync frames reach the sync core, within the peer's serving budget.
 * Records the core receives go to the ingest path; their outcome goes back to the core.
 */
import { PeersetError } from '../errors.js'
import { decodeMessage, type SyncMessage } from '../protocol/index.js'
import { decodeSessionMessage, isHelloFrame, type SessionAction } from '../session/index.js'
import { addBounded } from './bounded-set.js'
import type { DriverState, Guard } from './driver-state.js'
import type { IngestOutcome } from './ingest.js'
import type { Outbox } from './outbox.js'
import type { PeerEntry, PeerTable } from './peer-table.js'
import { rejectClassOf } from './reject-class.js'
import type { SyncDriverOptions } from './sync-driver.js'

/** What the frame router reads of the driver's options. */
export type FrameRouterOptions = Pick<SyncDriverOptions, 'clock' | 'ingestor' | 'maxPeers' | 'peers' | 'registry' | 'onError'>

/** Ids this peer refused for good are remembered (so they are never requested again), up to this many. */
const MAX_REMEMBERED_REJECTIONS = 100_000
/** Most ids one `want` may ask for (the core asks for at most 64 at a time); the rest are dropped. */
const MAX_WANT_IDS = 256

/** Routes frames: transport -> session -> sync core -> ingest, and session actions to where they go. */
export class FrameRouter {
  readonly #o: FrameRouterOptions
  readonly #state: DriverState
  readonly #peers: PeerTable
  readonly #outbox: Outbox
  readonly #guard: Guard
  readonly #rejected = new Set<string>()
  #recordsAdded = 0

  constructor(options: FrameRouterOptions, state: DriverState, peers: PeerTable, outbox: Outbox, guard: Guard) {
    this.#o = options
    this.#state = state
    this.#peers = peers
    this.#outbox = outbox
    this.#guard = guard
  }

  /** Records received from peers and added, since the start. */
  get recordsAdded(): number {
    return this.#recordsAdded
  }

  /** Whether this peer refused record `id` for good. */
  isKnownRejected(id: string): boolean {
    return this.#rejected.has(id)
  }

  /** One frame from a peer. */
  frame(peerId: string, data: Uint8Array): void {
    const now = this.#o.clock()
    let entry = this.#peers.get(peerId)
    if (!entry) {
      // A peer may say hello again after a drop. Any other frame from a present peer without a session
      // means it still thinks it has one (our bye was lost): we say hello, which starts a new session
      // on both sides (within the same cool-downs and limits as any session), and drop the frame.
      if (!this.#peers.isPresent(peerId) || this.#isStaleHello(peerId, data)) return
      entry = this.open(peerId, now)
      if (!entry || !isHelloFrame(data)) return
    }
    this.#receive(peerId, entry, data, now)
  }

  /** A frame through the peer's session; the epoch of a hello it accepted is remembered. */
  #receive(peerId: string, entry: PeerEntry, data: Uint8Array, now: number): void {
    const actions = entry.session.receive(data, now)
    const epoch = entry.session.peerEpoch
    if (epoch !== undefined) this.#peers.noteEpoch(peerId, epoch)
    this.apply(peerId, actions)
  }

  /** A hello of a session the peer has ended (below the highest epoch it sent us): no session is opened for it. */
  #isStaleHello(peerId: string, data: Uint8Array): boolean {
    try {
      const message = decodeSessionMessage(data)
      return message.type === 'hello' && message.epoch < this.#peers.peerEpoch(peerId)
    } catch {
      return false // the session will judge it
    }
  }

  /** Start a session with a peer unless it is banned, cooling down, or the room is full; returns the peer's session. */
  open(peerId: string, now: number, force = false): PeerEntry | undefined {
    const room = this.#state.room
    if (!room) return this.#peers.get(peerId)
    const existing = this.#peers.get(peerId)
    if (existing) return existing
    const entry = this.#peers.admit(peerId, room.selfId, now, force)
    if (entry) this.apply(peerId, entry.session.start(now))
    return entry
  }

  /** Carry out what a session asks for, in order. */
  apply(peerId: string, actions: readonly SessionAction[]): void {
    for (const action of actions) {
      switch (action.type) {
        case 'send':
          this.#state.room?.send(peerId, action.bytes)
          break
        case 'deliver':
          this.#deliver(peerId, action.bytes)
          break
        case 'authenticated':
          this.#authenticated(peerId, action.pubkey)
          break
        case 'state':
          this.#o.peers.state(peerId, action.from, action.to)
          break
        case 'strike':
          this.#o.peers.strike(peerId, action.reason, action.count, action.detail)
          break
        case 'close':
          this.#closed(peerId, action)
          break
        case 'ban':
          this.#peers.ban(peerId, action.pubkey, action.untilMs)
          this.#o.peers.banned(peerId, action.pubkey, action.untilMs, action.reason)
          this.#o.peers.registryChanged(this.#o.registry)
          break
        case 'pending':
          void action.actions.then((later) => this.#guard(() => this.apply(peerId, later)))
          break
        case 'reopen': {
          // The peer started a new session: the closed one was replaced (re-auth reopens at once).
          const entry = this.#peers.get(peerId)
          if (entry) this.#receive(peerId, entry, action.hello, this.#o.clock())
          break
        }
      }
    }
  }

  #authenticated(peerId: string, pubkey: string): void {
    const entry = this.#peers.get(peerId)
    const core = this.#state.core
    if (!entry || !core) return
    // Handshakes that completed together may overshoot the limit: the newest goes.
    if (!this.#peers.hasRoomFor(pubkey)) {
      return this.apply(peerId, entry.session.close('refused', `the room is full (${this.#o.maxPeers} peers)`))
    }
    this.#peers.authenticated(entry, pubkey, this.#o.clock())
    this.#o.peers.authenticated(peerId, pubkey, entry.session.strikes)
    this.#outbox.send(core.peerReady(peerId, this.#o.clock()))
  }

  #closed(peerId: string, action: Extract<SessionAction, { type: 'close' }>): void {
    const entry = this.#peers.remove(peerId)
    const core = this.#state.core
    if (entry?.authenticated && core) this.#outbox.send(core.peerGone(peerId, this.#o.clock()))
    const now = this.#o.clock()
    this.#peers.dropped(peerId, now, action.reason, entry)
    this.#o.peers.closed(peerId, action.reason, action.detail, entry?.authenticated ?? false)
    // A session that reached its maximum age re-authenticates at once.
    if (action.reason === 're-auth' && this.#peers.isPresent(peerId) && !this.#state.stopped) this.open(peerId, now, true)
  }

  /** A sync frame from an authenticated peer, within its budget. */
  #deliver(peerId: string, bytes: Uint8Array): void {
    const core = this.#state.core
    const entry = this.#peers.get(peerId)
    if (!core || !entry?.authenticated) return
    let message: SyncMessage
    try {
      message = decodeMessage(bytes)
    } catch (error) {
      if (!(error instanceof PeersetError)) throw error
      return this.apply(peerId, entry.session.strike('malformed', this.#o.clock(), error.message))
    }
    if (message.type === 'want') {
      // Serve what the budget allows; an honest peer re-requests the rest after its timeout.
      const allowed = Math.min(message.ids.length, MAX_WANT_IDS, Math.floor(entry.served.available(this.#o.clock())))
      if (allowed < message.ids.length) message = { type: 'want' as const, ids: message.ids.slice(0, allowed) }
      if (allowed === 0) return
      entry.served.take(allowed, this.#o.clock())
    }
    const result = core.receive(peerId, message, this.#o.clock())
    this.#outbox.send(result.send)
    this.#strikeUnrequested(peerId, entry, result.unrequested)
    for (const event of result.records) {
      void this.#o.ingestor.submitRemote(event, peerId).then(
        (outcome) => this.#guard(() => this.#resolved(event.id, peerId, outcome)),
        (error) => this.#o.onError(error),
      )
    }
  }

  /**
   * Records whose recomputed id was never asked of this peer: one strike each. An honest peer
   * sends a record only when asked, and a late or repeated answer is not listed by the core; a
   * forged copy (content changed, announced id kept) hashes to an id nobody asked for.
   */
  #strikeUnrequested(peerId: string, entry: PeerEntry, ids: readonly string[]): void {
    for (const id of ids) {
      const detail = id === '' ? 'a record that cannot be hashed' : `record ${id} was never asked of this peer (a forged or tampered copy hashes to an id nobody asked for)`
      this.apply(peerId, entry.session.strike('unrequested-record', this.#o.clock(), detail))
    }
  }

  /** The ingest path decided about a record `peerId` sent: tell the sync core (and strike a forwarder of a broken record). */
  #resolved(id: string, peerId: string, outcome: IngestOutcome): void {
    const core = this.#state.core
    if (!core || this.#state.stopped) return
    const now = this.#o.clock()
    switch (outcome.status) {
      case 'added':
        this.#peers.credit(peerId)
        this.#recordsAdded++
        return this.#outbox.send(core.recordResolved(id, 'accepted', now, { fromPeerId: peerId }))
      case 'duplicate':
        return this.#outbox.send(core.recordResolved(id, 'duplicate', now, { fromPeerId: peerId }))
      case 'failed':
        return this.#outbox.send(core.recordResolved(id, 'rejected', now, { fromPeerId: peerId, reject: { reason: 'other', permanent: false } }))
      case 'rejected': {
        if (outcome.permanent) addBounded(this.#rejected, id, MAX_REMEMBERED_REJECTIONS)
        const reason = rejectClassOf(outcome.reason)
        this.#outbox.send(core.recordResolved(id, 'rejected', now, { fromPeerId: peerId, reject: { reason, permanent: outcome.permanent } }))
        // A forged or broken record is the forwarding peer's fault (it must verify before forwarding).
        const entry = this.#peers.get(peerId)
        if (outcome.peerFault && entry) this.apply(peerId, entry.session.strike(outcome.reason, now, `record ${id}: ${outcome.message}`))
        return
      }
    }
  }
}
