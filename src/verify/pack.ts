/**
 * The wire format between the pool and its workers: each check as 128 bytes (signature 64, id 32,
 * public key 32) in one buffer that is transferred, not copied; answers as one byte each (1 = valid).
 */
import type { SignatureCheck } from './types.js'

/** Bytes of one packed check. */
export const CHECK_BYTES = 128

/** A request to a worker. */
export interface VerifyRequest {
  job: number
  /** `count` checks of {@link CHECK_BYTES} bytes each. */
  packed: Uint8Array
}

/** A worker's answer: one byte per check, 1 when the signature verifies. */
export interface VerifyAnswer {
  job: number
  valid: Uint8Array
}

const HEX = /^[0-9a-f]*$/

/** Whether a check has the exact lowercase hex lengths (anything else is `false` without asking a worker). */
export function isWellFormedCheck(check: SignatureCheck): boolean {
  return (
    typeof check === 'object' &&
    check !== null &&
    typeof check.sig === 'string' &&
    typeof check.id === 'string' &&
    typeof check.pubkey === 'string' &&
    check.sig.length === 128 &&
    check.id.length === 64 &&
    check.pubkey.length === 64 &&
    HEX.test(check.sig) &&
    HEX.test(check.id) &&
    HEX.test(check.pubkey)
  )
}

/** Pack well-formed checks (see {@link isWellFormedCheck}) into one buffer. */
export function packChecks(checks: readonly SignatureCheck[]): Uint8Array {
  const out = new Uint8Array(checks.length * CHECK_BYTES)
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i]!
    const at = i * CHECK_BYTES
    writeHex(out, at, check.sig)
    writeHex(out, at + 64, check.id)
    writeHex(out, at + 96, check.pubkey)
  }
  return out
}

/** The value of a lowercase hex digit's char code (the check is well-formed: no other chars). */
function nibble(c: number): number {
  return c <= 57 ? c - 48 : c - 87
}

/** Hex to bytes with char codes: no substring and no `parseInt` per byte (this runs on the calling thread for every check). */
function writeHex(out: Uint8Array, at: number, hex: string): void {
  for (let i = 0, j = at; i < hex.length; i += 2, j++) out[j] = (nibble(hex.charCodeAt(i)) << 4) | nibble(hex.charCodeAt(i + 1))
}
