/**
 * Bounded memory under attack, and pre-signature refusals held against the peer that announced
 * them (issue 10). An authenticated attacker (test/swarm/attacker.ts) sends what grows the honest
 * peer's memory; the sync core of the honest peer is captured (wrapped `createSyncCore`) so its
 * counters show both that the frames reached it and that what it keeps stays under its cap.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createIdentity, createRecord, toNostrEvent, type NostrEvent, type Peerset } from '../../src/index.js'
import type { SyncCore } from '../../src/sync/index.js'
import { MAX_REJECTED_PER_PEER } from '../../src/sync/core-state.js'
import { createMemoryNetwork, type MemoryNetwork } from '../../src/transport/index.js'
import { FIXTURE_ROOM, loadFixtures } from '../helpers.js'
import { Attacker, haveGroups, wire, type Behaviour } from './attacker.js'
import { drive, FIXTURE_NOW, importAll, openPeer, prng, realTime, sleep, virtualClock, virtualTime, waitFor } from './harness.js'

const cores: SyncCore[] = []
vi.mock('../../src/sync/index.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/sync/index.js')>()
  return {
    ...original,
    createSyncCore: (options: Parameters<typeof original.createSyncCore>[0]) => {
      const core = original.createSyncCore(options)
      cores.push(core)
      return core
    },
  }
})

const ROOM = FIXTURE_ROOM
const DAY_S = 86_400

interface World {
  network: MemoryNetwork
  honest: Peerset
  honestId: string
  attacker: Attacker
  strikes: Array<{ peerId: string; reason: string; detail: string }>
  bans: string[]
}

let world: World | undefined

async function setup(behaviour: Behaviour, records: readonly NostrEvent[] = []): Promise<World> {
  virtualTime()
  cores.length = 0
  const network = createMemoryNetwork({ latencyMs: 2, seed: 7 })
  const transport = network.transport()
  const honest = await drive(openPeer({ room: ROOM, transport }))
  await drive(importAll(honest, records))
  const strikes: World['strikes'] = []
  const bans: string[] = []
  honest.on('peer:strike', (x) => strikes.push({ peerId: x.peerId, reason: x.reason, detail: x.detail }))
  honest.on('peer:banned', (x) => bans.push(x.peerId))
  const attacker = await drive(Attacker.join(network, ROOM, 'Mallory0000000000000', behaviour, { random: prng(5), clock: virtualClock }))
  attacker.start(100)
  await waitFor(() => attacker.authenticatedWith.size === 1, 15_000, 'the attacker to authenticate')
  world = { network, honest, honestId: transport.peerId, attacker, strikes, bans }
  return world
}

afterEach(async () => {
  if (world) {
    world.attacker.stop()
    await drive(world.honest.close())
    world.network.close()
    world = undefined
  }
  realTime()
})

/** A record signed by `identity`, created `ageS` seconds before the fixture time, expiring `lifeS` seconds after its creation. */
async function aged(identity: ReturnType<typeof createIdentity>, ageS: number, lifeS: number, text: string): Promise<NostrEvent> {
  return toNostrEvent(await createRecord({ text }, identity.signer, { now: FIXTURE_NOW - ageS, retentionSeconds: lifeS, room: ROOM }))
}

describe('bounded memory under attack', () => {
  it(`ids a peer says it refused for good: made-up ids are not remembered, and ours at most ${MAX_REJECTED_PER_PEER} per peer`, async () => {
    const fixtures = loadFixtures().records.slice(0, 200)
    const ids = fixtures.map((e) => wire(e).id)
    let sent = 0
    await setup(
      {
        tick(a, peer) {
          // 25 frames of 1 000 made-up ids each (25 000, past the cap), then every id the honest peer holds.
          if (sent < 25) {
            a.send(peer, { type: 'reject', items: Array.from({ length: 1_000 }, () => ({ id: a.hex(32), reason: 'invalid' as const, permanent: true })) })
            sent++
          } else if (sent === 25) {
            a.send(peer, { type: 'reject', items: ids.map((id) => ({ id, reason: 'moderation' as const, permanent: true })) })
            sent++
          }
        },
      },
      fixtures,
    )
    await waitFor(() => sent > 25, 60_000, 'the attacker to send its rejects')
    await sleep(2_000)
    const core = cores.at(-1)!
    // The frames reached the honest peer's sync core.
    expect(core.stats().received.reject).toBeGreaterThanOrEqual(26)
    expect(world!.attacker.syncSentAuthenticated.get(world!.honestId)).toBeGreaterThanOrEqual(26)
    // Only ids it holds are remembered: what it holds of the 200 here, not 25 000 more, and never more than the cap.
    const held = ids.filter((id) => world!.honest.get(id) !== undefined).length
    expect(held).toBeGreaterThan(100)
    expect(core.stats().peerRejected).toBe(held)
    expect(core.stats().peerRejected).toBeLessThanOrEqual(MAX_REJECTED_PER_PEER)
  }, 120_000)
})

