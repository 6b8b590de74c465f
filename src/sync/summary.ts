/**
 * The compact summary (internal; see `createSyncCore`): per non-empty bucket its count and a short
 * digest salted afresh for each summary, so a bucket digest costs 3 bytes instead of 16 and a pair
 * of buckets that collide once does not collide in the next round. The stored fingerprints stay
 * unsalted and O(1) to update: only the 16-byte digests of the window's buckets are hashed again.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { hexToBytes, randomBytes } from '@noble/hashes/utils.js'
import { toHex } from '../protocol/bytes.js'
import { DIGEST_BYTES, SUMMARY_DIGEST_BYTES, SUMMARY_SALT_BYTES, type BucketWindow, type SummaryMessage } from '../protocol/messages.js'
import type { BucketIndex } from './bucket-index.js'

/** The short digest of a bucket in a summary salted with `salt` (hex): SHA-256(salt || digest)[0..3]. */
export function saltedDigest(salt: string, digest: string): string {
  const input = new Uint8Array(SUMMARY_SALT_BYTES + DIGEST_BYTES)
  input.set(hexToBytes(salt))
  input.set(hexToBytes(digest), SUMMARY_SALT_BYTES)
  return toHex(sha256(input).subarray(0, SUMMARY_DIGEST_BYTES))
}

/** Our summary of `window`, with a fresh salt. */
export function compactSummary(index: BucketIndex, window: BucketWindow): SummaryMessage {
  const full = index.summary(window)
  const salt = toHex(randomBytes(SUMMARY_SALT_BYTES))
  const buckets = full.buckets.map((b) => ({ bucket: b.bucket, count: b.count, digest: saltedDigest(salt, b.digest) }))
  return { type: 'summary', window: full.window, count: full.count, digest: full.digest, from: window.oldest, to: window.newest, salt, buckets }
}
