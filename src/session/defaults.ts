/** Defaults of peer sessions. Every value is documented in docs/protocol.md. */
import { MAX_FRAME_BYTES } from '../protocol/messages.js'
import type { ProofOfWorkOptions, SessionLimits, SessionTimeouts } from './types.js'

/**
 * Default session timeouts.
 * - `handshakeMs` 15 s: `start()` to authenticated.
 * - `challengeMs` 10 s: our hello to the peer's verified proof.
 * - `idleMs` 90 s: silence that closes a session; a ping goes out after 30 s of silence.
 * - `maxSessionMs` 1 h: then the session closes with `re-auth` and the engine handshakes again.
 * - `proofTtlMs` 60 s: a proof's `created_at` may differ from our clock by at most this, either way.
 * @example
 * ```ts
 * createPeerSession({ ...options, timeouts: { ...DEFAULT_SESSION_TIMEOUTS, idleMs: 60_000 } })
 * ```
 */
export const DEFAULT_SESSION_TIMEOUTS: Readonly<SessionTimeouts> = Object.freeze({
  handshakeMs: 15_000,
  challengeMs: 10_000,
  idleMs: 90_000,
  maxSessionMs: 3_600_000,
  proofTtlMs: 60_000,
})

/**
 * Default per-peer limits. Generous for an honest peer (records it was asked for never count, see
 * `expectRecords`); a flood is cut off within a second and banned within about three.
 * @example
 * ```ts
 * createPeerSession({ ...options, limits: { strikeThreshold: 5 } })
 * ```
 */
export const DEFAULT_SESSION_LIMITS: Readonly<SessionLimits> = Object.freeze({
  maxFrameBytes: MAX_FRAME_BYTES,
  messagesPerSecond: 200,
  messageBurst: 1_000,
  bytesPerSecond: 1_048_576,
  byteBurst: 4_194_304,
  unsolicitedRecordsPerSecond: 20,
  unsolicitedRecordBurst: 200,
  maxExpectedRecords: 1_024,
  rateStrikeIntervalMs: 1_000,
  strikeThreshold: 3,
  banMs: 3_600_000,
})

/**
 * Proof-of-work on session proofs is off by default: we require 0 bits, and mine at most 16 bits
 * (about 65 000 hashes, a fraction of a second on one core) for a peer that asks. The difficulty a
 * peer asks for is not authenticated, so this cap bounds the work any hello can make us do.
 * @example
 * ```ts
 * createPeerSession({ ...options, proofOfWork: { requireDifficulty: 12 } })
 * ```
 */
export const DEFAULT_PROOF_OF_WORK: Readonly<ProofOfWorkOptions> = Object.freeze({
  requireDifficulty: 0,
  maxMineDifficulty: 16,
})

/** Most proof-of-work difficulty a hello may ask for (bits). */
export const MAX_POW_DIFFICULTY = 32

/**
 * Default maximum client session: how long a peerset stays in a room before it leaves and rejoins
 * (fresh transport id, fresh sessions with everyone): 6 hours. See `clientSessionEndsAt`.
 * @example
 * ```ts
 * const leaveAt = clientSessionEndsAt(joinedAtMs) // joinedAtMs + DEFAULT_CLIENT_SESSION_MS
 * ```
 */
export const DEFAULT_CLIENT_SESSION_MS = 6 * 3_600_000
