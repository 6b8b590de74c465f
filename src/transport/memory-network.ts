/**
 * The state and the links of a memory network (internal; see `createMemoryNetwork`): rooms and
 * their members, the connections between them, the partition, and the frames in flight.
 */
import { PeersetError } from '../errors.js'
import { createScheduler, type DeliveryScheduler } from './memory-scheduler.js'
import type { MemoryNetworkOptions, MemoryNetworkStats } from './memory.js'
import type { TransportHandlers, TransportRoom } from './types.js'

/** The options of a memory network once checked, with their defaults (`reorder` as a probability). */
export type ResolvedMemoryOptions = Required<Omit<MemoryNetworkOptions, 'reorder'>> & { reorder: number }

interface Member {
  readonly id: string
  readonly room: string
  readonly handlers: TransportHandlers
  active: boolean
  /** The connection id of each peer this member has been told joined (and not yet left). */
  readonly seen: Map<string, number>
}

/** Rooms, members, connections and deliveries of one memory network. */
export class SimulatedNetwork {
  readonly #o: ResolvedMemoryOptions
  readonly #random: () => number
  readonly #idRandom: () => number
  readonly #scheduler: DeliveryScheduler = createScheduler()
  readonly #rooms = new Map<string, Map<string, Member>>()
  readonly #peerIds = new Set<string>()
  /** Current connection id of each connected pair in a room. */
  readonly #connections = new Map<string, number>()
  /** Due time of the last in-order delivery of each directed link: later ones may not pass it. */
  readonly #linkFloor = new Map<string, number>()
  #groupOf: Map<string, number> | undefined
  #nextConnection = 0
  #closed = false
  readonly #counters = { framesSent: 0, framesDelivered: 0, framesDropped: 0, bytesSent: 0 }
  readonly #perLink = new Map<string, { frames: number; bytes: number }>()

