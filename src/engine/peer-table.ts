/**
 * The peer table of the sync driver: which peers are present, which have a session, who may take
 * a place (bans, cool-downs, the room's size, peers that were useful before) and who makes room
 * for a newcomer when the room is full. It opens and forgets sessions; carrying out what a session
 * asks for is the frame router's job.
 */
import { createPeerSession, DEFAULT_SESSION_LIMITS, DEFAULT_SESSION_TIMEOUTS, isSessionInitiator, TokenBucket, type CloseReason, type PeerSession } from '../session/index.js'
import { addBounded } from './bounded-set.js'
import type { SyncDriverOptions } from './sync-driver.js'

/** What the peer table reads of the driver's options. */
export type PeerTableOptions = Pick<
  SyncDriverOptions,
  'room' | 'signer' | 'publicKey' | 'granularity' | 'moderationDigest' | 'settingRules' | 'registry' | 'maxPeers' | 'sessionLimits' | 'sessionTimeouts' | 'proofOfWork'
>

/** One peer with a session (authenticated or still handshaking). */
export interface PeerEntry {
  session: PeerSession
  pubkey: string | undefined
  authenticated: boolean
  authenticatedAt: number
  /** Records received from this peer and added. */
  useful: number
  /** Records sent to it in this session (for `PeerInfo.recordsSent`). */
  recordsSent: number
  /** Records we serve this peer (answers to its `want`s): bounded, so a small request cannot make us send without limit. */
  served: TokenBucket
}

/** How often a full peer frees one place for newcomers. */
const ROTATE_MS = 60_000
/** How often expired bans, cool-downs and strikes are forgotten. */
const PRUNE_MS = 60_000
/** Pubkeys of peers that gave us records, remembered to keep room for them when the room is full. */
const MAX_USEFUL_PEERS = 1_000
/**
 * Records served to one peer per second (answers to its `want`s), and the burst. This bounds what
 * one peer can make us serve (a `want` of 32-byte ids costs it little; each answer costs us a
 * lookup, an encoding and ~400 bytes of upload: about 35 us of CPU here, by --cpu-prof), while it must never pace
 * an honest catch-up: a newcomer asks for records only as fast as it verifies them (about 770/s per
 * core with noble, ~1,500/s with a 2-worker pool, ~3,500/s with libsecp256k1), so the rate sits
 * above every verifier we ship or document. It was 500/s (burst 2,000): past the burst, no
 * verifier could take in more than 500 records/s from one peer, and the ids cut from each `want`
 * came back only after the requester's 10 s request timeout (which also shrinks its allowance of
 * requests to us), so a faster verifier made the catch-up slower (issue 14, bench:ingest).
 * The trade: one peer may cost us up to ~14% of a core and ~1.6 MB/s of upload while it keeps
 * asking; what it asks beyond this is dropped, as before (an honest peer asks again after its timeout).
 */
export const SERVE_RATE = 4_000
export const SERVE_BURST = 16_000
/** Records a peer may owe us at once: answers to our wants are never counted as a flood, up to this. */
export const MAX_EXPECTED_RECORDS = DEFAULT_SESSION_LIMITS.maxExpectedRecords
/** Peers whose latest hello epoch is remembered (to drop hellos of their dead sessions). */
const MAX_REMEMBERED_EPOCHS = 10_000
/** Hellos kept from peers cooling down, at most (the oldest goes first). */
export const MAX_DEFERRED_HELLOS = 1_000

/** Peers rotated out lately (kept out for two minutes), remembered at most; expired ones are pruned. */
export const MAX_ROTATED_OUT = 1_000

/** Peers present, peers with a session, and who may have a place. */
export class PeerTable {
  readonly #o: PeerTableOptions
  /** Peers the transport reports present, whether or not they have a session. */
  readonly #present = new Set<string>()
  readonly #sessions = new Map<string, PeerEntry>()
  readonly #useful = new Set<string>()
  #lastRotation = Number.NEGATIVE_INFINITY
  #lastPrune = Number.NEGATIVE_INFINITY
  readonly #rotatedOut = new Map<string, number>()
  /** Present peers that sent at least one frame over their current link (a subset of the present ones). */
  readonly #heard = new Set<string>()
  /** The highest hello epoch seen from each peer (a bounded, oldest-first map). */
  readonly #peerEpochs = new Map<string, number>()
  /** The latest hello of each peer that said hello while cooling down, and when it came (see `deferHello`). */
  readonly #deferred = new Map<string, { hello: Uint8Array; atMs: number }>()
  /** Our latest session epoch: it grows with every session we start (see `nextEpoch`). */
  #epoch = 0

  constructor(options: PeerTableOptions) {
    this.#o = options
  }

  /** Peers with a session. */
  get size(): number {
    return this.#sessions.size
  }

  get(peerId: string): PeerEntry | undefined {
    return this.#sessions.get(peerId)
  }

