/**
 * The serving budget (SERVE_RATE / SERVE_BURST in src/engine/peer-table.ts): what one peer can make
 * us serve is bounded, and an honest catch-up is never paced by it. On virtual time, where signature
 * checks take no time, so a catch-up runs as fast as the network carries it (far above 500/s).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SERVE_BURST, SERVE_RATE } from '../../src/engine/peer-table.js'
import { createIdentity } from '../../src/identity/index.js'
import { decodeMessage } from '../../src/protocol/index.js'
import { createRecord } from '../../src/record/index.js'
import type { PeersetRecord } from '../../src/record/types.js'
import { memoryStorage, type StorageStrategy } from '../../src/storage/index.js'
import { createMemoryNetwork, type TransportStrategy } from '../../src/transport/index.js'
import type { Peerset } from '../../src/peerset.js'
import { FIXTURE_NOW, FIXTURE_ROOM } from '../helpers.js'
import { Attacker } from '../swarm/attacker.js'
import { openPeer, prng } from '../swarm/harness.js'
import { drive, realTime, sleep, virtualClock, virtualTime, waitFor } from '../virtual-time.js'

/** More than the old burst of 2,000 records: the catch-up outlasts any burst the old budget gave. */
const RECORDS = 2_500
let records: PeersetRecord[] = []

beforeAll(async () => {
  const authors = Array.from({ length: 20 }, () => createIdentity())
  for (let i = 0; i < RECORDS; i++) records.push(await createRecord({ text: `catch-up record #${i}` }, authors[i % 20]!.signer, { room: FIXTURE_ROOM, now: FIXTURE_NOW - 60 - (i % 3_600) }))
}, 120_000)

/** A memory storage that already holds `records` (stores trust their records). */
async function holding(list: readonly PeersetRecord[]): Promise<StorageStrategy> {
  const storage = memoryStorage()
  const store = await storage.open(FIXTURE_ROOM)
  await store.write({ put: [...list] })
  await store.close()
  return storage
}

/** Count the ids in every `want` a transport sends (and its `fetch` frames). */
function countingWants(inner: TransportStrategy, counts: { ids: number; frames: number; fetches?: number }): TransportStrategy {
  return {
    name: inner.name,
    isSupported: () => inner.isSupported(),
    async join(room, handlers) {
      const joined = await inner.join(room, handlers)
      return {
        selfId: joined.selfId,
        send(peerId, data) {
          try {
            const message = decodeMessage(data)
            // Reconciled ids are asked for by full id (`want`) or by gossip id (`gossip` `want`).
            if (message.type === 'want') {
              counts.frames++
              counts.ids += message.ids.length
            } else if (message.type === 'gossip' && message.op === 'want') {
              counts.frames++
              counts.ids += message.groups.reduce((n, g) => n + g.ids.length, 0)
            }
            if (message.type === 'fetch') counts.fetches = (counts.fetches ?? 0) + 1
          } catch {
            // a session frame
          }
          joined.send(peerId, data)
        },
        leave: () => joined.leave(),
      }
    },
  }
}

let peers: Peerset[] = []
afterEach(async () => {
  await Promise.all(peers.map((p) => drive(p.close(), 10_000, 'close')))
  peers = []
  realTime()
})

