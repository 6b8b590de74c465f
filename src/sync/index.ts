/**
 * Sync: incremental fingerprints, the per-bucket id index, and the pure reconciliation core
 * (decoded messages in, messages out; no timers, no I/O).
 */
export { BucketIndex, type BucketIndexOptions, type IndexSummary } from './bucket-index.js'
export {
  createSyncCore,
  type Outbound,
  type ReceiveResult,
  type RecordOutcome,
  type ResolveDetail,
  type RetryEntry,
  type SyncCore,
  type SyncCoreOptions,
  type SyncStats,
} from './core.js'
export { Fingerprint } from './fingerprint.js'
export { createRangeReconciler, shortIdOf, type RangeReconcilerOptions } from './range-reconciler.js'
export type { BucketDiff, ReconcileContext, ReconcileMessage, Reconciler, ReconcileResult } from './reconciler.js'
export { createRatelessReconciler, MAX_SYMBOLS_PER_ELEMENT } from './riblt-reconciler.js'
