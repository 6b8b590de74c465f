/**
 * `peers()` counts the records exchanged with each peer both ways: `recordsReceived` (from it and
 * added) and `recordsSent` (to it, in answer to its requests, in its current session).
 */
import { describe, expect, it } from 'vitest'
import type { Peerset } from '../../src/index.js'
import { createMemoryNetwork, type MemoryNetwork } from '../../src/transport/index.js'
import { loadFixtures } from '../helpers.js'
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

describe('records exchanged per peer', () => {
  it('a catch-up shows as records sent on the holder and records received on the newcomer', async () => {
    virtualTime()
    network = createMemoryNetwork({ latencyMs: 5 })
    const a = await openPeer({ transport: network.transport({ peerId: 'aa-peer' }) })
    peers.push(a)
    const outcomes = await Promise.all(loadFixtures().records.slice(0, 40).map((event) => a.importRecord(event)))
    const held = a.status().records
    expect(outcomes.filter((o) => o.status === 'added')).toHaveLength(held)
    expect(held).toBeGreaterThan(10)

    const b = await openPeer({ transport: network.transport({ peerId: 'bb-peer' }) })
    peers.push(b)
    await waitFor(() => b.status().records === held, 60_000, 'b to hold every record of a')
    const [toB] = a.peers()
    const [fromA] = b.peers()
    expect(toB!.recordsSent).toBe(held)
    expect(toB!.recordsReceived).toBe(0)
    expect(fromA!.recordsReceived).toBe(held)
    expect(fromA!.recordsSent).toBe(0)
  })
})
