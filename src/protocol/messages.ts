/**
 * The sync messages peers exchange, as plain objects. `encodeMessage` turns one into frames of at
 * most `MAX_FRAME_BYTES`, `decodeMessage` turns one frame back into a message. Ids, short ids and
 * digests are lowercase hex strings here and raw bytes on the wire.
 */

/** The wire protocol version, byte 0 of every frame. */
export const PROTOCOL_VERSION = 4

/**
 * The largest frame, in bytes, of either codec (sync and session): one trystero chunk (16 KiB
 * minus its 36-byte header), so every transport carries a frame in one piece.
 */
export const MAX_FRAME_BYTES = 16_384 - 36

/** Byte 1 of every frame. */
export const MESSAGE_TYPE_CODES = {
  root: 1,
  summary: 2,
  ranges: 3,
  have: 4,
  want: 5,
  records: 6,
  reject: 7,
  evidence: 8,
  gossip: 9,
  fetch: 10,
  pushed: 11,
  offer: 12,
  symbols: 13,
  more: 14,
} as const

/** Bytes of a fingerprint digest (the first 16 bytes of a SHA-256). */
export const DIGEST_BYTES = 16
/**
 * Bytes of a split child's digest: the first 8 bytes of its 16-byte digest. Children are compared
 * together with their counts, thousands of times per round at most, so an accidental collision
 * (2^-64 per comparison) does not happen in practice; a forged one would only hide the forger's own
 * records between two peers. Halving it saves about a third of the bytes of a range round.
 */
export const CHILD_DIGEST_BYTES = 8
/** Bytes of an event id. */
export const ID_BYTES = 32
/**
 * Bytes of a short id: bytes 4..11 of the event id. Range prefixes are at most 4 bytes long, so
 * the short id never repeats what the range already fixes. Why 8 bytes: two different ids of one
 * range collide with probability 2^-64, and forging an id that collides with a given honest id
 * costs about 2^64 hashes. A collision only hides that pair from one exchange.
 */
export const SHORT_ID_BYTES = 8
/** Children of a split range: one per hex digit of the id. */
export const RANGE_BRANCHES = 16
/** Deepest range: an 8-hex-digit (4-byte) id prefix. Ranges at this depth are never split. */
export const MAX_RANGE_DEPTH = 8
/** Largest count of a bucket or root fingerprint (it is hashed as a u32). */
export const MAX_FINGERPRINT_COUNT = 0xffff_ffff
/** Largest window a peer may announce, in buckets. */
export const MAX_WINDOW_BUCKETS = 1_000_000
/** Largest absolute bucket number on the wire (2^48: far beyond any millisecond time). */
export const MAX_ABS_BUCKET = 2 ** 48

/** Digest of the empty set: the first 16 bytes of SHA-256 of 36 zero bytes (count 0, sum 0). */
export const EMPTY_DIGEST = '6db65fd59fd356f6729140571b5bcd6b'
/** A split child with count 0 carries no digest on the wire; it decodes to this one (EMPTY_DIGEST's first 8 bytes). */
export const EMPTY_CHILD_DIGEST = EMPTY_DIGEST.slice(0, CHILD_DIGEST_BYTES * 2)

/** A window of buckets: every bucket b with oldest <= b <= newest. */
export interface BucketWindow {
  oldest: number
  newest: number
}

/** A set fingerprint: its size and the hex of its 16-byte digest. */
export interface FingerprintValue {
  count: number
  digest: string
}

/** The fingerprint of one non-empty bucket. */
export interface BucketFingerprint extends FingerprintValue {
  bucket: number
}

/**
 * The cheap announcement: the sender's window and the fingerprint of everything it holds inside
 * it. Sent when a peer becomes ready and periodically while idle. `wanting` is how many ids the
 * sender is still fetching that the receiver announced (a peer catching up from the receiver is not
 * asked to reconcile again; ids a third peer announced, and may never deliver, do not count).
 */
export interface RootMessage extends FingerprintValue {
  type: 'root'
  window: BucketWindow
  wanting: number
}

/**
 * Bytes of a bucket's digest in a summary: the first bytes of SHA-256(salt || the bucket's 16-byte
 * digest), with the summary's fresh random salt. Compared together with the counts, so only buckets
 * of equal counts and different contents can be missed (probability 2^-24 per such bucket and
 * round; the next round has another salt, and the root still differs until then).
 */
export const SUMMARY_DIGEST_BYTES = 3
/** Bytes of a summary's salt. */
export const SUMMARY_SALT_BYTES = 8

