/**
 * Whether a record refused before its signature was checked (expired, future, too large) is the
 * fault of the peer that announced it and sent it: such checks are cheap, but a peer must not be
 * able to make us fetch and refuse such records for free, while an honest peer forwarding a record
 * that merely went out of date in transit must never be struck.
 *
 * The rule, for a record we asked `peerId` for after it (or another peer) announced it:
 * - `too-large`: always its fault. Record limits are agreed in the hello, so an honest peer never
 *   holds a record over them.
 * - a record whose creation time is not in the bucket it was announced in: a lie (every peer
 *   computes the bucket from the creation time with the same, agreed, granularity).
 * - `future`: created more than twice the agreed clock skew plus {@link ANNOUNCE_FAULT_MARGIN_MS}
 *   after the announcement (an honest peer keeps nothing beyond its clock plus the skew, and clocks
 *   may differ by the skew).
 * - `expired` (NIP-40): its expiration was already more than the clock skew plus
 *   {@link ANNOUNCE_FAULT_MARGIN_MS} in the past when it was announced (honest peers prune expired
 *   records within a tick). A record that expires near the window's edge or in transit is normal.
 * - `expired` (retention window): not a fault when its bucket was announced truthfully (the
 *   announced bucket was inside the window then, or we would not have asked for it).
 */
import type { Granularity } from '../buckets/types.js'
import type { WireEvent } from '../protocol/index.js'
import type { RejectReason } from './ingest.js'

/** Slack beyond the agreed clock skew before a time-refused record is held against its announcer. */
export const ANNOUNCE_FAULT_MARGIN_MS = 10 * 60_000

/** What the sync core knew of the announcement of a record: its bucket and when it was first announced. */
export interface Announcement {
  bucket: number
  atMs: number
}

/** Why the announcing peer is at fault for a record refused as `reason`, or `undefined` if it is not. */
export function announcedInvalid(
  reason: RejectReason,
  event: Pick<WireEvent, 'created_at' | 'tags'>,
  announced: Announcement,
  granularity: Granularity,
  clockSkewMs: number,
): string | undefined {
  if (reason === 'too-large') return 'over the record limits agreed in the hello'
  if (reason !== 'expired' && reason !== 'future') return undefined
  const createdMs = event.created_at * 1000
  if (!Number.isFinite(createdMs)) return undefined
  const bucket = granularity.bucketOf(createdMs)
  if (bucket !== announced.bucket) return `announced in bucket ${announced.bucket} but created in bucket ${bucket}`
  if (reason === 'future') {
    const ahead = createdMs - announced.atMs
    return ahead > 2 * clockSkewMs + ANNOUNCE_FAULT_MARGIN_MS ? `created ${Math.round(ahead / 1000)} s after it was announced` : undefined
  }
  const expiresAt = expirationOf(event.tags)
  if (expiresAt === undefined) return undefined
  const before = announced.atMs - expiresAt * 1000
  return before > clockSkewMs + ANNOUNCE_FAULT_MARGIN_MS ? `already expired ${Math.round(before / 1000)} s before it was announced` : undefined
}

function expirationOf(tags: readonly (readonly string[])[]): number | undefined {
  const tag = tags.find((t) => t[0] === 'expiration')
  const value = tag === undefined ? NaN : Number(tag[1])
  return Number.isFinite(value) ? value : undefined
}
