/**
 * Bans that converge (issue 10): refused records are never synced as records, so a bad record that
 * reaches only one peer strikes its author there and nowhere else. Peers send each other the signed
 * records that earned strikes (evidence frames); each runs its own moderation on them, so every
 * peer strikes the same records and bans the same authors, whoever received what. On virtual time.
 */
import { describe, expect, it } from 'vitest'
import { EVIDENCE_META_KEY, EVIDENCE_META_PREFIX, MAX_EVIDENCE, evidencePerAuthor } from '../../src/engine/evidence.js'
import { LEDGER_META_KEY } from '../../src/engine/meta-keys.js'
import {
  createIdentity,
  createMemoryNetwork,
  createModeration,
  createRecord,
  memoryStorage,
  toNostrEvent,
  type Identity,
  type MemoryNetwork,
  type NostrEvent,
  type Peerset,
  type PeersetEvents,
  type PeersetRecord,
  type StorageStrategy,
} from '../../src/index.js'
import { Attacker, flipHex } from '../swarm/attacker.js'
import { drive, openPeer, sleep, TrafficCounter, virtualClock, virtualTime, waitFor, useSwarm } from '../swarm/harness.js'

const NOW = 1_790_000_000
const HOUR = 3_600
const ROOM = 'evidence'
const BAD = ['you are all idiots and this is bullshit', 'fuck this board', 'what a load of shit']

const swarm = useSwarm()

const idsOf = (p: Peerset): string[] => p.records().map((r) => r.id).sort()
const sign = (who: Identity, text: string, createdAt: number): Promise<PeersetRecord> => createRecord({ text }, who.signer, { now: createdAt, room: ROOM })

interface Watched {
  peer: Peerset
  storage: StorageStrategy
  strikes: Array<PeersetEvents['author:strike'][0]>
  bans: Array<PeersetEvents['author:banned'][0]>
  errors: unknown[]
}

/** A peer with the default moderation, memory storage (kept, to read its ledger) and its strike and ban events collected. */
async function watched(
  transport: ReturnType<MemoryNetwork['transport']>,
  traffic: TrafficCounter,
  threshold: number,
  storage = memoryStorage(),
  moderation = createModeration(),
): Promise<Watched> {
  const peer = await drive(openPeer({ room: ROOM, transport: traffic.wrap(transport), moderation, extra: { storage, strikes: { threshold }, sessionTickMs: 100 } }))
  swarm.peers.push(peer)
  const w: Watched = { peer, storage, strikes: [], bans: [], errors: [] }
  peer.on('author:strike', (info) => w.strikes.push(info))
  peer.on('author:banned', (info) => w.bans.push(info))
  peer.on('error', (error) => w.errors.push(error))
  return w
}

/** Import events one by one; the statuses. */
async function importEach(peer: Peerset, events: readonly NostrEvent[]): Promise<string[]> {
  const statuses: string[] = []
  for (const event of events) statuses.push((await drive(peer.importRecord(event))).status)
  return statuses
}

/** A stored meta value of a peer's (closed) store. */
async function metaOf(storage: StorageStrategy, key: string): Promise<unknown> {
  const store = await drive(storage.open(ROOM))
  const value = await drive(store.getMeta(key))
  await drive(store.close())
  return value
}

/** Evidence frames delivered per directed link. */
const evidenceFrames = (traffic: TrafficCounter): number[] => [...traffic.delivered.values()].map((l) => l.frames.evidence)

