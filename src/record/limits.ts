/** Record size limits and their validation. */
import { MAX_FRAME_BYTES } from '../protocol/messages.js'
import { PeersetError } from '../errors.js'
import type { RecordLimits } from './types.js'

/**
 * Largest `maxEventBytes` accepted by {@link resolveLimits}: a record must fit one
 * {@link MAX_FRAME_BYTES} frame together with its message header.
 * @example
 * ```ts
 * resolveLimits({ maxEventBytes: MAX_EVENT_BYTES_CEILING }) // ok
 * ```
 */
export const MAX_EVENT_BYTES_CEILING = 16_000

/**
 * Default record limits. `maxEventBytes` (12,000 bytes of `JSON.stringify(event)`) is the binding
 * limit; the others bound each part early and cheaply. Why any record within them fits one frame
 * of {@link MAX_FRAME_BYTES} (16,348 bytes):
 * - as JSON it is at most 12,000 bytes, leaving over 4 KB for a message envelope;
 * - a compact binary form is never larger than the JSON: ids, keys and the signature shrink from
 *   hex to bytes (-224), a string's length prefix (at most 2 bytes up to 16 KB) replaces its quotes
 *   and comma (3 bytes), and escapes disappear.
 *
 * `maxTextBytes` 4096 leaves room next to the longest link (2048 characters); 16 tags of up to 4
 * values keep Peerset's own five tags plus a few unknown ones (carried verbatim).
 * @example
 * ```ts
 * DEFAULT_RECORD_LIMITS.maxTextBytes // 4096
 * ```
 */
export const DEFAULT_RECORD_LIMITS: Readonly<RecordLimits> = Object.freeze({
  maxTextBytes: 4096,
  maxLinkLength: 2048,
  maxTags: 16,
  maxTagValues: 4,
  maxTagValueBytes: 2048,
  maxEventBytes: 12_000,
})

const LIMIT_KEYS = Object.keys(DEFAULT_RECORD_LIMITS) as (keyof RecordLimits)[]

/**
 * Fills `overrides` in over {@link DEFAULT_RECORD_LIMITS} after checking them: known keys only,
 * positive safe integers, `maxEventBytes` at most {@link MAX_EVENT_BYTES_CEILING}.
 * Throws `PeersetError` `INVALID_ARGUMENT` otherwise.
 * @example
 * ```ts
 * resolveLimits({ maxTextBytes: 1000 }).maxTextBytes // 1000
 * resolveLimits({ maxEventBytes: 20_000 }) // throws INVALID_ARGUMENT
 * ```
 */
export function resolveLimits(overrides?: Partial<RecordLimits>): Readonly<RecordLimits> {
  if (overrides === undefined || overrides === DEFAULT_RECORD_LIMITS) return DEFAULT_RECORD_LIMITS
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new PeersetError('INVALID_ARGUMENT', 'limits must be an object of RecordLimits fields')
  }
  const limits: RecordLimits = { ...DEFAULT_RECORD_LIMITS }
  for (const key of Object.keys(overrides)) {
    if (!(LIMIT_KEYS as string[]).includes(key)) {
      throw new PeersetError('INVALID_ARGUMENT', `limits: unknown field "${key}" (known: ${LIMIT_KEYS.join(', ')})`)
    }
    const value: unknown = overrides[key as keyof RecordLimits]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new PeersetError('INVALID_ARGUMENT', `limits.${key} must be a positive integer, got ${String(value)}`)
    }
    limits[key as keyof RecordLimits] = value
  }
  if (limits.maxEventBytes > MAX_EVENT_BYTES_CEILING) {
    throw new PeersetError('INVALID_ARGUMENT', `limits.maxEventBytes must be at most ${MAX_EVENT_BYTES_CEILING} so a record fits one transport frame, got ${limits.maxEventBytes}`)
  }
  return limits
}
