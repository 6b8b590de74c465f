/**
 * Granularity strategies: how time maps to sync buckets. Buckets are absolute and epoch-aligned
 * (bucket `b` covers `[b * intervalMs, (b + 1) * intervalMs)` in UTC), so two peers that started on
 * different days, in different time zones, still agree on every bucket number.
 */
import { assertKnownOptions, PeersetError } from '../errors.js'
import type { Granularity, GranularityDescriptor } from './types.js'

/**
 * The default retention window: 90 days, in milliseconds.
 *
 * @example
 * ```ts
 * dailyBuckets({ retentionMs: DEFAULT_RETENTION_MS / 3 }) // keep 30 days
 * ```
 */
export const DEFAULT_RETENTION_MS = 90 * 86_400_000

/** The shortest bucket: one second, because record times have second precision. */
const MIN_INTERVAL_MS = 1_000
/** The longest bucket: one year (keeps every bucket boundary a safe integer). */
const MAX_INTERVAL_MS = 365 * 86_400_000
/** The most buckets a retention window may hold (every peer exchanges one fingerprint per bucket). */
const MAX_RETENTION_BUCKETS = 100_000

/** Options of {@link fixedIntervalBuckets} and the named granularities. */
export interface GranularityOptions {
  /** How long records are kept, in milliseconds; rounded up to whole buckets. Default 90 days. */
  retentionMs?: number
}

/**
 * Buckets of a fixed length, aligned to the Unix epoch (UTC).
 *
 * @param intervalMs Bucket length: an integer number of milliseconds, at least 1000.
 * @param options See {@link GranularityOptions}.
 * @throws PeersetError `INVALID_ARGUMENT` for a bad interval or retention.
 * @example
 * ```ts
 * const g = fixedIntervalBuckets(30 * 60_000, { retentionMs: 7 * 86_400_000 }) // 30-minute buckets
 * g.bucketOf(Date.now())       // e.g. 984_521
 * g.descriptor.retentionBuckets // 336
 * ```
 */
export function fixedIntervalBuckets(intervalMs: number, options: GranularityOptions = {}): Granularity {
  if (!Number.isSafeInteger(intervalMs) || intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS) {
    throw new PeersetError(
      'INVALID_ARGUMENT',
      `fixedIntervalBuckets: intervalMs must be an integer from ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS} ms, got ${String(intervalMs)}`,
    )
  }
  if (typeof options !== 'object' || options === null) {
    throw new PeersetError('INVALID_ARGUMENT', 'fixedIntervalBuckets: options must be an object')
  }
  assertKnownOptions('fixedIntervalBuckets', options, ['retentionMs'])
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS
  if (typeof retentionMs !== 'number' || !Number.isFinite(retentionMs) || retentionMs <= 0) {
    throw new PeersetError(
      'INVALID_ARGUMENT',
      `fixedIntervalBuckets: options.retentionMs must be a positive number of ms, got ${String(retentionMs)}`,
    )
  }
  const retentionBuckets = Math.ceil(retentionMs / intervalMs)
  if (retentionBuckets > MAX_RETENTION_BUCKETS) {
    throw new PeersetError(
      'INVALID_ARGUMENT',
      `fixedIntervalBuckets: retention of ${retentionBuckets} buckets is over the limit of ${MAX_RETENTION_BUCKETS}; use longer buckets or a shorter retention`,
    )
  }
  return makeGranularity(intervalMs, retentionBuckets)
}

/**
 * One bucket per UTC day (the default granularity).
 *
 * @example
 * ```ts
 * const g = dailyBuckets()                 // 90 days retention, 90 buckets
 * g.rangeOf(g.bucketOf(Date.parse('2026-11-05T13:00:00Z'))).startMs === Date.parse('2026-11-05T00:00:00Z')
 * ```
 */
export function dailyBuckets(options?: GranularityOptions): Granularity {
  return fixedIntervalBuckets(86_400_000, options)
}

/**
 * Four buckets per UTC day (00:00, 06:00, 12:00, 18:00), for busier rooms.
 *
 * @example
 * ```ts
 * const g = quarterDayBuckets({ retentionMs: 30 * 86_400_000 }) // 120 buckets
 * ```
 */
export function quarterDayBuckets(options?: GranularityOptions): Granularity {
  return fixedIntervalBuckets(6 * 3_600_000, options)
}

/**
 * One bucket per hour, for very busy rooms or short retention.
 *
 * @example
 * ```ts
 * const g = hourlyBuckets({ retentionMs: 7 * 86_400_000 }) // 168 buckets
 * ```
 */
