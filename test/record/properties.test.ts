import { bytesToHex } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { RECORD_KIND, createRecord, encodeGeohash, recordFromNostrEvent, toNostrEvent, verifyRecord, type NostrEvent } from '../../src/record/index.js'
import { NOW, baseTags, signEvent, testSigner } from './helpers.js'

const EVENT_KEYS = ['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig']
const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map(bytesToHex)
const anyString = fc.string({ unit: 'binary', maxLength: 80 })
let base: NostrEvent

beforeAll(async () => {
  base = await signEvent({
    tags: [...baseTags(), ['r', 'https://example.org'], ['g', 'u4pruydqq'], ['geo', '57.64911', '10.40744'], ['t', 'a', 'b']],
    content: 'base record 😀',
  })
  expect(verifyRecord(base).ok).toBe(true)
})

/** Asserts that `mutated` (which differs from `base` in one field) does not verify. */
const refused = (mutated: unknown) => {
  const result = verifyRecord(mutated)
  expect(result.ok).toBe(false)
}

describe('changing any single field of a signed record makes verifyRecord fail', () => {
  it('id', () => {
    fc.assert(fc.property(fc.oneof(hex(32), fc.anything()), (id) => {
      fc.pre(id !== base.id)
      refused({ ...base, id })
    }))
  })

  it('pubkey', () => {
    fc.assert(fc.property(fc.oneof(hex(32), fc.anything()), (pubkey) => {
      fc.pre(pubkey !== base.pubkey)
      refused({ ...base, pubkey })
    }))
  })

  it('created_at', () => {
    fc.assert(fc.property(fc.oneof(fc.maxSafeNat(), fc.integer(), fc.double(), fc.anything()), (createdAt) => {
      fc.pre(createdAt !== base.created_at)
      refused({ ...base, created_at: createdAt })
    }))
  })

  it('kind', () => {
    fc.assert(fc.property(fc.oneof(fc.integer({ min: 0, max: 65_535 }), fc.integer(), fc.anything()), (kind) => {
      fc.pre(kind !== RECORD_KIND)
      refused({ ...base, kind })
    }))
  })

  it('each tag value (known tags and unknown ones)', () => {
    fc.assert(fc.property(fc.nat(), fc.nat(), fc.oneof(anyString, fc.anything()), (i, j, value) => {
      const tagIndex = i % base.tags.length
      const tag = base.tags[tagIndex] as string[]
      const valueIndex = j % tag.length
      fc.pre(value !== tag[valueIndex])
      const tags = base.tags.map((t, k) => (k === tagIndex ? t.map((v, m) => (m === valueIndex ? value : v)) : t))
      refused({ ...base, tags })
    }))
  })

  it('the tag list (a tag added, removed or moved)', () => {
    fc.assert(fc.property(fc.nat(), fc.array(anyString, { minLength: 1, maxLength: 3 }), (i, extra) => {
      const at = i % (base.tags.length + 1)
      refused({ ...base, tags: [...base.tags.slice(0, at), extra, ...base.tags.slice(at)] })
      const existing = i % base.tags.length
      refused({ ...base, tags: base.tags.filter((_, k) => k !== existing) })
      if (existing > 0) refused({ ...base, tags: [base.tags[existing], ...base.tags.filter((_, k) => k !== existing)] })
    }))
  })

  it('content', () => {
    fc.assert(fc.property(fc.oneof(anyString, fc.anything()), (content) => {
      fc.pre(content !== base.content)
      refused({ ...base, content })
    }))
  })

  it('sig (any other value, or one hex digit changed)', () => {
    fc.assert(fc.property(fc.oneof(hex(64), fc.anything()), (sig) => {
      fc.pre(sig !== base.sig)
      refused({ ...base, sig })
    }))
    fc.assert(fc.property(fc.nat(127), fc.integer({ min: 1, max: 15 }), (position, delta) => {
      const digit = ((parseInt(base.sig.charAt(position), 16) + delta) % 16).toString(16)
      refused({ ...base, sig: base.sig.slice(0, position) + digit + base.sig.slice(position + 1) })
    }))
  })

  it('adding an unknown top-level field, or removing one', () => {
    fc.assert(fc.property(fc.string(), fc.jsonValue(), (key, value) => {
      fc.pre(!EVENT_KEYS.includes(key))
      refused({ ...base, [key]: value })
    }))
    for (const key of EVENT_KEYS) refused(Object.fromEntries(Object.entries(base).filter(([k]) => k !== key)))
  })
})

describe('verifyRecord never throws', () => {
  it('on any value', () => {
    fc.assert(fc.property(fc.anything({ withNullPrototype: true, withObjectString: true }), (input) => {
      expect(verifyRecord(input).ok).toBe(false)
    }), { numRuns: 500 })
  })
})

describe('every valid draft round-trips', () => {
  const text = fc.string({ unit: 'grapheme', maxLength: 200 }).map((s) => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, ''))
  const geo = fc.record({ lat: fc.double({ min: -90, max: 90, noNaN: true }), lon: fc.double({ min: -180, max: 180, noNaN: true }) })
  const draft = fc.record({ text, link: fc.option(fc.webUrl(), { nil: undefined }), geo: fc.option(geo, { nil: undefined }) })

  it('createRecord -> toNostrEvent -> JSON -> recordFromNostrEvent gives the same record', async () => {
    await fc.assert(
      fc.asyncProperty(draft, async (d) => {
        const record = await createRecord(d, testSigner, { now: NOW })
        expect(record.text).toBe(d.text)
        expect(record.link).toBe(d.link)
        if (d.geo === undefined) expect(record.geo).toBeUndefined()
        else {
          const g = record.geo as NonNullable<typeof record.geo>
          expect(Math.abs(g.lat - d.geo.lat)).toBeLessThanOrEqual(5e-8)
          expect(Math.abs(g.lon - d.geo.lon)).toBeLessThanOrEqual(5e-8)
          expect(g.geohash).toBe(encodeGeohash(g.lat, g.lon, 9))
        }
        expect(recordFromNostrEvent(JSON.parse(JSON.stringify(toNostrEvent(record))))).toEqual(record)
      }),
      { numRuns: 40 },
    )
  })
})
