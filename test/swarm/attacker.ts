/**
 * A malicious peer on the memory network's transport (no Peerset): it speaks the sync wire
 * protocol with frames built by the exported codec, and its behaviour is a set of callbacks.
 *
 * By default it AUTHENTICATES: it runs a real session (`createPeerSession`: hello, signed proof)
 * with every honest peer, and sends sync frames to a peer only once that session is
 * authenticated, so they pass the handshake gate and reach the honest peer's sync layer. Honest
 * peers strike and ban it for what it sends there; when every honest peer has ended its session, it
 * comes back (after `rejoinDelayMs`) as a new sybil: a fresh peer id and a fresh key (a ban holds
 * a peer id and a proven key, and keys are free). With `authenticate: false` it is a raw peer that never says hello.
 *
 * It counts what it sends and what honest peers send it, per honest peer: in particular the sync
 * frames it sent while its session with that peer was authenticated (`syncSentAuthenticated`).
 */
import {
  acceptAll,
  computeEventId,
  createIdentity,
  dailyBuckets,
  type MemoryNetwork,
  type NostrEvent,
  type TransportRoom,
} from '../../src/index.js'
import { keptSetRulesOf } from '../../src/engine/options.js'
import { decodeMessage, encodeMessage, type BucketIds, type SyncMessage, type WireEvent } from '../../src/protocol/index.js'
import { createPeerSession, isSessionFrame, type CloseReason, type PeerSession, type SessionAction } from '../../src/session/index.js'

/** What the attacker does; every callback is optional. */
export interface Behaviour {
  /** An honest peer appeared (raw), or authenticated it (authenticating attacker). */
  joined?(attacker: Attacker, peerId: string): void
  /** An honest peer sent a frame the sync codec decodes (through the session when authenticating). */
  message?(attacker: Attacker, peerId: string, message: SyncMessage): void
  /** Called every `everyMs` while the attack runs, for each honest peer it may talk to. */
  tick?(attacker: Attacker, peerId: string): void
}

export interface AttackerOptions {
  random: () => number
  clock: () => number
  /** Run a session with each honest peer and send sync frames only once it is authenticated. Default true. */
  authenticate?: boolean
  /** How long a banned attacker waits before it comes back under a new identity. Default 1 s. */
  rejoinDelayMs?: number
  /** The moderation digest it claims in its hello (to be admitted by peers with another policy). Default `acceptAll().digest`. */
  moderationDigest?: string
  /** Its sessions expect the records its `want`s ask for (as an honest requester's do), without limit, so no answer is a flood to it. Default false. */
  expectAnswers?: boolean
}

/** One session with one honest peer, in one incarnation. */
interface Link {
  session: PeerSession
  authenticated: boolean
  ended: CloseReason | undefined
}

export class Attacker {
  /** Honest peers present in the room (transport level). */
  readonly peers = new Set<string>()
  /** Every peer id this attacker has used (one per incarnation), in order. */
  readonly ids: string[] = []
  /** All frames sent to honest peers (session frames included), and frames they sent here. */
  framesSent = 0
  framesReceived = 0
  bytesReceived = 0
  /** Sync frames sent, in all. */
  syncSent = 0
  /** Per honest peer: sync frames sent while the session with it was authenticated (so they reached its sync layer). */
  readonly syncSentAuthenticated = new Map<string, number>()
  /** Per honest peer: how many incarnations authenticated with it. */
  readonly authenticatedWith = new Map<string, number>()
  /** Sync messages an authenticating attacker dropped because it had no authenticated session with the peer. */
  withheld = 0
  /** Frames received, by decoded sync type (`session` for session frames, `other` if not decodable). */
  readonly receivedByType = new Map<string, number>()
  /** How honest peers ended sessions with it, by reason (e.g. `peer-closed: banned`). */
  readonly endings = new Map<string, number>()
  #room: TransportRoom | undefined
  #timer: ReturnType<typeof setInterval> | undefined
  readonly #links = new Map<string, Link>()
  #incarnation = 0
  #rejoining = false
  #stopped = false
  #left = false
  readonly #behaviour: Behaviour
  readonly #network: MemoryNetwork
  readonly #roomName: string
  readonly #baseId: string
  readonly authenticate: boolean
  readonly #rejoinDelayMs: number
  readonly #moderationDigest: string | undefined
  readonly #expectAnswers: boolean
  readonly random: () => number
  readonly clock: () => number

  private constructor(network: MemoryNetwork, room: string, baseId: string, behaviour: Behaviour, options: AttackerOptions) {
    this.#network = network
    this.#roomName = room
    this.#baseId = baseId
    this.#behaviour = behaviour
    this.authenticate = options.authenticate ?? true
    this.#rejoinDelayMs = options.rejoinDelayMs ?? 1_000
    this.#moderationDigest = options.moderationDigest
    this.#expectAnswers = options.expectAnswers ?? false
    this.random = options.random
    this.clock = options.clock
  }

