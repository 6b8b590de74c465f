import { MAX_FRAME_BYTES } from '../../src/protocol/messages.js'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_RECORD_LIMITS,
  MAX_EVENT_BYTES_CEILING,
  createRecord,
  resolveLimits,
  verifyRecord,
  type NostrEvent,
} from '../../src/record/index.js'
import { NOW, UUID, baseTags, expectRejected, signEvent, testSigner } from './helpers.js'

const code = (c: string) => expect.objectContaining({ code: c })
const jsonBytes = (event: NostrEvent) => Buffer.byteLength(JSON.stringify(event))

describe('DEFAULT_RECORD_LIMITS', () => {
  it('are the documented values, frozen', () => {
    expect(DEFAULT_RECORD_LIMITS).toEqual({
      maxTextBytes: 4096,
      maxLinkLength: 2048,
      maxTags: 16,
      maxTagValues: 4,
      maxTagValueBytes: 2048,
      maxEventBytes: 12_000,
    })
    expect(Object.isFrozen(DEFAULT_RECORD_LIMITS)).toBe(true)
  })

  it('keep a whole record inside one transport frame with room for a header', () => {
    expect(DEFAULT_RECORD_LIMITS.maxEventBytes).toBeLessThanOrEqual(MAX_EVENT_BYTES_CEILING)
    expect(MAX_EVENT_BYTES_CEILING).toBeLessThan(MAX_FRAME_BYTES)
  })
})

describe('resolveLimits', () => {
  it('fills overrides in over the defaults', () => {
    expect(resolveLimits()).toBe(DEFAULT_RECORD_LIMITS)
    expect(resolveLimits({ maxTextBytes: 100 })).toEqual({ ...DEFAULT_RECORD_LIMITS, maxTextBytes: 100 })
    expect(resolveLimits({ maxEventBytes: MAX_EVENT_BYTES_CEILING }).maxEventBytes).toBe(16_000)
  })

  it.each<[string, unknown]>([
    ['zero', { maxTags: 0 }],
    ['negative', { maxTags: -1 }],
    ['fractional', { maxTextBytes: 1.5 }],
    ['a string', { maxTextBytes: '100' }],
    ['NaN', { maxTextBytes: Number.NaN }],
    ['an unknown key', { maxText: 100 }],
    ['not an object', 5],
    ['maxEventBytes over the frame ceiling', { maxEventBytes: MAX_EVENT_BYTES_CEILING + 1 }],
  ])('refuses %s with INVALID_ARGUMENT', (_name, overrides) => {
    expect(() => resolveLimits(overrides as never)).toThrow(code('INVALID_ARGUMENT'))
  })

  it('says why maxEventBytes is capped', () => {
    expect(() => resolveLimits({ maxEventBytes: 20_000 })).toThrow(/fits one transport frame/)
  })
})

