/**
 * An in-process network for tests, simulations and single-process host apps: any number of peers,
 * with optional latency, jitter, loss, duplication, reordering and partitions, all driven by a
 * seeded PRNG so a run can be replayed.
 */
import { PeersetError } from '../errors.js'
import { MAX_FRAME_BYTES } from '../protocol/messages.js'
import type { TransportHandlers, TransportRoom, TransportStrategy } from './types.js'

/** Options of {@link createMemoryNetwork}. */
export interface MemoryNetworkOptions {
  /** One-way delay of every frame and join/leave notice, ms. Default 0: the next macrotask (never synchronous). */
  latencyMs?: number
  /** Extra random delay per frame, uniform in [0, jitterMs) ms; frames of a link still arrive in order. Default 0. */
  jitterMs?: number
  /** Probability (0..1) that a frame is lost. Default 0. */
  loss?: number
  /** Probability (0..1) that a frame is delivered twice. Default 0. */
  duplicate?: number
  /** `true` (every frame) or a probability (0..1) that a frame is held back and overtaken by later ones. Default false. */
  reorder?: boolean | number
  /** Seed of the PRNG behind loss, duplicate, reorder, jitter and generated peer ids. Default: random. */
  seed?: number
  /** Largest frame `send()` accepts, bytes; a larger one throws `TRANSPORT_FAILED`. Default {@link MAX_FRAME_BYTES}. */
  maxFrameBytes?: number
}

/** Options of {@link MemoryNetwork.transport}. */
export interface MemoryTransportOptions {
  /** This peer's id in every room it joins (unique in the network). Default: a random 20-character id. */
  peerId?: string
}

/** A transport strategy of a memory network: one peer identity. */
export interface MemoryTransport extends TransportStrategy {
  /** The id this peer has in every room (its `selfId`). */
  readonly peerId: string
}

/** Traffic counters of a memory network. */
export interface MemoryNetworkStats {
  /** Frames accepted by `send()` (lost and undeliverable ones included). */
  framesSent: number
  /** Frames handed to an `onMessage` handler (a duplicate counts twice). */
  framesDelivered: number
  /** Frames lost (`loss`), sent to a peer not connected, or arriving after the link closed. */
  framesDropped: number
  /** Bytes accepted by `send()`. */
  bytesSent: number
  /** Frames and bytes sent per directed link, keyed `"<from>-><to>"` (all rooms together). */
  perLink: Map<string, { frames: number; bytes: number }>
}

/** A simulated network made by {@link createMemoryNetwork}. */
export interface MemoryNetwork {
  /**
   * A transport strategy for one peer identity. Its `join()` may be called for several rooms; joining a
   * room it is still in throws `TRANSPORT_FAILED` (after `leave()` it may join again, as a new arrival).
   */
  transport(options?: MemoryTransportOptions): MemoryTransport
  /**
   * Split the network: peers talk only inside their group; peers in no group form one more group.
   * Replaces any earlier partition. Links cut now are seen as leaves on both sides, links made as joins.
   */
  partition(groups: readonly (readonly string[])[]): void
  /** Remove the partition: every pair of peers in a room is connected again (and sees the other join). */
  heal(): void
  /** Ids of the peers currently joined to `room`, or to any room. */
  peers(room?: string): string[]
  /** A snapshot of the traffic counters. */
  stats(): MemoryNetworkStats
  /** Stop everything: pending deliveries are discarded, no handler runs again, `join()` throws `CLOSED`. Idempotent. */
  close(): void
}

interface Member {
  readonly id: string
  readonly room: string
  readonly handlers: TransportHandlers
  active: boolean
  /** The connection id of each peer this member has been told joined (and not yet left). */
  readonly seen: Map<string, number>
}

interface Delivery {
  due: number
  seq: number
  run: () => void
}

/**
 * Create an in-process network. Delivery is always asynchronous (never inside `send()` or `join()`): each
 * join notice, leave notice and frame runs in its own macrotask, in order per link unless `reorder` is
 * set, and each frame is copied when sent. A peer receives frames only between its `onPeerJoin` and
 * `onPeerLeave` of the sender. A handler that throws surfaces as an uncaught error; delivery goes on.
 *
 * @throws PeersetError `INVALID_ARGUMENT` for bad options.
 * @example
 * ```ts
 * const network = createMemoryNetwork({ latencyMs: 20, loss: 0.01, seed: 7 })
 * const alice = createPeerset({ room: 'lobby', transport: network.transport(), storage: memoryStorage() })
 * const bob = createPeerset({ room: 'lobby', transport: network.transport(), storage: memoryStorage() })
 * network.partition([[aliceId], [bobId]]) // later: network.heal()
 * console.log(network.stats().bytesSent)
 * ```
 */
