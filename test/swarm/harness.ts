/**
 * Shared pieces of the swarm tests: virtual time (fake timers) that starts at the fixture time, a transport proxy
 * that counts every frame (and every record in `records` frames) per directed link, the expected
 * final set of a set of fixture events, and a seeded PRNG. Only the public API and the exported
 * wire codec are used, so these helpers keep working whatever runs between the transport and sync.
 */
import { afterEach } from 'vitest'
import {
  acceptAll,
  computeEventId,
  createIdentity,
  createPeerset,
  memoryStorage,
  type MemoryNetwork,
  type ModerationStrategy,
  type NostrEvent,
  type Peerset,
  type PeersetOptions,
  type TransportHandlers,
  type TransportRoom,
  type TransportStrategy,
} from '../../src/index.js'
import { decodeMessage, type GossipMessage, type SyncMessageType } from '../../src/protocol/index.js'
import { FIXTURE_NOW, FIXTURE_ROOM } from '../helpers.js'

export { FIXTURE_NOW }

import { drive, realTime, virtualClock } from '../virtual-time.js'

export { VIRTUAL_TIMERS, drive, realMs, realTime, sleep, virtualClock, virtualTime, waitFor } from '../virtual-time.js'

/** A seeded PRNG (mulberry32), uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Fisher-Yates shuffle of a copy. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

/**
 * The ids a fully synced peer holds, given every event offered to the swarm and the ones its
 * moderation accepts: per (author, uuid) only the newest version survives (newer `created_at`
 * wins, a tie goes to the lower id), exactly as the engine decides on every peer.
 */
export function expectedIds(events: readonly NostrEvent[], accept: (e: NostrEvent) => boolean = () => true): string[] {
  const best = new Map<string, NostrEvent>()
  for (const e of events) {
    if (!accept(e)) continue
    const uuid = e.tags.find((t) => t[0] === 'd')?.[1] ?? ''
    const key = `${e.pubkey}:${uuid}`
    const kept = best.get(key)
    if (!kept || e.created_at > kept.created_at || (e.created_at === kept.created_at && e.id < kept.id)) best.set(key, e)
  }
  return [...best.values()].map((e) => e.id).sort()
}

/** A peer's record ids, sorted. */
export function idsOf(peerset: Peerset): string[] {
  return peerset
    .records()
    .map((r) => r.id)
    .sort()
}

/** Frames and record copies seen on one directed link. */
export interface LinkTraffic {
  /**
   * Frames by type (`session` for frames the sync codec does not decode, e.g. handshake frames);
   * `gossip` frames are also counted by op (`gossip-have`, `gossip-want`, `gossip-gone`, `gossip-found`).
   */
  frames: Record<SyncMessageType | 'session' | `gossip-${GossipMessage['op']}`, number>
  /** How many copies of each record id travelled this link in `records` frames. */
  records: Map<string, number>
}

const emptyFrames = (): LinkTraffic['frames'] => ({
  root: 0,
  summary: 0,
  ranges: 0,
  have: 0,
  want: 0,
  records: 0,
  reject: 0,
  evidence: 0,
  gossip: 0,
  'gossip-have': 0,
  'gossip-want': 0,
  'gossip-gone': 0,
  'gossip-found': 0,
  fetch: 0,
  pushed: 0,
  offer: 0,
  symbols: 0,
  more: 0,
  session: 0,
})

/**
 * Counts traffic per directed link `"<from>-><to>"`, twice: what peers handed to the transport
 * (`sent`, lost frames included) and what reached the receiving peer (`delivered`: what really
 * crossed the link). Frames are decoded with the public codec; what it refuses counts as `session`.
 */
export class TrafficCounter {
  readonly sent = new Map<string, LinkTraffic>()
  readonly delivered = new Map<string, LinkTraffic>()
  /** `performance.now()` of the last frame sent or delivered anywhere. */
  lastActivity = performance.now()

  /** Wrap a transport strategy so that every frame its peer sends and receives is counted. */
  wrap(inner: TransportStrategy & { readonly peerId?: string }): TransportStrategy {
    const counter = this
    return {
      name: inner.name,
      isSupported: () => inner.isSupported(),
      async join(room: string, handlers: TransportHandlers): Promise<TransportRoom> {
        let selfId = inner.peerId ?? '?'
        const counted: TransportHandlers = {
          onPeerJoin: (peerId) => handlers.onPeerJoin(peerId),
          onPeerLeave: (peerId) => handlers.onPeerLeave(peerId),
          onMessage: (peerId, data) => {
            counter.count(counter.delivered, peerId, selfId, data)
            handlers.onMessage(peerId, data)
          },
        }
        const joined = await inner.join(room, counted)
        selfId = joined.selfId
        return {
          selfId: joined.selfId,
          send: (peerId, data) => {
            counter.count(counter.sent, joined.selfId, peerId, data)
            joined.send(peerId, data)
          },
          leave: () => joined.leave(),
        }
      },
    }
  }

