/**
 * The withdrawal cap across a swarm (issue 16, the bug black-box QA found): an author withdraws more
 * than {@link MAX_WITHDRAWALS_PER_AUTHOR} records while a peer holding some of them is cut off. The
 * oldest tombstones leave the swarm (the cap), yet no withdrawn record may come back: not on the peer
 * that was away, not on a newcomer it serves, and every peer ends with the same set.
 */
import { describe, expect, it } from 'vitest'
import { createIdentity, createMemoryNetwork, createModeration, createPeerset, MAX_WITHDRAWALS_PER_AUTHOR, memoryStorage, type MemoryTransport, type Peerset, type PeersetRecord } from '../../src/index.js'
import { drive, idsOf, sleep, virtualClock, virtualTime, waitFor, useSwarm } from './harness.js'

const ROOM = 'withdraw-cap-swarm'
const NOW = 1_790_000_000

const swarm = useSwarm()

function open(transport: MemoryTransport): Promise<Peerset> {
  return drive(createPeerset({ room: ROOM, identity: createIdentity(), storage: memoryStorage(), transport, moderation: createModeration(), clock: virtualClock, sessionTickMs: 100 }))
}

const authenticated = (p: Peerset): number => p.peers().filter((x) => x.state === 'authenticated').length

describe('more withdrawals than the cap while a peer is away', () => {
  it('heal, then a newcomer: no withdrawn record is held by anyone and every peer keeps the same set', async () => {
    virtualTime(NOW * 1000)
    swarm.network = createMemoryNetwork({ latencyMs: 5, jitterMs: 5, seed: 61 })
    const transports = [swarm.network.transport(), swarm.network.transport(), swarm.network.transport()]
    swarm.peers = [await open(transports[0]!), await open(transports[1]!), await open(transports[2]!)]
    const [author, , away] = swarm.peers as [Peerset, Peerset, Peerset]
    await waitFor(() => swarm.peers.every((p) => authenticated(p) === 2), 20_000, 'every peer to authenticate with the other two')
    const strikes: string[] = []
    const refusedCopies: string[] = [] // old copies served by a peer and refused by another
    const watch = (p: Peerset): void => {
      p.on('peer:strike', (x) => strikes.push(`${x.reason}: ${x.detail}`))
      p.on('record:rejected', (r) => void (r.origin === 'remote' && r.id !== undefined && held.some((h) => h.id === r.id) && refusedCopies.push(`${r.reason}/${r.rule ?? ''}`)))
    }
    swarm.peers.forEach(watch)

    // Three records every peer holds; the one that goes away keeps its copies.
    const held: PeersetRecord[] = []
    for (let i = 0; i < 3; i++) {
      held.push(await drive(author.publish({ text: `held by everyone ${i}` })))
      await sleep(1_000)
    }
    await waitFor(() => swarm.peers.every((p) => held.every((r) => p.get(r.id) !== undefined)), 30_000, 'the records to reach every peer')
    swarm.network.partition([[transports[0]!.peerId, transports[1]!.peerId], [transports[2]!.peerId]])
    await waitFor(() => authenticated(away) === 0, 200_000, 'the cut-off peer to lose its sessions')

    // Away: two of the held records are withdrawn, then a create-and-withdraw loop past the cap.
    const withdrawn: PeersetRecord[] = [held[0]!, held[1]!]
    for (const record of withdrawn) {
      await drive(author.withdraw(record))
      await sleep(1_000)
    }
    for (let i = 0; i < MAX_WITHDRAWALS_PER_AUTHOR + 2; i++) {
      const record = await drive(author.publish({ text: `flash sale ${i}` }))
      withdrawn.push(record)
      await sleep(1_000)
      await drive(author.withdraw(record))
      await sleep(1_000)
    }
    const last = await drive(author.publish({ text: 'still for sale' }))
    await waitFor(() => swarm.peers[1]!.get(last.id) !== undefined, 30_000, 'the connected peer to sync')
    expect(away.get(withdrawn[0]!.id)).toBeDefined() // cut off: it still has its old copies

    swarm.network.heal()
    await waitFor(() => away.get(last.id) !== undefined, 300_000, 'the peer that was away to catch up')
    await sleep(120_000) // several rounds of reconciliation: an old copy must not spread back
    const newcomer = await open(swarm.network.transport())
    swarm.peers.push(newcomer)
    watch(newcomer)
    await waitFor(() => newcomer.get(last.id) !== undefined, 300_000, 'the newcomer to catch up')
    await sleep(120_000)

    for (const [i, p] of swarm.peers.entries()) {
      for (const record of withdrawn) expect(p.get(record.id), `peer ${i} holds withdrawn ${record.text}`).toBeUndefined()
      expect(idsOf(p), `peer ${i}`).toEqual(idsOf(author))
      expect(p.status().withdrawals, `peer ${i}`).toBe(MAX_WITHDRAWALS_PER_AUTHOR)
    }
    expect(idsOf(author)).toContain(last.id)
    // The cost of the horizon: the one held record never withdrawn is older than the 20th newest withdrawal, so it went too.
    for (const p of swarm.peers) expect(p.get(held[2]!.id)).toBeUndefined()
    // The peer that served its old copies is honest: they were refused, and nobody struck it for them.
    console.log(`old copies served and refused: ${refusedCopies.join(', ')}`)
    expect(refusedCopies.length).toBeGreaterThan(0)
    expect(strikes).toEqual([])
  })
})
