/** The public types of the sync core (see `createSyncCore`). */
import type { RejectClass, SyncMessage, SyncMessageType, WireEvent } from '../protocol/messages.js'
import type { NostrEvent } from '../record/types.js'
import type { BucketIndex } from './bucket-index.js'
import type { Reconciler } from './reconciler.js'

/** Options of {@link createSyncCore}. Times are in milliseconds. */
export interface SyncCoreOptions {
  /** This peer's id in the room (the transport's `selfId`). The lower id of a pair leads. */
  selfId: string
  /** The local ids; the engine keeps it up to date (add before `recordResolved(…'accepted')`). */
  index: BucketIndex
  /** A stored record by id, to answer `want` (a `NostrEvent` will do; its `id` is not sent). */
  lookup(id: string): WireEvent | undefined
  /** Whether the engine has refused this id for good (never request it). Default: never. */
  isKnownRejected?(id: string): boolean
  /** The id of a received event. Default `computeEventId` (NIP-01). */
  computeId?(event: WireEvent): string
  /** How differing buckets are reconciled. Default `createRatelessReconciler()` (coded symbols over 8-byte short ids); `createRangeReconciler()` splits ranges of ids instead. */
  reconciler?: Reconciler
  /** Requests in flight per peer. Default 64. */
  maxInFlight?: number
  /** Requests in flight over all peers. Default 256. */
  maxInFlightTotal?: number
  /** Most ids wanted at once, over all peers / from one peer. Defaults 500,000 / 200,000. */
  maxWanted?: number
  maxWantedPerPeer?: number
  /** A request unanswered this long goes to another peer that has the id. Default 10,000. */
  requestTimeoutMs?: number
  /** `root` is resent to each peer this often (idle rebroadcast). Default 30,000. */
  rebroadcastMs?: number
  /** At most one reconciliation round per peer this often. Default 2,000. */
  minRoundGapMs?: number
  /** The same pair of roots is reconciled again only after this long. Default 300,000. */
  roundRetryMs?: number
  /** Ids announced in buckets up to this far in the future are wanted (clock skew). Default 300,000. */
  clockSkewMs?: number
  /** Ids (that we hold) a peer refused for good, remembered per peer (oldest forgotten first). Default 10,000 (`MAX_REJECTED_PER_PEER`). */
  maxRejectedPerPeer?: number
  /**
   * Whether records may be requested now (e.g. false while the engine's storage fails, so the same
   * records are not pulled again and again). Wanted ids wait meanwhile. Default: always.
   */
  mayPull?(): boolean
  /** Called with the number of ids requested, each time `want`s go out (e.g. to count a storage probe). */
  onPull?(ids: number): void
  /**
   * Called from `tick` for a peer that keeps announcing ids and not delivering them: while it kept
   * sending us sync messages, `ids` of our requests to it timed out over `silentMs` without it
   * answering a single one (neither a record nor a `reject` notice that it no longer has it).
   * `reports` counts the calls in a row for this peer without an answer in between (1 the first
   * time; then again after a few more time-outs). A dead or partitioned link never counts (nothing
   * comes from the peer), and an honest peer answers every `want`; the engine strikes a peer only
   * after several reports in a row (see `UNDELIVERED_STRIKE_REPORTS` in the engine).
   */
  onUndelivered?(peerId: string, ids: number, silentMs: number, reports: number): void
}

/** A message for one peer. The engine encodes it with `encodeMessage` and sends every frame. */
export interface Outbound {
  to: string
  message: SyncMessage
}