  constructor(options: ResolvedMemoryOptions) {
    this.#o = options
    this.#random = mulberry32(options.seed)
    this.#idRandom = mulberry32(options.seed ^ 0x9e3779b9)
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Claims a peer id (`undefined`: a random one). Throws `INVALID_ARGUMENT` if it is taken. */
  claimPeerId(requested: string | undefined): string {
    const peerId = requested ?? randomId(this.#idRandom)
    if (typeof peerId !== 'string' || peerId.length === 0) {
      throw new PeersetError('INVALID_ARGUMENT', 'memory network transport: options.peerId must be a non-empty string')
    }
    if (this.#peerIds.has(peerId)) throw new PeersetError('INVALID_ARGUMENT', `memory network transport: peer id ${peerId} is already taken`)
    this.#peerIds.add(peerId)
    return peerId
  }

  /** Replace the partition and make the connections match it. Throws `INVALID_ARGUMENT` for bad groups. */
  partition(groups: unknown): void {
    this.#groupOf = checkGroups(groups)
    this.#rewire()
  }

  /** Remove the partition and connect every pair of members of a room again. */
  heal(): void {
    this.#groupOf = undefined
    this.#rewire()
  }

  /** Ids of the peers joined to `room`, or to any room. */
  peers(room?: string): string[] {
    if (room !== undefined) return [...(this.#rooms.get(room)?.keys() ?? [])]
    return [...new Set([...this.#rooms.values()].flatMap((m) => [...m.keys()]))]
  }

  stats(): MemoryNetworkStats {
    return { ...this.#counters, perLink: new Map([...this.#perLink].map(([k, v]) => [k, { ...v }])) }
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const members of this.#rooms.values()) for (const m of members.values()) m.active = false
    this.#rooms.clear()
    this.#connections.clear()
    this.#scheduler.close()
  }

  /** `peerId` joins `room`: it connects to every reachable member. */
  join(peerId: string, room: string, handlers: TransportHandlers): TransportRoom {
    checkJoin(room, handlers)
    if (this.#closed) throw new PeersetError('CLOSED', 'memory transport join: the network was closed')
    let members = this.#rooms.get(room)
    if (members?.has(peerId)) {
      throw new PeersetError('TRANSPORT_FAILED', `memory transport join: peer ${peerId} is already in room ${JSON.stringify(room)}; leave() first`)
    }
    if (members === undefined) this.#rooms.set(room, (members = new Map()))
    const self: Member = { id: peerId, room, handlers, active: true, seen: new Map() }
    for (const other of members.values()) if (this.#reachable(peerId, other.id)) this.#connect(self, other)
    members.set(peerId, self)
    return this.#roomOf(self, members)
  }

  #roomOf(self: Member, members: Map<string, Member>): TransportRoom {
    const { id: peerId, room } = self
    const maxFrameBytes = this.#o.maxFrameBytes
    return {
      selfId: peerId,
      send: (to: string, data: Uint8Array): void => {
        if (typeof to !== 'string' || to.length === 0) {
          throw new PeersetError('INVALID_ARGUMENT', 'memory transport send: peerId must be a non-empty string')
        }
        if (!(data instanceof Uint8Array)) throw new PeersetError('INVALID_ARGUMENT', 'memory transport send: data must be a Uint8Array')
        if (data.byteLength > maxFrameBytes) {
          throw new PeersetError('TRANSPORT_FAILED', `memory transport send: frame of ${data.byteLength} bytes is over the limit of ${maxFrameBytes}`)
        }
        // After leave() (or close) a send is ignored, as a closed data channel would.
        if (self.active && to !== peerId) this.#sendFrame(self, to, data)
      },
      // No signalling servers: the state is the peers this member sees.
      state: () => ({ signalling: [], peers: self.active ? self.seen.size : 0 }),
      leave: async (): Promise<void> => {
        if (!self.active) return
        self.active = false
        members.delete(peerId)
        if (members.size === 0) this.#rooms.delete(room)
        for (const other of members.values()) this.#disconnect(self, other)
      },
    }
  }

  #reachable(a: string, b: string): boolean {
    const groupOf = this.#groupOf
    return groupOf === undefined || (groupOf.get(a) ?? -1) === (groupOf.get(b) ?? -1)
  }

  #deliver(from: string, to: Member, delayMs: number, inOrder: boolean, run: () => void): void {
    let due = performance.now() + delayMs
    if (inOrder) {
      const key = `${to.room}\0${from}\0${to.id}`
      due = Math.max(due, this.#linkFloor.get(key) ?? 0)
      this.#linkFloor.set(key, due)
    }
    this.#scheduler.push(due, run)
  }

  #notify(kind: 'join' | 'leave', from: string, to: Member, connection: number): void {
    this.#deliver(from, to, this.#o.latencyMs, true, () => {
      if (!to.active) return
      if (kind === 'join') {
        to.seen.set(from, connection)
        to.handlers.onPeerJoin(from)
      } else if (to.seen.get(from) === connection) {
        to.seen.delete(from)
        to.handlers.onPeerLeave(from)
      }
    })
  }

  #connect(a: Member, b: Member): void {
    const connection = ++this.#nextConnection
    this.#connections.set(pairKey(a.room, a.id, b.id), connection)
    this.#notify('join', a.id, b, connection)
    this.#notify('join', b.id, a, connection)
  }

  #disconnect(a: Member, b: Member): void {
    const key = pairKey(a.room, a.id, b.id)
    const connection = this.#connections.get(key)
    if (connection === undefined) return
    this.#connections.delete(key)
    this.#notify('leave', a.id, b, connection)
    this.#notify('leave', b.id, a, connection)
  }

  /** Make the connections match the partition, room by room. */
  #rewire(): void {
    for (const members of this.#rooms.values()) {
      const list = [...members.values()]
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const [a, b] = [list[i] as Member, list[j] as Member]
          const connected = this.#connections.has(pairKey(a.room, a.id, b.id))
          if (this.#reachable(a.id, b.id) && !connected) this.#connect(a, b)
          else if (!this.#reachable(a.id, b.id) && connected) this.#disconnect(a, b)
        }
      }
    }
  }

  #sendFrame(sender: Member, to: string, data: Uint8Array): void {
    this.#count(sender.id, to, data.byteLength)
    const connection = this.#connections.get(pairKey(sender.room, sender.id, to))
    const target = this.#rooms.get(sender.room)?.get(to)
    const o = this.#o
    if (connection === undefined || target === undefined || (o.loss > 0 && this.#random() < o.loss)) {
      this.#counters.framesDropped++
      return
    }
    const copies = o.duplicate > 0 && this.#random() < o.duplicate ? 2 : 1
    for (let i = 0; i < copies; i++) {
      // Copied now: the sender may reuse its buffer; each copy is the receiver's own.
      const frame = new Uint8Array(data)
      const held = o.reorder > 0 && this.#random() < o.reorder
      let delay = o.latencyMs + (o.jitterMs > 0 ? this.#random() * o.jitterMs : 0)
      if (held) delay += this.#random() * Math.max(5, o.latencyMs + o.jitterMs)
      this.#deliver(sender.id, target, delay, !held, () => {
        // Only over the connection it was sent on: not after the receiver saw the sender leave.
        if (!target.active || target.seen.get(sender.id) !== connection) {
          this.#counters.framesDropped++
          return
        }
        this.#counters.framesDelivered++
        target.handlers.onMessage(sender.id, frame)
      })
    }
  }

  /** Count a frame accepted by `send()`, in total and per directed link. */
  #count(from: string, to: string, bytes: number): void {
    this.#counters.framesSent++
    this.#counters.bytesSent += bytes
    const link = this.#perLink.get(`${from}->${to}`) ?? { frames: 0, bytes: 0 }
    link.frames++
    link.bytes += bytes
    this.#perLink.set(`${from}->${to}`, link)
  }
}

function pairKey(room: string, a: string, b: string): string {
  return a < b ? `${room}\0${a}\0${b}` : `${room}\0${b}\0${a}`
}

function checkJoin(room: unknown, handlers: unknown): void {
  if (typeof room !== 'string' || room.length === 0) {
    throw new PeersetError('INVALID_ARGUMENT', 'memory transport join: room must be a non-empty string')
  }
  if (typeof handlers !== 'object' || handlers === null || !['onPeerJoin', 'onPeerLeave', 'onMessage'].every((k) => typeof (handlers as Record<string, unknown>)[k] === 'function')) {
    throw new PeersetError('INVALID_ARGUMENT', 'memory transport join: handlers must have onPeerJoin, onPeerLeave and onMessage functions')
  }
}

function checkGroups(groups: unknown): Map<string, number> {
  if (!Array.isArray(groups) || !groups.every((g) => Array.isArray(g) && g.every((id) => typeof id === 'string' && id.length > 0))) {
    throw new PeersetError('INVALID_ARGUMENT', 'memory network partition: groups must be an array of arrays of peer ids')
  }
  const groupOf = new Map<string, number>()
  ;(groups as string[][]).forEach((group, index) => {
    for (const id of group) {
      if (groupOf.has(id)) throw new PeersetError('INVALID_ARGUMENT', `memory network partition: peer ${id} is in two groups`)
      groupOf.set(id, index)
    }
  })
  return groupOf
}

/** mulberry32: a tiny, fast 32-bit seeded PRNG; returns floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'

function randomId(random: () => number): string {
  let id = ''
  for (let i = 0; i < 20; i++) id += ID_ALPHABET[Math.floor(random() * ID_ALPHABET.length)]
  return id
}
