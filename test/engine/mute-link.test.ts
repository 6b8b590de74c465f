/**
 * A link only one side's transport reported: a half-open WebRTC connection, seen with trystero in
 * Chromium under load. The side that saw the link said hello into it, heard nothing, timed out, and
 * trystero then ignored the other side's new offers because it held the connection for live: the pair
 * stayed apart for minutes. Now a handshake that times out on a link that carried nothing from the
 * peer makes the engine ask the transport to drop the link (`resetPeer`), and a new link is made.
 */
import { describe, expect, it } from 'vitest'
import { createMemoryNetwork, type MemoryNetwork, type TransportStrategy } from '../../src/index.js'
import type { TransportHandlers, TransportRoom } from '../../src/transport/types.js'
import { loadFixtures } from '../helpers.js'
import { allHold, drive, expectedIds, importAll, openPeer, useSwarm, virtualTime, waitFor } from '../swarm/harness.js'

const swarm = useSwarm()

/** What a {@link wrapped} transport did. */
interface Faults {
  /** `resetPeer` calls, by peer id. */
  resets: string[]
  /** Joins and frames kept from the engine. */
  joinsHidden: number
  framesHidden: number
}

/**
 * A memory transport whose engine is not told of its first link to anyone (`hideFirstLink`: the
 * half-open side; frames over that link are kept from it too), or is given only the first frame
 * of each link (`onlyFirstFrame`: a link that goes quiet after the peer's hello). `resetPeer`
 * drops the pair's link and makes a new one (as trystero does once the connection is closed).
 */
function wrapped(network: MemoryNetwork, peerId: string, mode: 'plain' | 'hideFirstLink' | 'onlyFirstFrame', faults: Faults): TransportStrategy {
  const inner = network.transport({ peerId })
  return {
    name: 'wrapped-memory',
    isSupported: () => true,
    async join(room: string, handlers: TransportHandlers): Promise<TransportRoom> {
      const hidden = new Set<string>()
      const framesSeen = new Map<string, number>()
      let links = 0
      const joined = await inner.join(room, {
        onPeerJoin: (id) => {
          framesSeen.set(id, 0)
          if (mode === 'hideFirstLink' && links++ === 0) {
            hidden.add(id)
            faults.joinsHidden++
            return
          }
          handlers.onPeerJoin(id)
        },
        onPeerLeave: (id) => {
          if (hidden.delete(id)) return
          handlers.onPeerLeave(id)
        },
        onMessage: (id, data) => {
          const seen = framesSeen.get(id) ?? 0
          framesSeen.set(id, seen + 1)
          if (hidden.has(id) || (mode === 'onlyFirstFrame' && seen > 0)) {
            faults.framesHidden++
            return
          }
          handlers.onMessage(id, data)
        },
      })
      return {
        selfId: joined.selfId,
        send: (id, data) => joined.send(id, data),
        leave: () => joined.leave(),
        resetPeer: (id) => {
          faults.resets.push(id)
          // The link goes, and a new one comes (both sides are told of both).
          network.partition([[peerId], [id]])
          network.heal()
        },
      }
    },
  }
}

describe('a link the other side was never told of', () => {
  it.each([
    { seen: 'a-peer', blind: 'b-peer', initiator: 'the side that saw it' },
    { seen: 'b-peer', blind: 'a-peer', initiator: 'the blind side' },
  ])('is dropped once a handshake on it times out with nothing heard, and the pair then syncs ($initiator initiates)', async ({ seen, blind }) => {
    virtualTime()
    const network = (swarm.network = createMemoryNetwork({ latencyMs: 2, jitterMs: 3, seed: 1 }))
    const faults: Faults = { resets: [], joinsHidden: 0, framesHidden: 0 }
    const fixtures = loadFixtures().records
    const [seeing, blinded] = (swarm.peers = await drive(
      Promise.all([openPeer({ transport: wrapped(network, seen, 'plain', faults) }), openPeer({ transport: wrapped(network, blind, 'hideFirstLink', faults) })]),
    ))
    const struck: string[] = []
    for (const p of [seeing!, blinded!]) p.on('peer:strike', (s) => struck.push(s.reason))
    await drive(Promise.all([importAll(seeing!, fixtures.slice(0, 10)), importAll(blinded!, fixtures.slice(10, 20))]))
    const union = expectedIds(fixtures.slice(0, 20))

    // Handshake time-out (about 10 s), reset, a new link, a session: well within a minute of virtual time.
    await waitFor(() => allHold([seeing!, blinded!], union), 60_000, 'both peers to hold every record', 100)
    expect(faults.resets).toEqual([blind])
    // Reach: the blind side was really never told of the first link, and the seeing side's hello went into it.
    expect(faults.joinsHidden).toBe(1)
    expect(faults.framesHidden).toBeGreaterThan(0)
    expect(struck).toEqual([])
  })

  it('is kept when the peer said something on it, even if its handshake then timed out', async () => {
    virtualTime()
    const network = (swarm.network = createMemoryNetwork({ latencyMs: 2, jitterMs: 3, seed: 2 }))
    const faults: Faults = { resets: [], joinsHidden: 0, framesHidden: 0 }
    const [quiet, other] = (swarm.peers = await drive(
      Promise.all([openPeer({ transport: wrapped(network, 'a-peer', 'onlyFirstFrame', faults) }), openPeer({ transport: wrapped(network, 'b-peer', 'plain', faults) })]),
    ))
    const closedWithout: string[] = []
    quiet!.on('peer:state', ({ from, to }) => {
      if (to === 'closed' && from !== 'authenticated') closedWithout.push(from)
    })
    // The peer's hello came through, nothing after it: a handshake time-out, on a link that carried a frame.
    await waitFor(() => closedWithout.length >= 2, 120_000, 'two handshakes to time out', 100)
    expect(faults.framesHidden).toBeGreaterThan(0)
    expect(faults.resets).toEqual([])
    expect(other!.peers().filter((p) => p.state === 'authenticated')).toEqual([])
  })
})
