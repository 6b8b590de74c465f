/**
 * The exact spellings of values in a record's tags (internal). Each value has one canonical form,
 * checked on read, so a record means one thing to every reader.
 */

/**
 * RFC 9562 layout, lowercase: 8-4-4-4-12 hex digits with the RFC variant (`10xx`: 8, 9, a or b).
 * Any version digit is accepted on read; the nil and max uuids fail the variant check.
 */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** Whether `value` is a lowercase RFC 9562 uuid string. */
export function isRecordUuid(value: unknown): value is string {
  return typeof value === 'string' && value.length === 36 && UUID_PATTERN.test(value)
}

/** A decimal integer with no sign, no leading zeros and no exponent. */
const UNIX_SECONDS_PATTERN = /^(0|[1-9][0-9]{0,15})$/

/** Parses a canonical decimal non-negative safe integer (e.g. NIP-40 `expiration`), else `undefined`. */
export function parseUnixSeconds(text: string): number | undefined {
  if (!UNIX_SECONDS_PATTERN.test(text)) return undefined
  const value = Number(text)
  return Number.isSafeInteger(value) ? value : undefined
}

/** Decimal places kept in a `geo` tag coordinate: 1e-7 degrees is about 1.1 cm. */
export const COORDINATE_DECIMALS = 7

/**
 * A coordinate: optional `-`, integer part without leading zeros, then up to 7 decimals with no
 * trailing zero. `-0` is not canonical (see {@link formatCoordinate}).
 */
const COORDINATE_PATTERN = /^-?(0|[1-9][0-9]{0,2})(\.[0-9]{0,6}[1-9])?$/

/**
 * The canonical spelling of a coordinate: rounded to 7 decimals, no exponent, no trailing zeros,
 * no `-0`. E.g. 57.64911 -> "57.64911", 1e-9 -> "0", -12.5 -> "-12.5".
 */
export function formatCoordinate(degrees: number): string {
  const fixed = degrees.toFixed(COORDINATE_DECIMALS)
  const trimmed = fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed
  return trimmed === '-0' ? '0' : trimmed
}

/** Parses a canonical coordinate with `|value| <= limit`, else `undefined`. */
export function parseCoordinate(text: string, limit: number): number | undefined {
  if (text === '-0' || !COORDINATE_PATTERN.test(text)) return undefined
  const value = Number(text)
  return value >= -limit && value <= limit ? value : undefined
}
