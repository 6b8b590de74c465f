/**
 * Gossip that does not grow with the room: records published one after another at one of twelve peers reach every
 * peer, each peer hears of it a bounded number of times (its author's announcement and at most
 * `RELAY_FANOUT` relays, whatever the room's size), and no peer announces it back to the peer it
 * came from. Public API on the memory network, virtual time; every frame is decoded and counted.
 */
import { describe, expect, it } from 'vitest'
import { computeEventId, createMemoryNetwork, type PeersetRecord, type TransportHandlers, type TransportRoom, type TransportStrategy } from '../../src/index.js'
import { decodeMessage } from '../../src/protocol/index.js'
import { RELAY_FANOUT } from '../../src/sync/gossip-ids.js'
import { drive, openPeer, virtualTime, waitFor, useSwarm } from './harness.js'

const PEERS = 12

const swarm = useSwarm()

let lastFrameAt = 0

/** Every delivered sync frame, decoded, with its link. */
interface Seen {
  from: string
  to: string
  message: ReturnType<typeof decodeMessage>
}

function watched(inner: TransportStrategy & { readonly peerId: string }, seen: Seen[]): TransportStrategy {
  return {
    name: inner.name,
    isSupported: () => inner.isSupported(),
    async join(room: string, handlers: TransportHandlers): Promise<TransportRoom> {
      return inner.join(room, {
        ...handlers,
        onMessage: (from, data) => {
          lastFrameAt = performance.now()
          try {
            seen.push({ from, to: inner.peerId, message: decodeMessage(data) })
          } catch {
            // a session frame (handshake): not sync
          }
          handlers.onMessage(from, data)
        },
      })
    },
  }
}

describe('gossip of new records in a room of twelve', () => {
  it('reaches every peer; each hears of it at most 1 + RELAY_FANOUT times, never from a peer it gave it to', async () => {
    virtualTime()
    swarm.network = createMemoryNetwork({ latencyMs: 5, jitterMs: 5, seed: 21 })
    const seen: Seen[] = []
    const transports = Array.from({ length: PEERS }, () => swarm.network!.transport())
    const joined = new Map<number, number>()
    swarm.peers = await drive(Promise.all(transports.map((t) => openPeer({ transport: watched(t, seen) }))))
    swarm.peers.forEach((p, i) => p.on('peer:joined', () => joined.set(i, (joined.get(i) ?? 0) + 1)))
    await waitFor(() => swarm.peers.every((_, i) => joined.get(i) === PEERS - 1), 60_000, 'every pair to authenticate')
    // The first roots answered (virtual time: 300 ms without a frame): only the gossip is counted.
    await waitFor(() => performance.now() - lastFrameAt > 300, 60_000, 'the room to go quiet')
    seen.length = 0

    // Twenty records one after another: their pulls and relays overlap, as in a busy room (relaying
    // to every peer not known to have them, each peer heard of some record 10 times here).
    const records: PeersetRecord[] = []
    for (let i = 0; i < 20; i++) records.push(await drive(swarm.peers[0]!.publish({ text: `gossip: new record ${i}` })))
    await waitFor(() => swarm.peers.every((p) => records.every((r) => p.get(r.id) !== undefined)), 60_000, 'every peer to hold every record')
    await drive(Promise.all(swarm.peers.map((p) => p.settled())))
    let total = 0
    for (const record of records) total += checkGossipOf(record.id, seen, (i) => transports[i]!.peerId)
    console.log(`gossip of ${records.length} records among ${PEERS} peers: ${total} announcements`)
  }, 60_000)
})

/** Checks the announcements and copies of one record; returns how many announcements it had. */
function checkGossipOf(id: string, seen: readonly Seen[], self: (i: number) => string): number {
  const key = id.slice(0, 16)
  const announces = (s: Seen): boolean =>
    (s.message.type === 'gossip' && s.message.op === 'have' && s.message.groups.some((g) => g.ids.includes(key))) ||
    (s.message.type === 'have' && s.message.groups.some((g) => g.ids.includes(id)))
  const announcements = seen.filter(announces)
  // Who gave the record to whom (the links its copies crossed).
  const gave = seen.filter((s) => s.message.type === 'records' && s.message.events.some((e) => computeEventId(e) === id))
  expect(gave.length).toBe(PEERS - 1)
  for (let i = 1; i < PEERS; i++) {
    const heard = announcements.filter((s) => s.to === self(i)).length
    expect(heard).toBeGreaterThanOrEqual(1)
    expect(heard).toBeLessThanOrEqual(1 + RELAY_FANOUT)
  }
  // The author hears of its own record from nobody; nobody announces it to the peer it came from.
  expect(announcements.filter((s) => s.to === self(0))).toEqual([])
  for (const g of gave) expect(announcements.filter((s) => s.from === g.to && s.to === g.from)).toEqual([])
  return announcements.length
}
