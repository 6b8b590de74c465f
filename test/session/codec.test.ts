/** The session codec: exact byte layouts, round trips, and refusal of anything malformed. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isPeersetError } from '../../src/errors.js'
import { createIdentity } from '../../src/identity/index.js'
import {
  CLOSE_REASON_CODES,
  MAX_AUTH_FRAME_BYTES,
  SESSION_TYPE_CODES,
  createSessionProof,
  decodeSessionMessage,
  encodeSessionMessage,
  isHelloFrame,
  isSessionFrame,
  settingsDigest,
  type HelloMessage,
} from '../../src/session/index.js'
import { SETTINGS, T0 } from './helpers.js'

const HELLO: HelloMessage = {
  type: 'hello',
  pubkey: 'aa'.repeat(32),
  nonce: 'bb'.repeat(32),
  settingsDigest: settingsDigest(SETTINGS),
  powDifficulty: 0,
  granularity: SETTINGS.granularity,
  moderationDigest: 'default/1',
  epoch: 300,
}

function expectProtocolError(bytes: Uint8Array, reason: string): void {
  try {
    decodeSessionMessage(bytes)
  } catch (error) {
    expect(isPeersetError(error, 'PROTOCOL')).toBe(true)
    expect((error as { reason?: string }).reason).toBe(reason)
    return
  }
  throw new Error('expected a PROTOCOL error')
}

describe('frame layouts', () => {
  it('hello: version 4, 0x40, pubkey, nonce, digest (32 bytes each), pow u8, varint interval, varint buckets, digest string, varint epoch, varint rule count', () => {
    const bytes = encodeSessionMessage(HELLO)
    const expected = [
      4,
      0x40,
      ...Array(32).fill(0xaa),
      ...Array(32).fill(0xbb),
      ...Buffer.from(HELLO.settingsDigest, 'hex'),
      0,
      0x80, 0xb8, 0x99, 0x29, // 86_400_000 as LEB128
      90,
      9,
      ...Buffer.from('default/1'),
      0xac, 0x02, // epoch 300 as LEB128
      0, // no rules
    ]
    expect([...bytes]).toEqual(expected)
    expect(decodeSessionMessage(bytes)).toEqual(HELLO)
  })

  it('hello rules: a count, then name (utf8) and varint value pairs, sorted by name; decoded back', () => {
    const rules = { 'strikes.threshold': 5, clockSkewMs: 300_000 }
    const bytes = encodeSessionMessage({ ...HELLO, rules })
    const tail = [2, 11, ...Buffer.from('clockSkewMs'), 0xe0, 0xa7, 0x12, 17, ...Buffer.from('strikes.threshold'), 5]
    expect([...bytes.subarray(bytes.length - tail.length)]).toEqual(tail)
    expect(decodeSessionMessage(bytes)).toEqual({ ...HELLO, rules })
    // Out of order (or repeated) names are not canonical.
    const swapped = [2, 17, ...Buffer.from('strikes.threshold'), 5, 11, ...Buffer.from('clockSkewMs'), 0xe0, 0xa7, 0x12]
    expectProtocolError(new Uint8Array([...bytes.subarray(0, bytes.length - tail.length), ...swapped]), 'out-of-range')
  })

  it('ping and pong are the bare header', () => {
    expect([...encodeSessionMessage({ type: 'ping' })]).toEqual([4, 0x42])
    expect([...encodeSessionMessage({ type: 'pong' })]).toEqual([4, 0x43])
  })

  it('bye: reason code u8, varint length, UTF-8 detail', () => {
    expect([...encodeSessionMessage({ type: 'bye', reason: 're-auth', detail: 'hi' })]).toEqual([4, 0x44, 7, 2, 0x68, 0x69])
    expect(decodeSessionMessage(new Uint8Array([4, 0x44, 200, 0]))).toEqual({ type: 'bye', reason: 'unknown', detail: '' })
  })

  it('auth: the proof event as UTF-8 JSON after the header', async () => {
    const me = createIdentity()
    const proof = await createSessionProof(
      me.signer,
      { room: 'r', proverId: 'p', verifierId: 'v', proverNonce: '11'.repeat(32), verifierNonce: '22'.repeat(32), settingsDigest: HELLO.settingsDigest },
      { pubkey: me.publicKey, createdAt: T0 / 1000 },
    )
    const bytes = encodeSessionMessage({ type: 'auth', proof })
    expect([...bytes.subarray(0, 2)]).toEqual([4, 0x41])
    expect(JSON.parse(Buffer.from(bytes.subarray(2)).toString('utf8'))).toEqual(proof)
    expect(decodeSessionMessage(bytes)).toEqual({ type: 'auth', proof })
  })

  it('every close reason has a distinct code', () => {
    const codes = Object.values(CLOSE_REASON_CODES)
    expect(new Set(codes).size).toBe(codes.length)
    for (const [reason, code] of Object.entries(CLOSE_REASON_CODES)) {
      expect(decodeSessionMessage(new Uint8Array([4, 0x44, code, 0]))).toMatchObject({ reason })
    }
  })
})

describe('routing by type byte', () => {
  it('session frames are types 0x40..0x4F, whatever the version', () => {
    for (let type = 0; type < 256; type++) expect(isSessionFrame(new Uint8Array([1, type]))).toBe(type >= 0x40 && type <= 0x4f)
    expect(isSessionFrame(new Uint8Array([7, 0x40]))).toBe(true)
    expect(isSessionFrame(new Uint8Array([1]))).toBe(false)
    expect(Object.values(SESSION_TYPE_CODES).every((t) => t >= 0x40 && t <= 0x4f)).toBe(true)
  })

  it('isHelloFrame spots a hello', () => {
    expect(isHelloFrame(encodeSessionMessage(HELLO))).toBe(true)
    expect(isHelloFrame(encodeSessionMessage({ type: 'ping' }))).toBe(false)
  })
})

describe('malformed frames are refused with PROTOCOL errors', () => {
  const hello = encodeSessionMessage(HELLO)
  it('another version', () => expectProtocolError(new Uint8Array([1, 0x42]), 'unknown-version'))
  it('an unassigned session type', () => expectProtocolError(new Uint8Array([4, 0x45]), 'unknown-type'))
  it('a truncated hello', () => expectProtocolError(hello.subarray(0, hello.length - 1), 'truncated'))
  it('trailing bytes', () => expectProtocolError(new Uint8Array([...hello, 0]), 'trailing-bytes'))
  it('a ping with a payload', () => expectProtocolError(new Uint8Array([4, 0x42, 0]), 'trailing-bytes'))
  it('a non-minimal varint (retention 90 written as 0xda 0x00)', () => {
    expectProtocolError(new Uint8Array([...hello.subarray(0, 103), 0xda, 0x00, 9, ...Buffer.from('default/1')]), 'bad-varint')
  })
  it('a zero interval', () => {
    const zero = new Uint8Array([...hello.subarray(0, 99), 0, 90, 0])
    expectProtocolError(zero, 'out-of-range')
  })
  it('invalid UTF-8 in the moderation digest', () => expectProtocolError(new Uint8Array([...hello.subarray(0, 104), 1, 0xff]), 'bad-utf8'))
  it('a pow difficulty over 32', () => {
    const bad = Uint8Array.from(hello)
    bad[98] = 33
    expectProtocolError(bad, 'out-of-range')
  })
  it('an auth frame over the size limit, before parsing', () => {
    expectProtocolError(new Uint8Array(MAX_AUTH_FRAME_BYTES + 1).fill(0x20).fill(4, 0, 1).fill(0x41, 1, 2), 'too-large')
  })
  it('auth bytes that are not JSON, or not an event', () => {
    expectProtocolError(new Uint8Array([4, 0x41, 0x7b]), 'bad-json')
    expectProtocolError(new Uint8Array([4, 0x41, ...Buffer.from('{"id":1}')]), 'bad-event')
    expectProtocolError(new Uint8Array([4, 0x41, ...Buffer.from('[]')]), 'bad-event')
  })

  it('never anything but a PROTOCOL error, on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(0x40, 0x41, 0x42, 0x43, 0x44, 0x45), (tail, type) => {
        try {
          decodeSessionMessage(new Uint8Array([3, type, ...tail]))
        } catch (error) {
          expect(isPeersetError(error, 'PROTOCOL')).toBe(true)
        }
      }),
      { numRuns: 2_000 },
    )
  })
})

describe('encoding validates its input', () => {
  it('refuses bad fields with INVALID_ARGUMENT', () => {
    expect(() => encodeSessionMessage({ ...HELLO, pubkey: 'AA'.repeat(32) })).toThrow(/pubkey/)
    expect(() => encodeSessionMessage({ ...HELLO, powDifficulty: 33 })).toThrow(/powDifficulty/)
    expect(() => encodeSessionMessage({ ...HELLO, moderationDigest: 'x'.repeat(257) })).toThrow(/moderationDigest/)
    expect(() => encodeSessionMessage({ type: 'bye', reason: 'nope' as 'local', detail: '' })).toThrow(/close reason/)
    expect(() => encodeSessionMessage({ type: 'bye', reason: 'local', detail: '\ud800' })).toThrow(/detail/)
  })
})
