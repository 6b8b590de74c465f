import type { PeersetRecord } from '../record/types.js'

/** Read-only context a moderation rule may look at. */
export interface ModerationContext {
  /**
   * The author's live records as the engine sees them right now (committed, plus those already
   * accepted earlier in the same batch), ordered by creation time then id. Excludes the record
   * under review. It may hold an older version of the reviewed record's (author, uuid): rules must
   * ignore it, since the engine replaces that version when the reviewed one is accepted.
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
  /**
   * Whether the evicted record's author earns a strike, exactly as if the record had been rejected
   * (so a later duplicate strikes whether it arrived before or after the earlier one).
   */
  strike?: boolean
  /** The rule that evicts it (set by `createModeration`), so a refusal and an eviction name the same rule. */
  rule?: string
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
      /**
       * A short machine word saying why, e.g. `bad-words`, `over-quota`, `link-scheme`: the rule's
       * name, or a finer reason of the rule named in `rule`.
       */
      reason: string
      /** The name of the rule that refused it, when `reason` is a finer word (e.g. rule `link`, reason `link-scheme`). */
      rule?: string
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
