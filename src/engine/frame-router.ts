/**
 * The frame router of the sync driver: every frame from a peer goes through its session first
 * (state allowed? within budget?); what the session asks for is carried out here, and only an
 * authenticated session's sync frames reach the sync core, within the peer's serving budget.
 * Records the core receives go to the ingest path; their outcome goes back to the core.
 */
import { PeersetError } from '../errors.js'
import { decodeMessage, wireEventSize, type GossipMessage, type SyncMessage, type WireEvent } from '../protocol/index.js'
import { computeEventId, toNostrEvent } from '../record/index.js'
import type { PeersetRecord } from '../record/types.js'
import { decodeSessionMessage, isHelloFrame, type SessionAction } from '../session/index.js'
import { announcedInvalid, type Announcement } from './announce-fault.js'
import { addBounded } from './bounded-set.js'
import type { DriverState, Guard } from './driver-state.js'
import type { IngestOutcome } from './ingest.js'
import type { Outbox } from './outbox.js'
import type { PeerEntry, PeerTable } from './peer-table.js'
import { RefusedForNow } from './refused-for-now.js'
import { rejectClassOf } from './reject-class.js'
import type { SyncDriverOptions } from './sync-driver.js'

/** What the frame router reads of the driver's options. */
export type FrameRouterOptions = Pick<SyncDriverOptions, 'clock' | 'ingestor' | 'maxPeers' | 'peers' | 'registry' | 'onError' | 'buckets' | 'clockSkewMs' | 'evidence'>

/** Ids this peer refused for good are remembered (so they are never requested again), up to this many. */
const MAX_REMEMBERED_REJECTIONS = 100_000
/** Most ids one `want` may ask for (the core asks for at most 64 at a time); the rest are dropped. */
const MAX_WANT_IDS = 256
/** Handshake time-outs: on a link that carried nothing from the peer, they mean the link is dead (see `#closed`). */
const MUTE_LINK_REASONS: ReadonlySet<string> = new Set(['handshake-timeout', 'challenge-timeout'])

/**
 * Most evidence events taken from one session (twice what a peer keeps in all: an honest peer
 * sends its set once, then what it strikes later); the rest are ignored.
 */
export const MAX_EVIDENCE_PER_SESSION = 1_024
/**
 * Evidence our moderation did not strike (yet) is kept, up to this many events, and judged again when
 * a record of its author is added: a rule that looks at other records (`duplicate`) may strike it
 * once the earlier copy has arrived.
 */
export const MAX_UNCONVINCED_EVIDENCE = 256
/**
 * Most evidence bytes (wire form) sent to one peer at once: a quarter of a peer's default byte
 * burst, so evidence never makes an honest sender look like a flood. The newest evidence goes first;
 * what does not fit waits for the next session (a typical evidence set is far smaller).
 */
export const MAX_EVIDENCE_SEND_BYTES = 1_048_576

/** Evidence traffic, for tests and diagnostics. */
export interface EvidenceStats {
  framesSent: number
  framesReceived: number
  /** Events taken from evidence frames and submitted to the ingest path. */
  submitted: number
  /** Of those, the ones that struck their author here. */
  struck: number
  /** Of those, the ones our moderation did not strike (or that were already known). */
  notStruck: number
  /** Of those, broken ones (bad signature, malformed): the sender was struck. */
  invalid: number
}

/** Routes frames: transport -> session -> sync core -> ingest, and session actions to where they go. */
export class FrameRouter {
  readonly #o: FrameRouterOptions
  readonly #state: DriverState
  readonly #peers: PeerTable
  readonly #outbox: Outbox
  readonly #guard: Guard
  readonly #rejected = new Set<string>()
  /** Records refused for now, asked for again when a record of their author is removed. */
  readonly refusedForNow = new RefusedForNow()
  #recordsAdded = 0
  #recordsResolved = 0
  /** Per authenticated peer: evidence ids it is known to hold (sent to it or received from it), and how many events it sent. */
  readonly #evidencePeers = new Map<string, { known: Set<string>; received: number }>()
  /** Evidence not struck for now, by id: judged again when a record of its author is added. */
  readonly #unconvinced = new Map<string, { event: WireEvent & { id: string }; peerId: string }>()
  readonly evidenceStats: EvidenceStats = { framesSent: 0, framesReceived: 0, submitted: 0, struck: 0, notStruck: 0, invalid: 0 }

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

