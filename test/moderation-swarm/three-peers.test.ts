/**
 * Moderation across a swarm (issue 6): three peers on the in-memory network, each with the default
 * `createModeration()`, see the same records in different orders and on different peers, yet end
 * with the same records and the same bans. Public API only.
 *
 * - Author A wrote 8 records at distinct times; they reach the peers in different orders while the
 *   peers are cut off from each other. The default quota keeps each author's 5 EARLIEST records by
 *   (createdAt, id), so after the network heals every peer holds exactly A's 5 earliest, and a peer
 *   that held later ones reports them removed with reason `over-quota`.
 * - Author B wrote one good record, then two with bad words. With `strikes: { threshold: 2 }` the
 *   second bad record bans B on every peer, until the same time (`author:strike`, `author:banned`):
 *   the bad records are refused, B's good record is removed (`author-banned`) and any new record of
 *   B is refused (`ban`).
 */
import { describe, expect, it } from 'vitest'
import {
  createIdentity,
  createMemoryNetwork,
  createModeration,
  createPeerset,
  createRecord,
  memoryStorage,
  toNostrEvent,
  type NostrEvent,
  type Peerset,
  type PeersetEvents,
  type PeersetRecord,
} from '../../src/index.js'
import { drive, TrafficCounter, virtualClock, virtualTime, waitFor, useSwarm } from '../swarm/harness.js'

/**
 * Swarm time starts here (Unix seconds) and runs on virtual time (fake timers, see `virtualTime`),
 * so session and sync timers fire at the same simulated moments however loaded the machine is.
 */
const NOW = 1_790_000_000
const HOUR = 3_600

const swarm = useSwarm()

const idsOf = (p: Peerset): string[] => p.records().map((r) => r.id).sort()
const byCreation = (a: PeersetRecord, b: PeersetRecord): number => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

type Removed = { id: string; reason: string }
type Rejected = PeersetEvents['record:rejected'][0]

