/**
 * One peer session: handshake (hello, signed proofs), the state machine, timeouts, budgets and
 * strikes. Pure: no timers, no I/O. The engine passes time in and performs the returned actions.
 */
import { bytesToHex } from '@noble/hashes/utils.js'
import { PeersetError } from '../errors.js'
import { npubEncode } from '../identity/nip19.js'
import { PeerBudget } from './budget.js'
import {
  MAX_BYE_DETAIL_BYTES,
  SESSION_PROTOCOL_VERSION,
  decodeSessionMessage,
  encodeSessionMessage,
  isSessionFrame,
  sessionMessageType,
  type AuthMessage,
  type ByeMessage,
  type HelloMessage,
  type SessionMessage,
} from './codec.js'
import { resolveSessionOptions, type ResolvedSessionOptions } from './options.js'
import { createSessionProof, verifySessionProof, type SessionProofContext } from './proof.js'
import { compareSettings, settingsDigest } from './settings.js'
import { isTerminal, isTolerated, nextState } from './transitions.js'
import { encodeUtf8 as utf8, toWellFormedText } from '../protocol/bytes.js'
import { PROTOCOL_VERSION } from '../protocol/messages.js'
import type { CloseReason, PeerSessionOptions, SessionAction, SessionEvent, SessionState, StrikeReason } from './types.js'

/** A read-only view of a session, for status and tests. */
export interface PeerSessionSnapshot {
  state: SessionState
  strikes: number
  /** The peer's pubkey once its proof verified. */
  peerPubkey: string | undefined
  expectedRecords: number
  startedAtMs: number | undefined
  authenticatedAtMs: number | undefined
  lastReceivedAtMs: number | undefined
}

/**
 * Whether this side initiates: the side with the smaller transport id (UTF-16 code unit order). The
 * initiator closes an expired session with `re-auth` first and reconnects after a drop; the other
 * side waits for its hello (and only ends an expired session itself one `handshakeMs` later).
 * @example
 * ```ts
 * isSessionInitiator('a', 'b') // true
 * ```
 */
export function isSessionInitiator(selfId: string, peerId: string): boolean {
  return selfId < peerId
}

/**
 * Creates a session with one peer. Call `start()` at once (it sends our hello), then feed every
 * frame from the peer to `receive()`, call `tick()` about once a second, and perform the actions
 * each call returns, in order. Throws `PeersetError` `INVALID_ARGUMENT` for invalid options.
 * @example
 * ```ts
 * const session = createPeerSession({ room, selfId: room.selfId, peerId, signer, selfPubkey, settings })
 * perform(session.start(Date.now()))
 * onMessage = (bytes) => perform(session.receive(bytes, Date.now()))
 * ```
 */
export function createPeerSession(options: PeerSessionOptions): PeerSession {
  return new PeerSession(options)
}

/** See {@link createPeerSession}. */
export class PeerSession {
  readonly room: string
  readonly selfId: string
  readonly peerId: string
  readonly #o: ResolvedSessionOptions
  readonly #ourNonce: string
  readonly #ourDigest: string
  readonly #initiator: boolean
  #state: SessionState = 'connecting'
  #strikes: number
  #budget: PeerBudget | undefined
  #theirHello: HelloMessage | undefined
  #theirProofVerified = false
  #clockMs = -Infinity
  #startedAtMs: number | undefined
  #authenticatedAtMs: number | undefined
  #lastReceivedAtMs: number | undefined
  #lastPingAtMs = -Infinity
  /** The latest round-trip time measured (see `rttMs`). */
  #rttMs: number | undefined
  /** An auth bound to our nonce that came before the hello it answers (frames may be reordered). */
  #earlyAuth: AuthMessage | undefined
  /** Newer hellos answered in this session (each costs a signature); see `MAX_REANSWERS`. */
  #reanswers = 0
  /** Bumped whenever we start a proof: a proof finished for an older hello is dropped. */
  #proofGeneration = 0
  /** Our proof as sent, kept to send again until the peer shows it accepted it (see `#confirmTick`). */
  #ourAuth: Uint8Array | undefined
  /** Whether the peer sent a sync frame, ping or pong since we authenticated: then it accepted our proof. */
  #confirmed = false
  /** Copies of our proof sent since we authenticated. */
  #proofResends = 0

