import { beforeAll, describe, expect, it } from 'vitest'
import {
  RECORD_KIND,
  encodeGeohash,
  recordFromNostrEvent,
  toNostrEvent,
  verifyRecord,
  type NostrEvent,
} from '../../src/record/index.js'
import { DAY, NOW, TEST_PUBKEY, UUID, baseTags, expectRejected, signEvent } from './helpers.js'

const geoTags = (lat: string, lon: string, g = encodeGeohash(Number(lat), Number(lon), 9)) => [['g', g], ['geo', lat, lon]]
let full: NostrEvent

beforeAll(async () => {
  full = await signEvent({
    tags: [...baseTags(), ['r', 'https://example.org/a?b=c'], ...geoTags('57.64911', '10.40744'), ['t', 'cats', 'extra']],
    content: 'Grey cat seen\nnear the harbour 😺',
  })
})

describe('verifyRecord accepts a valid record', () => {
  it('reads every field from the event', () => {
    const result = verifyRecord(full)
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.record).toEqual({
      id: full.id,
      author: TEST_PUBKEY,
      uuid: UUID,
      createdAt: NOW,
      text: 'Grey cat seen\nnear the harbour 😺',
      link: 'https://example.org/a?b=c',
      geo: { lat: 57.64911, lon: 10.40744, geohash: 'u4pruydqq' },
      expiresAt: NOW + 90 * DAY,
      tags: full.tags,
      sig: full.sig,
    })
  })

  it('carries unknown tags verbatim, in a private copy of the tags', () => {
    const result = verifyRecord(full)
    if (!result.ok) throw new Error(result.message)
    expect(result.record.tags).toContainEqual(['t', 'cats', 'extra'])
    expect(result.record.tags).not.toBe(full.tags)
    expect(result.record.tags[0]).not.toBe(full.tags[0])
  })

  it('finds known tags in any order; expiration, link and geo are optional', async () => {
    const minimal = await signEvent({ tags: [['t', 'x'], ['d', UUID]], content: '' })
    const result = verifyRecord(minimal)
    expect(result).toMatchObject({ ok: true, record: { uuid: UUID, link: undefined, geo: undefined, expiresAt: undefined, text: '' } })
  })

  it('accepts \\n, \\r and \\t in content, and any uuid version', async () => {
    const event = await signEvent({ tags: [['d', '0b0e7d1c-5a3f-7e8b-9c2d-1f6a7b8c9d0e']], content: 'a\r\nb\tc' })
    expect(verifyRecord(event).ok).toBe(true)
  })

  it('round-trips through toNostrEvent and recordFromNostrEvent', () => {
    const record = recordFromNostrEvent(full)
    const event = toNostrEvent(record)
    expect(event).toEqual(full)
    expect(Object.keys(event)).toEqual(['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig'])
    expect(recordFromNostrEvent(event)).toEqual(record)
  })
})

describe('verifyRecord refuses malformed input (reason "malformed") and never throws', () => {
  it.each<[string, (e: NostrEvent) => unknown]>([
    ['null', () => null],
    ['a string', (e) => JSON.stringify(e)],
    ['an array', (e) => [e]],
    ['a class instance', (e) => Object.assign(new (class Event {})(), e)],
    ['an unknown top-level field', (e) => ({ ...e, relay: 'wss://x' })],
    ['a missing field', ({ sig: _sig, ...rest }) => rest],
    ['a numeric created_at as a string', (e) => ({ ...e, created_at: String(e.created_at) })],
    ['a string kind', (e) => ({ ...e, kind: '37515' })],
    ['a numeric content', (e) => ({ ...e, content: 5 })],
    ['a null id', (e) => ({ ...e, id: null })],
    ['tags as an object', (e) => ({ ...e, tags: {} })],
    ['a tag that is not an array', (e) => ({ ...e, tags: [...e.tags, 'x'] })],
    ['an empty tag', (e) => ({ ...e, tags: [...e.tags, []] })],
    ['a tag value that is a number', (e) => ({ ...e, tags: [...e.tags, ['t', 1]] })],
    ['a sparse tag', (e) => ({ ...e, tags: [...e.tags, new Array(2)] })],
  ])('%s', (_name, make) => {
    expectRejected(verifyRecord(make(full)), 'malformed')
  })

  it('a throwing getter or a revoked proxy', () => {
    const throwing = { ...full }
    Object.defineProperty(throwing, 'sig', { enumerable: true, get: () => { throw new Error('boom') } })
    expectRejected(verifyRecord(throwing), 'malformed')
    const { proxy, revoke } = Proxy.revocable({ ...full }, {})
    revoke()
    expectRejected(verifyRecord(proxy), 'malformed')
  })

  it('names the unknown field', () => {
    expect(expectRejected(verifyRecord({ ...full, relay: 'x' }), 'malformed')).toMatch(/unknown field "relay"/)
  })
})

