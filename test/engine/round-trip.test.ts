/**
 * `peers()` reports about one round trip to each peer (`rttMs`): the handshake's (our hello to the
 * peer's signed answer), measured in virtual time over a network with a known latency.
 */
import { describe, expect, it } from 'vitest'
import type { Peerset } from '../../src/index.js'
import { createMemoryNetwork, type MemoryNetwork } from '../../src/transport/index.js'
import { closeAfterEach, openPeer, virtualTime, waitFor } from '../swarm/harness.js'

let peers: Peerset[] = []
let network: MemoryNetwork | undefined
closeAfterEach(
  () => ({ peers, network }),
  () => {
    peers = []
    network = undefined
  },
)

describe('round-trip time', () => {
  it.each([20, 150])('is about twice the one-way latency (%i ms)', async (latencyMs) => {
    virtualTime()
    network = createMemoryNetwork({ latencyMs })
    const a = await openPeer({ transport: network.transport({ peerId: 'aa-peer' }), extra: { sessionTickMs: 100 } })
    const b = await openPeer({ transport: network.transport({ peerId: 'bb-peer' }), extra: { sessionTickMs: 100 } })
    peers.push(a, b)
    const authenticated = (p: Peerset) => p.peers().some((info) => info.state === 'authenticated')
    await waitFor(() => authenticated(a) && authenticated(b), 30_000, 'a and b to authenticate')
    for (const p of [a, b]) {
      const [info] = p.peers()
      expect(info!.rttMs).toBeGreaterThanOrEqual(2 * latencyMs)
      // The virtual network's cost model adds about a millisecond per frame and timer; signing takes no virtual time.
      expect(info!.rttMs).toBeLessThan(2 * latencyMs + 50)
    }
  })
})