  /** Count one frame on `from -> to`. */
  count(table: Map<string, LinkTraffic>, from: string, to: string, data: Uint8Array): void {
    this.lastActivity = performance.now()
    const key = `${from}->${to}`
    let link = table.get(key)
    if (!link) table.set(key, (link = { frames: emptyFrames(), records: new Map() }))
    let message
    try {
      message = decodeMessage(data)
    } catch {
      link.frames.session++
      return
    }
    link.frames[message.type]++
    if (message.type === 'gossip') link.frames[`gossip-${message.op}`]++
    if (message.type === 'records' || message.type === 'pushed') {
      for (const event of message.events) {
        let id: string
        try {
          id = computeEventId(event)
        } catch {
          continue
        }
        link.records.set(id, (link.records.get(id) ?? 0) + 1)
      }
    }
  }

  /** Total frames over some links (all by default), optionally of one type. */
  frames(table: Map<string, LinkTraffic>, filter: (link: string) => boolean = () => true, type?: keyof LinkTraffic['frames']): number {
    let n = 0
    for (const [key, link] of table) {
      if (!filter(key)) continue
      if (type) n += link.frames[type]
      else for (const [k, v] of Object.entries(link.frames)) if (!k.startsWith('gossip-')) n += v // by-op counts are in `gossip` too
    }
    return n
  }

  /**
   * Crossing statistics of records over links: `pairs` (record, directed link) pairs that carried
   * the record at least once, `copies` in total, their ratio, the worst pair, and how many pairs
   * carried it more than once.
   */
  crossings(table: Map<string, LinkTraffic>): { pairs: number; copies: number; perPair: number; max: number; repeated: number; worst: string } {
    let pairs = 0
    let copies = 0
    let max = 0
    let repeated = 0
    let worst = ''
    for (const [key, link] of table) {
      for (const [id, n] of link.records) {
        pairs++
        copies += n
        if (n > 1) repeated++
        if (n > max) {
          max = n
          worst = `${id.slice(0, 8)} on ${key}`
        }
      }
    }
    return { pairs, copies, perPair: pairs === 0 ? 0 : copies / pairs, max, repeated, worst }
  }

  /** Copies of records that reached each peer (`to` side of the links), by peer id. */
  copiesReceived(table: Map<string, LinkTraffic>): Map<string, number> {
    const out = new Map<string, number>()
    for (const [key, link] of table) {
      const to = key.slice(key.indexOf('->') + 2)
      let n = 0
      for (const c of link.records.values()) n += c
      out.set(to, (out.get(to) ?? 0) + n)
    }
    return out
  }
}

/** Options of {@link openPeer}. */
export interface PeerOptions {
  transport: TransportStrategy
  /** Default: {@link virtualClock}. */
  clock?: () => number
  room?: string
  moderation?: ModerationStrategy
  tickIntervalMs?: number
  extra?: Partial<PeersetOptions>
}

/** A peerset with memory storage on the given transport and clock, keeping every valid record by default. */
export function openPeer(options: PeerOptions): Promise<Peerset> {
  return createPeerset({
    room: options.room ?? FIXTURE_ROOM,
    identity: createIdentity(),
    storage: memoryStorage(),
    transport: options.transport,
    moderation: options.moderation ?? acceptAll(),
    clock: options.clock ?? virtualClock,
    tickIntervalMs: options.tickIntervalMs ?? 200,
    ...options.extra,
  })
}

/** Import events into a peer, failing loudly if one is not added (the fixtures are all valid). */
export async function importAll(peer: Peerset, events: readonly NostrEvent[]): Promise<void> {
  const outcomes = await Promise.all(events.map((event) => peer.importRecord(event)))
  for (const outcome of outcomes) {
    if (outcome.status === 'added' || outcome.status === 'duplicate') continue
    if (outcome.status === 'rejected' && outcome.reason === 'superseded') continue
    throw new Error(`an import failed: ${JSON.stringify(outcome)}`)
  }
}

/** Whether every peer holds exactly `ids` (sorted). */
export function allHold(peers: readonly Peerset[], ids: readonly string[]): boolean {
  const want = ids.join(',')
  return peers.every((p) => p.status().records === ids.length && idsOf(p).join(',') === want)
}

/** A compact text table for console output. */
export function table(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, String(cell).length)))
  return rows.map((row) => row.map((cell, i) => String(cell).padStart(widths[i] ?? 0)).join('  ')).join('\n')
}

/**
 * Registers an `afterEach` that closes what a test opened: the peers `current()` returns, then its
 * network; restores real time; then `reset()` clears the test file's variables.
 */
export function closeAfterEach(current: () => { peers: readonly Peerset[]; network: MemoryNetwork | undefined }, reset: () => void): void {
  afterEach(async () => {
    const { peers, network } = current()
    await drive(Promise.all(peers.map((p) => p.close())))
    network?.close()
    realTime()
    reset()
  })
}

/** What a swarm test opened: its peers and its network (see {@link useSwarm}). */
export interface SwarmState {
  peers: Peerset[]
  network: MemoryNetwork | undefined
}

/**
 * The peers and network of each test of a file, closed after each test (see {@link closeAfterEach})
 * and then reset: a test sets `swarm.network` and sets or pushes to `swarm.peers`.
 */
export function useSwarm(): SwarmState {
  const swarm: SwarmState = { peers: [], network: undefined }
  closeAfterEach(
    () => swarm,
    () => {
      swarm.peers = []
      swarm.network = undefined
    },
  )
  return swarm
}
