/** The token bucket behind every rate limit. */
import { describe, expect, it } from 'vitest'
import { TokenBucket } from '../../src/session/index.js'

describe('TokenBucket', () => {
  it('starts full, empties, and refills at its rate up to its capacity', () => {
    const bucket = new TokenBucket(10, 20, 0)
    expect(bucket.take(20, 0)).toBe(true)
    expect(bucket.take(1, 0)).toBe(false)
    expect(bucket.take(5, 500)).toBe(true)
    expect(bucket.available(500)).toBe(0)
    expect(bucket.available(60_000)).toBe(20)
  })

  it('takes all or nothing', () => {
    const bucket = new TokenBucket(1, 5, 0)
    expect(bucket.take(6, 0)).toBe(false)
    expect(bucket.available(0)).toBe(5)
  })

  it('treats a clock running backwards as no time passing', () => {
    const bucket = new TokenBucket(1000, 10, 1_000)
    bucket.take(10, 1_000)
    expect(bucket.available(0)).toBe(0)
    expect(bucket.available(1_001)).toBe(1)
  })

  it('validates its arguments', () => {
    expect(() => new TokenBucket(-1, 1, 0)).toThrow(/ratePerSecond/)
    expect(() => new TokenBucket(1, 0, 0)).toThrow(/capacity/)
    expect(() => new TokenBucket(1, 1, Number.NaN)).toThrow(/nowMs/)
  })
})
