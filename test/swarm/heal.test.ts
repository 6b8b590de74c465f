/**
 * Peers that each took in records alone meet when the network heals, and converge within seconds:
 * not at the next idle `root` rebroadcast (30 s). A leader skips a round while either side is still
 * pulling from the other; the round is owed, and starts as soon as both are done (the side that
 * finished tells the other with a fresh `root`).
 */
import { describe, expect, it } from 'vitest'
import { createMemoryNetwork, type MemoryNetwork, type Peerset } from '../../src/index.js'
import { loadFixtures } from '../helpers.js'
import { allHold, closeAfterEach, drive, expectedIds, idsOf, importAll, openPeer, virtualTime, waitFor } from './harness.js'

let network: MemoryNetwork | undefined
let peers: Peerset[] = []

closeAfterEach(
  () => ({ peers, network }),
  () => {
    peers = []
    network = undefined
  },
)

/** Virtual ms from the heal until every peer holds the union: well under the 30 s root rebroadcast. */
const BUDGET_MS = 15_000

describe('peers that meet when a partition heals', () => {
  it.each([1, 2, 3, 4])('converge within seconds, not at the next idle root rebroadcast (seed %i)', async (seed) => {
    virtualTime()
    network = createMemoryNetwork({ latencyMs: 2, jitterMs: 3, seed })
    const fixtures = loadFixtures().records
    const transports = [0, 1, 2, 3, 4].map(() => network!.transport())
    network.partition(transports.map((t) => [t.peerId]))
    peers = await drive(Promise.all(transports.map((t) => openPeer({ transport: t }))))
    // 20 records every peer holds, and 60 of its own each.
    const shared = fixtures.slice(0, 20)
    const held = peers.map((_, i) => [...shared, ...fixtures.slice(20 + i * 60, 20 + (i + 1) * 60)])
    await drive(Promise.all(peers.map((p, i) => importAll(p, held[i]!))))
    const union = expectedIds(held.flat())
    for (const [i, p] of peers.entries()) expect(p.status().records).toBe(expectedIds(held[i]!).length)

    network.heal()
    const healed = Date.now()
    await waitFor(() => allHold(peers, union), BUDGET_MS, 'every peer to hold the union', 100)
    for (const p of peers) expect(idsOf(p)).toEqual(union)
    expect(Date.now() - healed).toBeLessThan(BUDGET_MS)
  })
})
