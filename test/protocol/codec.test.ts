import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isPeersetError } from '../../src/errors.js'
import { decodeMessage, encodeMessage, encodeMessages, MAX_WIRE_EVENT_BYTES } from '../../src/protocol/index.js'
import { MAX_FRAME_BYTES, PROTOCOL_VERSION, type SyncMessage, type WireEvent } from '../../src/protocol/messages.js'
import {
  decodeAll,
  haveArb,
  havePairs,
  messageArb,
  rangesArb,
  recordsArb,
  rejectArb,
  rootArb,
  summaryArb,
  wantArb,
  fetchArb,
  pushedArb,
  offerArb,
  symbolsArb,
  moreArb,
} from './arbitraries.js'

const hex = (byte: number, n: number) => byte.toString(16).padStart(2, '0').repeat(n)
const id = (i: number) => i.toString(16).padStart(64, '0')

function roundTrip(m: SyncMessage): SyncMessage {
  const frames = encodeMessage(m)
  for (const f of frames) expect(f.length).toBeLessThanOrEqual(MAX_FRAME_BYTES)
  return decodeAll(frames)
}

function expectProtocolError(frame: Uint8Array, reason?: string): void {
  try {
    decodeMessage(frame)
  } catch (error) {
    expect(isPeersetError(error, 'PROTOCOL')).toBe(true)
    if (reason !== undefined) expect((error as { reason?: string }).reason).toBe(reason)
    return
  }
  throw new Error('expected a PROTOCOL error')
}

function event(content: string, tags: string[][] = []): WireEvent {
  return { pubkey: hex(0xab, 32), created_at: 1_767_225_600, kind: 37_515, tags, content, sig: hex(0xcd, 64) }
}

describe('frame layout', () => {
  it('starts every frame with the protocol version and the message type', () => {
    const types = { root: 1, summary: 2, ranges: 3, have: 4, want: 5, records: 6, reject: 7, evidence: 8, gossip: 9, fetch: 10, pushed: 11, offer: 12, symbols: 13, more: 14 }
    const samples: SyncMessage[] = [
      { type: 'root', window: { oldest: 0, newest: 89 }, count: 0, digest: hex(0, 16), wanting: 0 },
      { type: 'summary', window: { oldest: 0, newest: 89 }, count: 0, digest: hex(0, 16), from: 0, to: 89, salt: hex(2, 8), buckets: [] },
      { type: 'ranges', entries: [] },
      { type: 'have', groups: [] },
      { type: 'want', ids: [] },
      { type: 'records', events: [] },
      { type: 'reject', items: [] },
      { type: 'evidence', events: [] },
      { type: 'gossip', op: 'have', groups: [] },
      { type: 'gossip', op: 'found', groups: [{ bucket: 7, ids: [hex(3, 8)] }] },
      { type: 'fetch', from: 0, to: 89, after: undefined, max: 10 },
      { type: 'pushed', events: [], last: true, exhausted: false },
      { type: 'offer', buckets: [3] },
      { type: 'symbols', salt: hex(1, 8), buckets: [4], total: 3, from: 0, end: 1, symbols: [{ count: 3, hi: 1, lo: 2, check: 3 }] },
      { type: 'more', salt: hex(1, 8), from: 1, count: 9 },
    ]
    for (const m of samples) {
      const [frame] = encodeMessage(m)
      expect([frame![0], frame![1]]).toEqual([PROTOCOL_VERSION, types[m.type]])
    }
  })

  it('carries a gossip announcement of one record in 13 bytes: header, op, group count, bucket, id count, 8 raw bytes', () => {
    const [frame] = encodeMessage({ type: 'gossip', op: 'have', groups: [{ bucket: 20_000, ids: [id(1).slice(0, 16)] }] })
    expect(frame!.length).toBe(2 + 1 + 1 + 3 + 1 + 8)
    expect(decodeMessage(frame!)).toEqual({ type: 'gossip', op: 'have', groups: [{ bucket: 20_000, ids: [id(1).slice(0, 16)] }] })
    expect(() => decodeMessage(new Uint8Array([...frame!.slice(0, 2), 7, ...frame!.slice(3)]))).toThrow(/gossip op/)
  })

  it('carries a want of one id in 35 bytes: header, count, 32 raw bytes', () => {
    const [frame] = encodeMessage({ type: 'want', ids: [id(1)] })
    expect(frame!.length).toBe(2 + 1 + 32)
  })
})

