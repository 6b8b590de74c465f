/**
 * NIP-13 mining for session proofs, in slices: the event loop gets control back every
 * `MINE_SLICE_HASHES` hashes (a few ms), and mining stops as soon as it is no longer wanted (the
 * session ended, or a newer hello came). The result is the one `mineProofOfWork` would give.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { PeersetError } from '../errors.js'
import { computeEventId } from '../record/serialize.js'
import type { UnsignedEvent } from '../record/types.js'

/** Hashes between two yields to the event loop: about 3 ms of work on one core. */
export const MINE_SLICE_HASHES = 1_024

/** Options of {@link mineInSlices}. */
export interface MineInSlicesOptions {
  /** Asked before every slice; `false` stops mining (the promise rejects with `CLOSED`). */
  isWanted?: () => boolean
  /** Gives the event loop control back between slices. Default: a `setTimeout(0)`. */
  yieldNow?: () => Promise<void>
}

/**
 * A copy of `event` (with `pubkey`) whose tags end with `["nonce", n, difficulty]` and whose id has
 * at least `difficulty` leading zero bits. Rejects with `CLOSED` when `isWanted()` turns false.
 * @example
 * ```ts
 * const mined = await mineInSlices({ pubkey, created_at, kind: 22515, tags, content: '' }, 12)
 * ```
 */
export async function mineInSlices<E extends UnsignedEvent & { pubkey: string }>(event: E, difficulty: number, options: MineInSlicesOptions = {}): Promise<E> {
  const isWanted = options.isWanted ?? (() => true)
  const yieldNow = options.yieldNow ?? (() => new Promise<void>((resolve) => setTimeout(resolve, 0)))
  const base = event.tags.filter((tag) => tag[0] !== 'nonce').map((tag) => tag.slice())
  computeEventId({ ...event, tags: base }) // validates every field
  const encoder = new TextEncoder()
  const tagsJson = JSON.stringify(base)
  const prefix = encoder.encode(
    `[0,${JSON.stringify(event.pubkey)},${event.created_at},${event.kind},${tagsJson.slice(0, -1)}${base.length > 0 ? ',' : ''}["nonce","`,
  )
  const suffix = encoder.encode(`",${JSON.stringify(String(difficulty))}]],${JSON.stringify(event.content)}]`)
  const buffer = new Uint8Array(prefix.length + 16 + suffix.length)
  buffer.set(prefix)
  for (let n = 0; n < 2 ** 40; n++) {
    if (n % MINE_SLICE_HASHES === 0) {
      if (n > 0) await yieldNow()
      if (!isWanted()) throw new PeersetError('CLOSED', 'mineInSlices: no longer wanted')
    }
    const digits = String(n)
    for (let i = 0; i < digits.length; i++) buffer[prefix.length + i] = digits.charCodeAt(i)
    buffer.set(suffix, prefix.length + digits.length)
    if (leadingZeroBits(sha256(buffer.subarray(0, prefix.length + digits.length + suffix.length))) >= difficulty) {
      return { ...event, tags: [...base, ['nonce', digits, String(difficulty)]] }
    }
  }
  throw new PeersetError('INVALID_ARGUMENT', `mineInSlices: no nonce of difficulty ${difficulty}`)
}

function leadingZeroBits(bytes: Uint8Array): number {
  let bits = 0
  for (const byte of bytes) {
    if (byte !== 0) return bits + Math.clz32(byte) - 24
    bits += 8
  }
  return bits
}
