/**
 * Limits that relays impose (issue 15): `OK false` with a reason, `CLOSED`, rate limits and NIP-42
 * authentication are handled, shown in `status().relays` and `relay:state`, and retried with
 * exponential backoff (never a storm); the end of the last back-fill persists, so the next start
 * asks only for what is newer. Against the embedded relay of `peerset/testing`, real sockets; the
 * pure parts (backoff, reason prefixes, message parsing) are checked without any.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { WebSocket, WebSocketServer } from 'ws'
import { acceptAll, createIdentity, createPeerset, createRecord, memoryStorage, nostrRelays, toNostrEvent, type NostrRelaysOptions, type Peerset, type PeersetOptions, type RelayState } from '../../src/index.js'
import { backoffDelay, reasonKind } from '../../src/relays/backoff.js'
import { parseRelayMessage } from '../../src/relays/messages.js'
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

async function peer(urls: string[], options: Partial<PeersetOptions> & { relayOptions?: Partial<NostrRelaysOptions> } = {}): Promise<Peerset> {
  const { relayOptions, ...rest } = options
  const p = await createPeerset({
    room: FIXTURE_ROOM,
    identity: createIdentity(),
    storage: memoryStorage(),
    transport: false,
    clock: () => FIXTURE_NOW * 1000,
    relays: nostrRelays({ urls, WebSocket: WebSocket as never, backoff: { minMs: 40, maxMs: 1_000 }, ...relayOptions }),
    ...rest,
  })
  open.push(p)
  return p
}

const sentTimes = (r: NostrRelay, id: string): number => r.received.filter((e) => (e as { id: string }).id === id).length

const textOf = (event: unknown): string => (event as { content: string }).content

/** Lower bounds only: timers never fire early, so each gap is at least the backoff it waited. */
function expectGrowingGaps(times: number[], minMs: number): void {
  for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(minMs * 2 ** (i - 1) - 5)
}

describe('relay limits', () => {
  it('OK false (blocked) is shown, and the refused record is never sent again', async () => {
    const r = await relay({ refuse: (m) => (m.type === 'EVENT' && textOf(m.event) === 'refused' ? 'blocked: not here' : undefined) })
    const a = await peer([r.url])
    const refused = await a.publish({ text: 'refused' })
    await a.publish({ text: 'kept' })
    await waitFor(() => a.status().relays[0]!.refused === 1 && a.status().relays[0]!.published === 1, 10_000, 'one refusal, one confirmation')
    expect(a.status().relays[0]!.lastError).toBe('OK false: blocked: not here')
    // Another publication flushes the queue: a refused record still in it would be sent again.
    await a.publish({ text: 'third' })
    await waitFor(() => a.status().relays[0]!.published === 2, 10_000, 'the third confirmed')
    expect(sentTimes(r, refused.id)).toBe(1)
  })

  it('rate-limited: the record is sent again after a growing pause, not in a storm, and then confirmed', async () => {
    const attempts: number[] = []
    const r = await relay({
      refuse: (m) => {
        if (m.type !== 'EVENT' || textOf(m.event) !== 'slow') return undefined
        attempts.push(Date.now())
        return attempts.length <= 3 ? 'rate-limited: slow down' : undefined
      },
    })
    const a = await peer([r.url])
    const errors: string[] = []
    a.on('relay:state', (s) => s.lastError && errors.push(s.lastError))
    const record = await a.publish({ text: 'slow' })
    await waitFor(() => a.status().relays[0]!.published === 1, 10_000, 'confirmed at last')
    expect(sentTimes(r, record.id)).toBe(4)
    expect(errors).toContain('OK false: rate-limited: slow down')
    expectGrowingGaps(attempts, 40)
  })

  it('CLOSED: the relay is backed off with growing delays and the reason is shown', async () => {
    const connections: number[] = []
    const r = await relay({
      refuse: (m) => {
        if (m.type !== 'REQ') return undefined
        if ((m.filters[0] as { limit?: number }).limit === undefined) connections.push(Date.now()) // one live REQ per connection
        return 'restricted: members only'
      },
    })
    const a = await peer([r.url])
    const states: RelayState[] = []
    a.on('relay:state', (s) => states.push(s))
    await waitFor(() => connections.length >= 4, 10_000, 'four attempts')
    const backoff = states.find((s) => s.state === 'backoff')!
    expect(backoff.lastError).toBe('CLOSED: restricted: members only')
    expect(backoff.retryAtMs).toBeGreaterThan(FIXTURE_NOW * 1000)
    expectGrowingGaps(connections, 40)
    expect(a.records()).toEqual([])
  })

  it('a relay that never ends its back-fill (no EOSE) is backed off, not waited for forever', async () => {
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    await once(silent, 'listening')
    open.push({ close: () => new Promise<void>((resolve) => { for (const c of silent.clients) c.terminate(); silent.close(() => resolve()) }) })
    const a = await peer([`ws://127.0.0.1:${(silent.address() as AddressInfo).port}`], { relayOptions: { publishTimeoutMs: 200 } })
    await waitFor(() => a.status().relays[0]!.state === 'backoff', 10_000, 'backoff')
    expect(a.status().relays[0]!.lastError).toMatch(/^no EOSE/)
  })

  it('auth-required (NIP-42): the peerset authenticates with the user\'s signer, then publishes and back-fills', async () => {
    const r = await relay({ requireAuth: true })
    const a = await peer([r.url], { clock: Date.now })
    const record = await a.publish({ text: 'members only' })
    await waitFor(() => a.status().relays[0]!.published === 1, 10_000, 'A confirmed after AUTH')
    expect(a.status().relays[0]!.authenticated).toBe(true)
    await a.close()

    const b = await peer([r.url], { clock: Date.now })
    await waitFor(() => b.get(record.id) !== undefined, 10_000, 'B back-filled after AUTH')
    expect(b.status().relays[0]).toMatchObject({ authenticated: true, faults: 0 })
  })

  it('the end of the last back-fill persists: the next start asks only since then (minus the margin)', async () => {
    const sinces: number[] = []
    const r = await relay({
      refuse: (m) => {
        const f = m.type === 'REQ' ? (m.filters[0] as { limit?: number; since: number }) : undefined
        if (f?.limit !== undefined) sinces.push(f.since)
        return undefined
      },
    })
    const storage = memoryStorage()
    const identity = createIdentity()
    const first = await peer([r.url], { storage, identity })
    await waitFor(() => first.status().relays[0]!.state === 'live', 10_000, 'first sync')
    expect(first.status().relays[0]!.syncedUntil).toBe(FIXTURE_NOW)
    expect(first.status().relays[0]!.negentropy).toBe(false) // this relay answers NEG-OPEN with a NOTICE: REQ since instead
    await first.close()
    expect(sinces).toEqual([FIXTURE_NOW - 90 * 86_400 - (FIXTURE_NOW % 86_400) + 86_400])

    const again = await peer([r.url], { storage, identity })
    expect(again.status().relays[0]!.syncedUntil).toBe(FIXTURE_NOW)
    await waitFor(() => again.status().relays[0]!.state === 'live', 10_000, 'second sync')
    expect(sinces[1]).toBe(FIXTURE_NOW - 600)
  })
})

