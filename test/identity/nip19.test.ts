import { readFileSync } from 'node:fs'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { bech32, bech32m } from '@scure/base'
import { describe, expect, it } from 'vitest'
import { createSigner, identityFromNsec, npubDecode, npubEncode, nsecDecode, nsecEncode } from '../../src/identity/index.js'

interface Nip19Vector {
  kind: 'npub' | 'nsec'
  bech32: string
  hex: string
  publicKeyHex?: string
}
const nostrVectors = JSON.parse(readFileSync(new URL('../vectors/nostr.json', import.meta.url), 'utf8')) as { nip19: Nip19Vector[] }
const npubVectors = nostrVectors.nip19.filter((v) => v.kind === 'npub')
const nsecVector = nostrVectors.nip19.find((v) => v.kind === 'nsec') as Nip19Vector & { publicKeyHex: string }

const code = (c: string) => expect.objectContaining({ code: c })
const withBytes = (prefix: string, bytes: Uint8Array) => bech32.encode(prefix, bech32.toWords(bytes))
/** x = 0xeefd…: not the x coordinate of any secp256k1 point (BIP-340 vector 5). */
const OFF_CURVE_X = 'eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34'
const CURVE_ORDER_N = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'

describe('NIP-19 vectors', () => {
  for (const v of npubVectors) {
    it(`npub ${v.bech32.slice(0, 12)}… encodes and decodes both ways`, () => {
      expect(npubEncode(v.hex)).toBe(v.bech32)
      expect(npubDecode(v.bech32)).toBe(v.hex)
    })
  }

  it('nsec encodes and decodes both ways, and its public key matches the npub vector', async () => {
    expect(nsecEncode(hexToBytes(nsecVector.hex))).toBe(nsecVector.bech32)
    expect(bytesToHex(nsecDecode(nsecVector.bech32))).toBe(nsecVector.hex)
    expect(identityFromNsec(nsecVector.bech32).publicKey).toBe(nsecVector.publicKeyHex)
    expect(await createSigner(nsecVector.bech32).getPublicKey()).toBe(nsecVector.publicKeyHex)
  })
})

describe('NIP-19 decoding is strict (INVALID_NIP19 with a message saying what was wrong)', () => {
  const npub = (npubVectors[0] as Nip19Vector).bech32
  const nsec = nsecVector.bech32

  it('refuses an nsec where an npub is expected, and the reverse', () => {
    expect(() => npubDecode(nsec)).toThrow(code('INVALID_NIP19'))
    expect(() => npubDecode(nsec)).toThrow(/expected an npub, got an nsec/)
    expect(() => nsecDecode(npub)).toThrow(/expected an nsec, got an npub/)
    expect(() => npubDecode(withBytes('note', hexToBytes(nsecVector.publicKeyHex)))).toThrow(/starting with "npub1"/)
  })

  it('refuses a valid bech32 string whose payload is 31 or 33 bytes', () => {
    for (const length of [31, 33]) {
      const bytes = new Uint8Array(length).fill(7)
      expect(() => npubDecode(withBytes('npub', bytes))).toThrow(code('INVALID_NIP19'))
      expect(() => npubDecode(withBytes('npub', bytes))).toThrow(`expected 32 bytes of key data, got ${length}`)
      expect(() => nsecDecode(withBytes('nsec', bytes))).toThrow(`got ${length}`)
    }
  })

  it('refuses mixed case and upper case', () => {
    const mixed = npub.slice(0, 10) + npub.charAt(10).toUpperCase() + npub.slice(11)
    expect(() => npubDecode(mixed)).toThrow(code('INVALID_NIP19'))
    expect(() => npubDecode(mixed)).toThrow(/mixed case/)
    expect(() => npubDecode(npub.toUpperCase())).toThrow(/uppercase/)
    expect(() => nsecDecode(nsec.toUpperCase())).toThrow(code('INVALID_NIP19'))
  })

  it('refuses a broken checksum and a bech32m checksum', () => {
    const last = npub.charAt(npub.length - 1)
    const broken = npub.slice(0, -1) + (last === 'q' ? 'p' : 'q')
    expect(() => npubDecode(broken)).toThrow(code('INVALID_NIP19'))
    expect(() => npubDecode(broken)).toThrow(/checksum/)
    const asBech32m = bech32m.encode('npub', bech32.decode(npub as `${string}1${string}`).words)
    expect(() => npubDecode(asBech32m)).toThrow(code('INVALID_NIP19'))
  })

  it('refuses insane lengths, empty strings and characters outside bech32', () => {
    expect(() => npubDecode(`npub1${'q'.repeat(200)}`)).toThrow(/too long/)
    expect(() => npubDecode('')).toThrow(code('INVALID_NIP19'))
    expect(() => npubDecode(npub.replace(/.$/, 'b'))).toThrow(code('INVALID_NIP19')) // 'b' is not in the alphabet
  })

  it('refuses non-strings with INVALID_ARGUMENT', () => {
    expect(() => npubDecode(42 as unknown as string)).toThrow(code('INVALID_ARGUMENT'))
    expect(() => nsecDecode(null as unknown as string)).toThrow(code('INVALID_ARGUMENT'))
  })

  it('never echoes an nsec in its messages', () => {
    const broken = nsec.slice(0, -1) + (nsec.endsWith('q') ? 'p' : 'q')
    expect(() => nsecDecode(broken)).toThrow(expect.not.objectContaining({ message: expect.stringContaining(nsec.slice(5, 20)) }))
  })
})

describe('NIP-19 keys must be valid secp256k1 keys (INVALID_KEY)', () => {
  it('an npub must hold the x coordinate of a curve point', () => {
    expect(() => npubDecode(withBytes('npub', hexToBytes(OFF_CURVE_X)))).toThrow(code('INVALID_KEY'))
    expect(() => npubEncode(OFF_CURVE_X)).toThrow(code('INVALID_KEY'))
    expect(() => npubDecode(withBytes('npub', new Uint8Array(32).fill(0xff)))).toThrow(code('INVALID_KEY')) // >= p
  })

  it('an nsec must hold a scalar in 1..n-1', () => {
    expect(() => nsecDecode(withBytes('nsec', new Uint8Array(32)))).toThrow(code('INVALID_KEY'))
    expect(() => nsecDecode(withBytes('nsec', hexToBytes(CURVE_ORDER_N)))).toThrow(code('INVALID_KEY'))
    expect(() => nsecEncode(new Uint8Array(32))).toThrow(code('INVALID_KEY'))
    expect(() => nsecEncode(new Uint8Array(31).fill(1))).toThrow(code('INVALID_KEY'))
    expect(() => nsecEncode('00' as unknown as Uint8Array)).toThrow(code('INVALID_ARGUMENT'))
  })

  it('npubEncode wants 64 lowercase hex digits', () => {
    const hex = (npubVectors[0] as Nip19Vector).hex
    expect(() => npubEncode(hex.toUpperCase())).toThrow(code('INVALID_KEY'))
    expect(() => npubEncode(hex.toUpperCase())).toThrow(/uppercase/)
    expect(() => npubEncode(hex.slice(2))).toThrow(/62 characters/)
    expect(() => npubEncode(undefined as unknown as string)).toThrow(code('INVALID_ARGUMENT'))
  })
})