describe('each limit, at and just over (verifyRecord, default limits)', () => {
  const withTags = (...extra: string[][]) => signEvent({ tags: [...baseTags(), ...extra] })

  it('maxTextBytes: 4096 bytes of text pass, 4097 do not (counted in UTF-8 bytes)', async () => {
    expect(verifyRecord(await signEvent({ content: 'a'.repeat(4096) })).ok).toBe(true)
    expectRejected(verifyRecord(await signEvent({ content: 'a'.repeat(4097) })), 'too-large')
    expect(verifyRecord(await signEvent({ content: '😀'.repeat(1024) })).ok).toBe(true)
    expectRejected(verifyRecord(await signEvent({ content: `${'😀'.repeat(1024)}a` })), 'too-large')
  })

  it('maxLinkLength: a 2048-character link passes, 2049 do not', async () => {
    expect(verifyRecord(await withTags(['r', 'h'.repeat(2048)])).ok).toBe(true)
    expectRejected(verifyRecord(await withTags(['r', 'h'.repeat(2049)])), 'too-large')
  })

  it('maxTags: 16 tags pass, 17 do not', async () => {
    const extra = (n: number) => Array.from({ length: n }, (_, i) => ['t', String(i)])
    expect(verifyRecord(await withTags(...extra(14))).ok).toBe(true)
    expectRejected(verifyRecord(await withTags(...extra(15))), 'too-large')
  })

  it('maxTagValues: a tag of 4 values passes, 5 do not', async () => {
    expect(verifyRecord(await withTags(['t', 'a', 'b', 'c'])).ok).toBe(true)
    expectRejected(verifyRecord(await withTags(['t', 'a', 'b', 'c', 'd'])), 'too-large')
  })

  it('maxTagValueBytes: 2048 bytes pass, 2049 do not (counted in UTF-8 bytes)', async () => {
    expect(verifyRecord(await withTags(['t', 'x'.repeat(2048)])).ok).toBe(true)
    expectRejected(verifyRecord(await withTags(['t', 'x'.repeat(2049)])), 'too-large')
    expect(verifyRecord(await withTags(['t', 'é'.repeat(1024)])).ok).toBe(true)
    expectRejected(verifyRecord(await withTags(['t', `${'é'.repeat(1024)}x`])), 'too-large')
  })

  it('maxEventBytes: an event of exactly 12,000 JSON bytes passes, 12,001 does not', async () => {
    const filler = Array.from({ length: 4 }, () => ['t', 'f'.repeat(2000)])
    const tags = [...baseTags(), ...filler]
    const empty = await signEvent({ tags, content: '' })
    const room = 12_000 - jsonBytes(empty)
    expect(room).toBeGreaterThan(0)
    expect(room).toBeLessThanOrEqual(4096)
    const atLimit = await signEvent({ tags, content: 'a'.repeat(room) })
    const overLimit = await signEvent({ tags, content: 'a'.repeat(room + 1) })
    expect(jsonBytes(atLimit)).toBe(12_000)
    expect(verifyRecord(atLimit).ok).toBe(true)
    expect(expectRejected(verifyRecord(overLimit), 'too-large')).toMatch(/12001 bytes/)
  })

  it('custom limits apply', async () => {
    const event = await signEvent({ content: 'a'.repeat(101) })
    expectRejected(verifyRecord(event, { limits: { maxTextBytes: 100 } }), 'too-large')
    expect(verifyRecord(event, { limits: { maxTextBytes: 101 } }).ok).toBe(true)
  })
})

describe('each limit, at and just over (createRecord refuses before signing)', () => {
  const options = { now: NOW }
  const tooLarge = expect.objectContaining({ code: 'INVALID_RECORD', reason: 'too-large' })

  it('text', async () => {
    await expect(createRecord({ text: 'a'.repeat(4096) }, testSigner, options)).resolves.toMatchObject({ text: 'a'.repeat(4096) })
    await expect(createRecord({ text: 'a'.repeat(4097) }, testSigner, options)).rejects.toThrow(tooLarge)
    await expect(createRecord({ text: 'é'.repeat(2049) }, testSigner, options)).rejects.toThrow(tooLarge)
  })

  it('link', async () => {
    await expect(createRecord({ text: '', link: 'h'.repeat(2048) }, testSigner, options)).resolves.toMatchObject({ link: 'h'.repeat(2048) })
    await expect(createRecord({ text: '', link: 'h'.repeat(2049) }, testSigner, options)).rejects.toThrow(tooLarge)
  })

  it('the whole event (custom maxEventBytes) is checked before the signer is asked', async () => {
    let asked = 0
    const countingSigner = { getPublicKey: () => testSigner.getPublicKey(), signEvent: (e: never) => (asked++, testSigner.signEvent(e)) }
    await expect(createRecord({ text: 'a'.repeat(1000), uuid: UUID }, countingSigner, { ...options, limits: { maxEventBytes: 1000 } })).rejects.toThrow(tooLarge)
    expect(asked).toBe(0)
  })
})
