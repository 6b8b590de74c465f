/**
 * An additive set fingerprint: the number of ids and their sum modulo 2^256 (each id read as a
 * big-endian 256-bit number). Adding and removing an id are O(1), and the fingerprint of a union of
 * disjoint sets is the sum of their fingerprints, so order never matters. The compact digest is the
 * first 16 bytes of SHA-256(count as u32 big-endian || sum as 32 bytes big-endian), cached until
 * the set changes.
 *
 * Like negentropy's fingerprint, this detects accidental differences reliably, but it is not a
 * collision-resistant set hash: someone who controls many ids can craft two sets with equal sums.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { PeersetError } from '../errors.js'
import { toHex } from '../protocol/bytes.js'
import { DIGEST_BYTES, EMPTY_DIGEST, MAX_FINGERPRINT_COUNT } from '../protocol/messages.js'

const LIMBS = 8
const TWO_32 = 0x1_0000_0000

/**
 * Parses 64 lowercase hex digits into 8 little-endian uint32 limbs (limb 0 = least significant).
 * Returns false (leaving `out` partly written) if `id` is not 64 lowercase hex digits.
 */
function parseId(id: string, out: Uint32Array): boolean {
  if (typeof id !== 'string' || id.length !== 64) return false
  for (let limb = 0; limb < LIMBS; limb++) {
    let value = 0
    const start = 56 - 8 * limb
    for (let i = start; i < start + 8; i++) {
      const c = id.charCodeAt(i)
      let digit: number
      if (c >= 48 && c <= 57) digit = c - 48
      else if (c >= 97 && c <= 102) digit = c - 87
      else return false
      value = value * 16 + digit
    }
    out[limb] = value
  }
  return true
}

/**
 * A mutable, order-independent fingerprint of a set of 32-byte ids (lowercase hex).
 *
 * @example
 * ```ts
 * const a = new Fingerprint()
 * a.add(idX); a.add(idY)
 * const b = new Fingerprint()
 * b.add(idY); b.add(idX)
 * a.digest() === b.digest() // true
 * a.remove(idY)
 * a.count // 1
 * ```
 */
export class Fingerprint {
  #count = 0
  readonly #sum = new Uint32Array(LIMBS)
  readonly #scratch = new Uint32Array(LIMBS)
  #digest: string | undefined = EMPTY_DIGEST

  /** Number of ids in the set. */
  get count(): number {
    return this.#count
  }

  /** Add an id (64 lowercase hex digits). The caller makes sure it is not in the set already. */
  add(id: string): void {
    this.#load(id, 'add')
    if (this.#count >= MAX_FINGERPRINT_COUNT) {
      throw new PeersetError('INVALID_ARGUMENT', `Fingerprint.add: more than ${MAX_FINGERPRINT_COUNT} ids`)
    }
    this.#addLimbs(this.#scratch)
    this.#count++
  }

  /** Remove an id. The caller makes sure it is in the set. */
  remove(id: string): void {
    this.#load(id, 'remove')
    if (this.#count === 0) throw new PeersetError('INVALID_ARGUMENT', 'Fingerprint.remove: the set is empty')
    this.#subtractLimbs(this.#scratch)
    this.#count--
  }

  /** Add every id of another fingerprint's set (the sets must be disjoint). */
  merge(other: Fingerprint): void {
    if (this.#count + other.#count > MAX_FINGERPRINT_COUNT) {
      throw new PeersetError('INVALID_ARGUMENT', `Fingerprint.merge: more than ${MAX_FINGERPRINT_COUNT} ids`)
    }
    this.#addLimbs(other.#sum)
    this.#count += other.#count
  }

  /** Remove every id of another fingerprint's set (a subset of this one). */
  subtract(other: Fingerprint): void {
    if (other.#count > this.#count) throw new PeersetError('INVALID_ARGUMENT', 'Fingerprint.subtract: not a subset')
    this.#subtractLimbs(other.#sum)
    this.#count -= other.#count
  }

  /** A copy. */
  clone(): Fingerprint {
    const copy = new Fingerprint()
    copy.#sum.set(this.#sum)
    copy.#count = this.#count
    copy.#digest = this.#digest
    return copy
  }

  /** Whether two fingerprints are equal (same count and same sum). */
  equals(other: Fingerprint): boolean {
    if (this.#count !== other.#count) return false
    for (let i = 0; i < LIMBS; i++) if (this.#sum[i] !== other.#sum[i]) return false
    return true
  }

  /** Hex of the 16-byte digest, SHA-256(count u32 BE || sum 32 bytes BE)[0..16]. Cached. */
  digest(): string {
    if (this.#digest !== undefined) return this.#digest
    const input = new Uint8Array(36)
    const view = new DataView(input.buffer)
    view.setUint32(0, this.#count)
    for (let limb = 0; limb < LIMBS; limb++) view.setUint32(4 + 4 * (LIMBS - 1 - limb), this.#sum[limb]!)
    const hex = toHex(sha256(input).subarray(0, DIGEST_BYTES))
    this.#digest = hex
    return hex
  }

  /** `{ count, digest }`, as the protocol carries it. */
  value(): { count: number; digest: string } {
    return { count: this.#count, digest: this.digest() }
  }

  /**
   * The fingerprint of a set of ids.
   * @example
   * ```ts
   * Fingerprint.of([idX, idY]).count // 2
   * ```
   */
  static of(ids: Iterable<string>): Fingerprint {
    const fp = new Fingerprint()
    for (const id of ids) fp.add(id)
    return fp
  }

  #load(id: string, fn: string): void {
    if (!parseId(id, this.#scratch)) {
      throw new PeersetError('INVALID_ARGUMENT', `Fingerprint.${fn}: id must be 64 lowercase hex digits`)
    }
  }

  #addLimbs(limbs: Uint32Array): void {
    let carry = 0
    for (let i = 0; i < LIMBS; i++) {
      const s = this.#sum[i]! + limbs[i]! + carry
      if (s >= TWO_32) {
        this.#sum[i] = s - TWO_32
        carry = 1
      } else {
        this.#sum[i] = s
        carry = 0
      }
    }
    this.#digest = undefined
  }

  #subtractLimbs(limbs: Uint32Array): void {
    let borrow = 0
    for (let i = 0; i < LIMBS; i++) {
      const s = this.#sum[i]! - limbs[i]! - borrow
      if (s < 0) {
        this.#sum[i] = s + TWO_32
        borrow = 1
      } else {
        this.#sum[i] = s
        borrow = 0
      }
    }
    this.#digest = undefined
  }
}
