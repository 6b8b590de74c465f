/**
 * Peers that each took in records alone meet when the network heals, and converge within seconds:
 * not at the next idle `root` rebroadcast (30 s). A leader skips a round while either side is still
 * pulling from the other; the round is owed, and starts as soon as both are done (the side that
 * finished tells the other with a fresh `root`).
 */
import { describe, expect, it } from 'vitest'
import { createMemoryNetwork } from '../../src/index.js'
import { loadFixtures } from '../helpers.js'
import { allHold, drive, expectedIds, idsOf, importAll, openPeer, useSwarm, virtualTime, waitFor } from './harness.js'

const swarm = useSwarm()

/**
 * Virtual ms from the heal until every peer holds the union. Lossless: well under the 30 s root
 * rebroadcast (before resumed rounds: 61 s, or more than 70 s). With 5% of frames lost, some wait
 * for one or more 10 s request time-outs (before: 42-91 s over these seeds). The runs are not
 * fully repeatable (keys, nonces and jitter are random): 12-36 s over 6 runs of each 5%-loss
 * seed, in steps of about 10 s, so the budget leaves one more time-out of room.
 */
const BUDGET_MS = { lossless: 15_000, lossy: 55_000 }

describe('peers that meet when a partition heals', () => {
  it.each([
    ...[1, 2, 3, 4].map((seed) => ({ seed, loss: 0, duplicate: 0 })),
    ...[1, 2, 3, 4, 5, 6].map((seed) => ({ seed, loss: 0.05, duplicate: 0 })),
    // Lost and duplicated frames: a late copy of an earlier fetch's answer is no fault of the sender.
    ...[1, 2, 3, 4].map((seed) => ({ seed, loss: 0.05, duplicate: 0.05 })),
  ])('converge within seconds, not at the next idle root rebroadcast (seed $seed, loss $loss, duplicate $duplicate)', async ({ seed, loss, duplicate }) => {
    virtualTime()
    const network = (swarm.network = createMemoryNetwork({ latencyMs: 2, jitterMs: 3, seed, loss, duplicate }))
    const budgetMs = loss === 0 ? BUDGET_MS.lossless : BUDGET_MS.lossy
    const fixtures = loadFixtures().records
    const transports = [0, 1, 2, 3, 4].map(() => network.transport())
    network.partition(transports.map((t) => [t.peerId]))
    const peers = (swarm.peers = await drive(Promise.all(transports.map((t) => openPeer({ transport: t })))))
    // 20 records every peer holds, and 60 of its own each.
    const shared = fixtures.slice(0, 20)
    const held = peers.map((_, i) => [...shared, ...fixtures.slice(20 + i * 60, 20 + (i + 1) * 60)])
    await drive(Promise.all(peers.map((p, i) => importAll(p, held[i]!))))
    const union = expectedIds(held.flat())
    for (const [i, p] of peers.entries()) expect(p.status().records).toBe(expectedIds(held[i]!).length)

    // Honest peers: nothing struck, banned or reported as an error on the way.
    const faults: string[] = []
    for (const p of peers) {
      p.on('peer:strike', (s) => faults.push(`strike ${s.reason}: ${s.detail}`))
      p.on('peer:banned', (b) => faults.push(`ban ${b.reason}`))
      p.on('error', (e) => faults.push(`error ${String(e)}`))
    }
    network.heal()
    const healed = Date.now()
    await waitFor(() => allHold(peers, union), budgetMs, 'every peer to hold the union', 100)
    console.log(`heal (seed ${seed}, loss ${loss}, duplicate ${duplicate}): every peer held the union ${Date.now() - healed} ms (virtual) after the heal`)
    for (const p of peers) expect(idsOf(p)).toEqual(union)
    expect(Date.now() - healed).toBeLessThan(budgetMs)
    expect(faults).toEqual([])
    // Reach: the faults were real (frames lost; with duplication, more frames delivered than sent and not lost).
    const { framesSent, framesDelivered, framesDropped } = network.stats()
    if (loss > 0) expect(framesDropped).toBeGreaterThan(0)
    if (duplicate > 0) expect(framesDelivered).toBeGreaterThan(framesSent - framesDropped)
  })
})

/**
 * Two peers on a link that loses 10% of frames, each alone with 200 records, then healed. A lost
 * `want` or its answer, a lost `root`, or a round whose answers were all lost used to leave the
 * missing records to the next round (an idle `root` rebroadcast, 30 s), and a loss there to the one
 * after: 21-98 s for these seeds (4: 98 s, 7: 79 s, 6: 77 s, 1: 61 s). Now a request to the last
 * peer that has a record is asked again, a repeated `summary` is answered anew, a leader asks again
 * for a root that did not come, a stalled round is owed again, and a fetch is asked again 3 times:
 * 8-58 s (sum over the 9 seeds 292 s, was about 514 s). Seed 6 spends 46 s of its 57 s in the
 * handshake (hellos lost, then the time-out cool-downs).
 */
describe('two peers on a link that loses 10% of frames', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9])('converge within 75 s (seed %i)', async (seed) => {
    virtualTime()
    const network = (swarm.network = createMemoryNetwork({ seed, loss: 0.1 }))
    const fixtures = loadFixtures().records
    const transports = [0, 1].map(() => network.transport())
    network.partition(transports.map((t) => [t.peerId]))
    const peers = (swarm.peers = await drive(Promise.all(transports.map((t) => openPeer({ transport: t })))))
    const held = [fixtures.slice(0, 200), fixtures.slice(200, 400)]
    await drive(Promise.all(peers.map((p, i) => importAll(p, held[i]!))))
    const union = expectedIds(held.flat())
    const faults: string[] = []
    for (const p of peers) p.on('peer:strike', (s) => faults.push(`strike ${s.reason}: ${s.detail}`))
    network.heal()
    const healed = Date.now()
    await waitFor(() => allHold(peers, union), 75_000, 'both peers to hold the union', 100)
    console.log(`two peers at 10% loss (seed ${seed}): both held the union ${Date.now() - healed} ms (virtual) after the heal`)
    for (const p of peers) expect(idsOf(p)).toEqual(union)
    expect(faults).toEqual([])
    expect(network.stats().framesDropped).toBeGreaterThan(0)
  })
})