/**
 * The leader's per-bucket counts and short salted digests (see {@link SUMMARY_DIGEST_BYTES}). One
 * summary may be split over several frames: each part covers the buckets `from..to` (inside
 * `window`) and lists only the non-empty ones among them, in increasing bucket order; a bucket of
 * that span that is not listed is empty. `count`/`digest` are the root over the whole window and
 * `salt` is the salt of the bucket digests, the same in every part.
 */
export interface SummaryMessage extends FingerprintValue {
  type: 'summary'
  window: BucketWindow
  from: number
  to: number
  salt: string
  buckets: BucketFingerprint[]
}

/**
 * A range: the ids of `bucket` whose hex starts with `prefix` (0 to {@link MAX_RANGE_DEPTH} hex
 * digits; `''` is the whole bucket).
 */
export interface RangeRef {
  bucket: number
  prefix: string
}

/**
 * "My range differs from yours; here are the fingerprints of its 16 children" (child i = prefix +
 * hex digit i). Child digests are {@link CHILD_DIGEST_BYTES} long (16 hex digits).
 */
export interface SplitEntry extends RangeRef {
  kind: 'split'
  children: FingerprintValue[]
}

/** "These are ALL my ids in the range" (as short ids). An empty list means "I have nothing there". */
export interface IdsEntry extends RangeRef {
  kind: 'ids'
  shortIds: string[]
}

/** "Send me the full ids of these short ids of yours" (an answer to an `ids` entry). */
export interface NeedEntry extends RangeRef {
  kind: 'need'
  shortIds: string[]
}

export type RangeEntry = SplitEntry | IdsEntry | NeedEntry

/** Range reconciliation steps, answering a summary or earlier ranges. */
export interface RangesMessage {
  type: 'ranges'
  entries: RangeEntry[]
}

/** Ids of one bucket. */
export interface BucketIds {
  bucket: number
  ids: string[]
}

/** "I have these records" (new ones, or ones the receiver lacks). The receiver pulls what it wants. */
export interface HaveMessage {
  type: 'have'
  groups: BucketIds[]
}

/** "Send me these records." */
export interface WantMessage {
  type: 'want'
  ids: string[]
}

/** A Nostr event without its id: the receiver recomputes the id from the fields. */
export interface WireEvent {
  pubkey: string
  created_at: number
  kind: number
  tags: string[][]
  content: string
  sig: string
}

/**
 * Bytes of a gossip id: the first 8 bytes of the event id (see {@link GossipMessage}). Why 8 bytes
 * and why that is safe:
 * - Nobody can make an honest record's gossip id collide with a record of their own: the honest id
 *   does not exist yet when the attacker grinds (a second preimage on 64 bits, about 2^64 hashes,
 *   each a signature too).
 * - An attacker can make two of its own records share one (a birthday search, about 2^32): it only
 *   hides one of its own records from gossip; the next reconciliation (full fingerprints) finds it.
 * - Two honest ids of one bucket share one with probability about n^2 / 2^65: never in practice.
 * - Whatever happens, nothing is lost: a receiver that holds a record with the announced gossip id
 *   does not pull it (if it was another record, reconciliation finds the difference); a holder asked
 *   for a gossip id sends every record it holds that matches it, and the receiver takes any record
 *   matching what it asked for.
 */
export const GOSSIP_ID_BYTES = 8

/** Gossip ids of one bucket (each the first {@link GOSSIP_ID_BYTES} bytes of an event id, as hex). */
export interface BucketGossipIds {
  bucket: number
  ids: string[]
}

/**
 * Gossip of new records by gossip id (see {@link GOSSIP_ID_BYTES}), so that announcing a record to a
 * room costs 8 bytes per peer, not 32:
 * - `have`: "I have these new records" (the receiver pulls those it lacks, with `want`);
 * - `want`: "send me the records with these gossip ids" (each answered with every matching record
 *   held, in `records`, or with `gone`);
 * - `gone`: "I no longer hold anything with these gossip ids you asked for" (the asker turns to
 *   another peer that announced them, as after a `reject` notice);
 * - `found`: "I have these records you lack" (found by a reconciliation, not new: pulled like
 *   `have`, but not relayed once accepted; the other peers' own rounds find them).
 */
export interface GossipMessage {
  type: 'gossip'
  op: 'have' | 'want' | 'gone' | 'found'
  groups: BucketGossipIds[]
}

/** Wire codes of {@link GossipMessage} `op` (the byte after the type). */
export const GOSSIP_OP_CODES: Readonly<Record<GossipMessage['op'], number>> = { have: 1, want: 2, gone: 3, found: 4 }

/** Full records, answering a `want`. */
export interface RecordsMessage {
  type: 'records'
  events: WireEvent[]
}

