/**
 * Nostr relays as always-on peers (issue 15), against the embedded relay of `peerset/testing` on
 * 127.0.0.1: a room works when its users are never online at the same time, and everything a relay
 * serves takes a peer's path (moderation, quota, signature), so a relay is never trusted.
 * Real sockets, real time: each test waits for conditions, never for a fixed delay.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import {
  createIdentity,
  createModeration,
  createPeerset,
  createRecord,
  memoryStorage,
  nostrRelays,
  roomHash,
  toNostrEvent,
  type Identity,
  type NostrRelaysOptions,
  type Peerset,
  type PeersetOptions,
  type RejectedRecord,
} from '../../src/index.js'
import { startNostrRelay, type NostrRelay, type StartNostrRelayOptions } from '../../src/testing/index.js'
import { FIXTURE_NOW, FIXTURE_ROOM, waitFor } from '../helpers.js'

const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  await Promise.all(open.splice(0).reverse().map((x) => x.close()))
})

async function relay(options: StartNostrRelayOptions = {}): Promise<NostrRelay> {
  const r = await startNostrRelay(options)
  open.push(r)
  return r
}

/** A peerset of the fixture room with no WebRTC transport at all: only the relays. */
async function peer(urls: string[], options: Partial<PeersetOptions> & { relayOptions?: Partial<NostrRelaysOptions> } = {}): Promise<Peerset> {
  const { relayOptions, ...rest } = options
  const p = await createPeerset({
    room: FIXTURE_ROOM,
    identity: createIdentity(),
    storage: memoryStorage(),
    transport: false,
    clock: () => FIXTURE_NOW * 1000,
    relays: nostrRelays({ urls, WebSocket: WebSocket as never, backoff: { minMs: 50, maxMs: 200 }, ...relayOptions }),
    ...rest,
  })
  open.push(p)
  return p
}

const sign = (author: Identity, text: string, secondsAgo: number) =>
  createRecord({ text }, author.signer, { now: FIXTURE_NOW - secondsAgo, room: FIXTURE_ROOM }).then(toNostrEvent)

const rejections = (p: Peerset): RejectedRecord[] => {
  const log: RejectedRecord[] = []
  p.on('record:rejected', (info) => log.push(info))
  return log
}

