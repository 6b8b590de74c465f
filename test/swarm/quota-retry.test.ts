/**
 * A record refused for now over its author's quota is asked for again as soon as a record of that
 * author is removed (here: withdrawn), not at the next periodic round 30 s later (QA report: a peer
 * back from a partition that got a new record before the withdrawal that made room for it).
 *
 * The order is built exactly: peer C holds the author's 5 records; a relay R (a raw protocol peer
 * that only ever offers and serves the new record, to C) gives C the new record first: refused
 * over quota. Then C meets A, which holds the tombstone of one of the 5 (and never the new record,
 * so nothing but the retry can bring it to C).
 */
import { describe, expect, it } from 'vitest'
import { createIdentity, createMemoryNetwork, createModeration, createRecord, createWithdrawal, toNostrEvent, type MemoryNetwork, type Peerset, type PeersetRecord } from '../../src/index.js'
import { Attacker, haveGroups, wire } from './attacker.js'
import { FIXTURE_NOW, FIXTURE_ROOM } from '../helpers.js'
import { closeAfterEach, drive, importAll, openPeer, prng, virtualClock, virtualTime, waitFor } from './harness.js'

let network: MemoryNetwork | undefined
let peers: Peerset[] = []
let relay: Attacker | undefined
closeAfterEach(
  () => {
    relay?.stop()
    return { peers, network }
  },
  () => {
    peers = []
    network = undefined
    relay = undefined
  },
)

const sorted = (records: readonly PeersetRecord[]): string[] => records.map((r) => r.id).sort()

describe('a record refused over quota', () => {
  it('is asked for again as soon as a withdrawal of its author frees a place', async () => {
    virtualTime(FIXTURE_NOW * 1000)
    network = createMemoryNetwork({ latencyMs: 5, jitterMs: 5, seed: 41 })
    const author = createIdentity()
    const at = (s: number) => ({ now: FIXTURE_NOW - 600 + s, room: FIXTURE_ROOM })
    const live: PeersetRecord[] = []
    for (let i = 0; i < 5; i++) live.push(await createRecord({ text: `live ${i}` }, author.signer, at(i)))
    const tombstone = await createWithdrawal(live[0]!, author.signer, { now: FIXTURE_NOW - 300 })
    const fresh = await createRecord({ text: 'fresh' }, author.signer, at(400))
    const freshWire = wire(toNostrEvent(fresh))
    expect(freshWire.id).toBe(fresh.id)

    const tA = network.transport()
    const tC = network.transport()
    network.partition([[tA.peerId], [tC.peerId, 'relay']])
    const [a, c] = await drive(Promise.all([tA, tC].map((transport) => openPeer({ transport, moderation: createModeration() }))))
    peers = [a!, c!]
    await drive(importAll(c!, live.map(toNostrEvent)))
    await drive(importAll(a!, [...live, tombstone].map(toNostrEvent)))
    expect(a!.records().map((r) => r.id)).not.toContain(live[0]!.id)

    const refused: string[] = []
    c!.on('record:rejected', (r) => {
      if (r.id === fresh.id) refused.push(`${r.reason}/${r.rule}/permanent=${r.permanent}`)
    })
    let wants = 0
    relay = await drive(
      Attacker.join(
        network,
        FIXTURE_ROOM,
        'relay',
        {
          // Offers and serves the new record to C only (so A cannot pass it on).
          joined: (r, peer) => {
            if (peer === tC.peerId) r.send(peer, { type: 'have', groups: haveGroups([freshWire]) })
          },
          message: (r, peer, m) => {
            if (peer !== tC.peerId || m.type !== 'want' || !m.ids.includes(fresh.id)) return
            wants++
            r.send(peer, { type: 'records', events: [freshWire.event] })
          },
        },
        { random: prng(41), clock: virtualClock, moderationDigest: createModeration().digest },
      ),
    )
    await waitFor(() => refused.length === 1, 20_000, 'C to refuse the new record over quota')
    expect(refused).toEqual(['moderation/quota:over-quota/permanent=false'])
    expect(wants).toBe(1)

    // C meets A: the tombstone arrives, frees a place, and C asks the relay again at once.
    // Every sync:idle from now on comes only once C holds the new record (never while its retry is due).
    const idleHolding: boolean[] = []
    c!.on('sync:idle', () => idleHolding.push(c!.get(fresh.id) !== undefined))
    network.partition([[tA.peerId, tC.peerId, 'relay']])
    const expected = sorted([...live.slice(1), fresh])
    await waitFor(() => c!.get(live[0]!.id) === undefined, 20_000, 'the withdrawal to reach C')
    const withdrawnAt = virtualClock()
    await waitFor(() => JSON.stringify(sorted(c!.records())) === JSON.stringify(expected), 5_000, "C to hold the author's set")
    expect(virtualClock() - withdrawnAt).toBeLessThan(5_000)
    expect(wants).toBe(2)
    await waitFor(() => idleHolding.length > 0, 5_000, 'C to report sync:idle')
    expect(idleHolding.every(Boolean)).toBe(true)
  })
})
