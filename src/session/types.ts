/**
 * Types of a peer session: its states, the events that move it, the actions it asks the engine to
 * perform, and its options.
 */
import type { GranularityDescriptor } from '../buckets/types.js'
import type { Signer } from '../identity/types.js'

/**
 * Where a session is. Live states come first; `closed` and `banned` are terminal.
 * - `connecting`: created; `start()` not called yet (nothing has been sent).
 * - `hello-sent`: our hello is out; waiting for the peer's hello.
 * - `authenticating`: hellos exchanged and settings agree; our proof is being signed, theirs has not arrived.
 * - `proof-sent`: our proof is out; waiting for theirs.
 * - `peer-verified`: their proof verified; ours is still being signed.
 * - `authenticated`: both proofs are out and theirs verified: ready to sync.
 * - `closed`: ended (see the `close` action's reason). Every later frame is ignored.
 * - `banned`: ended by strikes; the engine should ban the peer (see the `ban` action).
 */
export type SessionState =
  | 'connecting'
  | 'hello-sent'
  | 'authenticating'
  | 'proof-sent'
  | 'peer-verified'
  | 'authenticated'
  | 'closed'
  | 'banned'

/** The session message types (byte 1 of a session frame), and `sync` for any frame of the sync codec. */
export type SessionMessageType = 'hello' | 'auth' | 'ping' | 'pong' | 'bye'

/**
 * What moves a session: a frame of a given kind arrived (`hello`, `auth`, `ping`, `pong`, `bye`,
 * `sync`), or something happened locally (`start`, `proof-sent`: our signer finished and our proof
 * went out, `close`, `ban`).
 */
export type SessionEvent = SessionMessageType | 'sync' | 'start' | 'proof-sent' | 'close' | 'ban'

/**
 * Why a session ended. The first three say which setting the peers disagree on.
 * - `protocol-version` / `granularity` / `moderation-policy`: the peer's hello differs in that setting.
 * - `record-limits` / `record-pow` / `clock-skew` / `author-strikes`: the peer's hello differs in a
 *   setting that changes which records are kept (`SessionSettings.rules`; the detail names it).
 * - `handshake-timeout`: not authenticated within `timeouts.handshakeMs` of `start()`.
 * - `challenge-timeout`: the peer's proof did not arrive within `timeouts.challengeMs` of our hello.
 * - `idle-timeout`: nothing received for `timeouts.idleMs`.
 * - `re-auth`: the session reached `timeouts.maxSessionMs`; the engine starts a fresh handshake.
 * - `auth-failed`: the peer's proof did not verify (also a strike).
 * - `pow-too-hard`: the peer asks for more proof-of-work than `proofOfWork.maxMineDifficulty`.
 * - `signer-failed`: our own signer refused, failed, or returned an event that does not verify.
 * - `refused`: the `admit` hook refused the peer's pubkey (e.g. banned).
 * - `banned`: strikes reached the threshold.
 * - `peer-closed`: the peer said bye (its reason is in the detail).
 * - `peer-left`: the transport reported that the peer left.
 * - `local`: the engine closed the session (e.g. leaving the room).
 */
export type CloseReason =
  | 'protocol-version'
  | 'granularity'
  | 'moderation-policy'
  | 'record-limits'
  | 'record-pow'
  | 'clock-skew'
  | 'author-strikes'
  | 'handshake-timeout'
  | 'challenge-timeout'
  | 'idle-timeout'
  | 're-auth'
  | 'auth-failed'
  | 'pow-too-hard'
  | 'signer-failed'
  | 'refused'
  | 'banned'
  | 'peer-closed'
  | 'peer-left'
  | 'local'

/**
 * Why a peer earned a strike: cryptographic, protocol and rate violations only.
 * The engine adds its own (e.g. `bad-signature` for a record whose signature fails) through `strike()`.
 */
export type StrikeReason =
  | 'malformed'
  | 'frame-too-large'
  | 'wrong-state'
  | 'bad-proof'
  | 'rate-messages'
  | 'rate-bytes'
  | 'record-flood'
  /** The engine's: a record whose recomputed id was never asked of the peer (e.g. a tampered copy). */
  | 'unrequested-record'
  | (string & {})

/** What the session asks the engine to do, in order. */
export type SessionAction =
  /** Send these bytes to the peer (`room.send(peerId, bytes)`). */
  | { type: 'send'; bytes: Uint8Array }
  /** A sync frame from an authenticated peer, within budget: hand it to the sync engine. */
  | { type: 'deliver'; bytes: Uint8Array }
  /** The peer proved it holds `pubkey`: start syncing with it. */
  | { type: 'authenticated'; pubkey: string; npub: string }
  /** The state changed (for status and logs). */
  | { type: 'state'; from: SessionState; to: SessionState }
  /** The peer earned a strike; `count` is its total in this session (prior strikes included). */
  | { type: 'strike'; reason: StrikeReason; count: number; detail: string }
  /** The session ended: stop routing this peer's frames to it (see `CloseReason`). */
  | { type: 'close'; reason: CloseReason; detail: string }
  /**
   * Ban the peer until `untilMs`: its transport id, and its pubkey if (and only if) the peer proved
   * it (an unproven pubkey could be someone else's).
   */
  | { type: 'ban'; reason: StrikeReason; untilMs: number; peerId: string; pubkey: string | undefined }
  /**
   * Actions that will be known later (our signer is signing our proof). Apply them when the promise
   * resolves; it never rejects.
   */
  | { type: 'pending'; actions: Promise<SessionAction[]> }
  /**
   * The authenticated peer started a new session (its hello has a higher epoch): this session is
   * closed (`re-auth`, no bye); open a new session with the peer and give it `hello`.
   */
  | { type: 'reopen'; hello: Uint8Array }

