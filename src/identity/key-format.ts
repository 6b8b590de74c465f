/**
 * Key format checks shared by the identity and record modules (internal; not re-exported).
 * Hex is always lowercase with an exact length: Nostr ids, keys and signatures have one spelling.
 */
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { PeersetError } from '../errors.js'

/** 1 for the char codes of lowercase hex digits, 0 for other codes below 128. */
const LOWER_HEX_DIGIT = new Uint8Array(128)
for (let i = 0; i < 16; i++) LOWER_HEX_DIGIT['0123456789abcdef'.charCodeAt(i)] = 1

/**
 * Whether `value` is a string of exactly `chars` lowercase hex digits. A table lookup per char:
 * about 3 times faster than a regular expression, and this runs for every id, key and signature
 * read on open and received from peers (issue 14).
 */
export function isLowerHex(value: unknown, chars: number): value is string {
  if (typeof value !== 'string' || value.length !== chars) return false
  for (let i = 0; i < chars; i++) {
    const c = value.charCodeAt(i)
    if (c > 127 || LOWER_HEX_DIGIT[c] === 0) return false
  }
  return true
}

/** Whether `value` is a string of exactly 64 lowercase hex digits (an id or x-only public key). */
export function isLowerHex64(value: unknown): value is string {
  return isLowerHex(value, 64)
}

/** Whether `value` is a string of exactly 128 lowercase hex digits (a BIP-340 signature). */
export function isLowerHex128(value: unknown): value is string {
  return isLowerHex(value, 128)
}

/** Whether 64 lowercase hex digits are the x coordinate of a point on secp256k1 (BIP-340 lift_x). */
export function isPublicKeyOnCurve(publicKeyHex: string): boolean {
  try {
    schnorr.utils.lift_x(BigInt(`0x${publicKeyHex}`))
    return true
  } catch {
    return false
  }
}

/** Throws unless `publicKeyHex` is a lowercase x-only secp256k1 public key. `label` names the argument. */
export function assertPublicKeyHex(publicKeyHex: unknown, label: string): asserts publicKeyHex is string {
  if (typeof publicKeyHex !== 'string') {
    throw new PeersetError('INVALID_ARGUMENT', `${label} must be a string of 64 lowercase hex digits, got ${typeof publicKeyHex}`)
  }
  if (!isLowerHex64(publicKeyHex)) throw new PeersetError('INVALID_KEY', `${label} must be ${describeHexMismatch(publicKeyHex as string, 64)}`)
  if (!isPublicKeyOnCurve(publicKeyHex)) {
    throw new PeersetError('INVALID_KEY', `${label} is not the x coordinate of a secp256k1 point`)
  }
}

/** Throws unless `secretKey` is 32 bytes holding a scalar in 1..n-1. `label` names the argument. */
export function assertSecretKeyBytes(secretKey: unknown, label: string): asserts secretKey is Uint8Array {
  if (!(secretKey instanceof Uint8Array)) {
    throw new PeersetError('INVALID_ARGUMENT', `${label} must be a Uint8Array of 32 bytes`)
  }
  if (secretKey.length !== 32) {
    throw new PeersetError('INVALID_KEY', `${label} must be 32 bytes, got ${secretKey.length}`)
  }
  // `schnorr.Point.Fn` is the scalar field: importing `secp256k1` (ECDSA) for its `isValidSecretKey`
  // would add about 3.7 KB gzip to a browser bundle that never signs with ECDSA.
  if (!schnorr.Point.Fn.isValidNot0(BigInt(`0x${bytesToHex(secretKey)}`))) {
    throw new PeersetError('INVALID_KEY', `${label} is not a valid secp256k1 secret key (must be in 1..n-1)`)
  }
}

/** Says how `text` misses "`length` lowercase hex digits" (never echoes the text: it may be secret). */
export function describeHexMismatch(text: string, length: number): string {
  const why = text.length !== length ? `got ${text.length} characters` : /[A-F]/.test(text) ? 'uppercase is not accepted' : 'got non-hex characters'
  return `${length} lowercase hex digits (${why})`
}
