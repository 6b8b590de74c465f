/**
 * Identities and the default in-memory signer. The secret key lives only in a closure: it is never
 * persisted, logged or serialized by Peerset.
 */
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { PeersetError } from '../errors.js'
import { computeEventId } from '../record/serialize.js'
import type { NostrEvent, UnsignedEvent } from '../record/types.js'
import { assertSecretKeyBytes, describeHexMismatch, isLowerHex64 } from './key-format.js'
import { npubEncode, nsecDecode, nsecEncode } from './nip19.js'
import type { Identity, Signer } from './types.js'

/**
 * Creates a new random identity (a fresh secp256k1 key from the platform's CSPRNG).
 * @example
 * ```ts
 * const me = createIdentity()
 * me.npub // 'npub1…'
 * await me.signer.getPublicKey() === me.publicKey // true
 * ```
 */
export function createIdentity(): Identity {
  return identityFromSecretKey(schnorr.utils.randomSecretKey())
}

/**
 * Restores an identity from its NIP-19 `nsec`. Throws `INVALID_NIP19` or `INVALID_KEY`.
 * @example
 * ```ts
 * const me = identityFromNsec('nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5')
 * me.publicKey // '7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e'
 * ```
 */
export function identityFromNsec(nsec: string): Identity {
  return identityFromSecretKey(nsecDecode(nsec))
}

/**
 * The default {@link Signer}: signs with a secret key held in memory (a private copy, in a closure).
 * `secret` is 32 bytes, an `nsec1…` string or 64 lowercase hex digits.
 *
 * `signEvent` fills `pubkey`, computes the NIP-01 id and signs it with BIP-340 Schnorr (fresh
 * auxiliary randomness). It returns a new event (tags are copied) and rejects with `SIGNER_FAILED`
 * an event that names another `pubkey`, with `INVALID_ARGUMENT` a malformed one.
 * @example
 * ```ts
 * const signer = createSigner('nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5')
 * const event = await signer.signEvent({ kind: 1, created_at: 1700000000, tags: [], content: 'hi' })
 * event.sig.length // 128
 * ```
 */
export function createSigner(secret: Uint8Array | string): Signer {
  const secretKey = secretKeyFromInput(secret)
  const publicKey = bytesToHex(schnorr.getPublicKey(secretKey))
  return signerFor(secretKey, publicKey)
}

/**
 * Whether `value` looks like a {@link Signer} (a NIP-07 `window.nostr` does).
 * @example
 * ```ts
 * isSigner(createIdentity().signer) // true
 * isSigner({ getPublicKey: 'x' })   // false
 * ```
 */
export function isSigner(value: unknown): value is Signer {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Partial<Record<keyof Signer, unknown>>
  return typeof candidate.getPublicKey === 'function' && typeof candidate.signEvent === 'function'
}

function identityFromSecretKey(secretKey: Uint8Array): Identity {
  const publicKey = bytesToHex(schnorr.getPublicKey(secretKey))
  const identity = { publicKey, npub: npubEncode(publicKey), signer: signerFor(secretKey, publicKey) }
  // `nsec` is readable but not enumerable: JSON.stringify, console.log and spreads leave it out.
  Object.defineProperty(identity, 'nsec', { value: nsecEncode(secretKey), enumerable: false })
  return Object.freeze(identity) as Identity
}

function signerFor(secretKey: Uint8Array, publicKey: string): Signer {
  return Object.freeze({
    getPublicKey: async (): Promise<string> => publicKey,
    signEvent: async (event: UnsignedEvent): Promise<NostrEvent> => {
      const template = copyUnsignedEvent(event)
      if (template.pubkey !== undefined && template.pubkey !== publicKey) {
        throw new PeersetError('SIGNER_FAILED', `signEvent: the event names pubkey ${template.pubkey}, but this signer holds ${publicKey}`)
      }
      const fields = { pubkey: publicKey, created_at: template.created_at, kind: template.kind, tags: template.tags, content: template.content }
      const id = computeEventId(fields)
      const sig = bytesToHex(schnorr.sign(hexToBytes(id), secretKey))
      return { id, ...fields, sig }
    },
  })
}

/** A copy of the caller's event with the shape checked (the id is computed from the copy only). */
function copyUnsignedEvent(event: unknown): UnsignedEvent {
  if (typeof event !== 'object' || event === null) {
    throw new PeersetError('INVALID_ARGUMENT', 'signEvent: expected an event object')
  }
  const e = event as Record<string, unknown>
  const tags = e.tags
  if (!Array.isArray(tags) || !tags.every((tag) => Array.isArray(tag))) {
    throw new PeersetError('INVALID_ARGUMENT', 'signEvent: tags must be an array of string arrays')
  }
  const copy: UnsignedEvent = {
    created_at: e.created_at as number,
    kind: e.kind as number,
    tags: (tags as unknown[][]).map((tag) => tag.slice() as string[]),
    content: e.content as string,
  }
  if (e.pubkey !== undefined) {
    if (!isLowerHex64(e.pubkey)) throw new PeersetError('INVALID_ARGUMENT', 'signEvent: pubkey must be 64 lowercase hex digits')
    copy.pubkey = e.pubkey
  }
  return copy // remaining field checks happen in computeEventId
}

function secretKeyFromInput(secret: unknown): Uint8Array {
  if (secret instanceof Uint8Array) {
    assertSecretKeyBytes(secret, 'createSigner: secret')
    return Uint8Array.from(secret)
  }
  if (typeof secret !== 'string') {
    throw new PeersetError('INVALID_ARGUMENT', 'createSigner: secret must be 32 bytes, an nsec or 64 lowercase hex digits')
  }
  if (secret.startsWith('nsec1')) return nsecDecode(secret)
  if (secret.startsWith('npub1')) {
    throw new PeersetError('INVALID_KEY', 'createSigner: got an npub (a public key); a signer needs the secret key (nsec)')
  }
  if (!isLowerHex64(secret)) {
    throw new PeersetError('INVALID_KEY', `createSigner: a hex secret key must be ${describeHexMismatch(secret as string, 64)}`)
  }
  const secretKey = hexToBytes(secret)
  assertSecretKeyBytes(secretKey, 'createSigner: secret')
  return secretKey
}