describe('bans that converge (moderation evidence)', () => {
  it('three swarm.peers, each bad record imported into one peer only: after sync all three hold the same set and the same bans', async () => {
    const bruno = createIdentity()
    const alice = createIdentity()
    const bad = await Promise.all(BAD.map((text, i) => sign(bruno, text, NOW - (3 - i) * HOUR)))
    const good = await Promise.all([0, 1, 2].map((i) => sign(bruno, `Bruno's bread, batch ${i}`, NOW - (10 + i) * HOUR)))
    const kept = await Promise.all([0, 1, 2].map((i) => sign(alice, `Alice's note ${i}`, NOW - (20 + i) * HOUR)))

    virtualTime(NOW * 1000)
    swarm.network = createMemoryNetwork({ latencyMs: 5, jitterMs: 5, seed: 10 })
    const traffic = new TrafficCounter()
    const transports = [swarm.network.transport(), swarm.network.transport(), swarm.network.transport()]
    swarm.network.partition(transports.map((t) => [t.peerId]))
    const w = [] as Watched[]
    for (const t of transports) w.push(await watched(t, traffic, 3))

    // Apart: each peer gets exactly one of Bruno's bad records (one strike each: no ban), one of his
    // good records and one of Alice's.
    for (let i = 0; i < 3; i++) {
      expect(await importEach(w[i]!.peer, [toNostrEvent(bad[i]!)])).toEqual(['rejected'])
      expect(await importEach(w[i]!.peer, [toNostrEvent(good[i]!), toNostrEvent(kept[i]!)])).toEqual(['added', 'added'])
      expect(w[i]!.strikes).toHaveLength(1)
      expect(w[i]!.bans).toEqual([])
    }

    swarm.network.heal()
    const expected = kept.map((r) => r.id).sort()
    await waitFor(() => w.every((x) => x.bans.length === 1 && idsOf(x.peer).join() === expected.join()), 60_000, 'every peer to ban Bruno and hold only Alice')
    // Reach: evidence crossed every directed link (each peer sent its one struck record to both others).
    expect(evidenceFrames(traffic)).toHaveLength(6)
    for (const n of evidenceFrames(traffic)) expect(n).toBeGreaterThanOrEqual(1)
    const banUntil = (bad[2]!.createdAt + 7 * 86_400) * 1000
    for (const x of w) {
      // The same three strikes (its own, then the two evidence records) and the same ban everywhere.
      expect(x.strikes.map((s) => s.recordId).sort()).toEqual(bad.map((r) => r.id).sort())
      expect(x.strikes.every((s) => s.author === bruno.publicKey && s.reason === 'bad-words')).toBe(true)
      expect(x.bans).toEqual([{ author: bruno.publicKey, untilMs: banUntil }])
      for (const g of good) expect(x.peer.get(g.id)).toBeUndefined()
    }
    // A new record of Bruno is refused by each peer for the ban.
    const later = await sign(bruno, 'bread again', NOW - 60)
    for (const x of w) expect(await drive(x.peer.importRecord(toNostrEvent(later)))).toMatchObject({ status: 'rejected', rule: 'ban:author-banned' })
    // The room goes quiet with the same set everywhere (nobody re-offers Bruno's records).
    await waitFor(() => performance.now() - traffic.lastActivity > 1_000, 120_000, 'the room to go quiet')
    for (const x of w) expect(idsOf(x.peer)).toEqual(expected)
    for (const x of w) expect(x.errors).toEqual([])

    // The same ledger on every peer (as stored, written with the records that changed it).
    await drive(Promise.all(swarm.peers.map((p) => p.close())))
    const ledgers = await Promise.all(w.map((x) => metaOf(x.storage, LEDGER_META_KEY)))
    expect(ledgers[1]).toEqual(ledgers[0])
    expect(ledgers[2]).toEqual(ledgers[0])
    expect(ledgers[0]).toMatchObject({ bans: [{ author: bruno.publicKey, until: banUntil / 1000 }] })
    // And the same evidence: the three bad records.
    const evidence = await Promise.all(w.map((x) => metaOf(x.storage, EVIDENCE_META_KEY)))
    for (const ids of evidence) expect(ids).toEqual(bad.map((r) => r.id).sort())
  }, 120_000)

  it('bad records with a short NIP-40 expiration still ban everywhere: a peer that meets them only as evidence, after they expired, strikes them too', async () => {
    const bruno = createIdentity()
    // Each expires 10 minutes after its creation: only the peer online then saw them as records.
    const bad = await Promise.all(
      BAD.map(async (text, i) => createRecord({ text }, bruno.signer, { now: NOW - 60 + i, room: ROOM, retentionSeconds: 600 })),
    )
    const good = await sign(bruno, "Bruno's bread", NOW - 2 * HOUR)

    virtualTime(NOW * 1000)
    swarm.network = createMemoryNetwork({ latencyMs: 5, jitterMs: 5, seed: 12 })
    const traffic = new TrafficCounter()
    const [t0, t1] = [swarm.network.transport(), swarm.network.transport()]
    swarm.network.partition([[t0.peerId], [t1.peerId]])
    const w0 = await watched(t0, traffic, 3)
    const w1 = await watched(t1, traffic, 3)
    expect(await importEach(w0.peer, bad.map(toNostrEvent))).toEqual(['rejected', 'rejected', 'rejected'])
    expect(w0.bans).toHaveLength(1)
    expect(await importEach(w1.peer, [toNostrEvent(good)])).toEqual(['added'])

    // The bad records expire; then the swarm.peers meet.
    await sleep(20 * 60_000)
    expect(await drive(w1.peer.importRecord(toNostrEvent(bad[0]!)))).toMatchObject({ status: 'rejected', reason: 'expired' })
    swarm.network.heal()
    await waitFor(() => w1.bans.length === 1 && w1.peer.get(good.id) === undefined, 60_000, 'the second peer to ban Bruno from the evidence')
    expect(w1.bans).toEqual(w0.bans)
    expect(w1.strikes.map((s) => s.recordId).sort()).toEqual(bad.map((r) => r.id).sort())
    expect(idsOf(w1.peer)).toEqual(idsOf(w0.peer))
    expect(evidenceFrames(traffic).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1)
    for (const x of [w0, w1]) expect(x.errors).toEqual([])
  }, 60_000)

  it('a late joiner receives the evidence and bans too', async () => {
    const bruno = createIdentity()
    const bad = await Promise.all(BAD.slice(0, 2).map((text, i) => sign(bruno, text, NOW - (3 - i) * HOUR)))
    const good = await sign(bruno, 'fresh bread on Fridays', NOW - 10 * HOUR)

    virtualTime(NOW * 1000)
    swarm.network = createMemoryNetwork({ latencyMs: 5, jitterMs: 5, seed: 11 })
    const traffic = new TrafficCounter()
    const [t0, t1, t2] = [swarm.network.transport(), swarm.network.transport(), swarm.network.transport()]
    swarm.network.partition([[t0.peerId, t1.peerId], [t2.peerId]])
    const a = await watched(t0, traffic, 2)
    const b = await watched(t1, traffic, 2)
    // Connected first: these strikes reach the other peer as new evidence pushed to a live session.
    await waitFor(() => [a, b].every((x) => x.peer.peers().some((p) => p.state === 'authenticated')), 30_000, 'the first two swarm.peers to connect')
    await importEach(a.peer, [toNostrEvent(bad[0]!)])
    await importEach(b.peer, [toNostrEvent(bad[1]!)])
    await waitFor(() => a.bans.length === 1 && b.bans.length === 1, 60_000, 'the first two swarm.peers to ban Bruno')

    // The late joiner holds Bruno's good record and has never seen a bad one.
    const late = await watched(t2, traffic, 2)
    expect(await importEach(late.peer, [toNostrEvent(good)])).toEqual(['added'])
    swarm.network.heal()
    await waitFor(() => late.bans.length === 1 && late.peer.records().length === 0, 60_000, 'the late joiner to ban Bruno')
    expect(late.strikes.map((s) => s.recordId).sort()).toEqual(bad.map((r) => r.id).sort())
    expect(late.bans).toEqual(a.bans)
    // Reach: evidence frames reached the late joiner from both swarm.peers.
    const links = [...traffic.delivered].filter(([key]) => key.endsWith(`->${t2.peerId}`))
    expect(links).toHaveLength(2)
    for (const [, link] of links) expect(link.frames.evidence).toBeGreaterThanOrEqual(1)
    await waitFor(() => performance.now() - traffic.lastActivity > 1_000, 120_000, 'the room to go quiet')
    for (const x of [a, b, late]) expect(x.peer.records()).toEqual([])
  }, 120_000)

  it('evidence survives a reopen from the store and is sent after it', async () => {
    const bruno = createIdentity()
    const bad = await Promise.all(BAD.slice(0, 2).map((text, i) => sign(bruno, text, NOW - (3 - i) * HOUR)))

    virtualTime(NOW * 1000)
    swarm.network = createMemoryNetwork({ latencyMs: 5, jitterMs: 5, seed: 12 })
    const traffic = new TrafficCounter()
    const storage = memoryStorage()
    // First life, alone: one bad record, one strike (threshold 2: no ban).
    const first = await watched(swarm.network.transport(), traffic, 2, storage)
    await importEach(first.peer, [toNostrEvent(bad[0]!)])
    expect(first.strikes).toHaveLength(1)
    await drive(first.peer.close())
    swarm.peers = []
    expect(await metaOf(storage, EVIDENCE_META_KEY)).toEqual([bad[0]!.id])
    expect(await metaOf(storage, EVIDENCE_META_PREFIX + bad[0]!.id)).toEqual(toNostrEvent(bad[0]!))

    // Second life, with a peer that holds the other bad record: both reach two strikes and ban.
    const again = await watched(swarm.network.transport(), traffic, 2, storage)
    const other = await watched(swarm.network.transport(), traffic, 2)
    await importEach(other.peer, [toNostrEvent(bad[1]!)])
    await waitFor(() => again.bans.length === 1 && other.bans.length === 1, 60_000, 'both swarm.peers to ban Bruno')
    expect(other.strikes.map((s) => s.recordId).sort()).toEqual(bad.map((r) => r.id).sort())
    expect(other.bans).toEqual(again.bans)
  }, 120_000)

  it('evidence that needs context (a later duplicate) strikes once the earlier copy arrives, not before', async () => {
    const bruno = createIdentity()
    const first = await sign(bruno, 'Fresh bread today', NOW - 2 * HOUR)
    const copy = await sign(bruno, 'fresh  bread today', NOW - HOUR)
    const strictDuplicates = (): ReturnType<typeof createModeration> => createModeration({ duplicates: { strike: true } })

    virtualTime(NOW * 1000)
    swarm.network = createMemoryNetwork({ latencyMs: 5 })
    const traffic = new TrafficCounter()
    const a = await watched(swarm.network.transport(), traffic, 3, memoryStorage(), strictDuplicates())
    const b = await watched(swarm.network.transport(), traffic, 3, memoryStorage(), strictDuplicates())
    await waitFor(() => [a, b].every((x) => x.peer.peers().some((p) => p.state === 'authenticated')), 30_000, 'the swarm.peers to connect')
    // One batch on A: the first copy is kept, the later one refused with a strike and pushed to B as
    // evidence at once, before B has the first copy (it is fetched after a have and a want).
    await drive(Promise.all([a.peer.importRecord(toNostrEvent(first)), a.peer.importRecord(toNostrEvent(copy))]))
    expect(a.strikes.map((s) => s.recordId)).toEqual([copy.id])
    await waitFor(() => b.strikes.length === 1, 30_000, 'B to strike the later copy')
    expect(b.strikes.map((s) => [s.author, s.recordId, s.reason])).toEqual([[bruno.publicKey, copy.id, 'duplicate']])
    expect(idsOf(b.peer)).toEqual([first.id])
    // Reach: one evidence frame crossed A -> B (judged before the first copy arrived: without the
    // second judgement when a record of its author is added, B never strikes it).
    expect([...traffic.delivered].filter(([key]) => key.endsWith(`->${b.peer.status().transport.selfId}`)).map(([, l]) => l.frames.evidence)).toEqual([1])
  }, 60_000)

  it('is bounded: a flood of bad records from many authors keeps at most the caps', async () => {
    const spammers = Array.from({ length: MAX_EVIDENCE + 40 }, () => createIdentity())
    const prolific = createIdentity()
    const perAuthor = evidencePerAuthor(3)
    const flood = await Promise.all(spammers.map((who, i) => sign(who, BAD[i % 3]!, NOW - HOUR - i)))
    const many = await Promise.all(Array.from({ length: perAuthor + 4 }, (_, i) => sign(prolific, `${BAD[i % 3]!} ${i}`, NOW - 2 * HOUR - i * 60)))

    virtualTime(NOW * 1000)
    swarm.network = createMemoryNetwork({ latencyMs: 5 })
    const storage = memoryStorage()
    const w = await watched(swarm.network.transport(), new TrafficCounter(), 3, storage)
    await drive(Promise.all([...many, ...flood].map((r) => w.peer.importRecord(toNostrEvent(r)))), 600_000)
    await drive(w.peer.settled())
    // Every record struck its author, but the evidence kept is capped in all and per author.
    expect(w.strikes).toHaveLength(flood.length + many.length)
    await drive(w.peer.close())
    swarm.peers = []
    const ids = (await metaOf(storage, EVIDENCE_META_KEY)) as string[]
    expect(ids).toHaveLength(MAX_EVIDENCE)
    const manyIds = new Set(many.map((r) => r.id))
    // The prolific author keeps its cap (its latest records, enough to reproduce its ban) before single strikes do.
    const latest = [...many].sort((x, y) => y.createdAt - x.createdAt).slice(0, perAuthor).map((r) => r.id).sort()
    expect(ids.filter((id) => manyIds.has(id)).sort()).toEqual(latest)
  }, 600_000)

  it('an evidence frame with a forged or acceptable event strikes no author; the sender is struck for the forgery only', async () => {
    const bruno = createIdentity()
    const carol = createIdentity()
    const badBruno = await sign(bruno, BAD[1]!, NOW - HOUR)
    const goodBruno = await sign(bruno, 'a perfectly nice note', NOW - 2 * HOUR)
    const badCarol = await sign(carol, BAD[0]!, NOW - 3 * HOUR)

    virtualTime(NOW * 1000)
    swarm.network = createMemoryNetwork({ latencyMs: 5 })
    const traffic = new TrafficCounter()
    const honest = await watched(swarm.network.transport({ peerId: 'honest' }), traffic, 3)
    const peerStrikes: Array<PeersetEvents['peer:strike'][0]> = []
    honest.peer.on('peer:strike', (info) => peerStrikes.push(info))
    const wireOf = (r: PeersetRecord): Omit<NostrEvent, 'id'> => {
      const { id: _id, ...event } = toNostrEvent(r)
      return event
    }
    const forged = { ...wireOf(badBruno), sig: flipHex(toNostrEvent(badBruno).sig) } // bad signature
    const altered = { ...wireOf(badBruno), content: 'fuck this board!!' } // content edited after signing
    let sent = false
    const attacker = await Attacker.join(
      swarm.network,
      ROOM,
      'liar',
      {
        // Once the honest peer speaks sync to it, its session is authenticated on both sides.
        message: (self, peerId) => {
          if (sent) return
          sent = true
          self.send(peerId, { type: 'evidence', events: [forged, altered, wireOf(goodBruno), wireOf(badCarol)] })
        },
      },
      { random: Math.random, clock: virtualClock, moderationDigest: createModeration().digest },
    )
    await waitFor(() => honest.strikes.length >= 1 && peerStrikes.length >= 1, 30_000, 'the evidence to be judged')
    await drive(honest.peer.settled())
    // Reach: the frame arrived and each event was judged. Only Carol's real bad record struck her.
    expect(attacker.syncSentAuthenticated.get('honest')).toBeGreaterThanOrEqual(1)
    expect(honest.strikes.map((s) => [s.author, s.recordId])).toEqual([[carol.publicKey, badCarol.id]])
    expect(honest.bans).toEqual([])
    // Bruno: no strike, no ban, and his acceptable record was not stored through the evidence path.
    expect(honest.peer.get(goodBruno.id)).toBeUndefined()
    expect(await drive(honest.peer.importRecord(toNostrEvent(goodBruno)))).toMatchObject({ status: 'added' })
    // The sender was struck for the broken events (bad signature), not for the honest-looking ones.
    expect(peerStrikes.map((s) => s.reason)).toEqual(['bad-signature', 'bad-signature'])
    // Carol's record came from the liar: it is not sent back to it.
    expect(attacker.receivedByType.get('evidence') ?? 0).toBe(0)
    attacker.stop()
    await drive(attacker.leave())
  }, 60_000)
})
