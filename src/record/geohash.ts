/** Geohash encoding (Niemeyer's public-domain scheme), used for a record's `g` tag. */
import { PeersetError } from '../errors.js'

const GEOHASH_ALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz'
/** Longest geohash produced: 12 characters (60 bits), a cell of a few centimetres. */
export const MAX_GEOHASH_PRECISION = 12

/**
 * Encodes a point as a geohash of `precision` characters (1..12). Bits alternate longitude first;
 * each bisection step is exact in binary floating point, so every correct implementation agrees.
 * Throws `PeersetError` `INVALID_ARGUMENT` on non-finite or out-of-range input.
 * @example
 * ```ts
 * encodeGeohash(57.64911, 10.40744, 11) // 'u4pruydqqvj'
 * ```
 */
export function encodeGeohash(lat: number, lon: number, precision = 9): string {
  if (typeof lat !== 'number' || !Number.isFinite(lat) || lat < -90 || lat > 90) {
    throw new PeersetError('INVALID_ARGUMENT', `encodeGeohash: lat must be a finite number in [-90, 90], got ${String(lat)}`)
  }
  if (typeof lon !== 'number' || !Number.isFinite(lon) || lon < -180 || lon > 180) {
    throw new PeersetError('INVALID_ARGUMENT', `encodeGeohash: lon must be a finite number in [-180, 180], got ${String(lon)}`)
  }
  if (!Number.isInteger(precision) || precision < 1 || precision > MAX_GEOHASH_PRECISION) {
    throw new PeersetError('INVALID_ARGUMENT', `encodeGeohash: precision must be an integer in 1..${MAX_GEOHASH_PRECISION}, got ${String(precision)}`)
  }
  let latMin = -90
  let latMax = 90
  let lonMin = -180
  let lonMax = 180
  let hash = ''
  let bit = 0
  let value = 0
  let evenBit = true // even bits refine longitude, odd bits latitude
  while (hash.length < precision) {
    if (evenBit) {
      const mid = (lonMin + lonMax) / 2
      if (lon >= mid) {
        value = value * 2 + 1
        lonMin = mid
      } else {
        value *= 2
        lonMax = mid
      }
    } else {
      const mid = (latMin + latMax) / 2
      if (lat >= mid) {
        value = value * 2 + 1
        latMin = mid
      } else {
        value *= 2
        latMax = mid
      }
    }
    evenBit = !evenBit
    if (++bit === 5) {
      hash += GEOHASH_ALPHABET.charAt(value)
      bit = 0
      value = 0
    }
  }
  return hash
}
