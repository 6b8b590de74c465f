/**
 * Gossip that does not grow with the room: a record published at one of eight peers reaches every
 * peer, each peer hears of it a bounded number of times (its author's announcement and at most
 * `RELAY_FANOUT` relays, whatever the room's size), and no peer announces it back to the peer it
 * came from. Public API on the memory network, virtual time; every frame is decoded and counted.
 */
import { describe, expect, it } from 'vitest'
import { computeEventId, createMemoryNetwork, type MemoryNetwork, type Peerset, type TransportHandlers, type TransportRoom, type TransportStrategy } from '../../src/index.js'
import { decodeMessage } from '../../src/protocol/index.js'
import { RELAY_FANOUT } from '../../src/sync/gossip-ids.js'
import { closeAfterEach, drive, openPeer, virtualTime, waitFor } from './harness.js'

const PEERS = 8

let network: MemoryNetwork | undefined
let peers: Peerset[] = []

closeAfterEach(
  () => ({ peers, network }),
  () => {
    peers = []
    network = undefined
  },
)

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

describe('gossip of a new record in a room of eight', () => {
  it('reaches every peer; each hears of it at most 1 + RELAY_FANOUT times, never from a peer it gave it to', async () => {
    virtualTime()
    network = createMemoryNetwork({ latencyMs: 2, jitterMs: 3, seed: 21 })
    const seen: Seen[] = []
    const transports = Array.from({ length: PEERS }, () => network!.transport())
    const joined = new Map<number, number>()
    peers = await drive(Promise.all(transports.map((t) => openPeer({ transport: watched(t, seen) }))))
    peers.forEach((p, i) => p.on('peer:joined', () => joined.set(i, (joined.get(i) ?? 0) + 1)))
    await waitFor(() => peers.every((_, i) => joined.get(i) === PEERS - 1), 60_000, 'every pair to authenticate')
    // The first roots answered (virtual time: 300 ms without a frame): only the gossip is counted.
    await waitFor(() => performance.now() - lastFrameAt > 300, 60_000, 'the room to go quiet')
    seen.length = 0

    const record = await drive(peers[0]!.publish({ text: 'gossip: one new record' }))
    await waitFor(() => peers.every((p) => p.get(record.id) !== undefined), 60_000, 'every peer to hold the record')
    await drive(Promise.all(peers.map((p) => p.settled())))

    const key = record.id.slice(0, 16)
    const announces = (s: Seen): boolean =>
      (s.message.type === 'gossip' && s.message.op === 'have' && s.message.groups.some((g) => g.ids.includes(key))) ||
      (s.message.type === 'have' && s.message.groups.some((g) => g.ids.includes(record.id)))
    const announcements = seen.filter(announces)
    // Who gave the record to whom (the links its copies crossed).
    const gave = seen.filter((s) => s.message.type === 'records' && s.message.events.some((e) => computeEventId(e) === record.id))
    expect(gave.length).toBe(PEERS - 1)
    const self = (i: number) => transports[i]!.peerId
    for (let i = 1; i < PEERS; i++) {
      const heard = announcements.filter((s) => s.to === self(i)).length
      expect(heard).toBeGreaterThanOrEqual(1)
      expect(heard).toBeLessThanOrEqual(1 + RELAY_FANOUT)
    }
    // The author hears of its own record from nobody; nobody announces it to the peer it came from.
    expect(announcements.filter((s) => s.to === self(0))).toEqual([])
    for (const g of gave) expect(announcements.filter((s) => s.from === g.to && s.to === g.from)).toEqual([])
    console.log(`gossip of one record among ${PEERS} peers: ${announcements.length} announcements, ${gave.length} copies`)
  }, 60_000)
})