  constructor(options: PeerSessionOptions) {
    this.#o = resolveSessionOptions(options)
    this.room = this.#o.room
    this.selfId = this.#o.selfId
    this.peerId = this.#o.peerId
    this.#strikes = this.#o.priorStrikes
    this.#ourNonce = bytesToHex(globalThis.crypto.getRandomValues(new Uint8Array(32)))
    this.#ourDigest = settingsDigest(this.#o.settings)
    this.#initiator = isSessionInitiator(this.selfId, this.peerId)
  }

  /**
   * About one round trip to the peer, ms: first from our hello to its verified proof (which answers
   * our nonce: one round trip plus its signing), then from each keepalive ping to its pong.
   * `undefined` until the proof came.
   */
  get rttMs(): number | undefined {
    return this.#rttMs
  }

  /** The current state. */
  get state(): SessionState {
    return this.#state
  }

  /** Strikes so far (prior ones included). */
  get strikes(): number {
    return this.#strikes
  }

  /** The epoch of the peer's hello this session answers, once one was accepted. */
  get peerEpoch(): number | undefined {
    return this.#theirHello?.epoch
  }

  /** The peer's pubkey, once it proved it; `undefined` before. */
  get peerPubkey(): string | undefined {
    return this.#theirProofVerified ? this.#theirHello?.pubkey : undefined
  }

  /** A read-only view of the session. */
  snapshot(): PeerSessionSnapshot {
    return {
      state: this.#state,
      strikes: this.#strikes,
      peerPubkey: this.peerPubkey,
      expectedRecords: this.#budget?.expectedRecords ?? 0,
      startedAtMs: this.#startedAtMs,
      authenticatedAtMs: this.#authenticatedAtMs,
      lastReceivedAtMs: this.#lastReceivedAtMs,
    }
  }

