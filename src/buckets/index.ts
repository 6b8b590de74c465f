export type { Granularity, GranularityDescriptor } from './types.js'
export {
  DEFAULT_RETENTION_MS,
  dailyBuckets,
  fixedIntervalBuckets,
  granularityFromDescriptor,
  hourlyBuckets,
  quarterDayBuckets,
  sameGranularity,
  type GranularityOptions,
} from './granularity.js'
