/** The public types of a peerset: its options, events, status and methods. */
import type { Granularity, GranularityDescriptor } from './buckets/types.js'
import type { AuthorBanInfo, AuthorStrikeInfo, IngestOutcome, RecordOrigin, RejectReason, RemoveReason } from './engine/ingest-types.js'
import type { Subscribable } from './events.js'
import type { Identity, Signer } from './identity/types.js'
import type { StrikeLedgerOptions } from './moderation/index.js'
import type { ModerationStrategy } from './moderation/types.js'
import type { VerifierStrategy } from './verify/types.js'
import type { RelayState, RelayStrategy } from './relays/types.js'
import type { NostrEvent, PeersetRecord, RecordDraft, RecordLimits } from './record/types.js'
import type { CloseReason, SessionLimits, SessionState, SessionTimeouts } from './session/index.js'
import type { StorageStrategy } from './storage/types.js'
import type { TransportState, TransportStrategy } from './transport/types.js'

/** Options of {@link createPeerset}. Every strategy is optional and has a default. */
export interface PeersetOptions {
  /** The room: peers of the same room sync with each other. */
  room: string
  /** Who publishes: an {@link Identity}, an `nsec1...` string, or a NIP-07-shaped {@link Signer}. */
  identity: Identity | Signer | string
  /** Where records persist. Default: `indexedDbStorage()` where IndexedDB exists, else `memoryStorage()` (with a warning). */
  storage?: StorageStrategy
  /**
   * How peers are reached. Default: `trysteroTransport()` (public trackers) in a browser; in Node none
   * (local only, with a warning saying how to set up `peerset/node`'s `nodeRtc()` with `trysteroTransport`).
   * Pass `network.transport()` from `createMemoryNetwork()` to sync in one process. `false` means local only, without a warning.
   */
  transport?: TransportStrategy | false
  /** How time is cut into buckets, and the retention window. Default: `dailyBuckets()` (90 days). */
  granularity?: Granularity
  /** Which records are kept. Default: `createModeration()` (content, bad words, links, duplicates, 5 records per author). `acceptAll()` keeps every valid record. */
  moderation?: ModerationStrategy
  /**
   * How record signatures are checked. Default: `mainThreadVerifier()` (noble, on the calling
   * thread, yielding every 20 ms). `workerVerifier({ size })` spreads the work over workers (about
   * 1.9x with two). `peerset.close()` closes it. See docs/strategies.md.
   */
  verifier?: VerifierStrategy
  /** Author strikes and bans: how many strikes ban an author, and for how long. */
  strikes?: StrikeLedgerOptions
  /** Record size limits (see `DEFAULT_RECORD_LIMITS`). */
  limits?: Partial<RecordLimits>
  /** How far in the future a record may be created (clock skew), in ms. Default 5 minutes. */
  clockSkewMs?: number
  /** The clock, in ms since the epoch. Default `Date.now`. For tests and simulations. */
  clock?: () => number
  /** How often the engine checks for expired buckets and banned authors (garbage collection), in ms. Default 60 s. */
  tickIntervalMs?: number
  /** How often peer sessions and the sync are driven (timeouts, re-requests, rebroadcasts), in ms. Default 1 s. */
  sessionTickMs?: number
  /** Peer session timeouts (handshake, challenge, idle, maximum session); see `DEFAULT_SESSION_TIMEOUTS`. */
  sessionTimeouts?: Partial<SessionTimeouts>
  /** Per-peer limits (frame size, rates, strike threshold, ban time); see `DEFAULT_SESSION_LIMITS`. */
  sessionLimits?: Partial<SessionLimits>
  /** Most concurrent peers. A quarter of the places is kept for peers that have given us records before. Default 32. */
  maxPeers?: number
  /** How long this peerset stays in the room before it leaves and rejoins (fresh sessions), in ms. Default 6 h. */
  maxClientSessionMs?: number
  /**
   * How long a dropped peer must wait before it may reconnect, in ms. Default 30 s. A handshake that
   * timed out (often a lost frame) waits less: 5 s, then 20 s, then this, for timeouts in a row.
   */
  reconnectCooldownMs?: number
  /**
   * NIP-13 proof of work (leading zero bits), off by default, so that fresh identities are not free:
   * `session` is required of every peer's session proof, `records` of every record (this peerset
   * mines its own records to match; about 2^bits hashes each).
   */
  proofOfWork?: { session?: number; records?: number }
  /** How long `close()` waits for the transport to leave before giving up, in ms. Default 5 s. */
  closeTimeoutMs?: number
  /**
   * Nostr relays as always-on peers, e.g. `nostrRelays({ urls })`: records are published to them and
   * back-filled from them, so users who are never online together still share the room. Off by default.
   */
  relays?: RelayStrategy
}

