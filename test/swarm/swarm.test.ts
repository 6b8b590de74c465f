/**
 * A swarm of 20 peers on a lossy in-memory network converges to one set, through a partition that
 * heals, and each record crosses each link about once.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryNetwork, type MemoryNetwork, type NostrEvent, type Peerset } from '../../src/index.js'
import { loadFixtures } from '../helpers.js'
import { LOG, RTT, DIAG, TrafficCounter, allHold, expectedIds, quietClock, idsOf, importAll, openPeer, prng, shuffled, table, waitFor } from './harness.js'

const PEERS = 20
const SEED = 20_261_107

let network: MemoryNetwork | undefined
let peers: Peerset[] = []

afterEach(async () => {
  await Promise.all(peers.map((p) => p.close()))
  network?.close()
  peers = []
  network = undefined
})

/** Each record goes to one random peer, and some (overlap) to one to three more. Peer 0 gets nothing. */
function distribute(events: readonly NostrEvent[], random: () => number): NostrEvent[][] {
  const shares: NostrEvent[][] = Array.from({ length: PEERS }, () => [])
  for (const event of events) {
    const copies = random() < 0.6 ? 1 : 1 + Math.ceil(random() * 3)
    const owners = shuffled(
      Array.from({ length: PEERS - 1 }, (_, i) => i + 1),
      random,
    ).slice(0, copies)
    for (const i of owners) shares[i]!.push(event)
  }
  return shares
}

