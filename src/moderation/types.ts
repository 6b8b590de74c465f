import type { PeersetRecord } from '../record/types.js'

/** Read-only context a moderation rule may look at. */
export interface ModerationContext {
  /**
   * The author's live records as the engine sees them right now (committed, plus those already
   * accepted earlier in the same batch), ordered by creation time then id. Excludes the record
   * under review.
   */
  recordsOfAuthor(author: string): readonly PeersetRecord[]
  /** Now, in milliseconds. */
  readonly nowMs: number
}

/** Why a moderation rule evicts an already-kept record when a new one is accepted. */
export interface Eviction {
  id: string
  /** `over-quota` (the author has too many records) or another rule's word. */
  reason: 'over-quota' | 'duplicate' | (string & {})
}

/** A moderation verdict. */
export type ModerationVerdict =
  | {
      accept: true
      /** Records the acceptance displaces (e.g. the author's latest record when an earlier one arrives over quota). */
      evict?: readonly Eviction[]
    }
  | {
      accept: false
      /** The rule's name, e.g. `bad-words`. */
      reason: string
      message?: string
      /** Whether the author earns a strike for it. */
      strike?: boolean
      /** Whether the verdict can change later (default false: it is permanent for this record). */
      transient?: boolean
    }

/**
 * A moderation strategy. Every peer runs it on every record (its own and others') after the
 * record has been verified and has passed the core time-window checks, which it cannot turn off.
 */
export interface ModerationStrategy {
  /** A short name for `status()`. */
  readonly name: string
  /** Identifies the policy; peers with different digests will disagree about records. */
  readonly digest: string
  review(record: PeersetRecord, context: ModerationContext): ModerationVerdict | Promise<ModerationVerdict>
}