  /** A snapshot of the sessions (safe to change the table while going through it). */
  entries(): Array<[string, PeerEntry]> {
    return [...this.#sessions]
  }

  /** The transport reports `peerId` present (`true`) or gone (`false`): a new link has said nothing yet. */
  setPresent(peerId: string, present: boolean): void {
    if (present) this.#present.add(peerId)
    else this.#present.delete(peerId)
    this.#heard.delete(peerId)
  }

  /** A frame came from `peerId` over its current link. */
  heardFrom(peerId: string): void {
    if (this.#present.has(peerId)) this.#heard.add(peerId)
  }

  /** Whether `peerId` has sent anything over its current link (see {@link heardFrom}). */
  hasHeardFrom(peerId: string): boolean {
    return this.#heard.has(peerId)
  }

  isPresent(peerId: string): boolean {
    return this.#present.has(peerId)
  }

  /** Forget who is present (the room is left). */
  clearPresent(): void {
    this.#present.clear()
    this.#heard.clear()
  }

  /** A room was (re)joined: the next rotation is a full `ROTATE_MS` away. */
  restartRotation(now: number): void {
    this.#lastRotation = now
  }

  /**
   * A new (not yet started) session with a peer that has none, unless it is banned, cooling down
   * or was rotated out lately (`force` skips those checks). `selfId` is this peer's id in the room.
   */
  admit(peerId: string, selfId: string, now: number, force = false): PeerEntry | undefined {
    if (this.#sessions.has(peerId)) return undefined
    const { registry } = this.#o
    if (!force && !registry.canConnect(peerId, undefined, now)) return undefined
    const rotatedUntil = this.#rotatedOut.get(peerId)
    if (rotatedUntil !== undefined) {
      if (now < rotatedUntil && !force) return undefined
      this.#rotatedOut.delete(peerId)
    }
    const session = createPeerSession({
      room: this.#o.room,
      selfId,
      peerId,
      signer: this.#o.signer,
      selfPubkey: this.#o.publicKey,
      settings: { granularity: this.#o.granularity, moderationDigest: this.#o.moderationDigest, ...(this.#o.settingRules ? { rules: this.#o.settingRules } : {}) },
      priorStrikes: registry.strikesOf(peerId, undefined, now),
      // Once the peer proved its key, the strikes remembered for that key count too.
      priorStrikesOfKey: (pubkey, t) => registry.strikesOf(peerId, pubkey, t),
      epoch: this.#nextEpoch(now),
      peerEpochFloor: this.peerEpoch(peerId),
      limits: { maxExpectedRecords: MAX_EXPECTED_RECORDS, ...this.#o.sessionLimits },
      admit: (pubkey, t) => registry.canConnect(peerId, pubkey, t) && this.hasRoomFor(pubkey),
      ...(this.#o.sessionTimeouts ? { timeouts: this.#o.sessionTimeouts } : {}),
      ...(this.#o.proofOfWork ? { proofOfWork: { requireDifficulty: this.#o.proofOfWork } } : {}),
    })
    const entry: PeerEntry = { session, pubkey: undefined, authenticated: false, authenticatedAt: 0, useful: 0, recordsSent: 0, served: new TokenBucket(SERVE_RATE, SERVE_BURST, now) }
    this.#sessions.set(peerId, entry)
    return entry
  }

  /**
   * A hello from a peer that may not start a session now. If it is only cooling down or paying down
   * its handshakes (not banned), and it may start one before the peer's session would give up on our answer (`challengeMs`), the
   * hello is kept (the latest per peer, at most {@link MAX_DEFERRED_HELLOS}) to be answered then: a
   * dropped hello would make an honest peer time out and cool us down in turn, while a peer that
   * keeps failing gets the full cool-down and its hellos are still dropped.
   */
  deferHello(peerId: string, hello: Uint8Array, now: number): void {
    const { registry } = this.#o
    const until = registry.connectableAt(peerId, now)
    if (until === undefined) return
    const challengeMs = this.#o.sessionTimeouts?.challengeMs ?? DEFAULT_SESSION_TIMEOUTS.challengeMs
    if (until - now >= challengeMs) return
    this.#deferred.delete(peerId)
    if (this.#deferred.size >= MAX_DEFERRED_HELLOS) this.#deferred.delete(this.#deferred.keys().next().value!)
    this.#deferred.set(peerId, { hello, atMs: now })
  }

  /** Kept hellos whose peer may start a session now (taken out); stale ones (older than `challengeMs`) are forgotten. */
  dueHellos(now: number): Array<[string, Uint8Array]> {
    const due: Array<[string, Uint8Array]> = []
    const challengeMs = this.#o.sessionTimeouts?.challengeMs ?? DEFAULT_SESSION_TIMEOUTS.challengeMs
    for (const [peerId, { hello, atMs }] of this.#deferred) {
      if (now - atMs >= challengeMs) this.#deferred.delete(peerId)
      else if (this.#o.registry.canConnect(peerId, undefined, now)) {
        this.#deferred.delete(peerId)
        due.push([peerId, hello])
      }
    }
    return due
  }

  /** The highest hello epoch seen from `peerId` (0 if none): a hello below it is of a dead session. */
  peerEpoch(peerId: string): number {
    return this.#peerEpochs.get(peerId) ?? 0
  }

  /** A session of ours accepted a hello of epoch `epoch` from `peerId`. */
  noteEpoch(peerId: string, epoch: number): void {
    if (epoch <= this.peerEpoch(peerId)) return
    this.#peerEpochs.delete(peerId)
    this.#peerEpochs.set(peerId, epoch)
    if (this.#peerEpochs.size > MAX_REMEMBERED_EPOCHS) this.#peerEpochs.delete(this.#peerEpochs.keys().next().value!)
  }

  /**
   * The epoch of a new session: above every earlier one, and at least the clock in ms, so a restart
   * under the same transport id still goes above what peers remember of the previous run.
   */
  #nextEpoch(now: number): number {
    this.#epoch = Math.max(this.#epoch + 1, Math.floor(now))
    return this.#epoch
  }

  /**
   * Room for one more peer? Counted over authenticated peers only (handshakes in progress do not
   * hold places, or a crowd arriving at once would refuse each other). Fresh identities get three
   * quarters of `maxPeers`; peers that gave us records before may use the rest, so a crowd of new
   * keys cannot push out the useful ones. Handshakes that complete together may overshoot by a few.
   */
  hasRoomFor(pubkey: string): boolean {
    let authenticated = 0
    for (const entry of this.#sessions.values()) if (entry.authenticated) authenticated++
    const cap = this.#useful.has(pubkey) ? this.#o.maxPeers : Math.max(1, Math.floor(this.#o.maxPeers * 0.75))
    return authenticated < cap
  }

  /** A peer proved its key: it holds a place from now on. */
  authenticated(entry: PeerEntry, pubkey: string, now: number): void {
    entry.authenticated = true
    entry.authenticatedAt = now
    entry.pubkey = pubkey
  }

  /** A record from `peerId` was added: it was useful, and its key is remembered as such. */
  credit(peerId: string): void {
    const entry = this.#sessions.get(peerId)
    if (entry) entry.useful++
    if (entry?.pubkey && !this.#useful.has(entry.pubkey)) addBounded(this.#useful, entry.pubkey, MAX_USEFUL_PEERS)
  }

  /** Forget a closed session; returns it. */
  remove(peerId: string): PeerEntry | undefined {
    const entry = this.#sessions.get(peerId)
    this.#sessions.delete(peerId)
    return entry
  }

  /** Record in the registry why a session ended (a cool-down, its strikes). */
  dropped(peerId: string, now: number, reason: CloseReason, entry: PeerEntry | undefined): void {
    const session = entry?.session
    this.#o.registry.drop(peerId, now, { reason, pubkey: session?.peerPubkey, strikes: session?.strikes ?? 0, authenticated: entry?.authenticated ?? false, answered: session?.peerEpoch !== undefined })
  }

  /** Ban a peer (and its key) until `untilMs`. */
  ban(peerId: string, pubkey: string | undefined, untilMs: number): void {
    this.#o.registry.ban(peerId, pubkey, untilMs)
  }

  /**
   * When every place is taken, one place is freed now and then (every `ROTATE_MS`): the session
   * that has given us the fewest records (the newest among equals) is chosen to end, so that a
   * newcomer refused by every full peer is not shut out for good. Peers that gave us records are
   * the last to go. Returns the session to close, if one is due.
   */
  rotate(now: number): [string, PeerEntry] | undefined {
    if (now - this.#lastRotation < ROTATE_MS) return undefined
    let count = 0
    let victim: [string, PeerEntry] | undefined
    for (const pair of this.#sessions) {
      const entry = pair[1]
      if (!entry.authenticated) continue
      count++
      const v = victim?.[1]
      if (!v || entry.useful < v.useful || (entry.useful === v.useful && entry.authenticatedAt > v.authenticatedAt)) victim = pair
    }
    if (count < this.#o.maxPeers || !victim) return undefined
    this.#lastRotation = now
    // The peer rotated out waits two rotations before it may take a place here again.
    // Bounded: a crowd of sybils rotated out one a minute cannot grow it for ever.
    this.#rotatedOut.delete(victim[0])
    if (this.#rotatedOut.size >= MAX_ROTATED_OUT) this.#rotatedOut.delete(this.#rotatedOut.keys().next().value!)
    this.#rotatedOut.set(victim[0], now + 2 * ROTATE_MS)
    return victim
  }

  /**
   * Present peers without a session that this peer (`selfId`) should reconnect to (it initiates
   * with them), in random order, so a freed place does not always go to the same peer.
   */
  reconnectCandidates(selfId: string): string[] {
    return shuffle([...this.#present].filter((id) => !this.#sessions.has(id) && isSessionInitiator(selfId, id)))
  }

  /** Forget expired bans, cool-downs and strikes, at most once per `PRUNE_MS`. */
  prune(now: number): void {
    if (now - this.#lastPrune < PRUNE_MS) return
    this.#lastPrune = now
    this.#o.registry.prune(now)
    for (const [peerId, until] of this.#rotatedOut) if (until <= now) this.#rotatedOut.delete(peerId)
  }

  /** How many peers are remembered as rotated out (for tests: bounded by {@link MAX_ROTATED_OUT}). */
  get rotatedOutCount(): number {
    return this.#rotatedOut.size
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}
