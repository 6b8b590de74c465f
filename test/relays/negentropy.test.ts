/**
 * Negentropy (NIP-77) against an independent implementation: nostr-tools' initiator (2.25). Its
 * messages are byte-for-byte those of ours for the same sets, and it reconciles against our
 * responder to the exact have/need sets, as ours does; for sets from 0 to 3000 with differences
 * spread, clustered, all on one side, and with shared timestamps.
 */
import { nip77 } from 'nostr-tools'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createIdentity, createRecord, toNostrEvent } from '../../src/index.js'
import { startNostrRelay } from '../../src/testing/index.js'
import { FIXTURE_NOW, FIXTURE_ROOM } from '../helpers.js'
import { Negentropy, NegentropyError, negentropyItems } from '../../src/relays/negentropy.js'

/** A deterministic pseudo-random generator (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Element = { timestamp: number; id: string }

function element(random: () => number, timestamps: number): Element {
  const id = Array.from({ length: 32 }, () => Math.floor(random() * 256).toString(16).padStart(2, '0')).join('')
  return { timestamp: 1_700_000_000 + Math.floor(random() * timestamps), id }
}

/** Shared elements, plus some only the client has and some only the relay has. */
function sets(seed: number, shared: number, clientOnly: number, relayOnly: number, timestamps = 100_000) {
  const random = rng(seed)
  const make = (n: number) => Array.from({ length: n }, () => element(random, timestamps))
  const common = make(shared)
  const mine = make(clientOnly)
  const theirs = make(relayOnly)
  return { client: [...common, ...mine], relay: [...common, ...theirs], mine, theirs }
}

function toolsStorage(elements: Element[]): nip77.NegentropyStorageVector {
  const storage = new nip77.NegentropyStorageVector()
  for (const e of elements) storage.insert(e.timestamp, e.id)
  storage.seal()
  return storage
}

/** Run nostr-tools' initiator and ours in lockstep against our responder. */
function reconcileBoth(client: Element[], relay: Element[]) {
  const responder = new Negentropy(negentropyItems(relay), false)
  const tools = new nip77.Negentropy(toolsStorage(client))
  const ours = new Negentropy(negentropyItems(client), true)
  let toolsMessage: string | null = tools.initiate()
  let ourMessage: string | undefined = ours.initiate()
  const toolsResult = { have: [] as string[], need: [] as string[] }
  const ourResult = { have: [] as string[], need: [] as string[] }
  let rounds = 0
  while (toolsMessage !== null) {
    expect(ourMessage).toBe(toolsMessage)
    const reply = responder.reconcile(toolsMessage).next!
    toolsMessage = tools.reconcile(reply, (id) => toolsResult.have.push(id), (id) => toolsResult.need.push(id))
    const step = ours.reconcile(reply)
    ourResult.have.push(...step.have)
    ourResult.need.push(...step.need)
    ourMessage = step.next
    if (++rounds > 50) throw new Error('no convergence')
  }
  expect(ourMessage).toBeUndefined()
  return { toolsResult, ourResult, rounds }
}

describe('negentropy (NIP-77)', () => {
  const cases: Array<[string, ReturnType<typeof sets>]> = [
    ['both empty', sets(1, 0, 0, 0)],
    ['the relay empty', sets(2, 0, 40, 0)],
    ['the client empty', sets(3, 0, 0, 40)],
    ['identical, 3000', sets(4, 3000, 0, 0)],
    ['3000 shared, 1 missing on each side', sets(5, 3000, 1, 1)],
    ['3000 shared, 50 on each side, spread', sets(6, 3000, 50, 50)],
    ['500 shared, 700 only on the relay', sets(7, 500, 0, 700)],
    ['2000 shared, many equal timestamps', sets(8, 2000, 30, 30, 20)],
  ]
  for (const [name, s] of cases) {
    it(`${name}: the same messages as nostr-tools, and the exact have/need sets`, () => {
      const { toolsResult, ourResult } = reconcileBoth(s.client, s.relay)
      const ids = (xs: Element[]) => xs.map((x) => x.id).sort()
      expect([...toolsResult.have].sort()).toEqual(ids(s.mine))
      expect([...toolsResult.need].sort()).toEqual(ids(s.theirs))
      expect([...ourResult.have].sort()).toEqual(ids(s.mine))
      expect([...ourResult.need].sort()).toEqual(ids(s.theirs))
    })
  }

  it('the embedded relay answers NIP-77 over the wire to nostr-tools\' NegentropySync (an independent client)', async () => {
    const relay = await startNostrRelay({ negentropy: true })
    try {
      const author = createIdentity()
      const events = await Promise.all([1, 2, 3, 4].map((n) => createRecord({ text: `r${n}` }, author.signer, { now: FIXTURE_NOW - n, room: FIXTURE_ROOM }).then(toNostrEvent)))
      for (const e of events.slice(0, 3)) relay.inject(e)
      useWebSocketImplementation(WebSocket)
      const client = await Relay.connect(relay.url)
      const storage = toolsStorage([events[2]!, events[3]!].map((e) => ({ timestamp: e.created_at, id: e.id })))
      const have: string[] = []
      const need: string[] = []
      const closed = new Promise<string | undefined>((resolve) => {
        const sync = new nip77.NegentropySync(client, storage, { kinds: [37515] }, { onhave: (id) => have.push(id), onneed: (id) => need.push(id), onclose: resolve })
        void sync.start()
      })
      expect(await closed).toBeUndefined()
      expect(have).toEqual([events[3]!.id])
      expect(need.sort()).toEqual([events[0]!.id, events[1]!.id].sort())
      client.close()
    } finally {
      await relay.close()
    }
  })

  it('refuses malformed messages with a NegentropyError, never another throw', () => {
    const responder = new Negentropy(negentropyItems([]), false)
    for (const bad of ['zz', '', '60', '61ff', '6101', '610102', '6101' + '21'.repeat(40)]) {
      expect(() => responder.reconcile(bad)).toThrow(NegentropyError)
    }
  })
})
