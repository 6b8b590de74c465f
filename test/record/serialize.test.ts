import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { computeEventId, serializeEvent, verifyEventSignature, type NostrEvent } from '../../src/record/index.js'
import { EVENT_JSON_OVERHEAD_BYTES } from '../../src/record/serialize.js'
import { signEvent } from './helpers.js'

const vectors = JSON.parse(readFileSync(new URL('../vectors/nostr.json', import.meta.url), 'utf8')) as {
  nip01_event_from_nip13: NostrEvent & { note: string }
}
const { note: _note, ...nip13Event } = vectors.nip01_event_from_nip13
const code = (c: string) => expect.objectContaining({ code: c })

describe('serializeEvent / computeEventId (NIP-01)', () => {
  it('serializes as JSON [0, pubkey, created_at, kind, tags, content]', () => {
    expect(serializeEvent(nip13Event)).toBe(
      `[0,"${nip13Event.pubkey}",1651794653,1,[["nonce","776797","20"]],"It's just me mining my own business"]`,
    )
  })

  it('computes the id of the NIP-13 event (21 leading zero bits)', () => {
    expect(computeEventId(nip13Event)).toBe(nip13Event.id)
    expect(nip13Event.id.startsWith('00000')).toBe(true)
  })

  it('hashes UTF-8, escaping like JSON.stringify', () => {
    const event = { pubkey: nip13Event.pubkey, created_at: 1, kind: 1, tags: [], content: 'Grüße 😀 "quoted"\n' }
    expect(serializeEvent(event)).toContain('"Grüße 😀 \\"quoted\\"\\n"')
  })

  it('refuses fields that cannot be serialized unambiguously', () => {
    const base = { pubkey: nip13Event.pubkey, created_at: 1, kind: 1, tags: [] as string[][], content: '' }
    const bad: unknown[] = [
      { ...base, pubkey: base.pubkey.toUpperCase() },
      { ...base, created_at: 1.5 },
      { ...base, created_at: -1 },
      { ...base, kind: 65_536 },
      { ...base, content: 'a\udc00' },
      { ...base, tags: [['x', '\ud83d']] },
      { ...base, tags: [[1]] },
      null,
    ]
    for (const event of bad) {
      expect(() => computeEventId(event as typeof base)).toThrow(code('INVALID_ARGUMENT'))
      expect(() => serializeEvent(event as typeof base)).toThrow(code('INVALID_ARGUMENT'))
    }
  })

  it('knows how much larger JSON.stringify(event) is than the serialization', async () => {
    for (const event of [nip13Event, await signEvent({ content: 'ü\n"x"' })]) {
      const ordered = { id: event.id, pubkey: event.pubkey, created_at: event.created_at, kind: event.kind, tags: event.tags, content: event.content, sig: event.sig }
      const jsonBytes = Buffer.byteLength(JSON.stringify(ordered))
      expect(jsonBytes - Buffer.byteLength(serializeEvent(event))).toBe(EVENT_JSON_OVERHEAD_BYTES)
    }
  })
})

describe('verifyEventSignature (any NIP-01 event)', () => {
  it('accepts the NIP-13 event', () => {
    expect(verifyEventSignature(nip13Event)).toBe(true)
  })

  it('refuses it once any field is changed', () => {
    const mutations: Partial<NostrEvent>[] = [
      { content: `${nip13Event.content}.` },
      { created_at: nip13Event.created_at + 1 },
      { kind: 2 },
      { tags: [['nonce', '776798', '20']] },
      { id: `1${nip13Event.id.slice(1)}` },
      { sig: `${nip13Event.sig.slice(0, -1)}${nip13Event.sig.endsWith('0') ? '1' : '0'}` },
      { pubkey: '7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e' },
    ]
    for (const change of mutations) expect(verifyEventSignature({ ...nip13Event, ...change })).toBe(false)
  })

  it('refuses uppercase hex, extra fields and non-events without throwing', () => {
    expect(verifyEventSignature({ ...nip13Event, sig: nip13Event.sig.toUpperCase() })).toBe(false)
    expect(verifyEventSignature({ ...nip13Event, extra: 1 })).toBe(false)
    for (const junk of [null, undefined, 42, 'event', [], {}]) expect(verifyEventSignature(junk)).toBe(false)
  })
})