/**
 * The settings of a running peerset that {@link Peerset.configure} changes: this peer's own tuning
 * of its sessions and its stay in the room. Every value, defaults filled in.
 */
export interface PeersetSettings {
  /** Peer session timeouts. A change applies to sessions that start after it; running sessions keep theirs until they end. */
  sessionTimeouts: SessionTimeouts
  /** Per-peer limits. A change applies to sessions that start after it. */
  sessionLimits: SessionLimits
  /** Most concurrent peers. Lowering it ends no session: newcomers are refused until fewer remain. */
  maxPeers: number
  /** How long this peerset stays in the room before it leaves and rejoins, in ms; counted from the last join. */
  maxClientSessionMs: number
  /** How long `close()` waits for the transport to leave, in ms. */
  closeTimeoutMs: number
}

/** What {@link Peerset.configure} takes: any of the {@link PeersetSettings}; nested objects change key by key. */
export interface PeersetSettingsChange {
  sessionTimeouts?: Partial<SessionTimeouts>
  sessionLimits?: Partial<SessionLimits>
  maxPeers?: number
  maxClientSessionMs?: number
  closeTimeoutMs?: number
}

/** A warning: something works in a degraded way (no persistence, no sync...). Also listed in `status()`. */
export interface PeersetWarning {
  code:
    | 'no-persistence'
    | 'no-transport'
    | 'storage-fallback'
    | 'transport-failed'
    | 'persistence-denied'
    | 'policy-recheck'
    // Storage health: writes fail because the quota is exceeded / for another reason / the store is closed.
    | 'storage-quota'
    | 'storage-failed'
    | 'storage-closed'
    /** Rows read from storage that are not well-formed records: skipped (not loaded, not served). */
    | 'storage-corrupt'
    /** No signalling server (tracker or relay) reachable for a while: new peers cannot be found; retried with backoff. */
    | 'no-signalling'
  message: string
}

/** Details of a rejected record. */
export interface RejectedRecord {
  /** The record's id, if it could be computed. */
  id: string | undefined
  reason: RejectReason
  /** The moderation rule, when `reason` is `'moderation'`. */
  rule?: string
  message: string
  /** Whether the verdict can never change (a record from the future, or over a quota, may be accepted later). */
  permanent: boolean
  origin: 'local' | 'import' | 'remote' | 'relay'
  /** The peer it came from, for remote records. */
  peerId?: string
  /** The relay's url, for records a Nostr relay served. */
  relay?: string
}

/** A peer in the room: its session state, and once it has proved its key, who it is. */
export interface PeerInfo {
  /** The transport's id of the peer. */
  peerId: string
  /** The session state (`authenticated` peers sync). */
  state: SessionState
  /** The peer's public key (hex) and npub, once it has proved it holds the key. */
  pubkey: string | undefined
  npub: string | undefined
  /**
   * Strikes (cryptographic, protocol and rate violations): those of this session, plus those remembered
   * from earlier sessions of its transport id or, once it proved it, of its key (counted once).
   */
  strikes: number
  /** When the session started (ms). */
  connectedAt: number
  /** Records received from it and added. */
  recordsReceived: number
  /** Records sent to it (in answer to its requests) during its current session. */
  recordsSent: number
  /**
   * About one round trip to the peer, ms: from our hello to its signed answer (the handshake; its
   * signing included), then from each keepalive ping to its pong. `undefined` until it answered.
   */
  rttMs: number | undefined
}

