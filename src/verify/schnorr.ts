/** The one place signatures are checked (noble's audited BIP-340), shared by the main thread and the workers. */
import { schnorr } from '@noble/curves/secp256k1.js'
import { hexToBytes } from '@noble/hashes/utils.js'

/** Whether a BIP-340 signature verifies; anything malformed is `false`, never a throw. */
export function schnorrVerifies(sig: Uint8Array | string, id: Uint8Array | string, pubkey: Uint8Array | string): boolean {
  try {
    return schnorr.verify(typeof sig === 'string' ? hexToBytes(sig) : sig, typeof id === 'string' ? hexToBytes(id) : id, typeof pubkey === 'string' ? hexToBytes(pubkey) : pubkey)
  } catch {
    return false
  }
}