describe('the serving budget', () => {
  it(`never paces an honest catch-up: ${RECORDS} records (more than the old burst) from one peer, each asked for once`, async () => {
    virtualTime()
    const network = createMemoryNetwork()
    const wants = { ids: 0, frames: 0 }
    const full = await drive(openPeer({ transport: network.transport(), extra: { storage: await holding(records) } }))
    peers.push(full)
    expect(full.status().records).toBe(RECORDS)
    // The newcomer holds a record of its own in each bucket of the catch-up, so its parts of the
    // window are not empty: the records are found by reconciliation and asked for by id (\`want\`, or \`gossip\` \`want\` by gossip id).
    const own = createIdentity()
    const mine = [await createRecord({ text: 'mine, recent' }, own.signer, { room: FIXTURE_ROOM, now: FIXTURE_NOW - 60 }), await createRecord({ text: 'mine, older' }, own.signer, { room: FIXTURE_ROOM, now: FIXTURE_NOW - 3_700 })]
    const started = Date.now()
    const newcomer = await drive(openPeer({ transport: countingWants(network.transport(), wants), extra: { storage: await holding(mine) } }))
    peers.push(newcomer)
    await waitFor(() => newcomer.status().records === RECORDS + mine.length, 120_000, `the newcomer to hold all ${RECORDS} records`)
    const seconds = (Date.now() - started) / 1000
    console.log(`catch-up of ${RECORDS} records: ${seconds.toFixed(1)} virtual s, ${wants.ids} ids asked in ${wants.frames} wants`)
    // Faster than the old budget would have allowed after its burst (so the test can tell)...
    expect(RECORDS / seconds).toBeGreaterThan(500)
    // ...and no id was cut from a want and asked again after the request timeout.
    expect(wants.ids).toBe(RECORDS)
  }, 120_000)

  it(`never paces an empty peer's catch-up (fetch): ${RECORDS} records from one peer`, async () => {
    virtualTime()
    const network = createMemoryNetwork()
    const counts = { ids: 0, frames: 0, fetches: 0 }
    const full = await drive(openPeer({ transport: network.transport(), extra: { storage: await holding(records) } }))
    peers.push(full)
    const started = Date.now()
    const newcomer = await drive(openPeer({ transport: countingWants(network.transport(), counts) }))
    peers.push(newcomer)
    await waitFor(() => newcomer.status().records === RECORDS, 120_000, `the newcomer to hold all ${RECORDS} records`)
    const seconds = (Date.now() - started) / 1000
    console.log(`empty peer's catch-up of ${RECORDS} records: ${seconds.toFixed(1)} virtual s, ${counts.fetches} fetches, ${counts.ids} ids asked in wants`)
    expect(RECORDS / seconds).toBeGreaterThan(500)
    expect(counts.fetches).toBeGreaterThan(0)
    expect(counts.ids).toBe(0)
  }, 120_000)

  it('bounds what a peer asking for the same records again and again makes us serve', async () => {
    virtualTime()
    const network = createMemoryNetwork()
    const held = records.slice(0, 256)
    const full = await drive(openPeer({ transport: network.transport(), extra: { storage: await holding(held) } }))
    peers.push(full)
    const ids = held.map((r) => r.id)
    let wantsSent = 0
    let served = 0
    // An authenticated peer that asks for the same 256 records 100 times a second (half the session's
    // message rate, so no rate strike ends it): 25,600 records a second.
    const attacker = await Attacker.join(network, FIXTURE_ROOM, 'zz-greedy', {
      tick(a, peerId) {
        for (let i = 0; i < 10; i++) {
          a.send(peerId, { type: 'want', ids })
          wantsSent++
        }
      },
      message(_a, _peerId, message) {
        if (message.type === 'records') served += message.events.length
      },
    }, { random: prng(7), clock: virtualClock, expectAnswers: true })
    attacker.start(100)
    await waitFor(() => attacker.authenticatedPeers().length === 1, 20_000, 'the greedy peer to authenticate')
    // The burst goes first; then, over 10 s, what it is served is the budget's rate.
    await sleep(5_000)
    expect(served).toBeLessThanOrEqual(SERVE_BURST + SERVE_RATE * 6)
    const servedBefore = served
    const askedBefore = wantsSent
    await sleep(10_000)
    const asked = (wantsSent - askedBefore) * ids.length
    console.log(`greedy peer: ${asked} records asked for in 10 s, ${served - servedBefore} served`)
    expect(attacker.authenticatedPeers()).toHaveLength(1) // it was served, not cut off: the budget did the bounding
    expect(served - servedBefore).toBeLessThanOrEqual(SERVE_RATE * 11)
    expect(asked).toBeGreaterThan(4 * SERVE_RATE * 10)
    expect(served - servedBefore).toBeGreaterThanOrEqual(SERVE_RATE * 9)
    attacker.stop()
  }, 120_000)
})