/** The events of a peerset, with their listener arguments. */
export interface PeersetEvents {
  [name: string]: unknown[]
  /** One record was added (published here or received), after it was stored. A record replaced within its own batch was never stored and is never reported added; nor is a tombstone (withdrawal). */
  'record:added': [record: PeersetRecord, info: RecordOrigin]
  /** A batch of records was added in one storage transaction (handy for large catch-ups). */
  'records:added': [records: PeersetRecord[]]
  /**
   * A record left the store (`reason`: `expired`, `replaced`, `withdrawn` by its author, `over-quota`,
   * `duplicate`, `author-banned`, `withdrawal-cap` (older than its author's 20th newest withdrawal), ...).
   * Tombstones are never reported added or removed.
   */
  'record:removed': [record: PeersetRecord, info: { reason: RemoveReason; replacedBy?: PeersetRecord }]
  /** A record was refused. */
  'record:rejected': [info: RejectedRecord]
  /** Moderation struck an author for a record (`strikes` is their total now). Emitted after the write that caused it committed. */
  'author:strike': [info: AuthorStrikeInfo]
  /**
   * An author reached the strike threshold: their records are removed and new ones refused until
   * `untilMs` (milliseconds since the epoch, like `peer:banned`'s). Emitted after the write committed.
   */
  'author:banned': [info: AuthorBanInfo]
  /** Catching up from peers started: records are wanted. */
  'sync:started': [info: { wanted: number }]
  /** Every wanted record has arrived or been resolved: this peer is in sync with its peers as far as it knows. */
  'sync:idle': [info: { recordsAdded: number }]
  /**
   * How a catch-up is going, for a progress bar: once right after `sync:started` (`received` 0), then at
   * most every 250 ms (peerset clock) while something changed, and once right before `sync:idle`
   * (`received === expected`). `received`: wanted records that arrived and were judged since the
   * catch-up began (added, duplicate or refused); `expected`: `received` plus those still wanted (it
   * grows as peers announce more, shrinks when a wanted record comes by another way); `added`: of
   * `received`, those stored; `rate`: records received per second over the last 5 s.
   * @example
   * ```ts
   * peerset.on('sync:progress', ({ received, expected }) => (bar.value = expected ? received / expected : 1))
   * ```
   */
  'sync:progress': [info: { received: number; expected: number; added: number; rate: number }]
  /** A peer proved its key: it syncs from now on. */
  'peer:joined': [peer: PeerInfo]
  /** A peer's session ended; `reason` says why (e.g. `granularity` or `moderation-policy` when a setting differs). */
  'peer:left': [peer: PeerInfo, info: { reason: CloseReason; detail: string }]
  /** A peer's session changed state. */
  'peer:state': [info: { peerId: string; from: SessionState; to: SessionState }]
  /** A peer broke the protocol, sent a forged record, or went over a rate limit. */
  'peer:strike': [info: { peerId: string; reason: string; count: number; detail: string }]
  /** A peer was banned (by transport id, and by key if it had proved one) until `untilMs`. */
  'peer:banned': [info: { peerId: string; pubkey: string | undefined; untilMs: number; reason: string }]
  warning: [warning: PeersetWarning]
  /** The transport's connection state changed: a signalling server opened or is failing, a peer connected or left. */
  'transport:state': [state: TransportState]
  /** A relay's state changed (connected, synced, refused, backed off...); see `status().relays`. */
  'relay:state': [state: RelayState]
  /** An error that did not fail a call: a storage write, a transport failure, a throwing listener. */
  error: [error: unknown]
}

/** Query of {@link Peerset.records}. Times are Unix seconds, inclusive. */
export interface RecordQuery {
  /** Only this author's records (hex public key or npub). */
  author?: string
  since?: number
  until?: number
  limit?: number
  offset?: number
}

/** A snapshot of a peerset's state. */
export interface PeersetStatus {
  room: string
  publicKey: string
  npub: string
  state: 'open' | 'closing' | 'closed'
  /** Live records (what `records()` returns unfiltered): tombstones are not counted. */
  records: number
  /** Tombstones held: withdrawals, stored and synced until they expire, never returned as records. */
  withdrawals: number
  /** Authors with live records. */
  authors: number
  granularity: GranularityDescriptor
  /** The buckets inside the retention window now, and how many hold records. */
  buckets: { oldest: number; newest: number; nonEmpty: number }
  storage: {
    name: string
    persistent: boolean
    /**
     * Whether the browser keeps this origin's data under storage pressure: read when the peerset
     * opens (`navigator.storage.persisted()`, which never prompts), then the answer of
     * {@link Peerset.requestPersistence}. `undefined` where unknown or not applicable (memory, Node).
     */
    persisted: boolean | undefined
    /**
     * The store's health: `ok`; `degraded` (writes fail, e.g. quota exceeded); `closed` (the
     * connection is gone, e.g. another tab upgrades the database). While not `ok` records are not
     * pulled from peers (a probe batch now and then while `degraded`); see `warning` events.
     */
    state: 'ok' | 'degraded' | 'closed'
    /** The last storage error, while not `ok`. */
    lastError?: string
  }
  transport: {
    name: string | null
    joined: boolean
    selfId: string | null
    peers: number
    /** The transport's connection state (signalling servers, transport-level peers, last error); null if it reports none. */
    state: TransportState | null
  }
  /** The relays (`options.relays`), each with its state and counts; empty without relays. */
  relays: RelayState[]
  warnings: PeersetWarning[]
}

