/**
 * Peer sessions: the handshake (hello, signed proofs), the per-peer state machine with its timeouts,
 * budgets and strikes, the session codec, and the registry of cool-downs and bans.
 */
export type {
  CloseReason,
  PeerSessionOptions,
  ProofOfWorkOptions,
  SessionAction,
  SessionEvent,
  SessionLimits,
  SessionMessageType,
  SessionSettings,
  SessionState,
  SessionTimeouts,
  StrikeReason,
} from './types.js'
export {
  DEFAULT_CLIENT_SESSION_MS,
  DEFAULT_PROOF_OF_WORK,
  DEFAULT_SESSION_LIMITS,
  DEFAULT_SESSION_TIMEOUTS,
  MAX_POW_DIFFICULTY,
} from './defaults.js'
export { SESSION_EVENTS, SESSION_STATES, TOLERATED, TRANSITIONS, isTerminal, isTolerated, nextState } from './transitions.js'
export {
  CLOSE_REASON_CODES,
  MAX_AUTH_FRAME_BYTES,
  SESSION_PROTOCOL_VERSION,
  SESSION_TYPE_CODES,
  decodeSessionMessage,
  encodeSessionMessage,
  isHelloFrame,
  isSessionFrame,
  type AuthMessage,
  type ByeMessage,
  type HelloMessage,
  type PingMessage,
  type PongMessage,
  type SessionMessage,
} from './codec.js'
export { compareSettings, settingsDigest, type SettingsMismatch } from './settings.js'
export {
  SESSION_PROOF_KIND,
  SESSION_PROOF_PURPOSE,
  createSessionProof,
  sessionProofTags,
  verifySessionProof,
  type CreateSessionProofOptions,
  type ProofFailure,
  type ProofVerdict,
  type SessionProofContext,
  type VerifySessionProofOptions,
} from './proof.js'
export { TokenBucket } from './token-bucket.js'
export { PeerBudget, type BudgetRefusal, type BudgetVerdict } from './budget.js'
export { createPeerSession, isSessionInitiator, PeerSession, type PeerSessionSnapshot } from './session.js'
export {
  DEFAULT_RECONNECT_COOLDOWN_MS,
  DEFAULT_REGISTRY_MAX_ENTRIES,
  DEFAULT_STRIKE_MEMORY_MS,
  PeerRegistry,
  type DropInfo,
  type PeerRegistryJSON,
  type PeerRegistryOptions,
  type RegistryEntryJSON,
} from './registry.js'
export { clientSessionEndsAt, type ClientSessionOptions } from './client-session.js'
export { defaultClassify, defaultCountRecords, resolveSessionTuning } from './options.js'
export type { SessionTuning } from './options.js'