describe('verifyRecord refuses non-canonical fields (reason "invalid-field")', () => {
  it.each<[string, (e: NostrEvent) => unknown]>([
    ['uppercase id', (e) => ({ ...e, id: e.id.toUpperCase() })],
    ['uppercase pubkey', (e) => ({ ...e, pubkey: e.pubkey.toUpperCase() })],
    ['uppercase sig', (e) => ({ ...e, sig: e.sig.toUpperCase() })],
    ['a short id', (e) => ({ ...e, id: e.id.slice(2) })],
    ['a long sig', (e) => ({ ...e, sig: `${e.sig}00` })],
    ['non-hex pubkey', (e) => ({ ...e, pubkey: `g${e.pubkey.slice(1)}` })],
    ['a fractional created_at', (e) => ({ ...e, created_at: e.created_at + 0.5 })],
    ['a negative created_at', (e) => ({ ...e, created_at: -1 })],
    ['an unsafe created_at', (e) => ({ ...e, created_at: 2 ** 53 })],
    ['a NaN kind', (e) => ({ ...e, kind: Number.NaN })],
    ['a kind over 65535', (e) => ({ ...e, kind: 65_536 })],
  ])('%s', (_name, make) => {
    expectRejected(verifyRecord(make(full)), 'invalid-field')
  })

  it.each([
    ['a lone high surrogate', 'a\ud83d'],
    ['a lone low surrogate', '\ude00b'],
    ['reversed surrogates', '\ude00\ud83d'],
    ['NUL', 'a\u0000'],
    ['BEL', '\u0007'],
    ['ESC', '\u001b[31mred'],
    ['backspace', '\b'],
    ['form feed', '\f'],
    ['DEL', '\u007f'],
    ['a C1 control (NEL)', '\u0085'],
  ])('content with %s', async (_name, content) => {
    expect(expectRejected(verifyRecord({ ...full, content }), 'invalid-field')).toMatch(/content contains/)
  })

  it.each([
    ['a lone surrogate', '\ud800'],
    ['a tab', 'a\tb'],
    ['a newline', 'a\nb'],
  ])('a tag value with %s', (_name, value) => {
    expectRejected(verifyRecord({ ...full, tags: [...full.tags, ['t', value]] }), 'invalid-field')
  })
})

describe('verifyRecord refuses valid events that are not Peerset records (reason "not-a-record")', () => {
  it('another kind, naming the kind expected', async () => {
    const note = await signEvent({ kind: 1 })
    expect(expectRejected(verifyRecord(note), 'not-a-record')).toMatch(`expected kind ${RECORD_KIND}`)
    expect(() => recordFromNostrEvent(note)).toThrow(expect.objectContaining({ code: 'INVALID_RECORD', reason: 'not-a-record' }))
    expect(() => recordFromNostrEvent(note)).toThrow(/expected kind 37515 \(a Peerset record\), got kind 1/)
  })

  it.each([
    ['no d tag', [['expiration', String(NOW + DAY)]]],
    ['a d tag that is not a uuid', [['d', 'my-article']]],
    ['an uppercase uuid', [['d', UUID.toUpperCase()]]],
    ['a uuid without the RFC variant', [['d', '0b0e7d1c-5a3f-4e8b-1c2d-1f6a7b8c9d0e']]],
    ['the nil uuid', [['d', '00000000-0000-0000-0000-000000000000']]],
  ])('%s', async (_name, tags) => {
    expectRejected(verifyRecord(await signEvent({ tags })), 'not-a-record')
  })
})

