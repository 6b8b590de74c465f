/**
 * NIP-13 proof of work: the number of leading zero bits of an event id, a check, and mining.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { PeersetError } from '../errors.js'
import { computeEventId, type SerializableEvent } from './serialize.js'

const UTF8 = new TextEncoder()
const utf8 = (value: string): Uint8Array => UTF8.encode(value)

/** Most bits an id can have. */
const ID_BITS = 256

/**
 * Leading zero bits of a lowercase hex id (NIP-13's difficulty). Throws `PeersetError`
 * `INVALID_ARGUMENT` for anything but a non-empty lowercase hex string.
 * @example
 * ```ts
 * countLeadingZeroBits('000000000e9d97a1ab09fc381030b346cdd7a142ad57e6df0b46dc9bef6c7e2d') // 36
 * ```
 */
export function countLeadingZeroBits(idHex: string): number {
  if (typeof idHex !== 'string' || idHex.length === 0 || !/^[0-9a-f]+$/.test(idHex)) {
    throw new PeersetError('INVALID_ARGUMENT', 'countLeadingZeroBits: expected a non-empty lowercase hex string')
  }
  let bits = 0
  for (let i = 0; i < idHex.length; i++) {
    const nibble = parseInt(idHex[i]!, 16)
    if (nibble === 0) {
      bits += 4
      continue
    }
    return bits + Math.clz32(nibble) - 28
  }
  return bits
}

/**
 * Whether an event carries NIP-13 proof of work of at least `difficulty` bits: its `id` has that
 * many leading zero bits AND a `["nonce", <n>, <target>]` tag commits to a target of at least
 * `difficulty` (so an event mined for less that got lucky does not count). `difficulty` 0 is always
 * met. It trusts `event.id`: check the id (e.g. `verifyRecord`) as well. Never throws on a bad event.
 * @example
 * ```ts
 * hasProofOfWork(event, 16) // true if the id starts with 4 zero hex digits and the nonce tag says >= 16
 * ```
 */
export function hasProofOfWork(event: { readonly id: string; readonly tags: readonly (readonly string[])[] }, difficulty: number): boolean {
  assertDifficulty(difficulty, 'hasProofOfWork')
  if (difficulty === 0) return true
  if (typeof event !== 'object' || event === null) return false
  const { id, tags } = event
  if (typeof id !== 'string' || id.length !== 64 || !/^[0-9a-f]+$/.test(id)) return false
  if (countLeadingZeroBits(id) < difficulty) return false
  return committedTarget(tags) >= difficulty
}

/** Options of {@link mineProofOfWork}. */
export interface MineOptions {
  /** Give up after this many hashes (throws). Default 2^32. */
  maxIterations?: number
}

/**
 * Mines a NIP-13 nonce: returns a copy of `event` whose tags end with `["nonce", n, difficulty]`
 * (replacing any nonce tag) and whose id has at least `difficulty` leading zero bits, with that id.
 * Each extra bit doubles the work (about 2^difficulty hashes; ~300k hashes/s on one core); it runs
 * synchronously. Throws `INVALID_ARGUMENT` for bad input or when `maxIterations` runs out.
 * @example
 * ```ts
 * const { event, id } = mineProofOfWork({ pubkey, created_at, kind: 1, tags: [], content: 'hi' }, 8)
 * countLeadingZeroBits(id) >= 8 // true
 * ```
 */
export function mineProofOfWork<E extends SerializableEvent>(event: E, difficulty: number, options: MineOptions = {}): { event: E; id: string } {
  assertDifficulty(difficulty, 'mineProofOfWork')
  const maxIterations = options.maxIterations ?? 2 ** 32
  if (!Number.isSafeInteger(maxIterations) || maxIterations < 1) {
    throw new PeersetError('INVALID_ARGUMENT', 'mineProofOfWork: maxIterations must be a positive integer')
  }
  const base = event.tags.filter((tag) => tag[0] !== 'nonce').map((tag) => tag.slice())
  computeEventId({ ...event, tags: base }) // validates every field
  // The serialization is prefix + decimal nonce + suffix: only the nonce digits change.
  const tagsJson = JSON.stringify(base)
  const prefix = utf8(
    `[0,${JSON.stringify(event.pubkey)},${event.created_at},${event.kind},${tagsJson.slice(0, -1)}${base.length > 0 ? ',' : ''}["nonce","`,
  )
  const suffix = utf8(`",${JSON.stringify(String(difficulty))}]],${JSON.stringify(event.content)}]`)
  const buffer = new Uint8Array(prefix.length + 16 + suffix.length)
  buffer.set(prefix)
  for (let n = 0; n < maxIterations; n++) {
    const digits = String(n)
    for (let i = 0; i < digits.length; i++) buffer[prefix.length + i] = digits.charCodeAt(i)
    buffer.set(suffix, prefix.length + digits.length)
    const hash = sha256(buffer.subarray(0, prefix.length + digits.length + suffix.length))
    if (leadingZeroBitsOfBytes(hash) >= difficulty) {
      const mined = { ...event, tags: [...base, ['nonce', digits, String(difficulty)]] }
      return { event: mined, id: bytesToHex(hash) }
    }
  }
  throw new PeersetError('INVALID_ARGUMENT', `mineProofOfWork: no nonce of difficulty ${difficulty} within ${maxIterations} hashes`)
}

function leadingZeroBitsOfBytes(bytes: Uint8Array): number {
  let bits = 0
  for (const byte of bytes) {
    if (byte === 0) {
      bits += 8
      continue
    }
    return bits + Math.clz32(byte) - 24
  }
  return bits
}

function committedTarget(tags: unknown): number {
  if (!Array.isArray(tags)) return -1
  for (const tag of tags as unknown[]) {
    if (!Array.isArray(tag) || tag[0] !== 'nonce') continue
    const target: unknown = tag[2]
    if (typeof target === 'string' && /^(0|[1-9][0-9]{0,2})$/.test(target)) return Number(target)
    return -1
  }
  return -1
}

function assertDifficulty(difficulty: number, fn: string): void {
  if (!Number.isSafeInteger(difficulty) || difficulty < 0 || difficulty > ID_BITS) {
    throw new PeersetError('INVALID_ARGUMENT', `${fn}: difficulty must be an integer in 0..${ID_BITS}, got ${String(difficulty)}`)
  }
}
