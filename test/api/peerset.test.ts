/**
 * The `createPeerset` API as a host app sees it (issue 2), written as a specification and using the
 * public exports only. No IndexedDB here on purpose: this file must NOT import 'fake-indexeddb/auto',
 * so the defaults are exercised as they run in plain Node.
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  acceptAll,
  createIdentity,
  createModeration,
  createPeerset,
  createRecord,
  createSigner,
  DEFAULT_RECORD_LIMITS,
  isPeersetError,
  memoryStorage,
  toNostrEvent,
  verifyRecord,
  type Identity,
  type NostrEvent,
  type Peerset,
  type PeersetEvents,
  type PeersetOptions,
  type PeersetRecord,
  type Signer,
  type UnsignedEvent,
} from '../../src/index.js'

/** The test clock: a fixed "now", moved by hand. */
const START_MS = 1_790_000_000_000
let nowMs = START_MS
const clock = (): number => nowMs
const nowSeconds = (): number => Math.floor(nowMs / 1000)

const open: Peerset[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()))
  nowMs = START_MS
})

/** A local-only peerset (memory storage, no transport, every valid record kept) on the test clock. */
async function openPeerset(options: Partial<PeersetOptions> = {}): Promise<Peerset> {
  const peerset = await createPeerset({
    room: 'api',
    identity: createIdentity(),
    storage: memoryStorage(),
    transport: false,
    moderation: acceptAll(),
    clock,
    ...options,
  })
  open.push(peerset)
  return peerset
}

/** Record every emission of some events. */
function collect<K extends keyof PeersetEvents & string>(peerset: Peerset, ...names: K[]): Array<[K, ...unknown[]]> {
  const log: Array<[K, ...unknown[]]> = []
  for (const name of names) peerset.on(name, ((...args: unknown[]) => log.push([name, ...args])) as never)
  return log
}

/** Poll until `predicate` holds; fail after `timeoutMs`. */
async function waitFor(predicate: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** Resolve `promise`, or fail if it takes longer than `ms` (a hang is a failure, not a test timeout). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** The PeersetError `fn` throws or rejects with (fails if it does not). */
async function errorOf(fn: () => unknown): Promise<{ code: string; reason: string | undefined; message: string }> {
  try {
    await fn()
  } catch (error) {
    if (!isPeersetError(error)) throw new Error(`expected a PeersetError, got ${String(error)}`)
    return { code: error.code, reason: error.reason, message: error.message }
  }
  throw new Error('expected an error, nothing was thrown')
}

/** A NIP-07-shaped signer (like `window.nostr`): two async methods, the key stays inside. */
function nip07Signer(identity: Identity): Signer & { signed: number } {
  const inner = createSigner(identity.nsec)
  const signer = {
    signed: 0,
    getPublicKey: () => inner.getPublicKey(),
    async signEvent(event: UnsignedEvent): Promise<NostrEvent> {
      signer.signed++
      return inner.signEvent(event)
    },
  }
  return signer
}

const byNewest = (a: PeersetRecord, b: PeersetRecord): number => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1)