describe("verifyRecord refuses bad values in Peerset's tags (reason \"invalid-field\")", () => {
  const cases: [string, string[][]][] = [
    ['a second d tag', [...baseTags(), ['d', UUID]]],
    ['a d tag with an extra value', [['d', UUID, 'x']]],
    ['a second expiration tag', [...baseTags(), ['expiration', String(NOW + 2 * DAY)]]],
    ['a second r tag', [['d', UUID], ['r', 'a'], ['r', 'b']]],
    ['a second geo tag', [['d', UUID], ...geoTags('1', '2'), ['geo', '1', '2']]],
    ['an expiration with a leading zero', [['d', UUID], ['expiration', `0${NOW + DAY}`]]],
    ['an expiration in exponent form', [['d', UUID], ['expiration', '1.8e9']]],
    ['a negative expiration', [['d', UUID], ['expiration', '-5']]],
    ['an expiration at created_at', [['d', UUID], ['expiration', String(NOW)]]],
    ['an expiration with two values', [['d', UUID], ['expiration', String(NOW + DAY), 'x']]],
    ['an empty link', [['d', UUID], ['r', '']]],
    ['a g tag without geo', [['d', UUID], ['g', 'u4pruydqq']]],
    ['a geo tag without g', [['d', UUID], ['geo', '57.64911', '10.40744']]],
    ['a g tag that is not the geohash of geo', [['d', UUID], ...geoTags('57.64911', '10.40744', 'u4pruydqr')]],
    ['a 13-character g tag', [['d', UUID], ...geoTags('57.64911', '10.40744', 'u4pruydqqvj00')]],
    ['a latitude over 90', [['d', UUID], ['g', 'zzzzz'], ['geo', '90.1', '0']]],
    ['a longitude under -180', [['d', UUID], ['g', '00000'], ['geo', '0', '-180.5']]],
    ['a trailing zero', [['d', UUID], ...geoTags('57.6491100', '10.40744', 'u4pruydqq')]],
    ['a plus sign', [['d', UUID], ...geoTags('+57.64911', '10.40744', 'u4pruydqq')]],
    ['an exponent', [['d', UUID], ['g', 's0000'], ['geo', '1e-7', '0']]],
    ['minus zero', [['d', UUID], ['g', 's0000'], ['geo', '-0', '0']]],
    ['eight decimals', [['d', UUID], ...geoTags('57.64911001', '10.40744', 'u4pruydqq')]],
    ['a leading zero', [['d', UUID], ...geoTags('057.64911', '10.40744', 'u4pruydqq')]],
    ['a geo tag missing the longitude', [['d', UUID], ['g', 'u4pruydqq'], ['geo', '57.64911']]],
  ]
  it.each(cases)('%s', async (_name, tags) => {
    expectRejected(verifyRecord(await signEvent({ tags })), 'invalid-field')
  })

  it('accepts a shorter g tag that is the geohash of geo at its length', async () => {
    const event = await signEvent({ tags: [['d', UUID], ...geoTags('57.64911', '10.40744', 'u4pru')] })
    expect(verifyRecord(event)).toMatchObject({ ok: true, record: { geo: { geohash: 'u4pru' } } })
  })
})

describe('verifyRecord recomputes the id and checks the signature', () => {
  it('refuses an id that is not the hash of the fields (reason "bad-id")', () => {
    expectRejected(verifyRecord({ ...full, content: 'changed' }), 'bad-id')
    expectRejected(verifyRecord({ ...full, created_at: full.created_at + 1 }), 'bad-id')
  })

  it('refuses a signature that does not verify (reason "bad-signature")', async () => {
    const other = await signEvent({ content: 'other' })
    expectRejected(verifyRecord({ ...full, sig: other.sig }), 'bad-signature')
  })

  it('with checkSignature: false skips only the signature check', async () => {
    const other = await signEvent({ content: 'other' })
    expect(verifyRecord({ ...full, sig: other.sig }, { checkSignature: false }).ok).toBe(true)
    expectRejected(verifyRecord({ ...full, content: 'changed' }, { checkSignature: false }), 'bad-id')
  })

  it('reads each field of the input once (a getter cannot pass one value to the checks and another to the record)', () => {
    let reads = 0
    const tricky = { ...full }
    Object.defineProperty(tricky, 'content', {
      enumerable: true,
      get: () => (reads++ === 0 ? full.content : 'swapped'),
    })
    const result = verifyRecord(tricky)
    expect(reads).toBe(1)
    expect(result).toMatchObject({ ok: true, record: { text: full.content } })
  })
})

describe('toNostrEvent', () => {
  it('returns a new event with copied tags', () => {
    const record = recordFromNostrEvent(full)
    const event = toNostrEvent(record)
    expect(event.tags).not.toBe(record.tags)
    expect(event.tags[0]).not.toBe(record.tags[0])
  })

  it('refuses non-records', () => {
    expect(() => toNostrEvent(null as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
  })
})
