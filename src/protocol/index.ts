/**
 * The sync wire protocol: message types, a versioned binary codec and its limits.
 * `encodeMessage` splits what does not fit one frame; `decodeMessage` refuses anything malformed
 * with `PeersetError` `PROTOCOL`.
 */
export { decodeMessage } from './decode.js'
export { encodeMessage, encodeMessages, MAX_WIRE_EVENT_BYTES } from './encode.js'
export { wireEventSize } from './wire-event.js'
export {
  CHILD_DIGEST_BYTES,
  DIGEST_BYTES,
  EMPTY_CHILD_DIGEST,
  EMPTY_DIGEST,
  GOSSIP_ID_BYTES,
  GOSSIP_OP_CODES,
  ID_BYTES,
  MAX_ABS_BUCKET,
  MAX_FINGERPRINT_COUNT,
  MAX_FRAME_BYTES,
  MAX_RANGE_DEPTH,
  MAX_WINDOW_BUCKETS,
  MESSAGE_TYPE_CODES,
  PROTOCOL_VERSION,
  RANGE_BRANCHES,
  REJECT_CLASS_CODES,
  SHORT_ID_BYTES,
  type BucketFingerprint,
  type BucketGossipIds,
  type BucketIds,
  type BucketWindow,
  type FingerprintValue,
  type GossipMessage,
  type HaveMessage,
  type IdsEntry,
  type NeedEntry,
  type RangeEntry,
  type RangeRef,
  type RangesMessage,
  type RecordsMessage,
  type EvidenceMessage,
  type RejectClass,
  type RejectItem,
  type RejectMessage,
  type RootMessage,
  type SplitEntry,
  type SummaryMessage,
  type SyncMessage,
  type SyncMessageType,
  type WantMessage,
  type WireEvent,
} from './messages.js'
