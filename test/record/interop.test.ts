import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import * as nip19 from 'nostr-tools/nip19'
import { finalizeEvent, getEventHash, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { createIdentity, createSigner, npubDecode, npubEncode, nsecDecode, nsecEncode } from '../../src/identity/index.js'
import { RECORD_KIND, computeEventId, createRecord, encodeGeohash, recordFromNostrEvent, toNostrEvent } from '../../src/record/index.js'
import { NOW, UUID } from './helpers.js'

const secretOf = (seed: string) => sha256(utf8ToBytes(seed))

describe('interop with nostr-tools (the reference Nostr library, used only as a test oracle)', () => {
  it('nostr-tools verifyEvent accepts Peerset records', async () => {
    const me = createIdentity()
    const drafts = [
      { text: 'plain' },
      { text: 'Grüße 😀 "quotes" \\ back\nslash\ttab', link: 'https://example.org/?q="x"' },
      { text: '', geo: { lat: -33.8688, lon: 151.2093 } },
    ]
    for (const draft of drafts) {
      const event = toNostrEvent(await createRecord(draft, me.signer, { now: NOW }))
      expect(verifyEvent(event)).toBe(true)
      expect(getEventHash(event)).toBe(event.id)
    }
  })

  it('events nostr-tools signs with Peerset’s kind and tag layout load as records', () => {
    const secretKey = secretOf('interop')
    const event = finalizeEvent(
      {
        kind: RECORD_KIND,
        created_at: NOW,
        tags: [['d', UUID], ['expiration', String(NOW + 86_400)], ['r', 'https://nostr.com'], ['g', encodeGeohash(52.52, 13.405, 9)], ['geo', '52.52', '13.405']],
        content: 'signed by nostr-tools',
      },
      secretKey,
    )
    const record = recordFromNostrEvent(event)
    expect(record).toMatchObject({
      id: event.id,
      author: getPublicKey(secretKey),
      uuid: UUID,
      text: 'signed by nostr-tools',
      link: 'https://nostr.com',
      geo: { lat: 52.52, lon: 13.405, geohash: encodeGeohash(52.52, 13.405, 9) },
    })
  })

  it('nostr-tools and Peerset compute the same id for any event fields', () => {
    const pubkey = getPublicKey(secretOf('ids'))
    const clean = fc.string({ unit: 'grapheme' })
    fc.assert(
      fc.property(clean, fc.array(fc.array(clean, { minLength: 1, maxLength: 3 }), { maxLength: 4 }), fc.nat(), (content, tags, created_at) => {
        const fields = { pubkey, created_at, kind: RECORD_KIND, tags, content }
        expect(computeEventId(fields)).toBe(getEventHash(fields))
      }),
    )
  })

  it('keys: NIP-19 and public keys agree both ways for random secrets', async () => {
    for (let i = 0; i < 20; i++) {
      const secretKey = secretOf(`keys-${i}`)
      const publicKey = getPublicKey(secretKey)
      expect(await createSigner(secretKey).getPublicKey()).toBe(publicKey)
      expect(npubEncode(publicKey)).toBe(nip19.npubEncode(publicKey))
      expect(nsecEncode(secretKey)).toBe(nip19.nsecEncode(secretKey))
      expect(npubDecode(nip19.npubEncode(publicKey))).toBe(publicKey)
      expect(bytesToHex(nsecDecode(nip19.nsecEncode(secretKey)))).toBe(bytesToHex(secretKey))
    }
  })
})
