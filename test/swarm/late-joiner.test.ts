/**
 * A peer with nothing joins a room of three peers that hold every fixture: it catches up fully,
 * in `records:added` batches, and each record crosses to it once (lossless) or about once (5% loss).
 */
import { describe, expect, it } from 'vitest'
import { createMemoryNetwork, type PeersetRecord, type RecordOrigin } from '../../src/index.js'
import { loadFixtures } from '../helpers.js'
import { allHold, drive, idsOf, importAll, openPeer, TrafficCounter, virtualTime, waitFor, expectedIds, useSwarm } from './harness.js'

const swarm = useSwarm()

describe('a late joiner', () => {
  it.each([
    { loss: 0, seed: 11 },
    { loss: 0.05, seed: 12 },
  ])('catches up fully from three full swarm.peers (loss $loss)', async ({ loss, seed }) => {
    virtualTime()
    swarm.network = createMemoryNetwork({ loss, latencyMs: 2, jitterMs: 3, seed })
    const traffic = new TrafficCounter()
    const fixtures = loadFixtures().records
    const union = expectedIds(fixtures)

    const holders = await drive(Promise.all([0, 1, 2].map(() => openPeer({ transport: traffic.wrap(swarm.network!.transport()) }))))
    swarm.peers.push(...holders)
    await drive(Promise.all(holders.map((p) => importAll(p, fixtures))))
    await waitFor(() => allHold(holders, union), 300_000, 'the holders to agree', 100)
    // Let the holders' own round end before the newcomer arrives (virtual time: 300 ms without a frame).
    await waitFor(() => performance.now() - traffic.lastActivity > 300, 60_000, 'the holders to go quiet')

    const joinerTransport = swarm.network.transport()
    const joinerId = joinerTransport.peerId
    const started = Date.now()
    const joiner = await drive(openPeer({ transport: traffic.wrap(joinerTransport) }))
    swarm.peers.push(joiner)
    const batches: PeersetRecord[][] = []
    const origins: RecordOrigin[] = []
    const errors: unknown[] = []
    joiner.on('records:added', (records) => batches.push(records))
    joiner.on('record:added', (_, origin) => origins.push(origin))
    joiner.on('error', (e) => errors.push(e))

    await waitFor(() => joiner.status().records === union.length, 300_000, 'the joiner to catch up')
    const elapsed = Date.now() - started
    expect(idsOf(joiner)).toEqual(union)
    for (const p of holders) expect(idsOf(p)).toEqual(union)
    expect(errors).toEqual([])

    // Batches, not one event per record; every record came from one of the holders.
    const batched = batches.flat().map((r) => r.id).sort()
    expect(batched).toEqual(union)
    expect(batches.length).toBeLessThanOrEqual(Math.ceil(union.length / 8))
    const holderIds = new Set(holders.map((p) => p.status().transport.selfId))
    expect(origins.every((o) => o.origin === 'remote' && holderIds.has(o.peerId))).toBe(true)

    // Crossings to the joiner: only the newest version of each address is pulled (the holders
    // refused the older ones), each from one holder at a time.
    const copies = new Map<string, number>()
    for (const [link, t] of traffic.delivered) {
      if (!link.endsWith(`->${joinerId}`)) continue
      for (const [id, n] of t.records) copies.set(id, (copies.get(id) ?? 0) + n)
    }
    const total = [...copies.values()].reduce((a, b) => a + b, 0)
    const max = Math.max(...copies.values())
    const sources = [...holderIds].map((h) => traffic.delivered.get(`${h}->${joinerId}`)?.records.size ?? 0)
    console.log(
      `late joiner (loss ${loss}): ${union.length} records in ${(elapsed / 1000).toFixed(2)} s of virtual time, ${batches.length} records:added batches, ` +
        `${total} copies received (${(total / union.length).toFixed(3)} per record, max ${max}), from the holders: ${sources.join(' / ')}`,
    )
    expect([...copies.keys()].sort()).toEqual(union)
    if (loss === 0) {
      expect(total).toBe(union.length)
    } else {
      // A record whose `records` frame was lost was asked again, from the same or another holder.
      expect(total / union.length).toBeLessThanOrEqual(1.1)
      expect(max).toBeLessThanOrEqual(2)
    }
  }, 90_000)
})
