import { PeersetError } from '../errors.js'
import { createSigner, isSigner } from './keys.js'
import type { Identity, Signer } from './types.js'

/**
 * Turn what a host app passes as `identity` into a {@link Signer}: an {@link Identity}, a secret
 * key string (`nsec1...` or 64 lowercase hex digits), or any NIP-07-shaped signer (e.g. `window.nostr`).
 * @example
 * ```ts
 * const signer = resolveSigner(createIdentity())
 * const same = resolveSigner(window.nostr) // a NIP-07 extension, passed through as is
 * ```
 */
export function resolveSigner(identity: Identity | Signer | string): Signer {
  if (typeof identity === 'string') return createSigner(identity)
  if (typeof identity === 'object' && identity !== null) {
    if ('signer' in identity && isSigner(identity.signer)) return identity.signer
    if (isSigner(identity)) return identity
  }
  throw new PeersetError(
    'INVALID_ARGUMENT',
    'identity must be an Identity (createIdentity()), an nsec string, or a signer with getPublicKey() and signEvent()',
  )
}
