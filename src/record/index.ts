/** Records: the Nostr event layout, canonical serialization, limits, signing and verification. */
export type { GeoPoint, NostrEvent, PeersetRecord, RecordDraft, RecordLimits, RecordRejectReason, UnsignedEvent, VerifyResult } from './types.js'
export { DEFAULT_RETENTION_SECONDS, RECORD_GEOHASH_PRECISION, RECORD_KIND } from './constants.js'
export { DEFAULT_RECORD_LIMITS, MAX_EVENT_BYTES_CEILING, resolveLimits } from './limits.js'
export { encodeGeohash } from './geohash.js'
export { computeEventId, serializeEvent, type SerializableEvent } from './serialize.js'
export { createRecord, type CreateRecordOptions } from './create.js'
export { recordFromNostrEvent, toNostrEvent, verifyEventSignature, verifyRecord, type VerifyRecordOptions } from './verify.js'
export { countLeadingZeroBits, hasProofOfWork, mineProofOfWork, type MineOptions } from './pow.js'
