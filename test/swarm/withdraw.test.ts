/**
 * Withdrawals across a swarm (issue 16), on the in-memory network and virtual time: a tombstone
 * travels like a record, removes the record on every peer that holds it, reaches a peer that was cut
 * off and keeps its old copy from spreading again; a forged withdrawal is refused and its sender struck.
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  acceptAll,
  createIdentity,
  createMemoryNetwork,
  createModeration,
  createPeerset,
  createRecord,
  createWithdrawal,
  memoryStorage,
  roomHash,
  toNostrEvent,
  type MemoryNetwork,
  type ModerationStrategy,
  type Peerset,
  type MemoryTransport,
} from '../../src/index.js'
import { Attacker, haveGroups, wire } from './attacker.js'
import { drive, prng, realTime, sleep, virtualClock, virtualTime, waitFor } from './harness.js'

const ROOM = 'withdraw-swarm'
const NOW = 1_790_000_000

let network: MemoryNetwork | undefined
let peers: Peerset[] = []
let attacker: Attacker | undefined
afterEach(async () => {
  attacker?.stop()
  await drive(Promise.all(peers.map((p) => p.close())))
  network?.close()
  realTime()
  peers = []
  network = undefined
  attacker = undefined
})

type Removal = { id: string; reason: string }

async function swarm(moderation: () => ModerationStrategy = () => createModeration()): Promise<{ transports: MemoryTransport[]; removed: Removal[][]; added: string[][] }> {
  virtualTime(NOW * 1000)
  network = createMemoryNetwork({ latencyMs: 5, jitterMs: 5, seed: 16 })
  const transports = [network.transport(), network.transport(), network.transport()]
  peers = await drive(
    Promise.all(
      transports.map((transport) =>
        createPeerset({ room: ROOM, identity: createIdentity(), storage: memoryStorage(), transport, moderation: moderation(), clock: virtualClock, sessionTickMs: 100 }),
      ),
    ),
  )
  const removed: Removal[][] = [[], [], []]
  const added: string[][] = [[], [], []]
  peers.forEach((p, i) => {
    p.on('record:removed', (record, { reason }) => removed[i]!.push({ id: record.id, reason }))
    p.on('record:added', (record) => added[i]!.push(record.id))
  })
  await waitFor(() => peers.every((p) => p.peers().filter((x) => x.state === 'authenticated').length === 2), 20_000, 'every peer to authenticate with the other two')
  return { transports, removed, added }
}

const holds = (p: Peerset, id: string): boolean => p.get(id) !== undefined

describe('withdrawals across three peers', () => {
  it('withdraw on one peer of three: the record disappears from all three, each reporting record:removed withdrawn', async () => {
    const { removed, added } = await swarm()
    const [p0] = peers as [Peerset, Peerset, Peerset]
    const record = await drive(p0.publish({ text: 'Lost cat, grey, answers to Mia' }))
    await waitFor(() => peers.every((p) => holds(p, record.id)), 30_000, 'the record to reach every peer')
    await sleep(2_000)
    const tombstone = await drive(p0.withdraw(record))
    await waitFor(() => peers.every((p) => !holds(p, record.id)), 30_000, 'the record to be withdrawn everywhere')
    await waitFor(() => peers.every((p) => p.status().withdrawals === 1), 30_000, 'the tombstone to reach every peer')
    for (let i = 0; i < 3; i++) {
      expect(removed[i], `peer ${i}`).toEqual([{ id: record.id, reason: 'withdrawn' }])
      expect(added[i], `peer ${i} never reports the tombstone`).not.toContain(tombstone.id)
      expect(peers[i]!.records()).toEqual([])
    }
  })

  it('partition one peer, withdraw on another, heal: the old copy comes back nowhere and the tombstone reaches the cut-off peer', async () => {
    const { transports, removed } = await swarm()
    const [p0, p1, p2] = peers as [Peerset, Peerset, Peerset]
    const record = await drive(p0.publish({ text: 'Bike for sale, 40 EUR' }))
    await waitFor(() => peers.every((p) => holds(p, record.id)), 30_000, 'the record to reach every peer')
    network!.partition([[transports[0]!.peerId, transports[1]!.peerId], [transports[2]!.peerId]])
    await waitFor(() => p2.peers().every((x) => x.state !== 'authenticated'), 200_000, 'the cut-off peer to lose its sessions')
    await sleep(60_000)
    await drive(p0.withdraw(record.id))
    await waitFor(() => !holds(p0, record.id) && !holds(p1, record.id), 30_000, 'the withdrawal to reach the connected peer')
    expect(holds(p2, record.id)).toBe(true) // still cut off: it keeps its old copy for now

    network!.heal()
    await waitFor(() => p2.status().withdrawals === 1, 300_000, 'the tombstone to reach the cut-off peer')
    await waitFor(() => !holds(p2, record.id), 30_000, 'the cut-off peer to drop its old copy')
    // Let several rounds of reconciliation run: the old copy must not spread back.
    await sleep(120_000)
    for (const p of peers) {
      expect(holds(p, record.id)).toBe(false)
      expect(p.status()).toMatchObject({ records: 0, withdrawals: 1 })
    }
    for (let i = 0; i < 3; i++) expect(removed[i], `peer ${i}`).toEqual([{ id: record.id, reason: 'withdrawn' }])
  })

  it('a forged withdrawal (the author’s address, another key’s signature) is refused, the record stays, and the sender is struck', async () => {
    await swarm(() => acceptAll())
    const author = createIdentity()
    const mallory = createIdentity()
    const [p0] = peers as [Peerset, Peerset, Peerset]
    const record = await createRecord({ text: 'Mine, not Mallory’s' }, author.signer, { now: NOW - 60, room: ROOM })
    expect((await drive(p0.importRecord(toNostrEvent(record)))).status).toBe('added')
    await waitFor(() => peers.every((p) => holds(p, record.id)), 30_000, 'the record to reach every peer')
    // Mallory signs a tombstone of her own, then puts the author's key on it: the address is the author's, the signature is not.
    const own = toNostrEvent(await createWithdrawal({ ...record, author: mallory.publicKey, roomHash: roomHash(ROOM) }, mallory.signer, { now: NOW }))
    const forged = wire({ ...own, pubkey: author.publicKey })
    const strikes: string[] = []
    const rejected: string[] = []
    for (const p of peers) {
      p.on('peer:strike', (x) => strikes.push(x.reason))
      p.on('record:rejected', (r) => rejected.push(r.reason))
    }
    attacker = await drive(
      Attacker.join(
        network!,
        ROOM,
        'mallory',
        {
          joined: (a, peer) => a.send(peer, { type: 'have', groups: haveGroups([forged]) }),
          message: (a, peer, m) => {
            if (m.type === 'want' && m.ids.includes(forged.id)) a.send(peer, { type: 'records', events: [forged.event] })
          },
        },
        { random: prng(16), clock: virtualClock },
      ),
    )
    await waitFor(() => strikes.filter((r) => r === 'bad-signature').length >= 3, 60_000, 'every peer to refuse the forgery and strike its sender')
    expect(rejected.filter((r) => r === 'bad-signature').length).toBeGreaterThanOrEqual(3)
    for (const p of peers) {
      expect(holds(p, record.id)).toBe(true)
      expect(p.status().withdrawals).toBe(0)
    }
  })
})
