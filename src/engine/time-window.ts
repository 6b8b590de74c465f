import type { Granularity } from '../buckets/types.js'

/** Default tolerance for records created in the future (clock skew): 5 minutes. */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000

/** Why a record fell outside the time window. */
export type TimeWindowVerdict =
  | { ok: true }
  /** Older than the retention window: permanent, it will never become acceptable. */
  | { ok: false; reason: 'expired'; message: string; permanent: true }
  /** Too far in the future: not permanent, it becomes acceptable as time passes. */
  | { ok: false; reason: 'future'; message: string; permanent: false }

/**
 * The engine's core time check, applied to every record (local or remote) before anything costly.
 * A record is inside the window if its bucket is one of the retention window's buckets and it is
 * not more than `clockSkewMs` ahead of `nowMs`. Whole buckets leave the window at bucket boundaries,
 * so peers agree on which buckets exist.
 */
export function checkTimeWindow(
  createdAtSeconds: number,
  nowMs: number,
  granularity: Granularity,
  clockSkewMs: number,
): TimeWindowVerdict {
  const createdMs = createdAtSeconds * 1000
  if (createdMs > nowMs + clockSkewMs) {
    return {
      ok: false,
      reason: 'future',
      message: `created ${Math.round((createdMs - nowMs) / 1000)} s in the future (tolerance ${clockSkewMs / 1000} s)`,
      permanent: false,
    }
  }
  const { oldest } = granularity.windowAt(nowMs)
  if (granularity.bucketOf(createdMs) < oldest) {
    return {
      ok: false,
      reason: 'expired',
      message: `created before the retention window (bucket ${granularity.bucketOf(createdMs)} < ${oldest})`,
      permanent: true,
    }
  }
  return { ok: true }
}