describe('a swarm of 20 peers on a lossy network', () => {
  it('converges to the union through a partition that heals, each record crossing each link about once', async () => {
    const started = performance.now()
    const lags: number[] = []
    let last = performance.now()
    const mon = setInterval(() => { const n = performance.now(); lags.push(n - last - 50); last = n }, 50)
    const random = prng(SEED)
    network = createMemoryNetwork({ loss: 0.05, latencyMs: 2, jitterMs: 3, seed: SEED })
    const traffic = new TrafficCounter()
    const sim = quietClock(traffic)
    const clock = sim.now
    const transports = Array.from({ length: PEERS }, () => network!.transport())
    const id = (i: number): string => transports[i]!.peerId

    // Three sides from the start: peers 0-7, 8-14, and 15-19 (in no group: the third side).
    const side = (i: number): number => (i < 8 ? 0 : i < 15 ? 1 : 2)
    network.partition([
      transports.slice(0, 8).map((t) => t.peerId),
      transports.slice(8, 15).map((t) => t.peerId),
    ])
    peers = await Promise.all(transports.map((t) => openPeer({ transport: traffic.wrap(t), clock })))
    peers.forEach((p, i) => expect(p.status().transport.selfId).toBe(id(i)))
    const errors: unknown[] = []
    for (const p of peers) p.on('error', (e) => errors.push(e))

    // Phase 1: 80% of the fixtures, spread over the peers of each side.
    const fixtures = shuffled(loadFixtures().records, random)
    const early = fixtures.slice(0, Math.floor(fixtures.length * 0.8))
    const late = fixtures.slice(early.length)
    const shares = distribute(early, random)
    await Promise.all(peers.map((p, i) => importAll(p, shares[i]!)))
    const sideIds = [0, 1, 2].map((s) => expectedIds(shares.filter((_, i) => side(i) === s).flat()))
    await waitFor(() => peers.every((p, i) => idsOf(p).join() === sideIds[side(i)]!.join()), 30_000, 'each side to converge')
    const phase1 = performance.now() - started
    // Nothing crossed between sides.
    for (const [link, t] of traffic.delivered) {
      const [from, to] = link.split('->')
      const s = (pid: string | undefined): number => side(transports.findIndex((t) => t.peerId === pid))
      if (s(from) !== s(to)) expect(t.frames.records, link).toBe(0)
    }

    // Phase 2: heal, add the last 20% here and there, cut the network differently mid-sync, heal again.
    network.heal()
    const lateShares = distribute(late, random)
    await Promise.all(peers.map((p, i) => importAll(p, lateShares[i]!)))
    await new Promise((r) => setTimeout(r, 400))
    network.partition([transports.filter((_, i) => i % 2 === 0).map((t) => t.peerId)])
    await new Promise((r) => setTimeout(r, 600))
    network.heal()

    const union = expectedIds([...shares.flat(), ...lateShares.flat()])
    await waitFor(() => allHold(peers, union), 45_000, 'every peer to hold the union')
    const elapsed = performance.now() - started
    for (const p of peers) expect(idsOf(p)).toEqual(union)
    expect(errors).toEqual([])

    // Crossings: how many copies of each record travelled each directed link.
    const delivered = traffic.crossings(traffic.delivered)
    const sent = traffic.crossings(traffic.sent)
    const received = traffic.copiesReceived(traffic.delivered)
    const own = peers.map((_, i) => new Set([...shares[i]!, ...lateShares[i]!].map((e) => e.id)))
    let needed = 0
    let copies = 0
    const rows: Array<Array<string | number>> = [['peer', 'imported', 'needed', 'copies in', 'copies/needed']]
    peers.forEach((_, i) => {
      const n = union.filter((x) => !own[i]!.has(x)).length
      const c = received.get(id(i)) ?? 0
      needed += n
      copies += c
      if (i < 4 || i === PEERS - 1) rows.push([i, own[i]!.size, n, c, (c / n).toFixed(3)])
    })
    rows.push(['all', own.reduce((a, s) => a + s.size, 0), needed, copies, (copies / needed).toFixed(3)])
    console.log(
      [
        `swarm: ${PEERS} peers, ${union.length} records in the union, converged in ${(elapsed / 1000).toFixed(1)} s (sides in ${(phase1 / 1000).toFixed(1)} s)`,
        `record copies per (record, directed link) that carried it — delivered: ${delivered.copies}/${delivered.pairs} = ${delivered.perPair.toFixed(4)}, max ${delivered.max} (${delivered.worst}), ${delivered.repeated} pairs more than once`,
        `                                                 sent (loss incl.): ${sent.copies}/${sent.pairs} = ${sent.perPair.toFixed(4)}, max ${sent.max}`,
        `frames sent: ${traffic.frames(traffic.sent)}, records frames ${traffic.frames(traffic.sent, undefined, 'records')}, want ${traffic.frames(traffic.sent, undefined, 'want')}, have ${traffic.frames(traffic.sent, undefined, 'have')}, root ${traffic.frames(traffic.sent, undefined, 'root')}`,
        table(rows),
      ].join('\n'),
    )
    {
      const gaps: number[] = []
      let sameFrom = 0
      const u = new Set(union)
      let inUnion = 0
      for (const [k, l] of DIAG) if (l.length > 1 && u.has(k.split('@')[0]!)) inUnion++
      console.log('dups in union', inUnion)
      let shown = 0
      for (const [k, l] of DIAG) if (l.length > 1 && u.has(k.split('@')[0]!) && shown++ < 6) console.log(k.slice(0, 8), k.split('@')[1]!.slice(0, 4), (LOG.get(k) ?? []).join(' | '))
      for (const l of DIAG.values()) if (l.length > 1) { gaps.push(Math.round(l[1]!.t - l[0]!.t)); if (l[1]!.from === l[0]!.from) sameFrom++ }
      gaps.sort((a, b) => a - b)
      clearInterval(mon)
      lags.sort((a, b) => a - b)
      console.log('lag pctl', [0.5, 0.9, 0.99, 1].map((q) => Math.round(lags[Math.min(lags.length - 1, Math.floor(q * lags.length))]!)))
      RTT.sort((a, b) => a - b)
      console.log('rtt pctl', [0.5, 0.9, 0.99, 1].map((q) => Math.round(RTT[Math.min(RTT.length - 1, Math.floor(q * RTT.length))]!)))
      console.log('skipped', sim.skipped())
      console.log('dups', gaps.length, 'sameFrom', sameFrom, 'gap pctl', [0.1, 0.5, 0.9, 1].map((q) => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))]))
    }
    expect(delivered.perPair).toBeLessThanOrEqual(1.05)
    expect(delivered.max).toBeLessThanOrEqual(3)
    expect(copies / needed).toBeLessThanOrEqual(1.5)
  }, 90_000)
})
