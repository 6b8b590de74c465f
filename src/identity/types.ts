import type { NostrEvent, UnsignedEvent } from '../record/types.js'

/**
 * Signs Nostr events; shaped like NIP-07's `window.nostr`, so a browser extension or a remote
 * signer (NIP-46) can be passed as is and Peerset never sees the secret key.
 */
export interface Signer {
  /** The x-only public key, lowercase hex. */
  getPublicKey(): Promise<string>
  /** Returns the event completed with `pubkey`, `id` and `sig`. */
  signEvent(event: UnsignedEvent): Promise<NostrEvent>
}

/** A Nostr identity held in memory. Peerset never persists it. */
export interface Identity {
  /** x-only public key, lowercase hex. */
  readonly publicKey: string
  /** NIP-19 `npub1...`. */
  readonly npub: string
  /** NIP-19 `nsec1...`. Keep it secret. */
  readonly nsec: string
  /** A signer that holds the key in memory. */
  readonly signer: Signer
}