  /** Join `room` as `peerId` and behave. */
  static async join(network: MemoryNetwork, room: string, peerId: string, behaviour: Behaviour, options: AttackerOptions): Promise<Attacker> {
    const attacker = new Attacker(network, room, peerId, behaviour, options)
    await attacker.#join()
    return attacker
  }

  /** The current peer id. */
  get id(): string {
    return this.#room!.selfId
  }

  /** Whether `peerId` is one of this attacker's incarnations. */
  isMe(peerId: string | undefined): boolean {
    return peerId !== undefined && this.ids.includes(peerId)
  }

  /** Sync frames sent while authenticated, over all honest peers. */
  get syncPastHandshake(): number {
    let n = 0
    for (const v of this.syncSentAuthenticated.values()) n += v
    return n
  }

  /** Honest peers it currently has an authenticated session with. */
  authenticatedPeers(): string[] {
    return [...this.#links].filter(([, l]) => l.authenticated && !l.ended).map(([id]) => id)
  }

  async #join(): Promise<void> {
    const peerId = this.#incarnation === 0 ? this.#baseId : `${this.#baseId}-${this.#incarnation}`
    this.ids.push(peerId)
    this.#links.clear()
    this.peers.clear()
    const identity = createIdentity()
    const room = await this.#network.transport({ peerId }).join(this.#roomName, {
      onPeerJoin: (id) => {
        if (this.#room !== room) return
        this.peers.add(id)
        if (this.authenticate) this.#link(id)
        else this.#behaviour.joined?.(this, id)
      },
      onPeerLeave: (id) => void this.peers.delete(id),
      onMessage: (id, data) => {
        if (this.#room !== room) return
        this.framesReceived++
        this.bytesReceived += data.byteLength
        if (!this.authenticate) return this.#syncFrame(id, data)
        const link = this.#link(id)
        if (link) this.#perform(id, link, link.session.receive(data, this.clock()))
      },
    })
    this.#room = room
    this.#identity = identity
  }

  #identity: ReturnType<typeof createIdentity> | undefined

