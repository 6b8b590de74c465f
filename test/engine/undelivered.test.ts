/**
 * Issue 13: a peer that announced a record and no longer has it when the `want` comes (it expired,
 * was replaced, its author was banned) is honest: it answers with a `reject` notice instead of
 * silence, the requester looks elsewhere at once, and it is never struck as `undelivered` (the
 * strike for a peer that keeps announcing ids and never delivers them). Virtual time throughout.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createIdentity } from '../../src/identity/index.js'
import type { Peerset } from '../../src/peerset.js'
import { createRecord, toNostrEvent } from '../../src/record/index.js'
import { createMemoryNetwork } from '../../src/transport/index.js'
import { FIXTURE_ROOM } from '../helpers.js'
import { TrafficCounter, openPeer } from '../swarm/harness.js'
import { drive, realTime, sleep, virtualTime, waitFor } from '../virtual-time.js'

const author = createIdentity()
let peers: Peerset[] = []

afterEach(async () => {
  await drive(Promise.all(peers.map((p) => p.close())))
  peers = []
  realTime()
})

describe('an honest peer whose record went between its announcement and the want', () => {
  it('answers the want with a reject notice and is never struck (undelivered), however often it happens', async () => {
    virtualTime()
    // 1.5 s one way: each record below expires after it is announced and before the want arrives.
    const network = createMemoryNetwork({ latencyMs: 1_500, seed: 13 })
    const traffic = new TrafficCounter()
    const [ta, tb] = [network.transport({ peerId: 'peer-a' }), network.transport({ peerId: 'peer-b' })]
    peers = await drive(Promise.all([openPeer({ transport: traffic.wrap(ta) }), openPeer({ transport: traffic.wrap(tb) })]))
    const [a, b] = peers as [Peerset, Peerset]
    const strikes: Array<{ by: string; reason: string; detail: string }> = []
    const removed: string[] = []
    let joined = 0
    a.on('peer:strike', (x) => strikes.push({ by: 'a', reason: x.reason, detail: x.detail }))
    b.on('peer:strike', (x) => strikes.push({ by: 'b', reason: x.reason, detail: x.detail }))
    a.on('peer:joined', () => joined++)
    a.on('record:removed', (record) => removed.push(record.id))
    await waitFor(() => joined === 1, 30_000, 'a and b to authenticate')

    // Forty short-lived records, one every 1.5 s (a keeps talking: it announces each one).
    for (let i = 0; i < 40; i++) {
      const record = await drive(createRecord({ text: `short-lived ${i}` }, author.signer, { now: Math.floor(Date.now() / 1000), retentionSeconds: 2, room: FIXTURE_ROOM }))
      const outcome = await drive(a.importRecord(toNostrEvent(record)))
      expect(outcome.status).toBe('added')
      await sleep(1_500)
    }
    await sleep(30_000)

    // New records are announced and wanted by gossip id; a holder that no longer has one says `gone`.
    const wants = traffic.frames(traffic.delivered, (link) => link === 'peer-b->peer-a', 'want') + traffic.frames(traffic.delivered, (link) => link === 'peer-b->peer-a', 'gossip-want')
    const rejects = traffic.frames(traffic.delivered, (link) => link === 'peer-a->peer-b', 'reject') + traffic.frames(traffic.delivered, (link) => link === 'peer-a->peer-b', 'gossip-gone')
    console.log(`vanished records: a removed ${removed.length}; b sent ${wants} wants, a answered with ${rejects} reject frames; strikes: ${strikes.length}`)
    expect(strikes).toEqual([])
    // The wants reached a's sync layer and were answered there, with a notice instead of a record.
    expect(removed.length).toBe(40)
    expect(wants).toBeGreaterThanOrEqual(20)
    expect(rejects).toBeGreaterThanOrEqual(20)
    expect(b.status().records).toBe(0)
    network.close()
  }, 120_000)
})