  /** Sends our hello. Call once, right after creating the session; throws `INVALID_ARGUMENT` otherwise. */
  start(nowMs: number): SessionAction[] {
    const now = this.#see(nowMs, 'start')
    if (nextState(this.#state, 'start') === undefined) {
      throw new PeersetError('INVALID_ARGUMENT', `PeerSession.start: already started (state ${this.#state})`)
    }
    const actions: SessionAction[] = []
    this.#startedAtMs = now
    this.#lastReceivedAtMs = now
    this.#move('start', actions)
    actions.push(this.#ourHello())
    return actions
  }

  #ourHello(): SessionAction {
    return send({
      type: 'hello',
      pubkey: this.#o.selfPubkey,
      nonce: this.#ourNonce,
      settingsDigest: this.#ourDigest,
      powDifficulty: this.#o.proofOfWork.requireDifficulty,
      granularity: this.#o.settings.granularity,
      moderationDigest: this.#o.settings.moderationDigest,
      epoch: this.#o.epoch,
      ...(this.#o.settings.rules ? { rules: this.#o.settings.rules } : {}),
    })
  }

  /**
   * Handles one frame from the peer. First the budgets (frame size, frames, bytes, unsolicited
   * records), then the type byte against the state, then decoding and the handshake. A sync frame
   * comes back as `deliver` only when authenticated. Never throws on any bytes.
   */
  receive(bytes: Uint8Array, nowMs: number): SessionAction[] {
    if (!(bytes instanceof Uint8Array)) throw new PeersetError('INVALID_ARGUMENT', 'PeerSession.receive: bytes must be a Uint8Array')
    const now = this.#see(nowMs, 'receive')
    if (isTerminal(this.#state)) return []
    this.#lastReceivedAtMs = now
    const { maxFrameBytes } = this.#o.limits
    if (bytes.length > maxFrameBytes) return this.#strike('frame-too-large', `a frame of ${bytes.length} bytes is over the limit of ${maxFrameBytes}`, now)
    const session = isSessionFrame(bytes)
    const verdict = this.#budgetAt(now).admit(bytes, session || bytes.length < 2 ? 0 : this.#recordsIn(bytes), now)
    if (!verdict.ok) return verdict.strike ? this.#strike(verdict.reason, verdict.detail, now) : []
    if (bytes.length < 2) return this.#strike('malformed', `a frame of ${bytes.length} bytes has no 2-byte header`, now)
    const version = bytes[0]!
    if (!session) {
      if (version !== PROTOCOL_VERSION) return this.#strike('malformed', `sync frame of unknown version ${version}`, now)
      const actions: SessionAction[] = []
      if (!this.#move('sync', actions)) return this.#wrongState('sync', now)
      this.#confirmed = true
      actions.push({ type: 'deliver', bytes })
      return actions
    }
    const type = sessionMessageType(bytes[1]!)
    if (type === undefined) return this.#strike('malformed', `unknown session message type 0x${bytes[1]!.toString(16)}`, now)
    // Hellos and proofs are checked against the session they belong to (see #onHello, #onAuth).
    const bound = (type === 'hello' || type === 'auth') && this.#state !== 'connecting'
    if (!bound && nextState(this.#state, type) === undefined) return this.#wrongState(type, now)
    if (type === 'hello' && version !== SESSION_PROTOCOL_VERSION) {
      return this.#close('protocol-version', `the peer speaks protocol version ${version}, we speak ${SESSION_PROTOCOL_VERSION}`)
    }
    let message: SessionMessage
    try {
      message = decodeSessionMessage(bytes)
    } catch (error) {
      return this.#strike('malformed', error instanceof Error ? error.message : String(error), now)
    }
    return this.#handle(message, bytes, now)
  }

  /**
   * Checks the timeouts at `nowMs`: may close the session, or send a ping after a third of
   * `idleMs` of silence. Call it about once a second (or at `nextDeadlineMs()`).
   */
  tick(nowMs: number): SessionAction[] {
    const now = this.#see(nowMs, 'tick')
    const started = this.#startedAtMs
    if (isTerminal(this.#state) || started === undefined) return []
    const t = this.#o.timeouts
    if (this.#state !== 'authenticated') {
      if (!this.#theirProofVerified && now - started >= t.challengeMs) {
        return this.#close('challenge-timeout', `no valid proof from the peer within ${t.challengeMs} ms of our hello`)
      }
      if (now - started >= t.handshakeMs) return this.#close('handshake-timeout', `not authenticated within ${t.handshakeMs} ms`)
      return []
    }
    if (!this.#confirmed) return this.#confirmTick(now)
    const silentMs = now - (this.#lastReceivedAtMs ?? started)
    if (silentMs >= t.idleMs) return this.#close('idle-timeout', `nothing received for ${silentMs} ms`)
    if (now >= this.#reauthAtMs()) return this.#close('re-auth', `the session reached its maximum of ${t.maxSessionMs} ms`)
    if (now >= this.#pingAtMs()) {
      this.#lastPingAtMs = now
      return [send({ type: 'ping' })]
    }
    return []
  }

  /** When `tick()` next has something to do, or `undefined` (not started, or ended). */
  nextDeadlineMs(): number | undefined {
    const started = this.#startedAtMs
    if (isTerminal(this.#state) || started === undefined) return undefined
    const t = this.#o.timeouts
    if (this.#state !== 'authenticated') {
      const handshake = started + t.handshakeMs
      return this.#theirProofVerified ? handshake : Math.min(handshake, started + t.challengeMs)
    }
    if (!this.#confirmed) return this.#confirmDeadlineMs()
    return Math.min((this.#lastReceivedAtMs ?? started) + t.idleMs, this.#reauthAtMs(), this.#pingAtMs())
  }

  /**
   * Ends the session (a bye goes to the peer unless it left or closed itself). Default reason
   * `local`. Does nothing once ended.
   * @example
   * ```ts
   * perform(session.close('peer-left')) // the transport reported the peer gone
   * ```
   */
  close(reason: CloseReason = 'local', detail = ''): SessionAction[] {
    if (typeof detail !== 'string') throw new PeersetError('INVALID_ARGUMENT', 'PeerSession.close: detail must be a string')
    return this.#close(reason, detail)
  }

  /**
   * Gives the peer a strike (e.g. the engine found a record with a bad signature). At the threshold
   * the session ends with a ban. Not for moderation or time-window rejections. Does nothing once ended.
   * @example
   * ```ts
   * if (result.reason === 'bad-signature') perform(session.strike('bad-signature', Date.now()))
   * ```
   */
  strike(reason: StrikeReason, nowMs: number, detail = ''): SessionAction[] {
    if (typeof reason !== 'string' || reason.length === 0 || reason.length > 64) {
      throw new PeersetError('INVALID_ARGUMENT', 'PeerSession.strike: reason must be a string of 1..64 characters')
    }
    const now = this.#see(nowMs, 'strike')
    return this.#strike(reason, detail, now)
  }

  /**
   * We asked this peer for `n` more records, or accepted a catch-up of `n` from it: that many
   * records are flow control, never counted as unsolicited and never a strike.
   * @example
   * ```ts
   * send(peerId, encodeMessage({ type: 'want', ids })); session.expectRecords(ids.length)
   * ```
   */
  expectRecords(n: number): void {
    this.#budgetAt(this.#clockMs).expectRecords(n)
  }

  /** We gave up on `n` of the expected records (default: all of them). */
  cancelExpectedRecords(n?: number): void {
    this.#budgetAt(this.#clockMs).cancelExpectedRecords(n)
  }

  /**
   * Authenticated, and the peer has not shown yet that it accepted our proof (no sync frame, ping or
   * pong since): our proof may have been lost, and the peer would wait for it until its challenge
   * timeout while we sync into the void. So we send a copy of the proof (the same bytes: no new
   * signature, and a copy is dropped by a session that has it or that has ended) with a ping, whose
   * pong confirms, at 1, 2, 4 and 8 s; still nothing after `challengeMs`: the session closes with
   * `challenge-timeout` (the peer never accepted it) instead of staying half-open.
   */
  #confirmTick(now: number): SessionAction[] {
    const since = now - (this.#authenticatedAtMs ?? now)
    if (since >= this.#o.timeouts.challengeMs) {
      return this.#close('challenge-timeout', `the peer did not confirm our proof within ${this.#o.timeouts.challengeMs} ms of authentication`)
    }
    if (now < this.#confirmDeadlineMs() || this.#ourAuth === undefined) return []
    this.#proofResends++
    this.#lastPingAtMs = now
    return [{ type: 'send', bytes: this.#ourAuth }, send({ type: 'ping' })]
  }

  /** When `#confirmTick` next has something to do. */
  #confirmDeadlineMs(): number {
    const at = this.#authenticatedAtMs ?? 0
    const challenge = at + this.#o.timeouts.challengeMs
    if (this.#ourAuth === undefined || this.#proofResends >= PROOF_RESENDS) return challenge
    return Math.min(challenge, at + PROOF_RESEND_MS * 2 ** this.#proofResends)
  }

  #handle(message: SessionMessage, bytes: Uint8Array, now: number): SessionAction[] {
    switch (message.type) {
      case 'hello':
        return this.#onHello(message, bytes, now)
      case 'auth':
        return this.#onAuth(message, now)
      case 'ping': {
        const actions: SessionAction[] = []
        this.#move('ping', actions)
        this.#confirmed = true
        actions.push(send({ type: 'pong' }))
        return actions
      }
      case 'pong': {
        const actions: SessionAction[] = []
        if (Number.isFinite(this.#lastPingAtMs)) this.#rttMs = now - this.#lastPingAtMs
        this.#move('pong', actions)
        this.#confirmed = true
        return actions
      }
      case 'bye':
        return this.#onBye(message)
    }
  }

  /**
   * A hello. Its epoch says which session of the peer it belongs to: below the floor or not above
   * the hello we hold, it is a copy or a leftover of a dead session (dropped, no strike). A newer one
   * means the peer started a new session: before authentication we answer it in this session (our
   * hello again, and a proof for its nonce), at most `MAX_REANSWERS` times; once authenticated we
   * close and ask the engine to open a new session for it (`reopen`).
   */
  #onHello(hello: HelloMessage, bytes: Uint8Array, now: number): SessionAction[] {
    const held = this.#theirHello
    if (hello.epoch < this.#o.peerEpochFloor || (held !== undefined && hello.epoch <= held.epoch)) return []
    const theirs = { granularity: hello.granularity, moderationDigest: hello.moderationDigest, ...(hello.rules ? { rules: hello.rules } : {}) }
    if (settingsDigest(theirs) !== hello.settingsDigest) return this.#strike('malformed', 'the hello settings digest does not match its settings', now)
    if (hello.nonce === this.#ourNonce) return this.#strike('malformed', 'the hello repeats our nonce', now)
    const mismatch = compareSettings(this.#o.settings, theirs)
    if (mismatch !== undefined) return this.#close(mismatch.reason, mismatch.detail)
    if (hello.powDifficulty > this.#o.proofOfWork.maxMineDifficulty) {
      return this.#close('pow-too-hard', `the peer asks for ${hello.powDifficulty} bits of proof of work; we mine at most ${this.#o.proofOfWork.maxMineDifficulty}`)
    }
    if (!this.#o.admit(hello.pubkey, now)) return this.#close('refused', `pubkey ${hello.pubkey} is not admitted`)
    if (this.#state === 'authenticated') {
      return [...this.#close('re-auth', `the peer started a new session (epoch ${hello.epoch})`, false), { type: 'reopen', hello: bytes }]
    }
    const actions: SessionAction[] = []
    if (held !== undefined) {
      if (this.#reanswers >= MAX_REANSWERS) return [] // the challenge timeout ends this session
      this.#reanswers++
      actions.push(this.#ourHello()) // the peer's new session may not have ours
    }
    this.#theirHello = hello
    this.#theirProofVerified = false
    this.#move('hello', actions)
    actions.push({ type: 'pending', actions: this.#prove(hello, now) })
    const early = this.#earlyAuth
    if (early !== undefined && tagValue(early.proof.tags, 'prover-nonce') === hello.nonce) {
      this.#earlyAuth = undefined
      actions.push(...this.#onAuth(early, now))
    }
    return actions
  }

  /** Signs and sends our proof; resolves to the actions that follow. Never rejects. */
  async #prove(hello: HelloMessage, now: number): Promise<SessionAction[]> {
    const generation = ++this.#proofGeneration
    const context: SessionProofContext = {
      room: this.room,
      proverId: this.selfId,
      verifierId: this.peerId,
      proverNonce: this.#ourNonce,
      verifierNonce: hello.nonce,
      settingsDigest: this.#ourDigest,
    }
    let proof
    try {
      proof = await createSessionProof(this.#o.signer, context, {
        pubkey: this.#o.selfPubkey,
        createdAt: Math.floor(now / 1000),
        powDifficulty: hello.powDifficulty,
        isWanted: () => generation === this.#proofGeneration && !isTerminal(this.#state),
      })
    } catch (error) {
      if (generation !== this.#proofGeneration) return []
      return this.#close('signer-failed', error instanceof Error ? error.message : String(error))
    }
    if (proof === undefined || generation !== this.#proofGeneration) return [] // ended, or a newer hello came while we signed
    const actions: SessionAction[] = []
    if (!this.#move('proof-sent', actions)) return [] // ended while we were signing
    this.#ourAuth = encodeSessionMessage({ type: 'auth', proof })
    actions.push({ type: 'send', bytes: this.#ourAuth })
    if (this.#state === 'authenticated') this.#authenticated(actions)
    return actions
  }

  /**
   * A proof. One bound to another nonce of ours belongs to a dead session (dropped, no strike); one
   * bound to ours but to another hello of the peer is kept until that hello comes (frames may be
   * reordered); a copy of a proof already verified is dropped. Only a proof bound to this session's
   * two nonces is verified, and only then can it earn a strike.
   */
  #onAuth(auth: AuthMessage, now: number): SessionAction[] {
    if (tagValue(auth.proof.tags, 'verifier-nonce') !== this.#ourNonce) return []
    const hello = this.#theirHello
    if (hello === undefined || tagValue(auth.proof.tags, 'prover-nonce') !== hello.nonce) {
      this.#earlyAuth = auth
      return []
    }
    if (this.#theirProofVerified || nextState(this.#state, 'auth') === undefined) return []
    const context: SessionProofContext = {
      room: this.room,
      proverId: this.peerId,
      verifierId: this.selfId,
      proverNonce: hello.nonce,
      verifierNonce: this.#ourNonce,
      settingsDigest: hello.settingsDigest,
    }
    const verdict = verifySessionProof(auth.proof, context, {
      pubkey: hello.pubkey,
      nowMs: now,
      ttlMs: this.#o.timeouts.proofTtlMs,
      powDifficulty: this.#o.proofOfWork.requireDifficulty,
    })
    if (!verdict.ok && verdict.reason === 'expired') {
      // The nonces are fresh and bound into the proof, so its time adds nothing against a replay: a
      // proof out of time is a clock that differs from ours (checked before the signature, so cheap).
      // The session ends without a strike; the handshake limit paces the retries.
      return this.#close('auth-failed', `our clocks differ too much: ${verdict.message}`)
    }
    if (!verdict.ok) {
      const actions = this.#strike('bad-proof', `${verdict.reason}: ${verdict.message}`, now)
      return isTerminal(this.#state) ? actions : [...actions, ...this.#close('auth-failed', verdict.message)]
    }
    this.#theirProofVerified = true
    this.#rttMs ??= now - (this.#startedAtMs ?? now)
    const banned = this.#carryKeyStrikes(hello.pubkey, now)
    if (banned) return banned
    const actions: SessionAction[] = []
    this.#move('auth', actions)
    if (this.#state === 'authenticated') this.#authenticated(actions)
    return actions
  }

  #onBye(bye: ByeMessage): SessionAction[] {
    const detail = `the peer closed: ${bye.reason}${bye.detail === '' ? '' : ` (${bye.detail})`}`
    return this.#close(bye.reason === 're-auth' ? 're-auth' : 'peer-closed', detail, false)
  }

  #authenticated(actions: SessionAction[]): void {
    this.#authenticatedAtMs = this.#clockMs
    const pubkey = this.#theirHello!.pubkey
    actions.push({ type: 'authenticated', pubkey, npub: npubEncode(pubkey) })
  }

  #wrongState(event: SessionEvent, now: number): SessionAction[] {
    if (isTolerated(this.#state, event)) return []
    return this.#strike('wrong-state', `a ${event} frame is not allowed in state ${this.#state}`, now)
  }

  /**
   * The peer's key is proven: count the strikes remembered for it. Only what goes beyond the
   * strikes this session started with is added (those were remembered for the transport id, and
   * the same strikes are remembered under both when the key was known), once. At the threshold the
   * session ends and the peer is banned (by id and key); otherwise `undefined`.
   */
  #carryKeyStrikes(pubkey: string, now: number): SessionAction[] | undefined {
    const known = this.#o.priorStrikesOfKey(pubkey, now)
    const extra = Number.isSafeInteger(known) ? known - this.#o.priorStrikes : 0
    if (extra <= 0) return undefined
    this.#strikes += extra
    if (this.#strikes < this.#o.limits.strikeThreshold) return undefined
    return this.#ban([], 'prior-strikes', `strikes remembered for the key ${pubkey}`, now)
  }

  #strike(reason: StrikeReason, detail: string, now: number): SessionAction[] {
    if (isTerminal(this.#state)) return []
    this.#strikes += 1
    const actions: SessionAction[] = [{ type: 'strike', reason, count: this.#strikes, detail }]
    if (this.#strikes < this.#o.limits.strikeThreshold) return actions
    return this.#ban(actions, reason, detail, now)
  }

  /** End the session for good: bye, close `banned`, and ban the peer (its key too once proven). */
  #ban(actions: SessionAction[], reason: StrikeReason, detail: string, now: number): SessionAction[] {
    this.#move('ban', actions)
    actions.push(send({ type: 'bye', reason: 'banned', detail: '' }))
    actions.push({ type: 'close', reason: 'banned', detail: `${this.#strikes} strikes, the last: ${reason}${detail === '' ? '' : ` (${detail})`}` })
    actions.push({ type: 'ban', reason, untilMs: now + this.#o.limits.banMs, peerId: this.peerId, pubkey: this.peerPubkey })
    return actions
  }

  #close(reason: CloseReason, detail: string, sendBye = reason !== 'peer-left' && reason !== 'peer-closed'): SessionAction[] {
    const actions: SessionAction[] = []
    if (!this.#move('close', actions)) return actions
    if (sendBye) actions.push(send({ type: 'bye', reason, detail: clip(detail) }))
    actions.push({ type: 'close', reason, detail })
    return actions
  }

  /** Applies `event` through the transition table; `false` if the table does not allow it. */
  #move(event: SessionEvent, actions: SessionAction[]): boolean {
    const to = nextState(this.#state, event)
    if (to === undefined) return false
    if (to !== this.#state) {
      actions.push({ type: 'state', from: this.#state, to })
      this.#state = to
    }
    return true
  }

  #recordsIn(bytes: Uint8Array): number {
    if (this.#o.classify(bytes) !== 'records') return 0
    const n = this.#o.countRecords(bytes)
    return Number.isSafeInteger(n) && n >= 1 ? Math.min(n, this.#o.limits.maxFrameBytes) : 1
  }

  #budgetAt(now: number): PeerBudget {
    this.#budget ??= new PeerBudget(this.#o.limits, Number.isFinite(now) ? now : 0)
    return this.#budget
  }

  #reauthAtMs(): number {
    const grace = this.#initiator ? 0 : this.#o.timeouts.handshakeMs
    return (this.#authenticatedAtMs ?? 0) + this.#o.timeouts.maxSessionMs + grace
  }

  #pingAtMs(): number {
    const every = this.#o.timeouts.idleMs / 3
    return Math.max((this.#lastReceivedAtMs ?? 0) + every, this.#lastPingAtMs + every)
  }

  /** Validates a time and returns the session clock: the latest time seen (time never runs back). */
  #see(nowMs: number, fn: string): number {
    if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) {
      throw new PeersetError('INVALID_ARGUMENT', `PeerSession.${fn}: nowMs must be a finite number of milliseconds`)
    }
    this.#clockMs = Math.max(this.#clockMs, nowMs)
    return this.#clockMs
  }
}

/** Newer hellos a session answers before authentication (each costs a signature); later ones are dropped. */
export const MAX_REANSWERS = 2
/** First wait after authentication before our proof is sent again if the peer has not confirmed it, ms (then doubled). */
export const PROOF_RESEND_MS = 1_000
/** Most copies of our proof sent again in one session (at 1, 2, 4 and 8 s). */
export const PROOF_RESENDS = 4

/** The first value of the proof tag named `name`, if any. */
function tagValue(tags: readonly (readonly string[])[], name: string): string | undefined {
  return tags.find((tag) => tag[0] === name)?.[1]
}

function send(message: SessionMessage): SessionAction {
  return { type: 'send', bytes: encodeSessionMessage(message) }
}

/** `text` made fit for a bye: well-formed, at most 256 UTF-8 bytes (cut and marked with '...'). */
function clip(text: string): string {
  const detail = toWellFormedText(text)
  if (utf8(detail).length <= MAX_BYE_DETAIL_BYTES) return detail
  let out = ''
  let bytes = 3
  for (const char of detail) {
    bytes += utf8(char).length
    if (bytes > MAX_BYE_DETAIL_BYTES) break
    out += char
  }
  return `${out}...`
}
