/**
 * A mixed room (issue 15): two node-peer processes on real WebRTC (a local tracker), one of which also
 * uses a Nostr relay (publishing every record it keeps), and a third peer on the relay only (this
 * process, no WebRTC). Each publishes one record; every record reaches every peer, and each peer
 * adds each record exactly once, whichever path (or both) it came by.
 */
import { afterEach, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createIdentity, createPeerset, memoryStorage, nostrRelays, type Peerset, type PeersetRecord } from '../../src/index.js'
import { startNostrRelay, type NostrRelay } from '../../src/testing/index.js'
import type { PeerProcess } from '../../examples/node-peer/spawn.js'
import { waitFor } from '../helpers.js'
import { startCluster, waitConverged, type Cluster } from './cluster.js'

let cluster: Cluster | undefined
let relay: NostrRelay | undefined
let carol: Peerset | undefined
afterEach(async () => {
  await carol?.close()
  await cluster?.close()
  await relay?.close()
  cluster = relay = carol = undefined
})

const addedIds = (p: PeerProcess): string[] => p.events.filter((e) => e.event === 'record:added').map((e) => e['id'] as string)

it('two WebRTC peers plus a relay: records published on either path reach every peer once', async () => {
  relay = await startNostrRelay()
  cluster = await startCluster('torrent')
  const alice = cluster.peer('alice', ['--relay', relay.url, '--relay-publish', 'kept', '--publish', 'alice: over WebRTC and the relay'])
  const bob = cluster.peer('bob', ['--publish', 'bob: over WebRTC only'])
  carol = await createPeerset({
    room: cluster.room,
    identity: createIdentity(),
    storage: memoryStorage(),
    transport: false,
    relays: nostrRelays({ urls: [relay.url], WebSocket: WebSocket as never, backoff: { minMs: 200 } }),
  })
  const carolAdded: PeersetRecord[] = []
  carol.on('record:added', (record) => carolAdded.push(record))
  await carol.publish({ text: 'carol: over the relay only' })

  await Promise.all([alice, bob].map((p) => p.waitFor((e) => e.event === 'ready', 60_000, 'ready')))
  await waitConverged([alice, bob], { records: 3, peers: 1 }, 90_000)
  await waitFor(() => carol!.records().length === 3, 60_000, 'carol to hold all three')

  // Each record added once on each peer (own records count as added where published).
  for (const p of [alice, bob]) {
    const ids = addedIds(p)
    expect(ids).toHaveLength(3)
    expect(new Set(ids).size).toBe(3)
  }
  expect(new Set(carol.records().map((r) => r.id))).toEqual(new Set(addedIds(alice)))
  expect(carolAdded).toHaveLength(3)
  // The paths: bob's record reached carol through alice and the relay; carol's reached bob through the relay and alice.
  const bobRecord = bob.events.find((e) => e.event === 'published')!['id']
  const carolRecord = carol.records().find((r) => r.author === carol!.publicKey)!.id
  expect(bob.events.find((e) => e.event === 'record:added' && e['id'] === carolRecord)!['origin']).toBe('remote')
  expect(alice.events.find((e) => e.event === 'record:added' && e['id'] === carolRecord)!['origin']).toBe('relay')
  expect(carolAdded.find((r) => r.id === bobRecord)).toBeDefined()
}, 300_000)