describe('round trip', () => {
  const cases = { root: rootArb, summary: summaryArb, ranges: rangesArb, want: wantArb, records: recordsArb, reject: rejectArb, fetch: fetchArb, pushed: pushedArb, offer: offerArb, symbols: symbolsArb, more: moreArb }
  for (const [name, arb] of Object.entries(cases)) {
    it(`decodes what it encodes: ${name}`, () => {
      fc.assert(
        fc.property(arb as fc.Arbitrary<SyncMessage>, (m) => {
          expect(roundTrip(m)).toEqual(m)
        }),
        { numRuns: 200 },
      )
    })
  }

  it('decodes what it encodes: have (groups split over frames keep every (bucket, id) in order)', () => {
    fc.assert(
      fc.property(haveArb, (m) => {
        expect(havePairs(roundTrip(m))).toEqual(havePairs(m))
      }),
      { numRuns: 200 },
    )
  })

  it('re-encodes a decoded frame to the same bytes (one spelling per message)', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        for (const frame of encodeMessage(m)) expect(encodeMessage(decodeMessage(frame))).toEqual([frame])
      }),
      { numRuns: 300 },
    )
  })
})

describe('frame size', () => {
  it('splits 100,000 announced ids over frames of at most MAX_FRAME_BYTES and loses none', () => {
    const groups = Array.from({ length: 90 }, (_, b) => ({ bucket: 20_000 + b, ids: Array.from({ length: 1112 }, (_, i) => id(b * 10_000 + i)) }))
    const m: SyncMessage = { type: 'have', groups }
    const frames = encodeMessage(m)
    expect(Math.max(...frames.map((f) => f.length))).toBeLessThanOrEqual(MAX_FRAME_BYTES)
    expect(frames.length).toBeLessThan(Math.ceil((100_080 * 32) / 16_000) + 2)
    expect(havePairs(decodeAll(frames))).toEqual(havePairs(m))
  })

  it('splits long want, reject and ranges lists', () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => id(i))
    const messages: SyncMessage[] = [
      { type: 'want', ids },
      { type: 'reject', items: ids.map((x) => ({ id: x, reason: 'moderation', permanent: true })) },
      { type: 'ranges', entries: ids.map((x, i) => ({ bucket: i % 7, prefix: x.slice(0, 3), kind: 'ids', shortIds: [x.slice(8, 24)] })) },
    ]
    for (const m of messages) {
      const frames = encodeMessage(m)
      expect(frames.length).toBeGreaterThan(1)
      for (const f of frames) expect(f.length).toBeLessThanOrEqual(MAX_FRAME_BYTES)
      expect(decodeAll(frames)).toEqual(m)
    }
  })

  it('splits a summary of 100,000 buckets into parts covering consecutive spans', () => {
    const buckets = Array.from({ length: 100_000 }, (_, i) => ({ bucket: 5 + i * 2, count: 1 + (i % 300), digest: hex(i % 256, 3) }))
    const m: SyncMessage = { type: 'summary', window: { oldest: 0, newest: 250_000 }, count: 7, digest: hex(1, 16), from: 0, to: 250_000, salt: hex(3, 8), buckets }
    const frames = encodeMessage(m)
    const parts = frames.map((f) => decodeMessage(f) as Extract<SyncMessage, { type: 'summary' }>)
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(MAX_FRAME_BYTES)
    for (let i = 1; i < parts.length; i++) expect(parts[i]!.from).toBe(parts[i - 1]!.to + 1)
    expect(parts[0]!.from).toBe(0)
    expect(parts.at(-1)!.to).toBe(250_000)
    expect(decodeAll(frames)).toEqual(m)
  })

  it('packs many records into frames and never splits one', () => {
    const events = Array.from({ length: 40 }, (_, i) => event('x'.repeat(3_000 + i)))
    const frames = encodeMessage({ type: 'records', events })
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(MAX_FRAME_BYTES)
    expect(frames.length).toBeGreaterThanOrEqual(8)
    expect(decodeAll(frames)).toEqual({ type: 'records', events })
  })

  it('fits a record of the largest allowed size (12,000 bytes of JSON) in one frame', () => {
    const base = event('', [['d', '1b4e28ba-2fa1-4d2e-883f-0016d3cca427'], ['r', 'https://example.com/' + 'p'.repeat(900)], ['g', 'u4pruydqq']])
    const jsonSize = (e: WireEvent) => Buffer.byteLength(JSON.stringify({ id: hex(0, 32), ...e }))
    const e = { ...base, content: 'é'.repeat(Math.floor((12_000 - jsonSize(base)) / 2)) }
    expect(jsonSize(e)).toBeGreaterThan(11_990)
    expect(jsonSize(e)).toBeLessThanOrEqual(12_000)
    const frames = encodeMessage({ type: 'records', events: [e] })
    expect(frames).toHaveLength(1)
    expect(decodeMessage(frames[0]!)).toEqual({ type: 'records', events: [e] })
  })

  it('refuses at encode time a record that cannot fit one frame', () => {
    const tooBig = event('y'.repeat(MAX_WIRE_EVENT_BYTES))
    expect(() => encodeMessage({ type: 'records', events: [tooBig] })).toThrow(expect.objectContaining({ code: 'INVALID_RECORD', reason: 'too-large' }))
  })

  it('refuses strings that UTF-8 cannot carry verbatim (lone surrogates) and bad hex', () => {
    expect(() => encodeMessage({ type: 'records', events: [event('\ud800')] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => encodeMessage({ type: 'records', events: [{ ...event(''), pubkey: 'AB'.repeat(32) }] })).toThrow(/lowercase hex/)
    expect(() => encodeMessage({ type: 'want', ids: ['abc'] })).toThrow(/64 lowercase hex/)
  })

  it('encodes several messages in order', () => {
    const frames = encodeMessages([{ type: 'want', ids: [id(1)] }, { type: 'reject', items: [] }])
    expect(frames.map((f) => decodeMessage(f).type)).toEqual(['want', 'reject'])
  })
})

