/**
 * Peerset: decentralized, peer-to-peer sync of signed records (Nostr events) with time-bucketed
 * set reconciliation. Start with {@link createPeerset} and {@link createIdentity}.
 * @module peerset
 */
export {
  createPeerset,
  type PeerInfo,
  type Peerset,
  type PeersetEvents,
  type PeersetOptions,
  type PeersetSettings,
  type PeersetSettingsChange,
  type PeersetStatus,
  type PeersetWarning,
  type RecordQuery,
  type RejectedRecord,
} from './peerset.js'
export type { AuthorBanInfo, AuthorStrikeInfo, IngestOutcome, RecordOrigin, RejectReason, Rejection, RemoveReason } from './engine/ingest-types.js'
export { DEFAULT_CLOCK_SKEW_MS } from './engine/time-window.js'
export { PeersetError, isPeersetError, type PeersetErrorCode } from './errors.js'
export type { Emitter, EventMap, Listener, Subscribable } from './events.js'
export * from './identity/index.js'
export * from './record/index.js'
export * from './buckets/index.js'
export * from './storage/index.js'
export * from './transport/index.js'
export * from './moderation/index.js'
export * from './verify/index.js'
export { nostrRelays, type NostrRelaysOptions, type RelayHost, type RelayLinks, type RelayState, type RelayStrategy, type WebSocketConstructor, type WebSocketLike } from './relays/index.js'
export {
  DEFAULT_CLIENT_SESSION_MS,
  DEFAULT_PROOF_OF_WORK,
  DEFAULT_SESSION_LIMITS,
  DEFAULT_SESSION_TIMEOUTS,
  SESSION_PROOF_KIND,
  type CloseReason,
  type ProofOfWorkOptions,
  type SessionLimits,
  type SessionState,
  type SessionTimeouts,
  type StrikeReason,
} from './session/index.js'