describe('NIP-77 (negentropy)', () => {
  it('reconciles instead of re-downloading: only the missing records move, both ways, whatever their age', async () => {
    const reqs: Array<Record<string, unknown>> = []
    const r = await relay({ negentropy: true, refuse: (m) => void (m.type === 'REQ' && reqs.push(m.filters[0] as Record<string, unknown>)) })
    const author = createIdentity()
    // Days old: older than any since a REQ back-fill would use after a first sync.
    const events = await Promise.all([1, 2, 3, 4, 5].map((n) => createRecord({ text: `old ${n}` }, author.signer, { now: FIXTURE_NOW - n * 86_400, room: FIXTURE_ROOM }).then(toNostrEvent)))
    for (const event of events) r.inject(event)
    const storage = memoryStorage()
    const identity = createIdentity()
    const before = await createPeerset({ room: FIXTURE_ROOM, identity, storage, transport: false, moderation: acceptAll(), clock: () => FIXTURE_NOW * 1000 })
    for (const event of events.slice(0, 2)) expect((await before.importRecord(event)).status).toBe('added')
    const own = await before.publish({ text: 'mine, never sent to the relay' })
    const foreign = toNostrEvent(await createRecord({ text: 'kept here only' }, createIdentity().signer, { now: FIXTURE_NOW - 86_400, room: FIXTURE_ROOM }))
    expect((await before.importRecord(foreign)).status).toBe('added')
    await before.close()

    // publish: 'kept': what the relay lacks goes to it, own or not.
    const b = await peer([r.url], { storage, identity, moderation: acceptAll(), relayOptions: { publish: 'kept' } })
    await waitFor(() => b.status().relays[0]?.state === 'live' && b.status().relays[0]!.published === 2, 10_000, 'reconciled')
    // Received: the 3 missing, and its own record echoed by the live subscription (a duplicate).
    expect(b.status().relays[0]).toMatchObject({ negentropy: true, received: 4, accepted: 3, faults: 0 })
    expect(new Set(b.records({ author: author.publicKey }).map((x) => x.id))).toEqual(new Set(events.map((e) => e.id)))
    expect(new Set(r.received.map((e) => (e as { id: string }).id))).toEqual(new Set([own.id, foreign.id])) // what the relay lacked
    expect(r.received).toHaveLength(2) // once each
    expect(reqs.filter((f) => 'limit' in f)).toEqual([]) // no back-fill by time
    expect(reqs.filter((f) => 'ids' in f).map((f) => (f['ids'] as string[]).length)).toEqual([3])
  })
})

