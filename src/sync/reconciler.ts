/**
 * The swappable step of sync: given the buckets whose fingerprints differ between two peers, find
 * out which ids each side lacks. The sync core does everything around it (roots, summaries, `have`,
 * `want`, `records`, `reject`); a reconciler only talks about the differing buckets.
 *
 * The conversation: the leader (lower peer id) sends its summary and calls {@link Reconciler.opened};
 * the follower compares it with its own buckets and calls {@link Reconciler.begin} with the
 * differing ones; from then on both sides pass each reconciliation message to
 * {@link Reconciler.receive}. Ids a side finds the other lacks are announced by the core with `have`;
 * the other side pulls them. A reconciler is pure: time is passed in, it keeps per-peer state only.
 */
import type { BucketWindow, FingerprintValue, MoreMessage, RangesMessage, SymbolsMessage, SyncMessage } from '../protocol/messages.js'
import type { BucketIndex } from './bucket-index.js'

/** One bucket whose fingerprint differs: the remote side's fingerprint of it (count 0 if it is empty there). */
export interface BucketDiff {
  bucket: number
  remote: FingerprintValue
}

/** The messages a reconciler exchanges (the core passes each one it receives to {@link Reconciler.receive}). */
export type ReconcileMessage = RangesMessage | SymbolsMessage | MoreMessage

/** What a reconciler is given on each call. */
export interface ReconcileContext {
  peerId: string
  /** The local ids (read only). */
  index: BucketIndex
  nowMs: number
}

/** What a reconciler asks the core to do. */
export interface ReconcileResult {
  /** Messages for the peer. */
  send: SyncMessage[]
  /** Local ids the peer lacks: the core announces them with `have` (minus ids the peer refused for good). */
  theyLack: string[]
  /**
   * Local ids the peer lacks, announced by gossip id instead (`gossip` `found`: 8 bytes each, and
   * the peer pulls them by gossip id). For a reconciler whose peer matched them by that same short id.
   */
  theyLackShort?: string[]
  /**
   * Gossip ids the peer holds and we lack, with their buckets: wanted from the peer at once (as if
   * it had announced them with `gossip` `found`). For a reconciler that learns them by decoding.
   */
  weLack?: Array<{ id: string; bucket: number }>
  /** Entries ignored as unexpected, repeated or stale (bounded work against garbage). */
  ignored: number
}

/**
 * A reconciliation strategy. Every call does work bounded by the local data and by what this side
 * asked for earlier: a peer cannot make it loop or grow its state without limit.
 */
export interface Reconciler {
  /** A short name for stats, e.g. `'ranges'`. */
  readonly name: string
  /** Leader: a summary over `window` was just sent to `peerId` (a new round); answers to its buckets are now expected. */
  opened(peerId: string, window: BucketWindow, nowMs: number): void
  /** Follower: answer the differing buckets of the leader's summary. */
  begin(ctx: ReconcileContext, diffs: readonly BucketDiff[]): ReconcileResult
  /** Either side: a reconciliation message from the peer. */
  receive(ctx: ReconcileContext, message: ReconcileMessage): ReconcileResult
  /**
   * Forget expectations older than their time to live. May return the peers whose round stalled
   * (e.g. a frame of it was lost): the core then lets a new round with them start at once.
   */
  expire(nowMs: number): readonly string[] | void
  /** Forget a peer. */
  peerGone(peerId: string): void
}