/** Why a peer refused a record, coarsely. */
export type RejectClass =
  /** Malformed, bad id or bad signature: the sender forwarded something broken. */
  | 'invalid'
  /** Older than the retention window. */
  | 'expired'
  /** Too far in the future (usually not permanent). */
  | 'future'
  /** A newer version of the same (author, uuid) is kept. */
  | 'superseded'
  /** Refused by moderation. */
  | 'moderation'
  /** Over a quota or rate limit. */
  | 'quota'
  | 'other'

/** Wire codes of {@link RejectClass}. */
export const REJECT_CLASS_CODES: Readonly<Record<RejectClass, number>> = {
  invalid: 1,
  expired: 2,
  future: 3,
  superseded: 4,
  moderation: 5,
  quota: 6,
  other: 7,
}

/** One refused record. `permanent`: the verdict can never change, so never offer it again. */
export interface RejectItem {
  id: string
  reason: RejectClass
  permanent: boolean
}

/** "I refused these records you sent me." */
export interface RejectMessage {
  type: 'reject'
  items: RejectItem[]
}

/**
 * Signed records that earned their author a strike here (moderation evidence), sent unasked to an
 * authenticated peer so that it can run its own moderation on them and reach the same strikes and
 * bans (see docs/moderation.md). Same body as `records`; the receiver never stores them as records.
 */
export interface EvidenceMessage {
  type: 'evidence'
  events: WireEvent[]
}

/** Most records one `fetch` may ask for. */
export const MAX_FETCH_RECORDS = 4_096
/** Bytes of a fetch cursor's id prefix (the first bytes of the last id received). */
export const CURSOR_ID_BYTES = 6

/** Where a fetch continues: after the ids of `bucket` whose first {@link CURSOR_ID_BYTES} bytes are at most `id` (hex). */
export interface FetchCursor {
  bucket: number
  id: string
}

/**
 * "Send me the records you hold in buckets `from..to`, in (bucket, id) order, after `after`, at
 * most `max` of them." Sent by a peer whose part of the window is empty where the receiver's is
 * not: no ids are announced nor wanted one by one, and the receiver of the records paces the
 * stream (one fetch outstanding at a time).
 */
export interface FetchMessage {
  type: 'fetch'
  from: number
  to: number
  after: FetchCursor | undefined
  max: number
}

/**
 * Records answering a `fetch`, in increasing (bucket, id) order. An answer may span several
 * frames: `last` is set on its final frame only, and `exhausted` (on the final frame) says that no
 * record of the fetched span is left after the last one sent.
 */
export interface PushedMessage {
  type: 'pushed'
  events: WireEvent[]
  last: boolean
  exhausted: boolean
}

/**
 * "I hold records in these buckets, where your summary listed none: fetch them from me." The
 * follower's answer, for those buckets, to the leader's summary (increasing bucket numbers).
 */
export interface OfferMessage {
  type: 'offer'
  buckets: number[]
}

/** Bytes of the salt of a stream of coded symbols. */
export const SYMBOL_SALT_BYTES = 8
/** Highest coded symbol index on the wire. */
export const MAX_SYMBOL_INDEX = 2 ** 31 - 1

/**
 * One coded symbol of a rateless IBLT (see the sync reconciler): how many short ids map to it, the
 * XOR of them (two 32-bit halves) and the XOR of their salted 32-bit checksums.
 */
export interface WireSymbol {
  count: number
  hi: number
  lo: number
  check: number
}

/**
 * The expected number of elements of a set of `total` mapped to coded symbol `index` (each maps to
 * it with probability 2 / (index + 2)); counts travel as their difference from it.
 */
export function expectedCount(total: number, index: number): number {
  return Math.round((total * 2) / (index + 2))
}

/**
 * Coded symbols `from..` of the sender's short ids in `buckets` (`total` of them), salted with
 * `salt`; this batch ends at symbol `end` (a batch may span several frames).
 */
export interface SymbolsMessage {
  type: 'symbols'
  salt: string
  buckets: number[]
  total: number
  from: number
  end: number
  symbols: WireSymbol[]
}

/** "Send me coded symbols `from..from+count-1` of the stream salted with `salt`." */
export interface MoreMessage {
  type: 'more'
  salt: string
  from: number
  count: number
}

/** Every sync message. */
export type SyncMessage =
  | RootMessage
  | SummaryMessage
  | RangesMessage
  | HaveMessage
  | WantMessage
  | RecordsMessage
  | RejectMessage
  | EvidenceMessage
  | GossipMessage
  | FetchMessage
  | PushedMessage
  | OfferMessage
  | SymbolsMessage
  | MoreMessage

export type SyncMessageType = SyncMessage['type']