describe('moderation across three swarm.peers', () => {
  it('converges to the same records and the same bans whatever the order and the peer each record arrives at', async () => {
    const alice = createIdentity() // 8 records, over the quota of 5
    const bruno = createIdentity() // one good record, then bad words
    const sign = async (who: typeof alice, text: string, createdAt: number): Promise<PeersetRecord> =>
      createRecord({ text }, who.signer, { now: createdAt, room: 'moderation-swarm' })

    // A's records, 8 distinct times over the last day, in a scrambled creation order.
    const offsets = [20, 3, 17, 9, 23, 1, 12, 6].map((h) => NOW - h * HOUR)
    const a = (await Promise.all(offsets.map((t, i) => sign(alice, `alice's note ${i}`, t)))).sort(byCreation)
    const aEvents = a.map(toNostrEvent)
    const earliestFive = a.slice(0, 5).map((r) => r.id).sort()
    const laterThree = new Set(a.slice(5).map((r) => r.id))

    const good = await sign(bruno, 'Bruno sells fresh bread on Fridays', NOW - 30 * HOUR)
    const bad1 = await sign(bruno, 'you are all idiots and this is bullshit', NOW - 2 * HOUR)
    const bad2 = await sign(bruno, 'fuck this board', NOW - HOUR)
    const later = await sign(bruno, 'Bread is back next week', NOW - 60)

    // Three swarm.peers, cut off from each other at first.
    virtualTime(NOW * 1000)
    swarm.network = createMemoryNetwork({ latencyMs: 5, jitterMs: 5, seed: 6 })
    const traffic = new TrafficCounter()
    const transports = [swarm.network.transport(), swarm.network.transport(), swarm.network.transport()]
    swarm.network.partition(transports.map((t) => [t.peerId]))
    const removed: Removed[][] = [[], [], []]
    const rejected: Rejected[][] = [[], [], []]
    const strikes: Array<Array<PeersetEvents['author:strike'][0]>> = [[], [], []]
    const bans: Array<Array<PeersetEvents['author:banned'][0]>> = [[], [], []]
    const errors: unknown[] = []
    swarm.peers = await drive(
      Promise.all(
        transports.map((transport) =>
          createPeerset({
            room: 'moderation-swarm',
            identity: createIdentity(),
            storage: memoryStorage(),
            transport: traffic.wrap(transport),
            moderation: createModeration(),
            strikes: { threshold: 2 },
            clock: virtualClock,
            sessionTickMs: 100,
          }),
        ),
      ),
    )
    swarm.peers.forEach((p, i) => {
      p.on('record:removed', (record, { reason }) => removed[i]!.push({ id: record.id, reason }))
      p.on('record:rejected', (info) => rejected[i]!.push(info))
      p.on('author:strike', (info) => strikes[i]!.push(info))
      p.on('author:banned', (info) => bans[i]!.push(info))
      p.on('error', (error) => errors.push(error))
    })
    const [p0, p1, p2] = swarm.peers as [Peerset, Peerset, Peerset]
    const importAll = (peer: Peerset, events: NostrEvent[]): Promise<string[]> =>
      drive(
        (async () => {
          const statuses: string[] = []
          for (const event of events) statuses.push((await peer.importRecord(event)).status)
          return statuses
        })(),
      )

    // Phase 1, apart. p0: A's three latest first, then two more (5 kept, all of them later than
    // necessary); p1: the three earliest and the latest; p2: six of them, the sixth displacing one.
    expect(await importAll(p0, [aEvents[7]!, aEvents[6]!, aEvents[5]!, aEvents[4]!, aEvents[3]!])).toEqual(Array(5).fill('added'))
    expect(await importAll(p1, [aEvents[0]!, aEvents[1]!, aEvents[7]!, aEvents[2]!])).toEqual(Array(4).fill('added'))
    expect(await importAll(p2, [aEvents[2]!, aEvents[5]!, aEvents[0]!, aEvents[6]!, aEvents[1]!, aEvents[4]!])).toEqual(Array(6).fill('added'))
    expect(removed[2]).toEqual([{ id: a[6]!.id, reason: 'over-quota' }])
    expect(await p0.importRecord(toNostrEvent(good))).toMatchObject({ status: 'added' })

    // Phase 2: heal. Every peer ends with A's 5 earliest and B's good record.
    swarm.network.heal()
    const expected = [...earliestFive, good.id].sort()
    await waitFor(() => swarm.peers.every((p) => idsOf(p).join() === expected.join()), 20_000, 'the swarm.peers to hold the 5 earliest records of A')
    for (const p of swarm.peers) expect(p.peers().filter((x) => x.state === 'authenticated')).toHaveLength(2)

    // p0 held all three later records: each was displaced by an earlier one, reason over-quota.
    expect(removed[0]!.filter((r) => laterThree.has(r.id)).map((r) => r.reason)).toEqual(['over-quota', 'over-quota', 'over-quota'])
    expect(new Set(removed[0]!.map((r) => r.id))).toEqual(laterThree)
    // Nothing but later records was ever removed, always over-quota; an earliest one never left.
    for (const log of removed) for (const r of log) expect(laterThree.has(r.id) && r.reason === 'over-quota', JSON.stringify(r)).toBe(true)
    // Where a later record was offered to a peer already holding 5 earlier ones, it was refused over-quota (transient).
    for (const log of rejected) {
      for (const r of log) expect(r).toMatchObject({ reason: 'moderation', rule: 'quota:over-quota', permanent: false, origin: 'remote' })
    }

    // Phase 3: B's bad records reach every peer, in different orders. The first strikes, the second bans.
    for (const log of removed) log.length = 0
    for (const log of rejected) log.length = 0
    const badEvents = [toNostrEvent(bad1), toNostrEvent(bad2)]
    await importAll(p0, badEvents)
    await importAll(p1, [...badEvents].reverse())
    await importAll(p2, [badEvents[0]!])
    await drive(p2.settled())
    expect(p2.get(good.id), 'one strike is not a ban').toBeDefined()
    await importAll(p2, [badEvents[1]!])

    await waitFor(() => swarm.peers.every((p) => idsOf(p).join() === earliestFive.join()), 10_000, "B's records to leave every peer")
    const firstBad = [bad1.id, bad2.id, bad1.id]
    const secondBad = [bad2.id, bad1.id, bad2.id]
    swarm.peers.forEach((_, i) => {
      // The first bad record is refused for its words, permanently, with a strike. The second one
      // strikes too and completes the ban; as documented (docs/moderation.md, "Strikes and bans"),
      // the ban then decides its refusal: `ban:author-banned`, transient.
      expect(rejected[i]!.map((r) => [r.id, r.rule, r.permanent]), `peer ${i}`).toEqual([
        [firstBad[i], 'bad-words', true],
        [secondBad[i], 'ban:author-banned', false],
      ])
      for (const r of rejected[i]!) expect(r).toMatchObject({ reason: 'moderation', origin: 'import' })
      // The ban removed B's good record.
      expect(removed[i], `peer ${i}`).toEqual([{ id: good.id, reason: 'author-banned' }])
      // Two strikes, for the words, then the same ban everywhere: it lasts from the later striking
      // record's creation (whatever arrived last) for the default 7 days.
      expect(strikes[i]!.map((s) => [s.author, s.recordId, s.reason, s.strikes]), `peer ${i}`).toEqual([
        [bruno.publicKey, firstBad[i], 'bad-words', 1],
        [bruno.publicKey, secondBad[i], 'bad-words', 2],
      ])
      expect(bans[i], `peer ${i}`).toEqual([{ author: bruno.publicKey, untilMs: (bad2.createdAt + 7 * 86_400) * 1000 }])
    })
    // A was never struck.
    for (const log of strikes) for (const s of log) expect(s.author).toBe(bruno.publicKey)

    // The same ban on every peer: a new record of B is refused by each, transiently (the ban ends).
    for (const p of swarm.peers) {
      const outcome = await drive(p.importRecord(toNostrEvent(later)))
      expect(outcome).toMatchObject({ status: 'rejected', reason: 'moderation', rule: 'ban:author-banned', permanent: false })
    }
    // A is untouched: the same 5 earliest everywhere, and still nothing of B. First the swarm.peers get
    // the chance to disagree: every directed link carries at least one more root (its digest would
    // start a reconciliation round if the sets differed), and then the room goes quiet.
    const roots = (): number[] => [...traffic.delivered.values()].map((l) => l.frames.root)
    const roots0 = roots()
    await waitFor(() => roots().length === 6 && roots().every((n, i) => n > (roots0[i] ?? 0)), 120_000, 'a root on every link', 100)
    await waitFor(() => performance.now() - traffic.lastActivity > 1_000, 60_000, 'the room to go quiet')
    for (const p of swarm.peers) expect(idsOf(p)).toEqual(earliestFive)
    expect(errors).toEqual([])
  }, 60_000)
})