  /** Records received from peers and judged (added, duplicate, refused or failed), since the start. */
  get recordsResolved(): number {
    return this.#recordsResolved
  }

  /** Whether this peer refused record `id` for good. */
  isKnownRejected(id: string): boolean {
    return this.#rejected.has(id)
  }

  /** `count` records of `author` were removed: ask again now for its records refused for now (a place may be free). */
  placesFreed(author: string, count: number): void {
    const core = this.#state.core
    if (!core || this.#state.stopped) return
    const entries = this.refusedForNow.take(author, count)
    if (entries.length > 0) this.#outbox.send(core.retry(entries, this.#o.clock()))
  }

  /**
   * Record `id` was refused for now: remembered until a record of its author is removed; asked for
   * again at once if one was removed while it was judged (its refusal may predate that removal).
   */
  #refusedForNow(author: string, id: string, bucket: number, peerId: string, removalsBefore: number): void {
    if (this.refusedForNow.removalsOf(author) === removalsBefore) return this.refusedForNow.remember(author, id, bucket, peerId)
    this.#outbox.send(this.#state.core!.retry([{ id, bucket, peerIds: [peerId] }], this.#o.clock()))
  }

  /** One frame from a peer. */
  frame(peerId: string, data: Uint8Array): void {
    const now = this.#o.clock()
    this.#peers.heardFrom(peerId)
    let entry = this.#peers.get(peerId)
    if (!entry) {
      // A peer may say hello again after a drop. Any other frame from a present peer without a session
      // means it still thinks it has one (our bye was lost): we say hello, which starts a new session
      // on both sides (within the same cool-downs and limits as any session), and drop the frame.
      if (!this.#peers.isPresent(peerId) || this.#isStaleHello(peerId, data)) return
      entry = this.open(peerId, now)
      // A hello from a peer cooling down is kept, and answered when its cool-down ends (see `deferHello`).
      if (!entry && isHelloFrame(data)) this.#peers.deferHello(peerId, data, now)
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

  /**
   * Hellos kept while their peer cooled down whose cool-down is over: a session is opened for each
   * (within the usual limits) and given the hello, so the peer's waiting session completes instead of
   * timing out and cooling us down in turn.
   */
  answerDeferredHellos(now: number): void {
    for (const [peerId, hello] of this.#peers.dueHellos(now)) {
      if (!this.#peers.isPresent(peerId) || this.#peers.get(peerId)) continue
      const entry = this.open(peerId, now)
      if (entry) this.#receive(peerId, entry, hello, now)
    }
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
    this.#evidencePeers.set(peerId, { known: new Set(), received: 0 })
    this.sendEvidence([...(this.#o.evidence?.values() ?? [])], peerId)
  }

  /** Send evidence records to one authenticated peer, or to all of them, skipping what each is known to hold. */
  sendEvidence(records: readonly PeersetRecord[], only?: string): void {
    const room = this.#state.room
    if (!room || this.#state.stopped || records.length === 0) return
    // Newest first, encoded once for every peer.
    const encoded = [...records]
      .sort((x, y) => y.createdAt - x.createdAt)
      .map((r) => {
        const { id, ...wire } = toNostrEvent(r)
        return { id, wire, size: wireEventSize(wire) }
      })
    for (const [peerId, peer] of this.#evidencePeers) {
      if (only !== undefined && peerId !== only) continue
      if (!this.#peers.get(peerId)?.authenticated) continue
      const events: WireEvent[] = []
      let bytes = 0
      for (const { id, wire, size } of encoded) {
        if (peer.known.has(id)) continue
        bytes += size
        if (bytes > MAX_EVIDENCE_SEND_BYTES) break
        addBounded(peer.known, id, MAX_EVIDENCE_PER_SESSION)
        events.push(wire)
      }
      if (events.length === 0) continue
      for (const frame of this.#outbox.encode({ type: 'evidence', events })) {
        this.evidenceStats.framesSent++
        room.send(peerId, frame)
      }
    }
  }

  /** Evidence from an authenticated peer: each new event goes to the ingest path (it may strike its author, never stored as a record). */
  #receiveEvidence(peerId: string, entry: PeerEntry, events: readonly WireEvent[]): void {
    const peer = this.#evidencePeers.get(peerId)
    if (!peer) return
    this.evidenceStats.framesReceived++
    for (const event of events) {
      if (peer.received >= MAX_EVIDENCE_PER_SESSION) return
      peer.received++
      let id: string
      try {
        id = computeEventId(event)
      } catch (error) {
        return this.apply(peerId, entry.session.strike('malformed', this.#o.clock(), `evidence: ${String(error)}`))
      }
      // Known here already (as evidence, or from this peer): nothing to do, nothing to send back.
      const known = peer.known.has(id) || this.#o.evidence?.has(id) === true
      addBounded(peer.known, id, MAX_EVIDENCE_PER_SESSION)
      if (known) continue
      this.evidenceStats.submitted++
      this.#submitEvidence({ id, ...event }, peerId)
    }
  }

  #submitEvidence(event: WireEvent & { id: string }, peerId: string): void {
    void this.#o.ingestor.submitEvidence(event, peerId).then(
      (outcome) => this.#guard(() => this.#evidenceResolved(event, peerId, outcome)),
      (error) => this.#o.onError(error),
    )
  }

  /** Records were added: evidence of their authors that did not strike may strike now (its context changed). */
  evidenceContextChanged(records: readonly PeersetRecord[]): void {
    if (this.#unconvinced.size === 0) return
    const authors = new Set(records.map((r) => r.author))
    for (const [id, pending] of this.#unconvinced) {
      if (!authors.has(pending.event.pubkey)) continue
      this.#unconvinced.delete(id)
      this.#submitEvidence(pending.event, pending.peerId)
    }
  }

  /** What the ingest path made of one evidence event: a broken one is the sender's fault; one we do not strike is not. */
  #evidenceResolved(event: WireEvent & { id: string }, peerId: string, outcome: IngestOutcome): void {
    const { id } = event
    if (outcome.status === 'rejected' && outcome.reason === 'not-evidence' && !outcome.permanent) {
      this.#unconvinced.delete(id)
      this.#unconvinced.set(id, { event, peerId })
      if (this.#unconvinced.size > MAX_UNCONVINCED_EVIDENCE) this.#unconvinced.delete(this.#unconvinced.keys().next().value!)
    }
    if (outcome.status !== 'rejected' || !outcome.peerFault) {
      if (outcome.status === 'rejected' && outcome.authorStrike === true) this.evidenceStats.struck++
      else if (outcome.status === 'rejected' && outcome.reason === 'superseded' && this.#o.evidence?.has(id)) this.evidenceStats.struck++
      else this.evidenceStats.notStruck++
      return
    }
    this.evidenceStats.invalid++
    const entry = this.#peers.get(peerId)
    if (entry) this.apply(peerId, entry.session.strike(outcome.reason, this.#o.clock(), `evidence ${id}: ${outcome.message}`))
  }

  #closed(peerId: string, action: Extract<SessionAction, { type: 'close' }>): void {
    const entry = this.#peers.remove(peerId)
    this.#evidencePeers.delete(peerId)
    const core = this.#state.core
    if (entry?.authenticated && core) this.#outbox.send(core.peerGone(peerId, this.#o.clock()))
    const now = this.#o.clock()
    this.#peers.dropped(peerId, now, action.reason, entry)
    this.#o.peers.closed(peerId, action.reason, action.detail, entry?.authenticated ?? false)
    // A session that reached its maximum age re-authenticates at once.
    if (action.reason === 're-auth' && this.#peers.isPresent(peerId) && !this.#state.stopped) this.open(peerId, now, true)
    // A handshake that timed out on a link that never carried a single frame from the peer: the link
    // is dead on its side (e.g. a WebRTC connection it never reported). Hellos would go on vanishing
    // into it, and the transport would go on ignoring the peer's attempts to connect anew: drop it.
    if (MUTE_LINK_REASONS.has(action.reason) && this.#peers.isPresent(peerId) && !this.#peers.hasHeardFrom(peerId) && !this.#state.stopped) {
      this.#state.room?.resetPeer?.(peerId)
    }
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
    if (message.type === 'evidence') return this.#receiveEvidence(peerId, entry, message.events)
    if (message.type === 'want') {
      // Serve what the budget allows; an honest peer re-requests the rest after its timeout.
      const allowed = Math.min(message.ids.length, MAX_WANT_IDS, Math.floor(entry.served.available(this.#o.clock())))
      if (allowed < message.ids.length) message = { type: 'want' as const, ids: message.ids.slice(0, allowed) }
      if (allowed === 0) return
      entry.served.take(allowed, this.#o.clock())
    } else if (message.type === 'fetch') {
      // The same serving budget: a fetch is answered with at most what it allows (maybe nothing: the peer waits and asks again).
      const allowed = Math.max(0, Math.min(message.max, Math.floor(entry.served.available(this.#o.clock()))))
      message = { ...message, max: allowed }
      if (allowed > 0) entry.served.take(allowed, this.#o.clock())
    }
    if (message.type === 'gossip' && message.op === 'want') {
      const capped = capGossipWant(message, Math.min(MAX_WANT_IDS, Math.floor(entry.served.available(this.#o.clock()))))
      if (capped === undefined) return
      entry.served.take(capped.count, this.#o.clock())
      message = capped.message
    }
    const result = core.receive(peerId, message, this.#o.clock())
    this.#outbox.send(result.send)
    this.#strikeUnrequested(peerId, entry, result.unrequested)
    for (const event of result.records) {
      const announced = core.announcement(event.id)
      const removals = this.refusedForNow.removalsOf(event.pubkey)
      void this.#o.ingestor.submitRemote(event, peerId).then(
        (outcome) => this.#guard(() => this.#resolved(event.id, peerId, outcome, event, announced, removals)),
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
  #resolved(id: string, peerId: string, outcome: IngestOutcome, event: WireEvent, announced: Announcement | undefined, removals: number): void {
    const core = this.#state.core
    if (!core || this.#state.stopped) return
    const now = this.#o.clock()
    this.#recordsResolved++
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
        if (!outcome.permanent && announced) this.#refusedForNow(event.pubkey, id, announced.bucket, peerId, removals)
        // A forged or broken record is the forwarding peer's fault (it must verify before forwarding);
        // so is one refused before its signature that was already invalid when it was announced.
        const entry = this.#peers.get(peerId)
        if (!entry) return
        if (outcome.peerFault) return this.apply(peerId, entry.session.strike(outcome.reason, now, `record ${id}: ${outcome.message}`))
        const fault = announced && announcedInvalid(outcome.reason, event, announced, this.#o.buckets.granularity, this.#o.clockSkewMs)
        if (fault) this.apply(peerId, entry.session.strike(outcome.reason, now, `record ${id}: ${outcome.message}; ${fault}`))
        return
      }
    }
  }
}

/** A `gossip` `want` cut to at most `allowed` ids (the serving budget, as for `want`), or `undefined` if none is allowed. */
function capGossipWant(message: GossipMessage, allowed: number): { message: GossipMessage; count: number } | undefined {
  const groups: GossipMessage['groups'] = []
  let count = 0
  for (const g of message.groups) {
    if (count >= allowed) break
    const ids = g.ids.slice(0, allowed - count)
    groups.push({ bucket: g.bucket, ids })
    count += ids.length
  }
  return count === 0 ? undefined : { message: { ...message, groups }, count }
}