describe('decoding untrusted frames', () => {
  const valid = encodeMessage({ type: 'records', events: [event('héllo', [['t', 'a', 'b']])] })[0]!

  it('refuses an unknown version, an unknown type and an empty frame', () => {
    expectProtocolError(Uint8Array.of(9, 5, 0), 'unknown-version')
    expectProtocolError(Uint8Array.of(PROTOCOL_VERSION, 99), 'unknown-type')
    expectProtocolError(new Uint8Array(0), 'truncated')
  })

  it('refuses every truncation of a valid frame', () => {
    for (let n = 0; n < valid.length; n++) expectProtocolError(valid.subarray(0, n))
  })

  it('refuses trailing bytes', () => {
    expectProtocolError(Uint8Array.of(...valid, 0), 'trailing-bytes')
  })

  it('refuses over-long and non-minimal varints', () => {
    expectProtocolError(Uint8Array.of(PROTOCOL_VERSION, 5, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), 'bad-varint')
    expectProtocolError(Uint8Array.of(PROTOCOL_VERSION, 5, 0x80, 0x00), 'bad-varint')
  })

  it('refuses counts larger than the remaining bytes could hold, before allocating', () => {
    expectProtocolError(Uint8Array.of(PROTOCOL_VERSION, 5, 0xe8, 0x07, ...new Uint8Array(64)), 'truncated')
    expectProtocolError(Uint8Array.of(PROTOCOL_VERSION, 5, 0xff, 0xff, 0x03), 'out-of-range')
  })

  it('refuses invalid UTF-8', () => {
    const frame = encodeMessage({ type: 'records', events: [event('ab')] })[0]!
    const bad = Uint8Array.from(frame)
    bad[bad.length - 2] = 0xc3 // a lead byte followed by 'b'
    expectProtocolError(bad, 'bad-utf8')
  })

  it('keeps a leading byte-order mark verbatim', () => {
    const e = event('\ufeffhi')
    expect(decodeMessage(encodeMessage({ type: 'records', events: [e] })[0]!)).toEqual({ type: 'records', events: [e] })
  })

  it('refuses a frame over MAX_FRAME_BYTES', () => {
    expectProtocolError(new Uint8Array(MAX_FRAME_BYTES + 1), 'too-large')
  })

  it('refuses out-of-range values: unsorted summary, empty have group, unknown reject reason, bad prefix padding', () => {
    const summary = encodeMessage({ type: 'summary', window: { oldest: 0, newest: 9 }, count: 1, digest: hex(0, 16), from: 0, to: 9, salt: hex(2, 8), buckets: [{ bucket: 3, count: 1, digest: hex(1, 3) }] })[0]!
    const badGap = Uint8Array.from(summary)
    badGap[2 + 1 + 1 + 1 + 16 + 8 + 1 + 1 + 1] = 20 // the first bucket's gap: bucket 20 is outside 0..9
    expectProtocolError(badGap, 'out-of-range')
    // The count is a difference from the previous bucket's: one that makes a count 0 or below is refused.
    const badCount = Uint8Array.from(summary)
    badCount[2 + 1 + 1 + 1 + 16 + 8 + 1 + 1 + 1 + 1] = 1 // zigzag 1 = -1: count 0
    expectProtocolError(badCount, 'out-of-range')
    const goodCount = Uint8Array.from(summary)
    goodCount[2 + 1 + 1 + 1 + 16 + 8 + 1 + 1 + 1 + 1] = 6 // zigzag 6 = +3
    expect((decodeMessage(goodCount) as Extract<SyncMessage, { type: 'summary' }>).buckets[0]!.count).toBe(3)
    expectProtocolError(Uint8Array.of(PROTOCOL_VERSION, 4, 1, 0, 0, ...new Uint8Array(32)), 'out-of-range')
    expectProtocolError(Uint8Array.of(PROTOCOL_VERSION, 7, 1, ...new Uint8Array(32), 42, 0), 'out-of-range')
    expectProtocolError(Uint8Array.of(PROTOCOL_VERSION, 3, 1, 0, 1, 0xab, 2, 0), 'out-of-range')
  })

  it('fuzz: 10,000 random and mutated frames never throw anything but PeersetError PROTOCOL', () => {
    const seeds = fc.sample(messageArb, { numRuns: 200, seed: 42 }).flatMap((m) => encodeMessage(m))
    const mutated = fc
      .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 6 }))
      .map(([frame, edits]) => {
        let bytes = Array.from(frame)
        for (const [at, value, op] of edits) {
          const i = at % (bytes.length + 1)
          if (op === 0) bytes[i] = value
          else if (op === 1) bytes.splice(i, 0, value)
          else if (op === 2) bytes.splice(i, 1)
          else bytes = bytes.slice(0, i)
        }
        return Uint8Array.from(bytes)
      })
    const random = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 9 }), fc.uint8Array({ maxLength: 200 })).map(([v, t, rest]) => Uint8Array.of(v, t, ...rest))
    let decoded = 0
    fc.assert(
      fc.property(fc.oneof(mutated, random), (frame) => {
        try {
          const m = decodeMessage(frame)
          decoded++
          // Whatever decodes is a well-formed message: it encodes again.
          expect(encodeMessage(m).length).toBeGreaterThan(0)
        } catch (error) {
          if (!isPeersetError(error, 'PROTOCOL')) throw error
        }
      }),
      { numRuns: 10_000, seed: 7 },
    )
    expect(decoded).toBeGreaterThan(0)
  })
})
