/**
 * Strikes remembered for a proven key count when that key opens a new session (issue 10), even
 * under a new transport id, and are not counted twice when remembered under both the id and the
 * key. On virtual time.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { REGISTRY_META_KEY } from '../../src/engine/meta-keys.js'
import { createIdentity, type Identity } from '../../src/identity/index.js'
import { acceptAll } from '../../src/moderation/index.js'
import { createPeerset, type Peerset, type PeersetOptions } from '../../src/peerset.js'
import { PeerRegistry } from '../../src/session/index.js'
import { memoryStorage } from '../../src/storage/index.js'
import type { StorageStrategy } from '../../src/storage/types.js'
import { createMemoryNetwork, type MemoryNetwork } from '../../src/transport/index.js'
import { FIXTURE_ROOM, collect, loadFixtures } from '../helpers.js'
import { drive, realTime, sleep, virtualClock, virtualTime, waitFor } from '../virtual-time.js'

const { records: events } = loadFixtures()

function peer(network: MemoryNetwork, peerId: string, options: Partial<PeersetOptions> = {}): Promise<Peerset> {
  return createPeerset({
    room: FIXTURE_ROOM,
    identity: createIdentity(),
    storage: memoryStorage(),
    transport: network.transport({ peerId }),
    moderation: acceptAll(),
    clock: virtualClock,
    sessionTickMs: 1_000,
    ...options,
  })
}

/** A store whose saved peer registry remembers `strikes` for `key` (and for the transport id `underId`). */
async function storeRemembering(key: Identity, underId: string, strikes: number): Promise<StorageStrategy> {
  const storage = memoryStorage()
  const registry = new PeerRegistry()
  registry.drop(underId, Date.now(), { reason: 're-auth', pubkey: key.publicKey, strikes, authenticated: true })
  const store = await storage.open(FIXTURE_ROOM)
  await store.setMeta(REGISTRY_META_KEY, registry.toJSON())
  await store.close()
  return storage
}

afterEach(() => realTime())

describe('strikes remembered by key', () => {
  it('count for a new session of the key under another transport id', async () => {
    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 1 })
    const bob = createIdentity()
    const a = await drive(peer(network, 'peer-a', { storage: await storeRemembering(bob, 'bob-old-id', 2) }))
    const joined = collect(a, 'peer:joined')
    const b = await drive(peer(network, 'bob-new-id', { identity: bob }))
    await waitFor(() => joined.length === 1, 30_000, 'bob to join')
    expect(joined[0]![1]).toMatchObject({ peerId: 'bob-new-id', pubkey: bob.publicKey, strikes: 2 })
    expect(a.peers().find((p) => p.peerId === 'bob-new-id')?.strikes).toBe(2)
    await drive(Promise.all([a.close(), b.close()]))
    network.close()
  })

  it('ban the key when they reach the threshold, before it syncs anything', async () => {
    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 1 })
    const bob = createIdentity()
    const limits = { sessionLimits: { strikeThreshold: 2 } }
    const a = await drive(peer(network, 'peer-a', { ...limits, storage: await storeRemembering(bob, 'bob-old-id', 2) }))
    const banned = collect(a, 'peer:banned')
    const joined = collect(a, 'peer:joined')
    await drive(a.importRecord(events.at(-1)))
    const b = await drive(peer(network, 'bob-new-id', { ...limits, identity: bob }))
    await waitFor(() => banned.length === 1, 30_000, 'bob to be banned')
    expect(banned[0]![1]).toMatchObject({ peerId: 'bob-new-id', pubkey: bob.publicKey, reason: 'prior-strikes' })
    await sleep(5_000)
    expect(joined).toEqual([])
    expect(b.records()).toEqual([])
    await drive(Promise.all([a.close(), b.close()]))
    network.close()
  })

  it('are counted once when remembered under both the transport id and the key', async () => {
    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 1 })
    const bob = createIdentity()
    const a = await drive(peer(network, 'peer-a', { storage: await storeRemembering(bob, 'bob-id', 2) }))
    const joined = collect(a, 'peer:joined')
    const b = await drive(peer(network, 'bob-id', { identity: bob }))
    await waitFor(() => joined.length === 1, 30_000, 'bob to join')
    expect(joined[0]![1]).toMatchObject({ peerId: 'bob-id', strikes: 2 })
    await drive(Promise.all([a.close(), b.close()]))
    network.close()
  })
})
