import { describe, expect, it } from 'vitest'
import { createIdentity, createSigner, type Signer } from '../../src/identity/index.js'
import { DEFAULT_RETENTION_SECONDS, RECORD_KIND, createRecord, toNostrEvent, verifyRecord, type NostrEvent, type UnsignedEvent } from '../../src/record/index.js'
import { NOW, TEST_PUBKEY, UUID, testSigner } from './helpers.js'

const code = (c: string, reason?: string) => expect.objectContaining(reason === undefined ? { code: c } : { code: c, reason })
const options = { now: NOW }

describe('createRecord writes Peerset’s layout and signs it', () => {
  it('writes d, expiration, r, g, geo in that order, the text as content, kind 37515', async () => {
    const record = await createRecord({ text: 'Lost cat', link: 'https://example.org', geo: { lat: 57.64911, lon: 10.40744 } }, testSigner, options)
    expect(record.tags).toEqual([
      ['d', record.uuid],
      ['expiration', String(NOW + DEFAULT_RETENTION_SECONDS)],
      ['r', 'https://example.org'],
      ['g', 'u4pruydqq'],
      ['geo', '57.64911', '10.40744'],
    ])
    expect(record).toMatchObject({ author: TEST_PUBKEY, createdAt: NOW, text: 'Lost cat', expiresAt: NOW + 90 * 86_400 })
    expect(toNostrEvent(record).kind).toBe(RECORD_KIND)
    expect(verifyRecord(toNostrEvent(record)).ok).toBe(true)
  })

  it('generates a fresh lowercase v4 uuid, or keeps the draft’s uuid (a new version of that record)', async () => {
    const a = await createRecord({ text: 'a' }, testSigner, options)
    const b = await createRecord({ text: 'b' }, testSigner, options)
    expect(a.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(a.uuid).not.toBe(b.uuid)
    const edit = await createRecord({ text: 'a, edited', uuid: a.uuid }, testSigner, { now: NOW + 60 })
    expect(edit).toMatchObject({ uuid: a.uuid, createdAt: NOW + 60 })
  })

  it('keeps text verbatim (no Unicode normalization) and writes only the parts given', async () => {
    const record = await createRecord({ text: 'Cafe\u0301\n\tok' }, testSigner, options)
    expect(record.text).toBe('Cafe\u0301\n\tok')
    expect(record.tags.map((t) => t[0])).toEqual(['d', 'expiration'])
    expect(record.link).toBeUndefined()
    expect(record.geo).toBeUndefined()
  })

  it('rounds coordinates to 7 decimals and computes the geohash from the rounded values', async () => {
    const record = await createRecord({ text: '', geo: { lat: -33.868819999, lon: 1e-9 } }, testSigner, options)
    expect(record.tags.find((t) => t[0] === 'geo')).toEqual(['geo', '-33.86882', '0'])
    expect(record.geo).toEqual({ lat: -33.86882, lon: 0, geohash: expect.stringMatching(/^[0-9b-hjkmnp-z]{9}$/) })
  })

  it('uses the retention given', async () => {
    const record = await createRecord({ text: '' }, testSigner, { now: NOW, retentionSeconds: 3600 })
    expect(record.expiresAt).toBe(NOW + 3600)
  })
})

describe('createRecord refuses bad drafts and arguments', () => {
  it.each<[string, unknown]>([
    ['a non-object draft', 'hello'],
    ['a missing text', {}],
    ['a numeric text', { text: 5 }],
    ['an unknown draft field', { text: '', url: 'https://x' }],
    ['a numeric link', { text: '', link: 5 }],
    ['geo as an array', { text: '', geo: [1, 2] }],
    ['geo with string coordinates', { text: '', geo: { lat: '1', lon: '2' } }],
    ['geo with an unknown field', { text: '', geo: { lat: 1, lon: 2, alt: 3 } }],
    ['a numeric uuid', { text: '', uuid: 5 }],
  ])('%s -> INVALID_ARGUMENT', async (_name, draft) => {
    await expect(createRecord(draft as never, testSigner, options)).rejects.toThrow(code('INVALID_ARGUMENT'))
  })

  it.each<[string, unknown]>([
    ['a lone surrogate in text', { text: 'a\ud800' }],
    ['a carriage return in text', { text: 'a\r\nb' }],
    ['a NUL in text', { text: 'a\u0000' }],
    ['an ESC in text', { text: '\u001b[2J' }],
    ['an empty link', { text: '', link: '' }],
    ['a newline in the link', { text: '', link: 'https://x\n' }],
    ['a latitude over 90', { text: '', geo: { lat: 90.5, lon: 0 } }],
    ['a longitude under -180', { text: '', geo: { lat: 0, lon: -181 } }],
    ['a NaN coordinate', { text: '', geo: { lat: Number.NaN, lon: 0 } }],
    ['an infinite coordinate', { text: '', geo: { lat: 0, lon: Number.POSITIVE_INFINITY } }],
    ['an uppercase uuid', { text: '', uuid: UUID.toUpperCase() }],
    ['a uuid that is not one', { text: '', uuid: 'not-a-uuid' }],
  ])('%s -> INVALID_RECORD invalid-field', async (_name, draft) => {
    await expect(createRecord(draft as never, testSigner, options)).rejects.toThrow(code('INVALID_RECORD', 'invalid-field'))
  })

  it.each<[string, unknown]>([
    ['an unknown option', { now: NOW, when: 1 }],
    ['a fractional now', { now: 1.5 }],
    ['a negative now', { now: -1 }],
    ['a zero retention', { retentionSeconds: 0 }],
    ['a bad limit', { limits: { maxTags: 0 } }],
  ])('%s -> INVALID_ARGUMENT', async (_name, badOptions) => {
    await expect(createRecord({ text: '' }, testSigner, badOptions as never)).rejects.toThrow(code('INVALID_ARGUMENT'))
  })

  it('a signer that is not one -> INVALID_ARGUMENT', async () => {
    await expect(createRecord({ text: '' }, {} as Signer, options)).rejects.toThrow(code('INVALID_ARGUMENT'))
  })
})

describe('createRecord verifies what the signer returns (SIGNER_FAILED)', () => {
  /** A signer that signs honestly with `inner`, then lets `tamper` change the result. */
  const hostile = (tamper: (event: NostrEvent) => unknown, inner: Signer = testSigner, publicKey?: string): Signer => ({
    getPublicKey: async () => publicKey ?? (await testSigner.getPublicKey()),
    signEvent: async (event: UnsignedEvent) => tamper(await inner.signEvent({ ...event, pubkey: undefined })) as NostrEvent,
  })
  const other = createIdentity()
  const signerFailed = code('SIGNER_FAILED')

  it.each<[string, Signer]>([
    ['a wrong signature', hostile((e) => ({ ...e, sig: e.sig.replace(/^./, (c) => (c === '0' ? '1' : '0')) }))],
    ['a signature by another key (pubkey differs from getPublicKey)', hostile((e) => e, other.signer)],
    ['another pubkey with the old id and sig', hostile((e) => ({ ...e, pubkey: other.publicKey }))],
    ['a validly signed but different text', { getPublicKey: testSigner.getPublicKey, signEvent: (e) => testSigner.signEvent({ ...e, content: 'spam' }) }],
    ['validly signed but different tags', { getPublicKey: testSigner.getPublicKey, signEvent: (e) => testSigner.signEvent({ ...e, tags: [...e.tags, ['t', 'x']] }) }],
    ['a validly signed but different created_at', { getPublicKey: testSigner.getPublicKey, signEvent: (e) => testSigner.signEvent({ ...e, created_at: e.created_at + 1 }) }],
    ['an event with an extra field', hostile((e) => ({ ...e, extra: true }))],
    ['not an event', hostile(() => 'signed!')],
    ['uppercase hex', hostile((e) => ({ ...e, sig: e.sig.toUpperCase() }))],
  ])('%s', async (_name, signer) => {
    await expect(createRecord({ text: 'hello' }, signer, options)).rejects.toThrow(signerFailed)
  })

  it('a signer whose getPublicKey returns garbage', async () => {
    const signer = { getPublicKey: async () => 'npub1xyz', signEvent: testSigner.signEvent }
    await expect(createRecord({ text: '' }, signer, options)).rejects.toThrow(signerFailed)
  })

  it('a signer that throws or rejects, keeping the cause', async () => {
    const cause = new Error('user declined')
    const rejecting = { getPublicKey: testSigner.getPublicKey, signEvent: async () => Promise.reject(cause) }
    await expect(createRecord({ text: '' }, rejecting, options)).rejects.toThrow(expect.objectContaining({ code: 'SIGNER_FAILED', cause }))
    await expect(createRecord({ text: '' }, rejecting, options)).rejects.toThrow(/user declined/)
    const throwing = { getPublicKey: () => { throw cause }, signEvent: testSigner.signEvent } as unknown as Signer
    await expect(createRecord({ text: '' }, throwing, options)).rejects.toThrow(signerFailed)
  })

  it('any honest signer with its own key works', async () => {
    const secret = new Uint8Array(32).fill(9)
    const record = await createRecord({ text: 'hi' }, createSigner(secret), options)
    expect(verifyRecord(toNostrEvent(record)).ok).toBe(true)
  })
})