export function createMemoryNetwork(options: MemoryNetworkOptions = {}): MemoryNetwork {
  const o = checkOptions(options)
  const random = mulberry32(o.seed)
  const idRandom = mulberry32(o.seed ^ 0x9e3779b9)
  const scheduler = createScheduler()
  const rooms = new Map<string, Map<string, Member>>()
  const peerIds = new Set<string>()
  /** Current connection id of each connected pair in a room. */
  const connections = new Map<string, number>()
  /** Due time of the last in-order delivery of each directed link: later ones may not pass it. */
  const linkFloor = new Map<string, number>()
  let groupOf: Map<string, number> | undefined
  let nextConnection = 0
  let closed = false
  const counters = { framesSent: 0, framesDelivered: 0, framesDropped: 0, bytesSent: 0 }
  const perLink = new Map<string, { frames: number; bytes: number }>()

  const pairKey = (room: string, a: string, b: string): string => (a < b ? `${room}\0${a}\0${b}` : `${room}\0${b}\0${a}`)
  const reachable = (a: string, b: string): boolean => groupOf === undefined || (groupOf.get(a) ?? -1) === (groupOf.get(b) ?? -1)

  function deliver(from: string, to: Member, delayMs: number, inOrder: boolean, run: () => void): void {
    let due = performance.now() + delayMs
    if (inOrder) {
      const key = `${to.room}\0${from}\0${to.id}`
      due = Math.max(due, linkFloor.get(key) ?? 0)
      linkFloor.set(key, due)
    }
    scheduler.push(due, run)
  }

  function notify(kind: 'join' | 'leave', from: string, to: Member, connection: number): void {
    deliver(from, to, o.latencyMs, true, () => {
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

  function connect(a: Member, b: Member): void {
    const connection = ++nextConnection
    connections.set(pairKey(a.room, a.id, b.id), connection)
    notify('join', a.id, b, connection)
    notify('join', b.id, a, connection)
  }

  function disconnect(a: Member, b: Member): void {
    const key = pairKey(a.room, a.id, b.id)
    const connection = connections.get(key)
    if (connection === undefined) return
    connections.delete(key)
    notify('leave', a.id, b, connection)
    notify('leave', b.id, a, connection)
  }

  /** Make the connections match the partition, room by room. */
  function rewire(): void {
    for (const members of rooms.values()) {
      const list = [...members.values()]
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const [a, b] = [list[i] as Member, list[j] as Member]
          const connected = connections.has(pairKey(a.room, a.id, b.id))
          if (reachable(a.id, b.id) && !connected) connect(a, b)
          else if (!reachable(a.id, b.id) && connected) disconnect(a, b)
        }
      }
    }
  }

  function sendFrame(sender: Member, to: string, data: Uint8Array): void {
    counters.framesSent++
    counters.bytesSent += data.byteLength
    const link = perLink.get(`${sender.id}->${to}`) ?? { frames: 0, bytes: 0 }
    link.frames++
    link.bytes += data.byteLength
    perLink.set(`${sender.id}->${to}`, link)
    const connection = connections.get(pairKey(sender.room, sender.id, to))
    const target = rooms.get(sender.room)?.get(to)
    if (connection === undefined || target === undefined || (o.loss > 0 && random() < o.loss)) {
      counters.framesDropped++
      return
    }
    const copies = o.duplicate > 0 && random() < o.duplicate ? 2 : 1
    for (let i = 0; i < copies; i++) {
      // Copied now: the sender may reuse its buffer; each copy is the receiver's own.
      const frame = new Uint8Array(data)
      const held = o.reorder > 0 && random() < o.reorder
      let delay = o.latencyMs + (o.jitterMs > 0 ? random() * o.jitterMs : 0)
      if (held) delay += random() * Math.max(5, o.latencyMs + o.jitterMs)
      deliver(sender.id, target, delay, !held, () => {
        // Only over the connection it was sent on: not after the receiver saw the sender leave.
        if (!target.active || target.seen.get(sender.id) !== connection) {
          counters.framesDropped++
          return
        }
        counters.framesDelivered++
        target.handlers.onMessage(sender.id, frame)
      })
    }
  }

  function join(peerId: string, room: string, handlers: TransportHandlers): TransportRoom {
    if (typeof room !== 'string' || room.length === 0) {
      throw new PeersetError('INVALID_ARGUMENT', 'memory transport join: room must be a non-empty string')
    }
    if (typeof handlers !== 'object' || handlers === null || !['onPeerJoin', 'onPeerLeave', 'onMessage'].every((k) => typeof (handlers as unknown as Record<string, unknown>)[k] === 'function')) {
      throw new PeersetError('INVALID_ARGUMENT', 'memory transport join: handlers must have onPeerJoin, onPeerLeave and onMessage functions')
    }
    if (closed) throw new PeersetError('CLOSED', 'memory transport join: the network was closed')
    let members = rooms.get(room)
    if (members?.has(peerId)) {
      throw new PeersetError('TRANSPORT_FAILED', `memory transport join: peer ${peerId} is already in room ${JSON.stringify(room)}; leave() first`)
    }
    if (members === undefined) rooms.set(room, (members = new Map()))
    const self: Member = { id: peerId, room, handlers, active: true, seen: new Map() }
    for (const other of members.values()) if (reachable(peerId, other.id)) connect(self, other)
    members.set(peerId, self)
    return {
      selfId: peerId,
      send(to: string, data: Uint8Array): void {
        if (typeof to !== 'string' || to.length === 0) {
          throw new PeersetError('INVALID_ARGUMENT', 'memory transport send: peerId must be a non-empty string')
        }
        if (!(data instanceof Uint8Array)) throw new PeersetError('INVALID_ARGUMENT', 'memory transport send: data must be a Uint8Array')
        if (data.byteLength > o.maxFrameBytes) {
          throw new PeersetError('TRANSPORT_FAILED', `memory transport send: frame of ${data.byteLength} bytes is over the limit of ${o.maxFrameBytes}`)
        }
        // After leave() (or close) a send is ignored, as a closed data channel would.
        if (self.active && to !== peerId) sendFrame(self, to, data)
      },
      async leave(): Promise<void> {
        if (!self.active) return
        self.active = false
        members.delete(peerId)
        if (members.size === 0) rooms.delete(room)
        for (const other of members.values()) disconnect(self, other)
      },
    }
  }

  return {
    transport(options: MemoryTransportOptions = {}): MemoryTransport {
      if (closed) throw new PeersetError('CLOSED', 'memory network transport: the network was closed')
      if (typeof options !== 'object' || options === null) throw new PeersetError('INVALID_ARGUMENT', 'memory network transport: options must be an object')
      const peerId = options.peerId ?? randomId(idRandom)
      if (typeof peerId !== 'string' || peerId.length === 0) {
        throw new PeersetError('INVALID_ARGUMENT', 'memory network transport: options.peerId must be a non-empty string')
      }
      if (peerIds.has(peerId)) throw new PeersetError('INVALID_ARGUMENT', `memory network transport: peer id ${peerId} is already taken`)
      peerIds.add(peerId)
      return {
        name: 'memory',
        peerId,
        isSupported: () => true,
        join: async (room, handlers) => join(peerId, room, handlers),
      }
    },
    partition(groups) {
      if (closed) throw new PeersetError('CLOSED', 'memory network partition: the network was closed')
      groupOf = checkGroups(groups)
      rewire()
    },
    heal() {
      if (closed) throw new PeersetError('CLOSED', 'memory network heal: the network was closed')
      groupOf = undefined
      rewire()
    },
    peers(room?: string) {
      if (room !== undefined && typeof room !== 'string') throw new PeersetError('INVALID_ARGUMENT', 'memory network peers: room must be a string')
      if (room !== undefined) return [...(rooms.get(room)?.keys() ?? [])]
      return [...new Set([...rooms.values()].flatMap((m) => [...m.keys()]))]
    },
    stats() {
      return { ...counters, perLink: new Map([...perLink].map(([k, v]) => [k, { ...v }])) }
    },
    close() {
      if (closed) return
      closed = true
      for (const members of rooms.values()) for (const m of members.values()) m.active = false
      rooms.clear()
      connections.clear()
      scheduler.close()
    },
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

function checkOptions(options: MemoryNetworkOptions): Required<Omit<MemoryNetworkOptions, 'reorder'>> & { reorder: number } {
  if (typeof options !== 'object' || options === null) throw new PeersetError('INVALID_ARGUMENT', 'createMemoryNetwork: options must be an object')
  const { latencyMs = 0, jitterMs = 0, loss = 0, duplicate = 0, reorder = false, maxFrameBytes = MAX_FRAME_BYTES } = options
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32)
  const nonNegative = (name: string, v: unknown): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new PeersetError('INVALID_ARGUMENT', `createMemoryNetwork: ${name} must be a finite number >= 0, got ${String(v)}`)
  }
  const probability = (name: string, v: unknown): void => {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new PeersetError('INVALID_ARGUMENT', `createMemoryNetwork: ${name} must be a probability from 0 to 1, got ${String(v)}`)
  }
  nonNegative('latencyMs', latencyMs)
  nonNegative('jitterMs', jitterMs)
  probability('loss', loss)
  probability('duplicate', duplicate)
  if (typeof reorder !== 'boolean') probability('reorder', reorder)
  if (!Number.isSafeInteger(seed)) throw new PeersetError('INVALID_ARGUMENT', `createMemoryNetwork: seed must be an integer, got ${String(seed)}`)
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 1) {
    throw new PeersetError('INVALID_ARGUMENT', `createMemoryNetwork: maxFrameBytes must be a positive integer, got ${String(maxFrameBytes)}`)
  }
  return { latencyMs, jitterMs, loss, duplicate, reorder: reorder === true ? 1 : reorder === false ? 0 : reorder, seed: seed >>> 0, maxFrameBytes }
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

/**
 * Runs each delivery in its own macrotask, in (due, arrival) order, so microtasks settle between two
 * deliveries as they do between two network events in a browser.
 */
function createScheduler(): { push(due: number, run: () => void): void; close(): void } {
  const heap: Delivery[] = []
  let seq = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  let timerDue = Number.POSITIVE_INFINITY
  let taskPending = false
  let closed = false
  const nextTask = macrotask()

  const before = (a: Delivery, b: Delivery): boolean => a.due < b.due || (a.due === b.due && a.seq < b.seq)
  function pushHeap(item: Delivery): void {
    let i = heap.push(item) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i] as Delivery, heap[parent] as Delivery)) break
      ;[heap[i], heap[parent]] = [heap[parent] as Delivery, heap[i] as Delivery]
      i = parent
    }
  }
  function popHeap(): Delivery | undefined {
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last
      let i = 0
      for (;;) {
        const [l, r] = [2 * i + 1, 2 * i + 2]
        let m = i
        if (l < heap.length && before(heap[l] as Delivery, heap[m] as Delivery)) m = l
        if (r < heap.length && before(heap[r] as Delivery, heap[m] as Delivery)) m = r
        if (m === i) break
        ;[heap[i], heap[m]] = [heap[m] as Delivery, heap[i] as Delivery]
        i = m
      }
    }
    return top
  }
  function runOne(): void {
    taskPending = false
    if (closed) return
    const top = heap[0]
    try {
      if (top !== undefined && top.due <= performance.now()) popHeap()?.run()
    } finally {
      // A handler that throws surfaces as an uncaught error, but the network keeps running.
      pump()
    }
  }
  function pump(): void {
    const top = heap[0]
    if (closed || taskPending || top === undefined) return
    const now = performance.now()
    if (top.due <= now) {
      taskPending = true
      nextTask(runOne)
    } else if (top.due < timerDue) {
      clearTimeout(timer)
      timerDue = top.due
      timer = setTimeout(() => {
        timer = undefined
        timerDue = Number.POSITIVE_INFINITY
        pump()
      }, Math.max(1, Math.ceil(top.due - now)))
    }
  }
  return {
    push(due, run) {
      pushHeap({ due, seq: seq++, run })
      pump()
    },
    close() {
      closed = true
      heap.length = 0
      clearTimeout(timer)
    },
  }
}

/** Schedule a macrotask: setImmediate (Node), else a MessageChannel (browsers), else setTimeout. */
function macrotask(): (fn: () => void) => void {
  if (typeof setImmediate === 'function') return (fn) => void setImmediate(fn)
  if (typeof MessageChannel === 'function') {
    const channel = new MessageChannel()
    const queue: (() => void)[] = []
    channel.port1.onmessage = () => queue.shift()?.()
    return (fn) => {
      queue.push(fn)
      channel.port2.postMessage(null)
    }
  }
  return (fn) => void setTimeout(fn, 0)
}
