import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EMPTY_DIGEST } from '../../src/protocol/messages.js'
import { Fingerprint } from '../../src/sync/fingerprint.js'

const idArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(bytesToHex)
const idSetArb = fc.uniqueArray(idArb, { maxLength: 60 })

/** The definition, with BigInt: SHA-256(count u32 BE || (sum of ids mod 2^256) BE)[0..16]. */
function referenceDigest(ids: string[]): string {
  const sum = ids.reduce((acc, id) => (acc + BigInt(`0x${id}`)) % 2n ** 256n, 0n)
  const input = new Uint8Array(36)
  new DataView(input.buffer).setUint32(0, ids.length)
  input.set(Buffer.from(sum.toString(16).padStart(64, '0'), 'hex'), 4)
  return bytesToHex(sha256(input).subarray(0, 16))
}

describe('Fingerprint', () => {
  it('is count + sum of ids mod 2^256, digested with SHA-256 (matches a BigInt reference)', () => {
    fc.assert(
      fc.property(idSetArb, (ids) => {
        const fp = Fingerprint.of(ids)
        expect(fp.count).toBe(ids.length)
        expect(fp.digest()).toBe(referenceDigest(ids))
      }),
    )
  })

  it('wraps around at 2^256 (carries through every limb)', () => {
    const max = 'f'.repeat(64)
    const one = '0'.repeat(63) + '1'
    expect(Fingerprint.of([max, one]).digest()).toBe(referenceDigest([max, one]))
  })

  it('digests the empty set to EMPTY_DIGEST', () => {
    expect(new Fingerprint().digest()).toBe(EMPTY_DIGEST)
    expect(referenceDigest([])).toBe(EMPTY_DIGEST)
  })

  it('does not depend on insertion order', () => {
    fc.assert(
      fc.property(idSetArb.chain((ids) => fc.tuple(fc.constant(ids), fc.shuffledSubarray(ids, { minLength: ids.length }))), ([ids, shuffled]) => {
        expect(Fingerprint.of(shuffled).digest()).toBe(Fingerprint.of(ids).digest())
        expect(Fingerprint.of(shuffled).equals(Fingerprint.of(ids))).toBe(true)
      }),
    )
  })

  it('returns to the same digest after add-then-remove', () => {
    fc.assert(
      fc.property(idSetArb, idSetArb, (base, extra) => {
        const fp = Fingerprint.of(base)
        const before = fp.digest()
        const added = extra.filter((x) => !base.includes(x))
        for (const id of added) fp.add(id)
        for (const id of [...added].reverse()) fp.remove(id)
        expect(fp.digest()).toBe(before)
        expect(fp.count).toBe(base.length)
      }),
    )
  })

  it('gives equal digests to equal sets and different digests to different sets', () => {
    fc.assert(
      fc.property(idSetArb, idSetArb, (a, b) => {
        const same = a.length === b.length && a.every((x) => b.includes(x))
        expect(Fingerprint.of(a).digest() === Fingerprint.of(b).digest()).toBe(same)
      }),
    )
  })

  it('merges and subtracts disjoint sets', () => {
    fc.assert(
      fc.property(idSetArb, idSetArb, (a, b) => {
        const bOnly = b.filter((x) => !a.includes(x))
        const union = Fingerprint.of(a)
        union.merge(Fingerprint.of(bOnly))
        expect(union.digest()).toBe(Fingerprint.of([...bOnly, ...a]).digest())
        union.subtract(Fingerprint.of(a))
        expect(union.digest()).toBe(Fingerprint.of(bOnly).digest())
      }),
    )
  })

  it('refuses ids that are not 64 lowercase hex digits, leaving the set unchanged', () => {
    const fp = Fingerprint.of(['ab'.repeat(32)])
    const digest = fp.digest()
    for (const bad of ['AB'.repeat(32), 'ab'.repeat(31), 'xy'.repeat(32)]) {
      expect(() => fp.add(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    }
    expect(fp.digest()).toBe(digest)
    expect(() => new Fingerprint().remove('ab'.repeat(32))).toThrow(/empty/)
  })

  it('caches the digest until the set changes', () => {
    const fp = Fingerprint.of(['01'.repeat(32)])
    const d1 = fp.digest()
    expect(fp.digest()).toBe(d1)
    fp.add('02'.repeat(32))
    expect(fp.digest()).not.toBe(d1)
    expect(fp.clone().digest()).toBe(fp.digest())
  })
})
