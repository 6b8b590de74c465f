/**
 * The Nostr kind of a Peerset record. 37515 is in NIP-01's addressable range (30000-39999): for one
 * (kind, pubkey, `d` tag) relays keep the newest event, ties broken by the lowest id. That is exactly
 * Peerset's rule for (author, uuid), so relays and other Nostr tools treat versions the same way.
 * @example
 * ```ts
 * import { RECORD_KIND } from 'peerset'
 * const filter = { kinds: [RECORD_KIND] }
 * ```
 */
export const RECORD_KIND = 37_515

/**
 * Default retention: 90 days in seconds. `createRecord` writes `created_at + retention` as the
 * NIP-40 `expiration` tag.
 * @example
 * ```ts
 * const retentionSeconds = DEFAULT_RETENTION_SECONDS / 3 // 30 days
 * ```
 */
export const DEFAULT_RETENTION_SECONDS = 90 * 24 * 60 * 60

/**
 * Geohash length written in a record's `g` tag: 9 characters is a cell of about 4.8 m x 4.8 m.
 * @example
 * ```ts
 * encodeGeohash(57.64911, 10.40744, RECORD_GEOHASH_PRECISION) // 'u4pruydqq'
 * ```
 */
export const RECORD_GEOHASH_PRECISION = 9

/**
 * Most tombstones (withdrawals, see `createWithdrawal`) a peerset keeps per author: the newest in
 * the version order. Once an author has this many, the oldest kept one is the author's horizon:
 * nothing of that author older than it is kept, withdrawn or not, so a tombstone pushed out never
 * lets what it withdrew come back (docs/moderation.md, Withdrawals). It decides which records
 * exist, so peers agree on it in the hello (rules `withdrawals.maxPerAuthor`, `withdrawals.horizon`).
 * @example
 * ```ts
 * import { MAX_WITHDRAWALS_PER_AUTHOR } from 'peerset' // 20
 * ```
 */
export const MAX_WITHDRAWALS_PER_AUTHOR = 20
