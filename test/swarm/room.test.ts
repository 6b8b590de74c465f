/**
 * Records of another room offered over sync: a peer that announces (`have`) and serves records
 * signed for another room, or for none, in this room's reconciliation. Refused as `wrong-room`,
 * never stored, requested once only however often they are announced, and each one a peer strike
 * (it was announced for this room), so the peer ends banned.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createIdentity, createMemoryNetwork, createRecord, toNostrEvent, type PeersetRecord, type RejectedRecord } from '../../src/index.js'
import { FIXTURE_ROOM, loadFixtures } from '../helpers.js'
import { Attacker, haveGroups, wire } from './attacker.js'
import { FIXTURE_NOW, drive, openPeer, prng, realTime, sleep, virtualClock, virtualTime, waitFor } from './harness.js'

afterEach(() => realTime())

describe('a peer serving records of another room', () => {
  it('gets them refused as wrong-room, not stored, each requested only once, and is struck until banned', async () => {
    const author = createIdentity()
    const sign = (i: number, room: string | undefined): Promise<PeersetRecord> =>
      createRecord({ text: `record ${i}` }, author.signer, { now: FIXTURE_NOW - 3_600 * (i + 1), ...(room === undefined ? {} : { room }) })
    const foreign = [
      ...(await Promise.all([0, 1, 2, 3, 4].map((i) => sign(i, 'another-room')))),
      ...(await Promise.all([5, 6, 7].map((i) => sign(i, undefined)))),
    ].map((r) => wire(toNostrEvent(r)))
    // A genuine record of this room offered the same way: it must be taken (the path works).
    const genuine = wire(loadFixtures().records.at(-1)!)
    const offered = [...foreign, genuine]
    const byId = new Map(offered.map((f) => [f.id, f]))
    const wanted = new Map<string, number>()

    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 2, jitterMs: 3, seed: 41 })
    const transport = network.transport()
    const honest = await drive(openPeer({ transport }))
    const rejected: RejectedRecord[] = []
    const strikes: string[] = []
    const errors: unknown[] = []
    honest.on('record:rejected', (r) => rejected.push(r))
    honest.on('peer:strike', (x) => strikes.push(`${x.reason}: ${x.detail}`))
    honest.on('error', (e) => errors.push(e))
    const attacker = await drive(
      Attacker.join(
        network,
        FIXTURE_ROOM,
        'Mallory0000000000000',
        {
          joined: (a, peer) => a.send(peer, { type: 'have', groups: haveGroups(offered) }),
          message(a, peer, m) {
            if (m.type !== 'want') return
            for (const id of m.ids) wanted.set(id, (wanted.get(id) ?? 0) + 1)
            const events = m.ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!.event] : []))
            if (events.length > 0) a.send(peer, { type: 'records', events })
          },
          // Announce them again and again, as if new.
          tick: (a, peer) => a.send(peer, { type: 'have', groups: haveGroups(offered) }),
        },
        { random: prng(41), clock: virtualClock },
      ),
    )
    try {
      attacker.start(500)
      await waitFor(() => rejected.length >= 3 && honest.get(genuine.id) !== undefined, 30_000, 'the offered records to be judged')
      await sleep(60_000) // 120 more announcements, and two idle rebroadcasts of roots
      expect(honest.get(genuine.id)).toBeDefined()
      expect(honest.status().records).toBe(1)
      for (const f of foreign) expect(honest.get(f.id)).toBeUndefined()
      const foreignIds = new Set(foreign.map((f) => f.id))
      for (const r of rejected) {
        expect(foreignIds.has(r.id ?? "")).toBe(true)
        expect([r.reason, r.permanent]).toEqual(['wrong-room', true])
      }
      // Each refusal was a strike on the peer that announced and served it, and three banned it:
      // it came back under new identities (the attacker's rejoin), each struck and banned again.
      expect(strikes.length).toBeGreaterThanOrEqual(3)
      for (const s of strikes) expect(s).toMatch(/^wrong-room: /)
      expect(attacker.ids.length).toBeGreaterThan(1)
      expect([...attacker.endings.keys()].some((k) => k.includes('banned'))).toBe(true)
      // Refused for good: asked for once, never again, however often announced (also by a new identity).
      for (const f of offered) expect(wanted.get(f.id) ?? 0, `wants of ${f.id.slice(0, 8)}`).toBeLessThanOrEqual(1)
      expect(wanted.get(genuine.id)).toBe(1)
      expect(errors).toEqual([])
    } finally {
      attacker.stop()
      await drive(attacker.leave())
      await drive(honest.close())
      network.close()
    }
  }, 60_000)
})
