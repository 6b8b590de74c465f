/** NIP-13 proof of work: counting, checking, mining. */
import { describe, expect, it } from 'vitest'
import { computeEventId } from '../../src/record/index.js'
import { countLeadingZeroBits, hasProofOfWork, mineProofOfWork } from '../../src/record/index.js'

describe('countLeadingZeroBits', () => {
  it('matches NIP-13 and edge cases', () => {
    expect(countLeadingZeroBits('000000000e9d97a1ab09fc381030b346cdd7a142ad57e6df0b46dc9bef6c7e2d')).toBe(36) // NIP-13's example
    expect(countLeadingZeroBits('000006d8c378af1779d2feebc7603a125d99eca0ccf1085959b307f64e5dd358')).toBe(21)
    expect(countLeadingZeroBits('f'.repeat(64))).toBe(0)
    expect(countLeadingZeroBits('7' + 'f'.repeat(63))).toBe(1)
    expect(countLeadingZeroBits('1' + 'f'.repeat(63))).toBe(3)
    expect(countLeadingZeroBits('0'.repeat(64))).toBe(256)
  })

  it('refuses what is not lowercase hex', () => {
    for (const bad of ['', 'ABC', 'xyz', 42 as unknown as string]) expect(() => countLeadingZeroBits(bad)).toThrow(/lowercase hex/)
  })
})

describe('hasProofOfWork', () => {
  const nip13 = {
    id: '000006d8c378af1779d2feebc7603a125d99eca0ccf1085959b307f64e5dd358',
    tags: [['nonce', '776797', '20']],
  }

  it('needs enough leading zero bits and a committed target at least as high', () => {
    expect(hasProofOfWork(nip13, 20)).toBe(true)
    expect(hasProofOfWork(nip13, 21)).toBe(false) // lucky bit 21: the target committed to is 20
    expect(hasProofOfWork({ ...nip13, tags: [['nonce', '776797', '21']] }, 21)).toBe(true)
    expect(hasProofOfWork({ ...nip13, tags: [] }, 20)).toBe(false)
    expect(hasProofOfWork({ ...nip13, tags: [['nonce', '776797']] }, 20)).toBe(false)
    expect(hasProofOfWork({ id: 'f'.repeat(64), tags: [['nonce', '1', '8']] }, 8)).toBe(false)
  })

  it('difficulty 0 is always met; a bad difficulty throws; a bad event is false', () => {
    expect(hasProofOfWork({ id: 'f'.repeat(64), tags: [] }, 0)).toBe(true)
    expect(() => hasProofOfWork(nip13, -1)).toThrow(/difficulty/)
    expect(hasProofOfWork({ id: 'zz', tags: [['nonce', '1', '8']] }, 8)).toBe(false)
  })
})

describe('mineProofOfWork', () => {
  const event = { pubkey: 'a4'.repeat(32), created_at: 1_700_000_000, kind: 1, tags: [['t', 'x'], ['nonce', '9', '1']], content: 'mine "me"' }

  it('finds a nonce whose real NIP-01 id has the bits, replacing an old nonce tag', () => {
    const { event: mined, id } = mineProofOfWork(event, 12)
    expect(mined.tags).toEqual([['t', 'x'], ['nonce', expect.stringMatching(/^\d+$/), '12']])
    expect(computeEventId(mined)).toBe(id)
    expect(countLeadingZeroBits(id)).toBeGreaterThanOrEqual(12)
    expect(hasProofOfWork({ id, tags: mined.tags }, 12)).toBe(true)
  })

  it('gives up after maxIterations', () => {
    expect(() => mineProofOfWork(event, 40, { maxIterations: 100 })).toThrow(/within 100 hashes/)
  })
})
