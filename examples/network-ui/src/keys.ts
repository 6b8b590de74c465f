/**
 * The nsec on this device: kept only in this page's memory, unless the user ticks "Remember me on
 * this device"; then it is written, unencrypted, to this browser's localStorage for this origin.
 */
import type { Signer } from 'peerset'

const STORAGE_KEY = 'peerset-network-ui:nsec'

export function rememberedNsec(): string | undefined {
  try {
    return localStorage.getItem(STORAGE_KEY) ?? undefined
  } catch {
    return undefined
  }
}

export function rememberNsec(nsec: string): void {
  try {
    localStorage.setItem(STORAGE_KEY, nsec)
  } catch {
    // Storage refused (private mode, quota): the key simply is not remembered.
  }
}

export function forgetNsec(): void {
  try {
    localStorage.removeItem(STORAGE_KEY)
  } catch {
    // Nothing to forget.
  }
}

/** A NIP-07 browser extension's signer (`window.nostr`), if there is one. */
export function extensionSigner(): Signer | undefined {
  const nostr = (globalThis as { nostr?: Partial<Signer> }).nostr
  return typeof nostr?.getPublicKey === 'function' && typeof nostr.signEvent === 'function' ? (nostr as Signer) : undefined
}
