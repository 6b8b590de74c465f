/**
 * An in-process network for tests, simulations and single-process host apps: any number of peers,
 * with optional latency, jitter, loss, duplication, reordering and partitions, all driven by a
 * seeded PRNG so a run can be replayed.
 */
import { assertKnownOptions, PeersetError } from '../errors.js'
import { MAX_FRAME_BYTES } from '../protocol/messages.js'
import { SimulatedNetwork, type ResolvedMemoryOptions } from './memory-network.js'
import type { TransportStrategy } from './types.js'

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
  const network = new SimulatedNetwork(checkOptions(options))
  return {
    transport(options: MemoryTransportOptions = {}): MemoryTransport {
      if (network.closed) throw new PeersetError('CLOSED', 'memory network transport: the network was closed')
      if (typeof options !== 'object' || options === null) throw new PeersetError('INVALID_ARGUMENT', 'memory network transport: options must be an object')
      assertKnownOptions('memory network transport', options, ['peerId'])
      const peerId = network.claimPeerId(options.peerId)
      return {
        name: 'memory',
        peerId,
        isSupported: () => true,
        join: async (room, handlers) => network.join(peerId, room, handlers),
      }
    },
    partition(groups) {
      if (network.closed) throw new PeersetError('CLOSED', 'memory network partition: the network was closed')
      network.partition(groups)
    },
    heal() {
      if (network.closed) throw new PeersetError('CLOSED', 'memory network heal: the network was closed')
      network.heal()
    },
    peers(room?: string) {
      if (room !== undefined && typeof room !== 'string') throw new PeersetError('INVALID_ARGUMENT', 'memory network peers: room must be a string')
      return network.peers(room)
    },
    stats: () => network.stats(),
    close: () => network.close(),
  }
}

function checkOptions(options: MemoryNetworkOptions): ResolvedMemoryOptions {
  if (typeof options !== 'object' || options === null) throw new PeersetError('INVALID_ARGUMENT', 'createMemoryNetwork: options must be an object')
  assertKnownOptions('createMemoryNetwork', options, ['latencyMs', 'jitterMs', 'loss', 'duplicate', 'reorder', 'seed', 'maxFrameBytes'])
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
