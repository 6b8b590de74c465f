/**
 * Two honest peers whose moderation differs: one keeps everything, the other refuses one author.
 * - Under one policy digest (verdicts that legitimately differ between peers running the same
 *   policy: a link check that sees a different network, each peer's own author-ban ledger), they
 *   sync what both accept, each keeps what its own rules accept, and once settled they stay calm:
 *   nothing is offered or pulled again, only a trickle of roots and keep-alives.
 * - Under different policy digests they refuse each other at the handshake (`moderation-policy`),
 *   exchange no records, keep their own sets, and do not retry in a loop.
 */
import { describe, expect, it } from 'vitest'
import { acceptAll, createMemoryNetwork, type ModerationStrategy, type RejectedRecord } from '../../src/index.js'
import { loadFixtures } from '../helpers.js'
import { table, drive, idsOf, importAll, type LinkTraffic, openPeer, sleep, TrafficCounter, virtualTime, waitFor, expectedIds, useSwarm } from './harness.js'

/** The window watched once settled, in virtual time: ten root periods. */
const WINDOW_MS = 300_000

const swarm = useSwarm()

/** Refuses every record of one author, for good (no strike), under the given policy digest. */
function refuseAuthor(author: string, digest: string): ModerationStrategy {
  return {
    name: 'refuse-author',
    digest,
    review: (record) => (record.author === author ? { accept: false, reason: 'blocked-author', message: 'this peer does not keep this author' } : { accept: true }),
  }
}

type Frames = LinkTraffic['frames']

/** A lenient and a strict peer, each holding part of the fixtures (the blocked author's only on the lenient one). */
async function setup(strictDigest: string) {
  virtualTime()
  swarm.network = createMemoryNetwork({ latencyMs: 2, jitterMs: 3, seed: 41 })
  const traffic = new TrafficCounter()
  const { records, authors } = loadFixtures()
  const blocked = authors[0]!.publicKey
  const [lenientT, strictT] = [swarm.network.transport(), swarm.network.transport()]
  const lenient = await drive(openPeer({ transport: traffic.wrap(lenientT) }))
  const strict = await drive(openPeer({ transport: traffic.wrap(strictT), moderation: refuseAuthor(blocked, strictDigest) }))
  swarm.peers = [lenient, strict]
  const errors: unknown[] = []
  const refused: RejectedRecord[] = []
  const left: string[] = []
  for (const p of swarm.peers) {
    p.on('error', (e) => errors.push(e))
    p.on('peer:left', (_, info) => left.push(info.reason))
  }
  strict.on('record:rejected', (r) => refused.push(r))
  const lenientShare = records.filter((_, i) => i % 2 === 0)
  const strictShare = records.filter((e, i) => i % 2 === 1 && e.pubkey !== blocked)
  await drive(Promise.all([importAll(lenient, lenientShare), importAll(strict, strictShare)]))

  /** Frames delivered each way during `WINDOW_MS` of virtual time, and the simulated seconds it spanned. */
  const watch = async (): Promise<{ toStrict: Frames; toLenient: Frames; simulated: number }> => {
    const link = (from: string, to: string): Frames => ({ ...traffic.delivered.get(`${from}->${to}`)!.frames })
    const sub = (a: Frames, b: Frames): Frames => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - b[k as keyof Frames]])) as Frames
    const [s0, l0, c0] = [link(lenientT.peerId, strictT.peerId), link(strictT.peerId, lenientT.peerId), Date.now()]
    await sleep(WINDOW_MS)
    return {
      toStrict: sub(link(lenientT.peerId, strictT.peerId), s0),
      toLenient: sub(link(strictT.peerId, lenientT.peerId), l0),
      simulated: (Date.now() - c0) / 1000,
    }
  }
  const report = (what: string, w: Awaited<ReturnType<typeof watch>>): void =>
    console.log(
      `${what}; then in ${w.simulated.toFixed(0)} s of virtual time, frames delivered:\n` +
        table([['', ...Object.keys(w.toStrict)], ['lenient->strict', ...Object.values(w.toStrict)], ['strict->lenient', ...Object.values(w.toLenient)]]),
    )
  return { traffic, lenient, strict, lenientT, strictT, blocked, lenientShare, strictShare, errors, refused, left, watch, report }
}