  /** The session with an honest peer in this incarnation, started on first contact. */
  #link(peerId: string): Link | undefined {
    let link = this.#links.get(peerId)
    if (link) return link.ended ? undefined : link
    const room = this.#room
    const identity = this.#identity
    if (!room || !identity) return undefined
    const session = createPeerSession({
      room: this.#roomName,
      selfId: room.selfId,
      peerId,
      signer: identity.signer,
      selfPubkey: identity.publicKey,
      // The rules a default peerset sends (session version 3): the attacker agrees on every setting.
      settings: { granularity: buckets.descriptor, moderationDigest: this.#moderationDigest ?? acceptAll().digest, rules: keptSetRulesOf({}) },
      // A greedy requester takes whatever it is served: no cap on the answers it expects.
      ...(this.#expectAnswers ? { limits: { maxExpectedRecords: Number.MAX_SAFE_INTEGER, bytesPerSecond: 1e12, byteBurst: 1e12, messagesPerSecond: 1e9, messageBurst: 1e9 } } : {}),
    })
    link = { session, authenticated: false, ended: undefined }
    this.#links.set(peerId, link)
    this.#perform(peerId, link, session.start(this.clock()))
    return link
  }

  #perform(peerId: string, link: Link, actions: readonly SessionAction[]): void {
    const room = this.#room
    for (const action of actions) {
      if (this.#room !== room) return
      switch (action.type) {
        case 'send':
          this.framesSent++
          room?.send(peerId, action.bytes)
          break
        case 'deliver':
          this.#syncFrame(peerId, action.bytes)
          break
        case 'authenticated':
          link.authenticated = true
          this.authenticatedWith.set(peerId, (this.authenticatedWith.get(peerId) ?? 0) + 1)
          this.#behaviour.joined?.(this, peerId)
          break
        case 'close':
          link.ended = action.reason
          this.endings.set(`${action.reason}: ${action.detail}`.slice(0, 60), (this.endings.get(`${action.reason}: ${action.detail}`.slice(0, 60)) ?? 0) + 1)
          this.#maybeReincarnate()
          break
        case 'pending':
          void action.actions.then((later) => this.#perform(peerId, link, later))
          break
      }
    }
  }

  /** Every honest peer ended its session with this incarnation: come back as a new sybil. */
  #maybeReincarnate(): void {
    if (this.#rejoining || this.#stopped || this.#left) return
    const live = [...this.peers].some((id) => !this.#links.get(id)?.ended)
    if (live) return
    this.#rejoining = true
    const old = this.#room
    this.#room = undefined
    this.#incarnation++
    void (async () => {
      await old?.leave()
      await new Promise((r) => setTimeout(r, this.#rejoinDelayMs))
      if (!this.#left && !this.#stopped) await this.#join()
      this.#rejoining = false
    })()
  }

  #syncFrame(peerId: string, data: Uint8Array): void {
    if (isSessionFrame(data)) {
      this.receivedByType.set('session', (this.receivedByType.get('session') ?? 0) + 1)
      return
    }
    let message: SyncMessage
    try {
      message = decodeMessage(data)
    } catch {
      this.receivedByType.set('other', (this.receivedByType.get('other') ?? 0) + 1)
      return
    }
    this.receivedByType.set(message.type, (this.receivedByType.get(message.type) ?? 0) + 1)
    // `gossip` frames are also counted by op (`gossip-have`, `gossip-want`, `gossip-gone`).
    if (message.type === 'gossip') this.receivedByType.set(`gossip-${message.op}`, (this.receivedByType.get(`gossip-${message.op}`) ?? 0) + 1)
    this.#behaviour.message?.(this, peerId, message)
  }

  /** Run `tick` every `everyMs` for every honest peer (authenticated ones, when authenticating). */
  start(everyMs: number): void {
    this.#timer = setInterval(() => {
      const targets = this.authenticate ? this.authenticatedPeers() : [...this.peers]
      for (const peerId of targets) this.#behaviour.tick?.(this, peerId)
      // Keep the sessions' own timeouts and keep-alives going.
      for (const [peerId, link] of [...this.#links]) if (!link.ended) this.#perform(peerId, link, link.session.tick(this.clock()))
    }, everyMs)
  }

  /** Stop attacking: no more ticks, and no new identity once banned (its sessions still answer pings). */
  stop(): void {
    this.#stopped = true
    clearInterval(this.#timer)
  }

  async leave(): Promise<void> {
    this.stop()
    this.#left = true
    await this.#room?.leave()
  }

  /** Send raw bytes (a raw attacker; an authenticating one uses {@link send}). */
  sendBytes(to: string, bytes: Uint8Array): void {
    this.framesSent++
    this.#room?.send(to, bytes)
  }

  /**
   * Send a sync message, encoded by the public codec. An authenticating attacker sends it only
   * over an authenticated session (and counts it as past the handshake); otherwise it is withheld.
   */
  send(to: string, message: SyncMessage): void {
    const link = this.#links.get(to)
    if (this.#expectAnswers && message.type === 'want' && link?.authenticated && !link.ended) link.session.expectRecords(message.ids.length)
    for (const frame of encodeMessage(message)) this.sendSync(to, frame)
  }

  /** Send bytes as a sync frame: see {@link send}. */
  sendSync(to: string, frame: Uint8Array): void {
    const link = this.#links.get(to)
    const authenticated = link !== undefined && link.authenticated && !link.ended
    if (this.authenticate && !authenticated) {
      this.withheld++
      return
    }
    this.syncSent++
    if (authenticated) this.syncSentAuthenticated.set(to, (this.syncSentAuthenticated.get(to) ?? 0) + 1)
    this.sendBytes(to, frame)
  }

  /** The current window of daily buckets (what honest peers use by default). */
  window(): { oldest: number; newest: number } {
    return buckets.windowAt(this.clock())
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.random() * 256)
    return out
  }

  hex(bytes: number): string {
    return [...this.bytes(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('')
  }
}

const buckets = dailyBuckets()

/** The daily bucket of an event. */
export function bucketOfEvent(event: Pick<NostrEvent, 'created_at'>): number {
  return buckets.bucketOf(event.created_at * 1000)
}

/** `have` groups for events, by bucket. */
export function haveGroups(entries: ReadonlyArray<{ id: string; bucket: number }>): BucketIds[] {
  const groups = new Map<number, string[]>()
  for (const { id, bucket } of entries) {
    let g = groups.get(bucket)
    if (!g) groups.set(bucket, (g = []))
    g.push(id)
  }
  return [...groups].map(([bucket, ids]) => ({ bucket, ids }))
}

/** The wire form of an event (no id), with its id as a receiver computes it. */
export function wire(event: Omit<NostrEvent, 'id'>): { id: string; event: WireEvent; bucket: number } {
  const e: WireEvent = { pubkey: event.pubkey, created_at: event.created_at, kind: event.kind, tags: event.tags, content: event.content, sig: event.sig }
  return { id: computeEventId(e), event: e, bucket: bucketOfEvent(e) }
}

/** A copy of a hex string with one digit changed. */
export function flipHex(hex: string, at = 10): string {
  const c = hex[at] === '0' ? '1' : '0'
  return hex.slice(0, at) + c + hex.slice(at + 1)
}