/** A running peerset. Made by {@link createPeerset}. */
export interface Peerset extends Subscribable<PeersetEvents> {
  /** This peer's author key (hex). */
  readonly publicKey: string
  /** This peer's npub. */
  readonly npub: string
  /**
   * Sign, validate, store and announce a record. Resolves once it is stored. Rejects with `CLOSED`
   * after `close()`, also while it still waits for the signer when `close()` is called.
   */
  publish(draft: RecordDraft): Promise<PeersetRecord>
  /**
   * Check and add a signed record from elsewhere (a backup, another app): a Nostr event or a
   * {@link PeersetRecord}. It takes the same path as a record from a peer (format, id, signature,
   * time window, moderation) and is then announced to peers. Resolves with what happened; never
   * throws for bad input.
   */
  importRecord(record: NostrEvent | PeersetRecord | unknown): Promise<IngestOutcome>
  /**
   * Withdraw one of this peer's own records (by record or id): sign a tombstone, the newest version
   * of its address (empty text, the `["deleted"]` tag; see `createWithdrawal`), and store and sync it
   * like any record. The record is then removed on every peer that holds it (`record:removed`, reason
   * `withdrawn`), its author's quota place is free, and no older version of it can come back: every
   * peer keeps the tombstone (per author at most the newest 20) until it expires, one retention after
   * the withdrawal. Resolves with the tombstone (or the held one, if the record is already withdrawn).
   *
   * Throws `INVALID_ARGUMENT` if the record is not held here (for an id) or is not this peer's own
   * (only the author can withdraw), `CLOSED` (also while waiting for the signer), `SIGNER_FAILED`, or `INVALID_RECORD` if the tombstone
   * is refused (e.g. a newer version exists).
   * @example
   * ```ts
   * const record = await peerset.publish({ text: 'Lost cat' })
   * await peerset.withdraw(record) // gone here and, once synced, everywhere
   * ```
   */
  withdraw(record: PeersetRecord | string): Promise<PeersetRecord>
  /**
   * Current records (withdrawn ones and tombstones never), newest first, optionally filtered and paged.
   * Records are held compactly and built on each call (equal records, not always the same objects
   * as an earlier call): page with `limit` rather than listing 100k records at a time.
   */
  records(query?: RecordQuery): PeersetRecord[]
  /** One live record by id (a tombstone's id gives `undefined`); equal, not always the same object, on each call. */
  get(id: string): PeersetRecord | undefined
  /** Connected peers. */
  peers(): PeerInfo[]
  /** Counts, buckets, storage and transport state, warnings. */
  status(): PeersetStatus
  /** Resolves when every record received or published so far has been processed (and the re-check of kept records under a changed moderation policy, which runs just after opening, is over). */
  settled(): Promise<void>
  /**
   * Ask the browser to keep this origin's data under storage pressure (`navigator.storage.persist()`).
   * Call it from a user gesture (a click on "keep my data"): without one Chromium answers `false`
   * and Firefox may prompt at an odd moment, so the peerset never asks by itself. Resolves with the
   * answer (also in `status().storage.persisted`; a `persistence-denied` warning when refused), or
   * `undefined` where it does not apply (memory storage, Node). Never rejects, except `CLOSED`.
   * @example
   * ```ts
   * keepButton.onclick = async () => { keepButton.textContent = (await peerset.requestPersistence()) ? 'Kept' : 'Not kept' }
   * ```
   */
  requestPersistence(): Promise<boolean | undefined>
  /**
   * Change this peer's own tuning while it runs (see {@link PeersetSettings} for when each change
   * takes effect) and return the settings now in force; `configure({})` only reads them. Values are
   * checked as `createPeerset` checks them, and nothing changes if one is bad. Settings the room must
   * agree on (`granularity`, `moderation`, `strikes`, `limits`, `clockSkewMs`, `proofOfWork`) are
   * refused with `INVALID_ARGUMENT` (reason `room-wide-setting`) naming them, and what the peerset is
   * built from (`room`, `identity`, `storage`, `transport`, `clock`, timers) with reason
   * `fixed-setting`: close the peerset and create a new one (peers on other room-wide settings will
   * not sync with it). Throws `CLOSED` after `close()`.
   * @example
   * ```ts
   * peerset.configure({ sessionTimeouts: { handshakeMs: 5_000 }, maxPeers: 8 })
   * peerset.configure({}).sessionTimeouts.idleMs // 90000
   * ```
   */
  configure(change: PeersetSettingsChange): PeersetSettings
  /** Stop timers, leave the room, flush and close storage. Idempotent; always resolves. */
  close(): Promise<void>
}