describe('publish', () => {
  it('signs, validates and keeps a record, and emits record:added with origin local once it is stored', async () => {
    const me = createIdentity()
    const peerset = await openPeerset({ identity: me })
    const seen: Array<{ stored: boolean; origin: unknown }> = []
    peerset.on('record:added', (record, info) => seen.push({ stored: peerset.get(record.id) !== undefined, origin: info }))

    const record = await peerset.publish({ text: 'Lost cat, black', link: 'https://example.org/max', geo: { lat: 52.52, lon: 13.405 } })

    expect(record).toMatchObject({ author: me.publicKey, text: 'Lost cat, black', link: 'https://example.org/max', createdAt: nowSeconds() })
    expect(record.geo).toMatchObject({ lat: 52.52, lon: 13.405 })
    expect(record.geo?.geohash).toMatch(/^[0-9b-hjkmnp-z]+$/)
    expect(record.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    // A valid, signed Nostr event any tool can check.
    expect(verifyRecord(toNostrEvent(record))).toMatchObject({ ok: true })
    expect(peerset.get(record.id)).toEqual(record)
    expect(peerset.status().records).toBe(1)
    expect(seen).toEqual([{ stored: true, origin: { origin: 'local' } }])
  })

  it('an edit (same uuid) replaces the older version and reports it removed as replaced', async () => {
    const peerset = await openPeerset()
    const log = collect(peerset, 'record:removed')
    const first = await peerset.publish({ text: 'Bike for sale, 50 EUR' })
    nowMs += 60_000
    const edit = await peerset.publish({ text: 'Bike sold, thanks', uuid: first.uuid })
    expect(peerset.records()).toEqual([edit])
    expect(peerset.get(first.id)).toBeUndefined()
    expect(log).toEqual([['record:removed', first, { reason: 'replaced', replacedBy: edit }]])
  })
})

describe('records(query) and get(id)', () => {
  /** Three records of mine (t, t+10, t+20) and two of another author (t+5, t+15), imported. */
  async function board(): Promise<{ peerset: Peerset; me: Identity; other: Identity; mine: PeersetRecord[]; theirs: PeersetRecord[]; t: number }> {
    const me = createIdentity()
    const other = createIdentity()
    const peerset = await openPeerset({ identity: me })
    const t = nowSeconds() - 100
    const mine: PeersetRecord[] = []
    const theirs: PeersetRecord[] = []
    for (const dt of [0, 10, 20]) {
      nowMs = (t + dt) * 1000
      mine.push(await peerset.publish({ text: `mine at +${dt}` }))
    }
    nowMs = START_MS
    for (const dt of [5, 15]) {
      const record = await createRecord({ text: `theirs at +${dt}` }, other.signer, { now: t + dt, room: 'api' })
      expect(await peerset.importRecord(toNostrEvent(record))).toMatchObject({ status: 'added' })
      theirs.push(record)
    }
    return { peerset, me, other, mine, theirs, t }
  }

  it('lists every record newest first', async () => {
    const { peerset, mine, theirs } = await board()
    const all = peerset.records()
    expect(all.map((r) => r.createdAt)).toEqual([...mine, ...theirs].sort(byNewest).map((r) => r.createdAt))
    expect(all.map((r) => r.text)).toEqual(['mine at +20', 'theirs at +15', 'mine at +10', 'theirs at +5', 'mine at +0'])
  })

  it('filters by author, given as hex or as npub', async () => {
    const { peerset, me, other } = await board()
    expect(peerset.records({ author: me.publicKey }).map((r) => r.text)).toEqual(['mine at +20', 'mine at +10', 'mine at +0'])
    expect(peerset.records({ author: me.npub })).toEqual(peerset.records({ author: me.publicKey }))
    expect(peerset.records({ author: other.npub }).map((r) => r.text)).toEqual(['theirs at +15', 'theirs at +5'])
    expect(peerset.records({ author: createIdentity().publicKey })).toEqual([])
  })

  it('filters by time (since and until, inclusive, Unix seconds) and pages with limit and offset', async () => {
    const { peerset, t } = await board()
    const texts = (q: Parameters<Peerset['records']>[0]): string[] => peerset.records(q).map((r) => r.text)
    expect(texts({ since: t + 10 })).toEqual(['mine at +20', 'theirs at +15', 'mine at +10'])
    expect(texts({ until: t + 5 })).toEqual(['theirs at +5', 'mine at +0'])
    expect(texts({ since: t + 5, until: t + 15 })).toEqual(['theirs at +15', 'mine at +10', 'theirs at +5'])
    expect(texts({ since: t + 21 })).toEqual([])
    expect(texts({ limit: 2 })).toEqual(['mine at +20', 'theirs at +15'])
    expect(texts({ limit: 2, offset: 2 })).toEqual(['mine at +10', 'theirs at +5'])
    expect(texts({ offset: 4 })).toEqual(['mine at +0'])
    expect(texts({ offset: 9 })).toEqual([])
    expect(texts({ limit: 0 })).toEqual([])
    expect(texts({ since: t + 5, limit: 1, offset: 1 })).toEqual(['theirs at +15'])
  })

  it('throws INVALID_ARGUMENT for a query of the wrong shape', async () => {
    const { peerset } = await board()
    const bad: unknown[] = [
      null,
      'newest',
      { author: 42 },
      { since: '2026-01-01' },
      { until: Number.NaN },
      { since: Number.POSITIVE_INFINITY },
      { limit: -1 },
      { limit: 1.5 },
      { offset: -1 },
      { offset: '1' },
    ]
    for (const query of bad) {
      expect(await errorOf(() => peerset.records(query as never)), JSON.stringify(query)).toMatchObject({ code: 'INVALID_ARGUMENT' })
    }
  })

  it('throws INVALID_ARGUMENT for an author that is not a public key (hex or npub)', async () => {
    const { peerset, me } = await board()
    for (const author of ['zz', me.publicKey.toUpperCase(), me.publicKey.slice(1), 'npub1notakey']) {
      expect(await errorOf(() => peerset.records({ author })), author).toMatchObject({ code: 'INVALID_ARGUMENT' })
    }
  })

  it('get(id) returns one record, or undefined', async () => {
    const { peerset, mine } = await board()
    expect(peerset.get(mine[1]!.id)).toEqual(mine[1])
    expect(peerset.get('0'.repeat(64))).toBeUndefined()
    expect(peerset.get(42 as never)).toBeUndefined()
  })
})

describe('peers() and status()', () => {
  it('a local-only peerset has no peers and reports its state', async () => {
    const me = createIdentity()
    const peerset = await openPeerset({ identity: me, room: 'status-room' })
    await peerset.publish({ text: 'one' })
    expect(peerset.peers()).toEqual([])
    const status = peerset.status()
    expect(status).toMatchObject({
      room: 'status-room',
      publicKey: me.publicKey,
      npub: me.npub,
      state: 'open',
      records: 1,
      authors: 1,
      granularity: { intervalMs: 86_400_000, retentionBuckets: 90 },
      storage: { name: 'memory', persistent: false },
      transport: { name: null, joined: false, selfId: null, peers: 0 },
      warnings: [],
    })
    const day = Math.floor(nowMs / 86_400_000)
    expect(status.buckets).toEqual({ oldest: day - 89, newest: day, nonEmpty: 1 })
    expect(peerset.publicKey).toBe(me.publicKey)
    expect(peerset.npub).toBe(me.npub)
  })
})

describe('identity', () => {
  it('may be an Identity, an nsec string, or a NIP-07-shaped signer; records are signed by that key', async () => {
    const me = createIdentity()
    const signer = nip07Signer(me)
    for (const identity of [me, me.nsec, signer]) {
      const peerset = await openPeerset({ identity })
      expect(peerset.publicKey).toBe(me.publicKey)
      expect(peerset.npub).toBe(me.npub)
      const record = await peerset.publish({ text: 'signed by me' })
      expect(record.author).toBe(me.publicKey)
      expect(verifyRecord(toNostrEvent(record)).ok).toBe(true)
    }
    expect(signer.signed).toBeGreaterThan(0)
  })

  it('a value that is no identity at all throws INVALID_ARGUMENT', async () => {
    for (const identity of [undefined, null, 42, {}, [], { getPublicKey: 'key', signEvent: () => undefined }, { signer: {} }]) {
      const error = await errorOf(() => createPeerset({ room: 'api', identity: identity as never, storage: memoryStorage(), transport: false }))
      expect(error.code, String(identity)).toBe('INVALID_ARGUMENT')
    }
  })

  it('a string that is not a secret key throws a PeersetError saying why (never a bare Error)', async () => {
    const me = createIdentity()
    for (const identity of ['nsec1garbage', me.npub, '']) {
      const error = await errorOf(() => createPeerset({ room: 'api', identity, storage: memoryStorage(), transport: false }))
      expect(['INVALID_ARGUMENT', 'INVALID_NIP19', 'INVALID_KEY'], identity).toContain(error.code)
    }
  })

  it('a signer that refuses to give its public key makes createPeerset reject with a PeersetError', async () => {
    const refusing: Signer = {
      getPublicKey: () => Promise.reject(new Error('user rejected')),
      signEvent: () => Promise.reject(new Error('user rejected')),
    }
    const error = await errorOf(() => createPeerset({ room: 'api', identity: refusing, storage: memoryStorage(), transport: false }))
    expect(error.code).toBe('SIGNER_FAILED')
  })
})

describe('events', () => {
  it('a listener that throws does not break the others and is reported as an error event', async () => {
    const peerset = await openPeerset()
    const errors: unknown[] = []
    const after: string[] = []
    peerset.on('error', (error) => errors.push(error))
    peerset.on('record:added', () => {
      throw new Error('listener bug')
    })
    peerset.on('record:added', (record) => after.push(record.text))
    const record = await peerset.publish({ text: 'still works' })
    expect(after).toEqual(['still works'])
    expect(errors).toHaveLength(1)
    expect((errors[0] as Error).message).toBe('listener bug')
    expect(peerset.get(record.id)).toBeDefined()
  })

  it('off() and the function on() returns unsubscribe; once() fires once', async () => {
    const peerset = await openPeerset()
    const calls: string[] = []
    const off = peerset.on('record:added', () => calls.push('on'))
    peerset.once('record:added', () => calls.push('once'))
    await peerset.publish({ text: 'a' })
    off()
    await peerset.publish({ text: 'b' })
    expect(calls).toEqual(['on', 'once'])
  })
})

describe('createPeerset({ room, identity }) alone, in plain Node', () => {
  it('falls back to memory and no transport with warnings, works, and closes idempotently', async () => {
    expect('indexedDB' in globalThis, 'this file must run without IndexedDB').toBe(false)
    const me = createIdentity()
    const peerset = await within(createPeerset({ room: 'plain-node', identity: me }), 5_000, 'createPeerset')
    const warnings: string[] = []
    peerset.on('warning', (w) => warnings.push(w.code))
    await waitFor(() => warnings.length >= 2, 5_000, 'the initial warnings')
    expect(warnings.sort()).toEqual(['no-persistence', 'no-transport'])
    const status = peerset.status()
    expect(status.warnings.map((w) => w.code).sort()).toEqual(['no-persistence', 'no-transport'])
    for (const w of status.warnings) expect(w.message.length).toBeGreaterThan(10)
    expect(status.storage).toMatchObject({ name: 'memory', persistent: false })
    expect(status.transport).toMatchObject({ name: null, joined: false, peers: 0 })

    // It works locally, with the default moderation.
    const record = await within(peerset.publish({ text: 'hello from Node' }), 5_000, 'publish')
    expect(peerset.records()).toEqual([record])

    // close() returns, and again, and again.
    await within(peerset.close(), 5_000, 'close')
    await within(Promise.all([peerset.close(), peerset.close()]), 1_000, 'close again')
    expect(peerset.status().state).toBe('closed')
  })

  it('after close, publish rejects with CLOSED and importRecord resolves failed with CLOSED', async () => {
    const peerset = await openPeerset()
    const other = createIdentity()
    const event = toNostrEvent(await createRecord({ text: 'late' }, other.signer, { now: nowSeconds(), room: 'api' }))
    await peerset.close()
    expect(await errorOf(() => peerset.publish({ text: 'too late' }))).toMatchObject({ code: 'CLOSED' })
    const outcome = await peerset.importRecord(event)
    expect(outcome.status).toBe('failed')
    expect(outcome.status === 'failed' && outcome.error.code).toBe('CLOSED')
  })
})

describe('a signer that never answers', () => {
  it('close() rejects the publish() and withdraw() still waiting for it with CLOSED', async () => {
    const me = createIdentity()
    let asked = 0
    const signer: Signer = { getPublicKey: async () => me.publicKey, signEvent: () => (asked++, new Promise<NostrEvent>(() => undefined)) }
    const peerset = await openPeerset({ identity: signer })
    const held = await createRecord({ text: 'signed earlier' }, me.signer, { now: nowSeconds(), room: 'api' })
    expect(await peerset.importRecord(held)).toMatchObject({ status: 'added' })
    const settled = (p: Promise<unknown>): Promise<unknown> => p.then(() => 'resolved', (e: unknown) => e)
    const publishing = settled(peerset.publish({ text: 'never signed' }))
    const withdrawing = settled(peerset.withdraw(held))
    await waitFor(() => asked === 2, 5_000, 'both signatures asked for')
    await peerset.close()
    // Settled by the time close() resolved (one macrotask later at most): not left pending forever.
    const pending = new Promise((r) => setImmediate(() => r('pending')))
    expect(await Promise.race([publishing, pending])).toMatchObject({ code: 'CLOSED' })
    expect(await Promise.race([withdrawing, pending])).toMatchObject({ code: 'CLOSED' })
  })
})

describe('invalid drafts', () => {
  it('are refused with a typed error, and nothing is stored or announced', async () => {
    const peerset = await openPeerset()
    const log = collect(peerset, 'record:added', 'record:rejected')
    const tooLong = 'x'.repeat(DEFAULT_RECORD_LIMITS.maxTextBytes + 1)
    expect(await errorOf(() => peerset.publish({ text: tooLong }))).toMatchObject({ code: 'INVALID_RECORD', reason: 'too-large' })
    expect(await errorOf(() => peerset.publish({ text: 'é'.repeat(DEFAULT_RECORD_LIMITS.maxTextBytes / 2 + 1) }))).toMatchObject({
      code: 'INVALID_RECORD',
      reason: 'too-large',
    })
    expect(await errorOf(() => peerset.publish({ text: 'here', geo: { lat: 91, lon: 0 } }))).toMatchObject({ code: 'INVALID_RECORD', reason: 'invalid-field' })
    expect(await errorOf(() => peerset.publish({ text: 'here', geo: { lat: 0, lon: -180.5 } }))).toMatchObject({ code: 'INVALID_RECORD', reason: 'invalid-field' })
    expect(await errorOf(() => peerset.publish({ text: 'here', geo: { lat: Number.NaN, lon: 0 } }))).toMatchObject({ code: 'INVALID_RECORD' })
    expect(await errorOf(() => peerset.publish({ text: 'here', geo: { lat: '52', lon: 13 } as never }))).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(await errorOf(() => peerset.publish({ text: 'here', link: 42 as never }))).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(await errorOf(() => peerset.publish({ text: 'here', link: '' }))).toMatchObject({ code: 'INVALID_RECORD', reason: 'invalid-field' })
    expect(await errorOf(() => peerset.publish({ text: 'here', uuid: 'not-a-uuid' }))).toMatchObject({ code: 'INVALID_RECORD', reason: 'invalid-field' })
    expect(await errorOf(() => peerset.publish({ text: 7 } as never))).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(await errorOf(() => peerset.publish(null as never))).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(await errorOf(() => peerset.publish({ text: 'x', color: 'red' } as never))).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(peerset.records()).toEqual([])
    expect(log).toEqual([])
  })

  it('a draft the moderation refuses rejects with INVALID_RECORD and is reported as record:rejected (origin local)', async () => {
    const peerset = await openPeerset({ moderation: createModeration() })
    const rejected = collect(peerset, 'record:rejected')
    const error = await errorOf(() => peerset.publish({ text: 'what a load of shit' }))
    expect(error).toMatchObject({ code: 'INVALID_RECORD', reason: 'moderation' })
    expect(rejected).toHaveLength(1)
    expect(rejected[0]![1]).toMatchObject({ reason: 'moderation', rule: 'bad-words', origin: 'local', permanent: true })
    expect(peerset.records()).toEqual([])
  })
})

describe('record:rejected for records the engine refuses', () => {
  it('reports a forged, a tampered, a malformed and a future record, with the reason', async () => {
    const peerset = await openPeerset()
    const rejected: Array<PeersetEvents['record:rejected'][0]> = []
    peerset.on('record:rejected', (info) => rejected.push(info))
    const author = createIdentity()
    const event = toNostrEvent(await createRecord({ text: 'genuine' }, author.signer, { now: nowSeconds(), room: 'api' }))
    const flip = (hex: string): string => (hex[0] === 'a' ? 'b' : 'a') + hex.slice(1)

    expect(await peerset.importRecord({ ...event, sig: flip(event.sig) })).toMatchObject({ status: 'rejected', reason: 'bad-signature' })
    expect(await peerset.importRecord({ ...event, content: 'tampered' })).toMatchObject({ status: 'rejected', reason: 'bad-id' })
    expect(await peerset.importRecord({ hello: 'world' })).toMatchObject({ status: 'rejected', reason: 'malformed' })
    const future = toNostrEvent(await createRecord({ text: 'from the future' }, author.signer, { now: nowSeconds() + 3_600, room: 'api' }))
    expect(await peerset.importRecord(future)).toMatchObject({ status: 'rejected', reason: 'future', permanent: false })

    expect(rejected.map((r) => [r.reason, r.origin, r.permanent])).toEqual([
      ['bad-signature', 'import', false],
      ['bad-id', 'import', true],
      ['malformed', 'import', true],
      ['future', 'import', false],
    ])
    expect(rejected[0]!.id).toBe(event.id)
    expect(rejected[3]!.id).toBe(future.id)
    for (const r of rejected) expect(r.message.length).toBeGreaterThan(5)
    expect(peerset.records()).toEqual([])
    // The genuine one is still welcome.
    expect(await peerset.importRecord(event)).toMatchObject({ status: 'added' })
  })
})