describe('a relay as an always-on peer (embedded relay)', () => {
  it('peer A publishes and goes offline; peer B starts later, with no peer online, and gets everything from the relay', async () => {
    const r = await relay()
    const a = await peer([r.url])
    const published = [await a.publish({ text: 'one' }), await a.publish({ text: 'two' }), await a.publish({ text: 'three' })]
    await a.close() // flushes: waits for the relay's OKs
    expect(r.received.length).toBeGreaterThanOrEqual(3)

    const b = await peer([r.url])
    await waitFor(() => b.records().length === 3, 10_000, 'B to back-fill 3 records')
    expect(new Set(b.records().map((x) => x.id))).toEqual(new Set(published.map((x) => x.id)))
    for (const record of b.records()) expect(record.author).toBe(a.publicKey)
    await waitFor(() => b.status().relays[0]?.state === 'live', 10_000, 'B live')
    expect(b.status().relays[0]).toMatchObject({ url: r.url, received: 3, accepted: 3, faults: 0 })
  })

  it('stays subscribed: a record published while both are online reaches the other through the relay, once', async () => {
    const r = await relay()
    const a = await peer([r.url])
    const b = await peer([r.url])
    await waitFor(() => a.status().relays[0]?.state === 'live' && b.status().relays[0]?.state === 'live', 10_000, 'both live')
    const added: string[] = []
    b.on('record:added', (record, info) => {
      expect(info).toEqual({ origin: 'relay', url: r.url })
      added.push(record.id)
    })
    const record = await a.publish({ text: 'live' })
    await waitFor(() => added.length === 1, 10_000, 'B to receive it')
    expect(added).toEqual([record.id])
    expect(b.get(record.id)?.text).toBe('live')
  })

  it('back-fills page by page (until the oldest served) when the window holds more than a page', async () => {
    const r = await relay()
    const authors = [createIdentity(), createIdentity(), createIdentity()]
    // An hour and more ago: older than the live subscription's start, so only the back-fill pages serve them.
    const events = await Promise.all(Array.from({ length: 10 }, (_, n) => sign(authors[n % 3]!, `old ${n}`, 3_600 + n * 60)))
    for (const event of events) r.inject(event)
    const b = await peer([r.url], { relayOptions: { pageSize: 3 } })
    await waitFor(() => b.status().relays[0]?.state === 'live', 10_000, 'B live')
    expect(new Set(b.records().map((x) => x.id))).toEqual(new Set(events.map((e) => e.id)))
  })

  it('a withdrawal is published too: the relay replaces the record with the tombstone, and a later peer never sees the record', async () => {
    const r = await relay()
    const a = await peer([r.url])
    const record = await a.publish({ text: 'to withdraw' })
    await a.withdraw(record)
    await a.close()
    const held = await rawQuery(r.url, { kinds: [37515], '#h': [roomHash(FIXTURE_ROOM)] })
    expect(held).toHaveLength(1)
    expect(held[0]!.tags).toContainEqual(['deleted'])

    const b = await peer([r.url])
    await waitFor(() => b.status().relays[0]?.state === 'live', 10_000, 'B live')
    expect(b.records()).toEqual([])
    expect(b.status().withdrawals).toBe(1)
  })

  it('moderation still applies: a sixth record of one author and a bad-words record served by the relay are not kept', async () => {
    const r = await relay()
    const author = createIdentity()
    const six = await Promise.all([6, 5, 4, 3, 2, 1].map((n) => sign(author, `listing ${n}`, n * 60)))
    const bad = await sign(createIdentity(), 'fuck this board', 30)
    for (const event of [...six, bad]) r.inject(event)

    const b = await peer([r.url], { moderation: createModeration() })
    const refused = rejections(b)
    await waitFor(() => b.status().relays[0]?.state === 'live', 10_000, 'B live')
    expect(b.status().relays[0]).toMatchObject({ received: 7, faults: 0 })
    // The quota keeps an author's 5 earliest records (by createdAt): the newest of the six is not kept.
    expect(b.records({ author: author.publicKey })).toHaveLength(5)
    expect(b.get(six[5]!.id)).toBeUndefined()
    expect(b.get(bad.id)).toBeUndefined()
    expect(refused.find((x) => x.id === bad.id)).toMatchObject({ reason: 'moderation', rule: 'bad-words', origin: 'relay', relay: r.url })
    expect(b.records()).toHaveLength(5)
  })

  it('a relay serving forged events gets none accepted, is reported, and backed off; authors are not struck', async () => {
    const r = await relay()
    const author = createIdentity()
    const good = await sign(author, 'genuine', 60)
    const forged = await Promise.all([1, 2, 3].map(async (n) => {
      const e = await sign(author, `genuine ${n}`, 60 + n)
      return { ...e, content: `forged ${n}` } // the id and signature no longer match
    }))
    const otherRoom = toNostrEvent(await createRecord({ text: 'elsewhere' }, author.signer, { now: FIXTURE_NOW - 5, room: 'another room' }))
    const garbage = { ...good, id: 'nope', sig: 'nope' }
    // A correct id with another event's signature: only the signature check catches it.
    const badSig = { ...(await sign(author, 'signed by someone else', 90)), sig: good.sig }
    for (const event of [good, badSig, ...forged, { ...otherRoom, tags: otherRoom.tags.map((t) => (t[0] === 'h' ? ['h', roomHash(FIXTURE_ROOM)] : t)) }, garbage]) r.inject(event)

    const b = await peer([r.url], { moderation: createModeration(), relayOptions: { maxFaults: 3 } })
    const strikes: unknown[] = []
    b.on('author:strike', (info) => strikes.push(info))
    const states: string[] = []
    b.on('relay:state', (s) => states.push(s.state))
    await waitFor(() => states.includes('backoff'), 10_000, 'the relay to be backed off')
    const status = b.status().relays[0]!
    expect(status.faults).toBeGreaterThanOrEqual(3)
    expect(status.lastError).toMatch(/invalid events/)
    expect(b.records().map((x) => x.id)).toEqual([good.id])
    expect(strikes).toEqual([])
  })
})

/** A REQ over a raw socket: what the relay holds. */
async function rawQuery(url: string, filter: object): Promise<Array<{ id: string; tags: string[][] }>> {
  const socket = new WebSocket(url)
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  const events: Array<{ id: string; tags: string[][] }> = []
  await new Promise<void>((resolve) => {
    socket.on('message', (data) => {
      const [type, , event] = JSON.parse(String(data)) as [string, string, { id: string; tags: string[][] }]
      if (type === 'EVENT') events.push(event)
      if (type === 'EOSE') resolve()
    })
    socket.send(JSON.stringify(['REQ', 'q', filter]))
  })
  socket.close()
  return events
}