export function hourlyBuckets(options?: GranularityOptions): Granularity {
  return fixedIntervalBuckets(3_600_000, options)
}

/**
 * Rebuild a granularity from its descriptor (e.g. one a peer announced). Validates it like
 * {@link fixedIntervalBuckets} does.
 *
 * @throws PeersetError `INVALID_ARGUMENT` for a malformed or out-of-range descriptor.
 * @example
 * ```ts
 * const g = granularityFromDescriptor({ intervalMs: 3_600_000, retentionBuckets: 24 })
 * sameGranularity(g.descriptor, hourlyBuckets({ retentionMs: 86_400_000 }).descriptor) // true
 * ```
 */
export function granularityFromDescriptor(descriptor: GranularityDescriptor): Granularity {
  assertDescriptor(descriptor, 'granularityFromDescriptor')
  // retentionBuckets * intervalMs is an exact integer, so the ceil in fixedIntervalBuckets gives it back.
  return fixedIntervalBuckets(descriptor.intervalMs, {
    retentionMs: descriptor.retentionBuckets * descriptor.intervalMs,
  })
}

/**
 * Whether two peers bucket alike: equal interval and equal retention window.
 *
 * @throws PeersetError `INVALID_ARGUMENT` if either argument is not a descriptor.
 * @example
 * ```ts
 * sameGranularity(dailyBuckets().descriptor, dailyBuckets().descriptor)  // true
 * sameGranularity(dailyBuckets().descriptor, hourlyBuckets().descriptor) // false
 * ```
 */
export function sameGranularity(a: GranularityDescriptor, b: GranularityDescriptor): boolean {
  assertDescriptor(a, 'sameGranularity')
  assertDescriptor(b, 'sameGranularity')
  return a.intervalMs === b.intervalMs && a.retentionBuckets === b.retentionBuckets
}

function assertDescriptor(d: unknown, where: string): asserts d is GranularityDescriptor {
  if (typeof d !== 'object' || d === null) {
    throw new PeersetError('INVALID_ARGUMENT', `${where}: expected a granularity descriptor object`)
  }
  const { intervalMs, retentionBuckets } = d as Record<string, unknown>
  if (!Number.isSafeInteger(intervalMs) || (intervalMs as number) < MIN_INTERVAL_MS || (intervalMs as number) > MAX_INTERVAL_MS) {
    throw new PeersetError('INVALID_ARGUMENT', `${where}: descriptor.intervalMs must be an integer from ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS}, got ${String(intervalMs)}`)
  }
  if (!Number.isSafeInteger(retentionBuckets) || (retentionBuckets as number) < 1 || (retentionBuckets as number) > MAX_RETENTION_BUCKETS) {
    throw new PeersetError('INVALID_ARGUMENT', `${where}: descriptor.retentionBuckets must be an integer from 1 to ${MAX_RETENTION_BUCKETS}, got ${String(retentionBuckets)}`)
  }
}

function makeGranularity(intervalMs: number, retentionBuckets: number): Granularity {
  const descriptor: GranularityDescriptor = Object.freeze({ intervalMs, retentionBuckets })
  const bucketOf = (timeMs: number): number => {
    // Pre-epoch times are allowed (bucket numbers go negative); NaN, ±Infinity and unsafe values are not.
    if (typeof timeMs !== 'number' || !(Math.abs(timeMs) <= Number.MAX_SAFE_INTEGER)) {
      throw new PeersetError('INVALID_ARGUMENT', `bucketOf: timeMs must be a finite number of ms, got ${String(timeMs)}`)
    }
    return Math.floor(timeMs / intervalMs)
  }
  return Object.freeze({
    descriptor,
    bucketOf,
    rangeOf(bucket: number) {
      if (!Number.isSafeInteger(bucket) || !Number.isSafeInteger((bucket + 1) * intervalMs) || !Number.isSafeInteger(bucket * intervalMs)) {
        throw new PeersetError('INVALID_ARGUMENT', `rangeOf: bucket must be an integer bucket number, got ${String(bucket)}`)
      }
      return { startMs: bucket * intervalMs, endMs: (bucket + 1) * intervalMs }
    },
    windowAt(nowMs: number) {
      const newest = bucketOf(nowMs)
      // Near the epoch `oldest` can be negative: those buckets simply hold no records.
      return { oldest: newest - retentionBuckets + 1, newest }
    },
  })
}
