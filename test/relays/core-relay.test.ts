/**
 * The relay strategy against an independent relay implementation from the npm registry
 * (`@nostr-relay/core`, in-process on 127.0.0.1; see nostr-relay-core.ts): the offline hand-over,
 * moderation of what it serves, withdrawals replacing records there, and forged events (through a
 * tampering proxy in front of it, as that relay itself checks signatures) never accepted.
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { createIdentity, createModeration, createPeerset, createRecord, memoryStorage, nostrRelays, toNostrEvent, type Identity, type Peerset, type PeersetOptions, type RejectedRecord } from '../../src/index.js'
import { FIXTURE_NOW, FIXTURE_ROOM, waitFor } from '../helpers.js'
import { startCoreRelay } from './nostr-relay-core.js'

const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  await Promise.all(open.splice(0).reverse().map((x) => x.close()))
})

async function peer(url: string, options: Partial<PeersetOptions> & { maxFaults?: number } = {}): Promise<Peerset> {
  const { maxFaults, ...rest } = options
  const p = await createPeerset({
    room: FIXTURE_ROOM,
    identity: createIdentity(),
    storage: memoryStorage(),
    transport: false,
    clock: () => FIXTURE_NOW * 1000,
    relays: nostrRelays({ urls: [url], WebSocket: WebSocket as never, backoff: { minMs: 50, maxMs: 200 }, ...(maxFaults ? { maxFaults } : {}) }),
    ...rest,
  })
  open.push(p)
  return p
}

const sign = (author: Identity, text: string, secondsAgo: number) =>
  createRecord({ text }, author.signer, { now: FIXTURE_NOW - secondsAgo, room: FIXTURE_ROOM }).then(toNostrEvent)

/** Publish events to a relay over a raw socket, as another Nostr client would; resolves with the OKs. */
async function publishRaw(url: string, events: Array<{ id: string }>): Promise<boolean[]> {
  const socket = new WebSocket(url)
  await once(socket, 'open')
  const oks = new Map<string, boolean>()
  const done = new Promise<void>((resolve) => {
    socket.on('message', (data) => {
      const [type, id, ok] = JSON.parse(String(data)) as [string, string, boolean]
      if (type === 'OK') oks.set(id, ok)
      if (oks.size === events.length) resolve()
    })
  })
  for (const e of events) socket.send(JSON.stringify(['EVENT', e]))
  await done
  socket.close()
  return events.map((e) => oks.get(e.id)!)
}

/** A proxy in front of `target` that rewrites the content of every event it serves (so ids and signatures no longer match). */
async function tamperingProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  wss.on('connection', (client) => {
    const upstream = new WebSocket(target)
    const queued: string[] = []
    upstream.on('open', () => queued.splice(0).forEach((m) => upstream.send(m)))
    client.on('message', (data) => (upstream.readyState === upstream.OPEN ? upstream.send(String(data)) : queued.push(String(data))))
    upstream.on('message', (data) => {
      const message = JSON.parse(String(data)) as unknown[]
      if (message[0] === 'EVENT') (message[2] as { content: string }).content += ' (forged)'
      client.send(JSON.stringify(message))
    })
    client.on('close', () => upstream.close())
    upstream.on('error', () => client.close())
  })
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    close: async () => {
      for (const c of wss.clients) c.terminate()
      await new Promise((resolve) => wss.close(resolve))
    },
  }
}

describe('a relay as an always-on peer (@nostr-relay/core)', () => {
  it('peer A publishes and goes offline; peer B starts later, with no peer online, and gets everything from the relay', async () => {
    const relay = await startCoreRelay()
    open.push(relay)
    const a = await peer(relay.url)
    const published = [await a.publish({ text: 'one' }), await a.publish({ text: 'two' })]
    const withdrawn = await a.publish({ text: 'withdrawn later' })
    await a.withdraw(withdrawn)
    await a.close()

    const b = await peer(relay.url)
    await waitFor(() => b.status().relays[0]?.state === 'live', 10_000, 'B live')
    expect(new Set(b.records().map((x) => x.id))).toEqual(new Set(published.map((x) => x.id)))
    // The relay replaced the withdrawn record with its tombstone (addressable kind): B holds the tombstone only.
    expect(b.status().withdrawals).toBe(1)
    expect(b.status().relays[0]).toMatchObject({ received: 3, accepted: 3, faults: 0, negentropy: false }) // no NIP-77 there: REQ since
  })

  it('moderation still applies: a sixth record of one author and a bad-words record it serves are not kept', async () => {
    const relay = await startCoreRelay()
    open.push(relay)
    const author = createIdentity()
    const six = await Promise.all([6, 5, 4, 3, 2, 1].map((n) => sign(author, `listing ${n}`, n * 60)))
    const bad = await sign(createIdentity(), 'fuck this board', 30)
    expect(await publishRaw(relay.url, [...six, bad])).toEqual(Array(7).fill(true))

    const b = await peer(relay.url, { moderation: createModeration() })
    const refused: RejectedRecord[] = []
    b.on('record:rejected', (info) => refused.push(info))
    await waitFor(() => b.status().relays[0]?.state === 'live', 10_000, 'B live')
    expect(b.status().relays[0]).toMatchObject({ received: 7, faults: 0 })
    expect(b.records({ author: author.publicKey })).toHaveLength(5)
    expect(b.get(six[5]!.id)).toBeUndefined()
    expect(refused.find((x) => x.id === bad.id)).toMatchObject({ reason: 'moderation', rule: 'bad-words', origin: 'relay' })
  })

  it('forged events served through it are never accepted, and the relay is backed off', async () => {
    const relay = await startCoreRelay()
    open.push(relay)
    const author = createIdentity()
    const events = await Promise.all([1, 2, 3].map((n) => sign(author, `genuine ${n}`, n * 60)))
    expect(await publishRaw(relay.url, events)).toEqual([true, true, true])
    const proxy = await tamperingProxy(relay.url)
    open.push(proxy)

    const b = await peer(proxy.url, { moderation: createModeration(), maxFaults: 3 })
    const strikes: unknown[] = []
    b.on('author:strike', (info) => strikes.push(info))
    await waitFor(() => b.status().relays[0]?.state === 'backoff', 10_000, 'backed off')
    expect(b.status().relays[0]!.faults).toBeGreaterThanOrEqual(3)
    expect(b.records()).toEqual([])
    expect(strikes).toEqual([])
  })
})
