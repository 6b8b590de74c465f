/**
 * NIP-19 bech32 encodings of keys: `npub1...` (x-only public key) and `nsec1...` (secret key).
 * Decoding is strict: one prefix per place, lowercase only, bech32 (not bech32m) checksum,
 * exactly 32 bytes of data, and the key itself must be valid on secp256k1.
 */
import { bech32 } from '@scure/base'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { PeersetError } from '../errors.js'
import { assertPublicKeyHex, assertSecretKeyBytes, isPublicKeyOnCurve } from './key-format.js'

type KeyPrefix = 'npub' | 'nsec'

/** A 32-byte key encodes to exactly 63 characters: 4 (prefix) + 1 (separator) + 52 (data) + 6 (checksum). */
const KEY_BECH32_LENGTH = 63
/** Longest input we even try to decode (BIP-173's limit); longer strings are refused before any work. */
const MAX_BECH32_LENGTH = 90

/**
 * Encodes an x-only public key (64 lowercase hex digits) as a NIP-19 `npub`.
 * Throws `INVALID_KEY` if the key is not a point on secp256k1.
 * @example
 * ```ts
 * npubEncode('7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e')
 * // 'npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg'
 * ```
 */
export function npubEncode(publicKeyHex: string): string {
  assertPublicKeyHex(publicKeyHex, 'npubEncode: publicKeyHex')
  return bech32.encode('npub', bech32.toWords(hexToBytes(publicKeyHex)))
}

/**
 * Decodes a NIP-19 `npub` to the x-only public key (64 lowercase hex digits).
 * Throws `INVALID_NIP19` (wrong prefix, case, checksum or length) or `INVALID_KEY` (not a curve point).
 * @example
 * ```ts
 * npubDecode('npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg')
 * // '7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e'
 * ```
 */
export function npubDecode(npub: string): string {
  const publicKeyHex = bytesToHex(decodeKey(npub, 'npub', 'npubDecode'))
  if (!isPublicKeyOnCurve(publicKeyHex)) {
    throw new PeersetError('INVALID_KEY', 'npubDecode: the npub does not hold a secp256k1 public key (not the x coordinate of a curve point)')
  }
  return publicKeyHex
}

/**
 * Encodes a 32-byte secret key as a NIP-19 `nsec`. Throws `INVALID_KEY` unless it is in 1..n-1.
 * @example
 * ```ts
 * import { hexToBytes } from '@noble/hashes/utils.js'
 * nsecEncode(hexToBytes('67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa'))
 * // 'nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5'
 * ```
 */
export function nsecEncode(secretKey: Uint8Array): string {
  assertSecretKeyBytes(secretKey, 'nsecEncode: secretKey')
  return bech32.encode('nsec', bech32.toWords(secretKey))
}

/**
 * Decodes a NIP-19 `nsec` to the 32-byte secret key (a new array; the caller owns it).
 * Throws `INVALID_NIP19` (wrong prefix, case, checksum or length) or `INVALID_KEY` (not in 1..n-1).
 * @example
 * ```ts
 * const secretKey = nsecDecode('nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5')
 * secretKey.length // 32
 * ```
 */
export function nsecDecode(nsec: string): Uint8Array {
  const secretKey = decodeKey(nsec, 'nsec', 'nsecDecode')
  assertSecretKeyBytes(secretKey, 'nsecDecode: the nsec')
  return secretKey
}

/** Strict bech32 decoding of a 32-byte key with the expected prefix. Messages never echo an nsec. */
function decodeKey(input: unknown, expected: KeyPrefix, fn: string): Uint8Array {
  const fail = (what: string): PeersetError => new PeersetError('INVALID_NIP19', `${fn}: ${what}`)
  if (typeof input !== 'string') {
    throw new PeersetError('INVALID_ARGUMENT', `${fn}: expected a string, got ${input === null ? 'null' : typeof input}`)
  }
  if (input.length > MAX_BECH32_LENGTH) throw fail(`too long (${input.length} characters; an ${expected} has ${KEY_BECH32_LENGTH})`)
  if (input !== input.toLowerCase()) {
    throw fail(input === input.toUpperCase() ? 'uppercase is not accepted; use lowercase' : 'mixed case is not valid bech32')
  }
  const separator = input.lastIndexOf('1')
  const prefix = separator > 0 ? input.slice(0, separator) : ''
  if (prefix !== expected) {
    if (prefix === 'npub' || prefix === 'nsec') throw fail(`expected an ${expected}, got an ${prefix}`)
    throw fail(`expected a string starting with "${expected}1"`)
  }
  const decoded = bech32.decodeUnsafe(input, MAX_BECH32_LENGTH)
  if (!decoded) throw fail('invalid bech32 (bad checksum or characters; bech32m is not accepted)')
  const bytes = bech32.fromWordsUnsafe(decoded.words)
  if (!bytes) throw fail('invalid bech32 data padding')
  if (bytes.length !== 32) throw fail(`expected 32 bytes of key data, got ${bytes.length}`)
  return bytes
}