describe('NIP-77 with NIP-42', () => {
  it('a relay that wants authentication before reconciling gets it, and the reconciliation then runs', async () => {
    const r = await relay({ requireAuth: true, negentropy: true })
    const a = await peer([r.url], { clock: Date.now })
    const record = await a.publish({ text: 'members only' })
    await waitFor(() => a.status().relays[0]!.published === 1, 10_000, 'A confirmed')
    await a.close()
    const b = await peer([r.url], { clock: Date.now })
    await waitFor(() => b.get(record.id) !== undefined && b.status().relays[0]!.state === 'live', 10_000, 'B reconciled after AUTH')
    expect(b.status().relays[0]).toMatchObject({ authenticated: true, negentropy: true, faults: 0 })
  })
})

describe('nostrRelays options', () => {
  it('refuses bad options with a typed error naming them', () => {
    const ws = WebSocket as never
    const g = globalThis as { WebSocket?: unknown }
    const global = g.WebSocket
    delete g.WebSocket // Node 22 has one; Node 20 does not
    for (const [options, message] of [
      [{ urls: [] }, /urls must be an array of 1 to 16/],
      [{ urls: ['http://relay.example'], WebSocket: ws }, /not a ws:\/\/ or wss:\/\/ url/],
      [{ urls: ['wss://relay.example'], WebSocket: ws, publish: 'all' }, /publish must be 'own' or 'kept'/],
      [{ urls: ['wss://relay.example'], WebSocket: ws, relayUrls: [] }, /unknown option "relayUrls"/],
      [{ urls: ['wss://relay.example'], WebSocket: ws, backoff: { minMs: 0 } }, /backoff.minMs must be a positive number/],
      [{ urls: ['wss://relay.example'] }, /no WebSocket here/],
    ] as const) {
      expect(() => nostrRelays(options as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) }))
    }
    if (global !== undefined) g.WebSocket = global
    expect(nostrRelays({ urls: ['wss://a.example', 'wss://a.example'], WebSocket: ws }).urls).toEqual(['wss://a.example'])
  })

  it('in Node without a transport, relays alone sync the room: no "will not sync" warning', async () => {
    const r = await relay()
    const p = await createPeerset({ room: FIXTURE_ROOM, identity: createIdentity(), storage: memoryStorage(), relays: nostrRelays({ urls: [r.url], WebSocket: WebSocket as never }) })
    open.push(p)
    expect(p.status().warnings.map((w) => w.code)).not.toContain('no-transport')
  })

  it('a peerset without relays lists none', async () => {
    const p = await createPeerset({ room: FIXTURE_ROOM, identity: createIdentity(), storage: memoryStorage(), transport: false })
    open.push(p)
    expect(p.status().relays).toEqual([])
  })
})

describe('backoff and reasons (pure)', () => {
  it('grows exponentially from minMs, is capped at maxMs, and adds at most 20% chance', () => {
    const o = { minMs: 1_000, maxMs: 60_000 }
    expect([1, 2, 3, 4, 5, 6, 7, 10].map((n) => backoffDelay(n, o, 0))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000])
    expect(backoffDelay(1, o, 1)).toBe(1_200)
    expect(backoffDelay(1_000, o, 0.5)).toBe(66_000)
  })

  it('reads the machine-readable prefix of a relay reason', () => {
    expect(reasonKind('rate-limited: slow down')).toBe('rate-limited')
    expect(reasonKind('auth-required: we only serve members')).toBe('auth-required')
    expect(reasonKind('duplicate: already have it')).toBe('duplicate')
    expect(reasonKind('blocked: you are banned')).toBe('other')
    expect(reasonKind('')).toBe('other')
  })

  it('parses relay messages and turns anything else into garbage, never a throw', () => {
    expect(parseRelayMessage('["OK","ab",false,"blocked: no"]')).toEqual({ type: 'OK', id: 'ab', ok: false, reason: 'blocked: no' })
    expect(parseRelayMessage('["CLOSED","s","rate-limited: wait"]')).toEqual({ type: 'CLOSED', subId: 's', reason: 'rate-limited: wait' })
    expect(parseRelayMessage('["AUTH","c1"]')).toEqual({ type: 'AUTH', challenge: 'c1' })
    expect(parseRelayMessage('["EOSE","s"]')).toEqual({ type: 'EOSE', subId: 's' })
    for (const bad of ['nope', '{}', '[1,2]', '["OK","ab","yes"]', '["EVENT",3,{}]', '["WHAT"]', 'x'.repeat(300_000), new Uint8Array(3)]) {
      expect(parseRelayMessage(bad).type).toBe('garbage')
    }
  })
})
