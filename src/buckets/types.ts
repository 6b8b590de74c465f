/** Two peers bucket alike iff their descriptors are equal (`sameGranularity`). */
export interface GranularityDescriptor {
  /** Bucket length in milliseconds. Buckets are epoch-aligned: bucket b covers [b*intervalMs, (b+1)*intervalMs). */
  readonly intervalMs: number
  /** How many buckets the retention window holds (the seed's TOTAL_BUCKETS), the current one included. */
  readonly retentionBuckets: number
}

/** Maps time to buckets. Made by `dailyBuckets()`, `hourlyBuckets()`, `fixedIntervalBuckets()`... */
export interface Granularity {
  readonly descriptor: GranularityDescriptor
  /** The bucket of a time in milliseconds since the epoch. */
  bucketOf(timeMs: number): number
  /** The time range [startMs, endMs) of a bucket. */
  rangeOf(bucket: number): { startMs: number; endMs: number }
  /** The buckets inside the retention window at `nowMs`: every bucket b with oldest <= b <= newest. */
  windowAt(nowMs: number): { oldest: number; newest: number }
}