describe('pre-signature refusals count against the announcing peer', () => {
  it('an authenticated attacker announcing and sending records outside the window, from the future, or long expired is struck and banned', async () => {
    const mallory = createIdentity()
    const old = await aged(mallory, 200 * DAY_S, 90 * DAY_S, 'from long ago') // outside the retention window
    const future = await aged(mallory, -2 * DAY_S, 90 * DAY_S, 'from the future') // two days ahead
    const expired = await aged(mallory, 2 * 3_600, 3_600, 'expired an hour ago') // NIP-40 expiration an hour ago
    const bad = [old, future, expired].map((e) => wire(e))
    const byId = new Map(bad.map((b) => [b.id, b]))
    let announced = 0
    await setup({
      joined(a, peer) {
        // The two out-of-window records are claimed in today's bucket (the only way they are asked for); the expired one truthfully.
        const today = a.window().newest
        a.send(peer, { type: 'have', groups: haveGroups(bad.map((b) => ({ id: b.id, bucket: b.event === expired ? b.bucket : today }))) })
        announced++
      },
      message(a, peer, m) {
        if (m.type !== 'want') return
        const events = m.ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!.event] : []))
        if (events.length > 0) a.send(peer, { type: 'records', events })
      },
    })
    const w = world!
    await waitFor(() => w.bans.some((id) => w.attacker.isMe(id)), 60_000, 'the attacker to be banned')
    expect(announced).toBeGreaterThanOrEqual(1)
    const mine = w.strikes.filter((x) => w.attacker.isMe(x.peerId))
    expect(new Set(mine.map((x) => x.reason))).toEqual(new Set(['expired', 'future']))
    expect(mine.some((x) => /announced in bucket/.test(x.detail))).toBe(true)
    expect(mine.some((x) => /already expired \d+ s before it was announced/.test(x.detail))).toBe(true)
    expect(w.honest.records()).toHaveLength(0)
  }, 120_000)

  it('an authenticated attacker announcing and sending a record over the agreed size limits is struck (too-large)', async () => {
    const big = wire(toNostrEvent(await createRecord({ text: 'x'.repeat(6_000) }, createIdentity().signer, { now: FIXTURE_NOW, limits: { maxTextBytes: 8_000 }, room: ROOM })))
    await setup({
      joined(a, peer) {
        a.send(peer, { type: 'have', groups: haveGroups([big]) })
      },
      message(a, peer, m) {
        if (m.type === 'want' && m.ids.includes(big.id)) a.send(peer, { type: 'records', events: [big.event] })
      },
    })
    const w = world!
    await waitFor(() => w.strikes.some((x) => w.attacker.isMe(x.peerId)), 30_000, 'a strike')
    expect(w.strikes.filter((x) => w.attacker.isMe(x.peerId)).map((x) => x.reason)).toEqual(['too-large'])
    expect(w.honest.records()).toHaveLength(0)
  }, 120_000)

  it('an honest peer forwarding a record that expired in transit (clock skew, near its expiration) is not struck', async () => {
    virtualTime()
    cores.length = 0
    const network = createMemoryNetwork({ latencyMs: 2, seed: 3 })
    const [ta, tb] = [network.transport(), network.transport()]
    // a's clock runs 50 s ahead of b's (inside what session proofs allow, 60 s).
    const a = await drive(openPeer({ room: ROOM, transport: ta, clock: () => virtualClock() + 50_000 }))
    const b = await drive(openPeer({ room: ROOM, transport: tb }))
    // Expires 20 s from now on b's clock: already expired on a's (by 30 s) when it is announced and when it arrives.
    const record = await aged(createIdentity(), 3_600, 3_600 + 20, 'expires soon')
    await drive(importAll(b, [record]))
    const strikes: string[] = []
    const rejected: string[] = []
    a.on('peer:strike', (x) => strikes.push(`${x.reason}: ${x.detail}`))
    a.on('record:rejected', (r) => rejected.push(r.reason))
    await waitFor(() => rejected.length > 0, 60_000, 'a to refuse the record')
    await sleep(5_000)
    expect(rejected).toEqual(['expired'])
    expect(strikes).toEqual([])
    expect(a.peers().map((p) => p.pubkey)).toEqual([b.publicKey])
    await drive(Promise.all([a.close(), b.close()]))
    network.close()
  }, 120_000)
})