/** What {@link SyncCore.receive} returns. */
export interface ReceiveResult {
  /** Messages to send. */
  send: Outbound[]
  /**
   * Requested records, with their recomputed ids, for the engine to check and store. The engine
   * must report each one with `recordResolved` (its request slot stays taken until then).
   */
  records: NostrEvent[]
  /** Items ignored: unsolicited records, unexpected ranges, messages from unknown peers… (a peer-behaviour signal). */
  ignored: number
  /**
   * Records whose recomputed id was never asked of this peer (also counted in `ignored`), by that
   * id (`''` if the event could not be hashed). An honest peer sends records only when asked, so
   * each one is the sender's fault: a forged or tampered copy hashes to an id nobody asked for.
   * A late or repeated answer to a request made of this peer is not listed (it is only ignored).
   */
  unrequested: string[]
}

/** How the engine disposed of a record the core handed it. */
/** An id to ask for again (see `SyncCore.retry`): the bucket it was announced in, and the peers that had it. */
export interface RetryEntry {
  readonly id: string
  readonly bucket: number
  readonly peerIds: readonly string[]
}

export type RecordOutcome = 'accepted' | 'rejected' | 'duplicate'

/** Details of {@link SyncCore.recordResolved}. */
export interface ResolveDetail {
  /** The peer the record came from (it gets the `reject` notice; it is not told about it with `have`). */
  fromPeerId?: string
  /** For `rejected`: the class of reason and whether the verdict can never change. Default `other`, not permanent. */
  reject?: { reason: RejectClass; permanent: boolean }
}

/** Counters for status pages and tests. */
export interface SyncStats {
  peers: number
  /** Ids wanted (queued, requested or being checked), plus one per peer we are fetching buckets from. */
  wanted: number
  inFlight: number
  ignored: number
  /** Ids remembered as refused for good by a peer, summed over the peers (each capped by `maxRejectedPerPeer`). */
  peerRejected: number
  sent: Record<SyncMessageType, number>
  received: Record<SyncMessageType, number>
}

/** The sync core of one peer. See {@link createSyncCore}. */
export interface SyncCore {
  /** A peer is authenticated and may sync: returns its `root`. Idempotent. */
  peerReady(peerId: string, nowMs: number): Outbound[]
  /** A peer left: forget it. Its outstanding requests go to other peers that have the ids (returned `want`s). */
  peerGone(peerId: string, nowMs: number): Outbound[]
  /** A decoded message from a ready peer. */
  receive(peerId: string, message: SyncMessage, nowMs: number): ReceiveResult
  /**
   * Ids added to the index by other means than a pulled record (own records, imports): cancels
   * requests for them and announces them to every ready peer except `fromPeerId`.
   */
  localRecordsAdded(ids: readonly string[], nowMs: number, fromPeerId?: string): Outbound[]
  /**
   * The engine's verdict on a record returned by `receive`: frees its request slot and cancels it
   * everywhere; `accepted` (already in the index) announces it to the other peers; `rejected`
   * sends a `reject` notice to `fromPeerId`. Do not also call `localRecordsAdded` for it.
   */
  recordResolved(id: string, outcome: RecordOutcome, nowMs: number, detail?: ResolveDetail): Outbound[]
  /**
   * Ids the engine refused for now whose cause may be gone (a place of their author freed up):
   * each is wanted again from those of `peerIds` still ready (unless held or refused for good).
   */
  retry(ids: readonly RetryEntry[], nowMs: number): Outbound[]
  /** Call periodically (e.g. every second): re-requests timed-out ids, rebroadcasts roots. */
  tick(nowMs: number): Outbound[]
  /** Whether an id is wanted (queued, requested or being checked). */
  isWanted(id: string): boolean
  /** Whether a bucket is being fetched whole from some peer (it was empty here and not at that peer). */
  isFetching(bucket: number): boolean
  /**
   * For a wanted id (e.g. a record `receive` just returned, before `recordResolved`): the bucket it
   * was announced in and when it was first announced. `undefined` if it is not wanted.
   */
  announcement(id: string): { bucket: number; atMs: number } | undefined
  /** Whether `peerId` refused `id` for good. */
  peerRejected(peerId: string, id: string): boolean
  stats(): SyncStats
}