describe('two swarm.peers whose moderation differs', () => {
  it('under one policy digest: each keeps what its own rules accept, and they settle without a sync storm', async () => {
    const t = await setup(acceptAll().digest)
    const all = [...t.lenientShare, ...t.strictShare]
    const lenientWants = expectedIds(all)
    const strictWants = expectedIds(all, (e) => e.pubkey !== t.blocked)
    const blockedIds = new Set(lenientWants.filter((id) => !strictWants.includes(id)))
    expect(blockedIds.size).toBeGreaterThan(0)

    const started = Date.now()
    await waitFor(() => idsOf(t.lenient).join() === lenientWants.join() && idsOf(t.strict).join() === strictWants.join(), 300_000, 'both to settle')
    const converged = Date.now() - started
    await sleep(500) // the last reconciliation round ends (virtual time)
    const w = await t.watch()

    expect(idsOf(t.lenient)).toEqual(lenientWants)
    expect(idsOf(t.strict)).toEqual(strictWants)
    expect(t.errors).toEqual([])
    expect(t.left).toEqual([])
    // The strict peer refused the blocked author's records by moderation, each one once (its
    // other refusals are stale versions of records it holds newer)...
    const byModeration = t.refused.filter((r) => r.reason === 'moderation')
    expect(t.refused.filter((r) => r.reason !== 'moderation').every((r) => r.reason === 'superseded')).toBe(true)
    expect(byModeration.map((r) => r.id).sort()).toEqual([...blockedIds].sort())
    // ... and each crossed to it at most once over the whole run.
    const toStrict = t.traffic.delivered.get(`${t.lenientT.peerId}->${t.strictT.peerId}`)!
    for (const id of blockedIds) expect(toStrict.records.get(id) ?? 0, id).toBeLessThanOrEqual(1)

    t.report(`disagreement (one digest): settled in ${(converged / 1000).toFixed(2)} s; ${blockedIds.size} records kept only by the lenient peer, ${byModeration.length} refused by moderation`, w)
    // Settled: nothing offered, pulled or sent again; only roots (one per 30 s simulated per
    // direction), the odd reconciliation retry (every 5 min, a few frames) and keep-alives.
    for (const f of [w.toStrict, w.toLenient]) {
      expect(f.records + f.want).toBe(0)
      const total = Object.values(f).reduce((a, b) => a + b, 0)
      expect(total).toBeLessThanOrEqual(Math.ceil(w.simulated / 30) * 2 + 20)
    }
  }, 60_000)

  it('under different policy digests: they refuse each other, exchange no records, and do not retry in a loop', async () => {
    const t = await setup('refuse-author/1')
    await waitFor(() => t.left.length >= 2, 60_000, 'both to refuse the other')
    const w = await t.watch()

    expect(new Set(t.left)).toEqual(new Set(['moderation-policy']))
    expect(idsOf(t.lenient)).toEqual(expectedIds(t.lenientShare))
    expect(idsOf(t.strict)).toEqual(expectedIds(t.strictShare))
    expect(t.errors).toEqual([])
    // Nothing came from the other peer to refuse. Its own imports hold both versions of some records:
    // imported in one batch, the older one is refused as superseded (it was never stored).
    expect(t.refused.filter((r) => r.origin === 'remote')).toEqual([])
    expect(t.refused.every((r) => r.origin === 'import' && r.reason === 'superseded')).toBe(true)
    for (const link of t.traffic.delivered.values()) expect(link.frames.records + link.frames.have + link.frames.want).toBe(0)

    t.report(`different digests: ${t.left.length} sessions closed (${[...new Set(t.left)].join()})`, w)
    // At most one fresh attempt per reconnect cool-down (30 s), each a hello and a bye per direction.
    const attempts = Math.ceil(w.simulated / 30) + 1
    for (const f of [w.toStrict, w.toLenient]) expect(Object.values(f).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2 * attempts)
  }, 60_000)
})
