/** The ingest path's public vocabulary: where a record came from, what happened to it, and the callbacks. */
import type { PeersetError } from '../errors.js'
import type { PeersetRecord, RecordRejectReason } from '../record/types.js'

/** Why the engine refused a record. */
export type RejectReason =
  | RecordRejectReason
  /** Older than the retention window. */
  | 'expired'
  /** Too far in the future (beyond the clock-skew tolerance); may be accepted later. */
  | 'future'
  /** A newer version of the same (author, uuid) is kept, or was kept and then evicted. */
  | 'superseded'
  /** Refused by the moderation strategy (see `rule`). */
  | 'moderation'
  /** Without the NIP-13 proof of work this peerset requires of records. */
  | 'insufficient-pow'
  /** Signed for another room, or for none (its `h` tag is not `roomHash` of this peerset's room). */
  | 'wrong-room'
  /** Sent as moderation evidence, but this peer's moderation does not strike it (it is not stored either). */
  | 'not-evidence'

/**
 * Why a record left the store: expired, replaced by a newer version, withdrawn by its author (see
 * `Peerset.withdraw`), evicted by moderation (over quota, duplicate), or its author was banned.
 * (`withdrawal-cap`: older than its author's withdrawal horizon, see `withdrawals.ts`; reported for
 * a live record, never for a tombstone.)
 */
export type RemoveReason = 'expired' | 'replaced' | 'withdrawn' | 'over-quota' | 'duplicate' | 'author-banned' | 'withdrawal-cap' | (string & {})

/**
 * Where a record came from: published here, received from a peer, imported by the host app
 * (`importRecord`), or received from a Nostr relay (see `nostrRelays`).
 */
export type RecordOrigin = { origin: 'local' } | { origin: 'import' } | { origin: 'remote'; peerId: string } | { origin: 'relay'; url: string }

/** A refusal, as the submitter and the `record:rejected` event see it. */
export interface Rejection {
  status: 'rejected'
  id: string | undefined
  reason: RejectReason
  message: string
  /** Whether the verdict can never change (a future record is not permanent). */
  permanent: boolean
  /** The moderation rule that refused it, if any. */
  rule?: string
  /** Whether the record's author earns a strike (moderation). */
  authorStrike?: boolean
  /** Whether the forwarding peer is at fault (cryptographic or format violation). */
  peerFault: boolean
}

/** What happened to one submitted record. */
export type IngestOutcome =
  | { status: 'added'; record: PeersetRecord }
  | { status: 'duplicate'; id: string }
  | Rejection
  /** The batch's write failed: nothing of it was kept, and the record may be submitted again. */
  | { status: 'failed'; id: string; error: PeersetError }

/** A strike recorded against an author (after the write that caused it committed). */
export interface AuthorStrikeInfo {
  author: string
  /** The record that earned the strike. */
  recordId: string
  reason: string
  /** The author's strikes now. */
  strikes: number
}

/** A ban of an author. `untilMs` is milliseconds since the epoch (record time: the striking record's `createdAt` plus the ban length). */
export interface AuthorBanInfo {
  author: string
  untilMs: number
}

/**
 * Callbacks of the ingestor. Every one of them is called only after the batch's write has
 * committed, and only for what was written: a failed write calls `writeFailed` and nothing else.
 */
export interface IngestListener {
  added(record: PeersetRecord, origin: RecordOrigin): void
  removed(record: PeersetRecord, reason: RemoveReason, replacedBy?: PeersetRecord): void
  batchAdded(records: PeersetRecord[], origins: RecordOrigin[]): void
  rejected(outcome: Rejection, origin: RecordOrigin): void
  writeFailed(error: PeersetError): void
  /** A batch's write committed (storage works). */
  writeSucceeded?(): void
  /** A moderation verdict struck an author. */
  authorStruck(info: AuthorStrikeInfo): void
  /** An author reached the strike threshold and is banned. */
  authorBanned(info: AuthorBanInfo): void
  /** Records became moderation evidence (committed): send them to peers. */
  evidenceAdded?(records: PeersetRecord[]): void
}