/** The settings two peers must share to sync: compared through the hello. */
export interface SessionSettings {
  /** The granularity descriptor (bucket length and retention in buckets). */
  granularity: GranularityDescriptor
  /** The moderation policy's digest (`ModerationStrategy.digest`), at most 256 UTF-8 bytes. */
  moderationDigest: string
  /**
   * Every other setting that changes which records are kept, by the name of its `createPeerset`
   * option (e.g. `strikes.threshold`, `limits.maxTextBytes`, `proofOfWork.records`, `clockSkewMs`),
   * as non-negative safe integers: at most `MAX_SETTING_RULES` names of at most 64 bytes. Default none.
   */
  rules?: Readonly<Record<string, number>>
}

/** Timeouts of a session, in milliseconds (each 1..2^31 - 1, the longest a timer waits). See `DEFAULT_SESSION_TIMEOUTS`. */
export interface SessionTimeouts {
  /** From `start()` to authenticated. */
  handshakeMs: number
  /** From `start()` (our hello, which carries our challenge nonce) to the peer's verified proof. */
  challengeMs: number
  /** Nothing received for this long closes the session; a ping goes out after a third of it. */
  idleMs: number
  /** Longest authenticated session before a fresh handshake (`re-auth`). */
  maxSessionMs: number
  /** How far a proof's `created_at` may be from our clock, either way. */
  proofTtlMs: number
}

/**
 * Per-peer limits. See `DEFAULT_SESSION_LIMITS`. Rates (`*PerSecond`) are numbers >= 0, durations
 * (`*Ms`) at most 2^31 - 1 ms, counts integers >= 1; `maxFrameBytes` lies between an auth frame's
 * size and `MAX_FRAME_BYTES` (16 348, the largest frame on the wire).
 */
export interface SessionLimits {
  /**
   * Largest frame accepted, bytes; a larger one is a strike and is not decoded. A peerset takes
   * only `MAX_FRAME_BYTES` here: peers pack frames up to it whatever the receiver set.
   */
  maxFrameBytes: number
  /** Frames per second (sustained) and burst. */
  messagesPerSecond: number
  messageBurst: number
  /** Bytes per second (sustained) and burst. */
  bytesPerSecond: number
  byteBurst: number
  /** Records per second (sustained) and burst that arrive without having been asked for. */
  unsolicitedRecordsPerSecond: number
  unsolicitedRecordBurst: number
  /** Most records that may be expected at once (`expectRecords` is capped here). */
  maxExpectedRecords: number
  /** After a rate strike, further over-budget frames within this time are dropped without a new strike. */
  rateStrikeIntervalMs: number
  /** Strikes that end the session with a ban. */
  strikeThreshold: number
  /** How long a ban lasts. */
  banMs: number
}

/** Optional NIP-13 proof-of-work on the session proof (off by default). */
export interface ProofOfWorkOptions {
  /** Leading zero bits we require of the peer's proof id; 0 = none. At most 32. */
  requireDifficulty: number
  /** Most difficulty we agree to mine for a peer; a peer asking more is closed with `pow-too-hard`. */
  maxMineDifficulty: number
}

/** Options of `createPeerSession`. */
export interface PeerSessionOptions {
  /** The room name (bound into both proofs). 1..256 UTF-8 bytes. */
  room: string
  /** Our transport peer id in the room. 1..128 UTF-8 bytes. */
  selfId: string
  /** The peer's transport id. 1..128 UTF-8 bytes, not `selfId`. */
  peerId: string
  /** Signs our proof (NIP-07-shaped: an extension or remote signer works). */
  signer: Signer
  /** Our public key (lowercase hex); the signer must sign as this key. */
  selfPubkey: string
  /** What the peer must agree on. */
  settings: SessionSettings
  /** Overrides of `DEFAULT_SESSION_LIMITS`. */
  limits?: Partial<SessionLimits>
  /** Overrides of `DEFAULT_SESSION_TIMEOUTS`. */
  timeouts?: Partial<SessionTimeouts>
  /** Overrides of `DEFAULT_PROOF_OF_WORK`. */
  proofOfWork?: Partial<ProofOfWorkOptions>
  /**
   * Our session epoch, sent in our hello: larger than the epoch of every earlier session this
   * transport id started (with any peer). Default 0.
   */
  epoch?: number
  /**
   * The highest hello epoch seen from this peer in earlier sessions: a hello below it belongs to a
   * session the peer has ended and is dropped without a strike. Default 0.
   */
  peerEpochFloor?: number
  /** Strikes the peer already has (e.g. from `PeerRegistry.strikesOf`). Default 0. */
  priorStrikes?: number
  /**
   * Strikes remembered for the peer once its key is proven (e.g. `(pubkey, t) =>
   * registry.strikesOf(peerId, pubkey, t)`): asked once, when the peer's proof verifies. The larger
   * of it and `priorStrikes` counts (they are the same strikes when remembered under both the
   * transport id and the key), plus the strikes of this session so far. Default: none.
   */
  priorStrikesOfKey?: (pubkey: string, nowMs: number) => number
  /**
   * Whether a pubkey may connect (e.g. not banned). Asked when the peer's hello names it; a `false`
   * closes the session with `refused`. Default: everyone.
   */
  admit?: (pubkey: string, nowMs: number) => boolean
  /** Whether a sync frame carries records. Default: byte 1 is the sync codec's `records` type. */
  classify?: (bytes: Uint8Array) => 'records' | 'other'
  /** How many records a `records` frame carries. Default: the varint after the 2-byte header (1 if unreadable). */
  countRecords?: (bytes: Uint8Array) => number
}
