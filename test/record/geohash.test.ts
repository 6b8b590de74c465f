import { describe, expect, it } from 'vitest'
import { encodeGeohash } from '../../src/record/index.js'

describe('encodeGeohash', () => {
  it.each([
    [57.64911, 10.40744, 11, 'u4pruydqqvj'],
    [57.64911, 10.40744, 9, 'u4pruydqq'],
    [42.6, -5.6, 5, 'ezs42'],
    [-25.382708, -49.265506, 12, '6gkzwgjzn820'],
    [37.8324, 112.5584, 9, 'ww8p1r4t8'],
    [0, 0, 4, 's000'],
    [-90, -180, 3, '000'],
    [90, 180, 3, 'zzz'],
  ])('(%d, %d) at precision %d is %s', (lat, lon, precision, expected) => {
    expect(encodeGeohash(lat, lon, precision)).toBe(expected)
  })

  it('defaults to 9 characters, and shorter geohashes are prefixes of longer ones', () => {
    const full = encodeGeohash(48.8584, 2.2945, 12)
    expect(encodeGeohash(48.8584, 2.2945)).toBe(full.slice(0, 9))
    for (let p = 1; p <= 12; p++) expect(encodeGeohash(48.8584, 2.2945, p)).toBe(full.slice(0, p))
  })

  it('refuses out-of-range or non-finite input and bad precisions', () => {
    const invalid = expect.objectContaining({ code: 'INVALID_ARGUMENT' })
    expect(() => encodeGeohash(90.0001, 0)).toThrow(invalid)
    expect(() => encodeGeohash(0, -180.5)).toThrow(invalid)
    expect(() => encodeGeohash(Number.NaN, 0)).toThrow(invalid)
    expect(() => encodeGeohash(0, Number.POSITIVE_INFINITY)).toThrow(invalid)
    expect(() => encodeGeohash(0, 0, 0)).toThrow(invalid)
    expect(() => encodeGeohash(0, 0, 13)).toThrow(invalid)
    expect(() => encodeGeohash(0, 0, 2.5)).toThrow(invalid)
  })
})
