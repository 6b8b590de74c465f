/** A NIP-01 Nostr event, as every Nostr tool sees it. */
export interface NostrEvent {
  /** Lowercase hex SHA-256 of the canonical serialization (64 chars). */
  id: string
  /** Author's x-only secp256k1 public key, lowercase hex (64 chars). */
  pubkey: string
  /** Unix time in seconds. */
  created_at: number
  kind: number
  tags: string[][]
  content: string
  /** BIP-340 Schnorr signature over `id`, lowercase hex (128 chars). */
  sig: string
}

/** What a NIP-07 signer is handed: an event without `id`, `sig` (and optionally without `pubkey`). */
export interface UnsignedEvent {
  created_at: number
  kind: number
  tags: string[][]
  content: string
  pubkey?: string
}

/** A point on earth in decimal degrees (WGS 84). `lat` in [-90, 90], `lon` in [-180, 180]. */
export interface GeoPoint {
  lat: number
  lon: number
}

/**
 * A signed, verified Peerset record. It is a Nostr event of kind {@link RECORD_KIND}
 * (see `toNostrEvent`); these fields are read from it.
 */
export interface PeersetRecord {
  /** Event id: SHA-256 of the canonical NIP-01 serialization, lowercase hex. */
  readonly id: string
  /** Author's public key (x-only, lowercase hex). */
  readonly author: string
  /** RFC 9562 uuid, the record's address together with its author. */
  readonly uuid: string
  /**
   * The room the record was signed for: the value of its `h` tag, `roomHash(room)` (absent if the
   * record has none; a peerset refuses such a record, and one of another room, as `wrong-room`).
   */
  readonly roomHash?: string
  /** Creation time, Unix seconds (the event's `created_at`). */
  readonly createdAt: number
  /** The text (the event's `content`). */
  readonly text: string
  /** Optional link (an `r` tag). */
  readonly link?: string
  /** Optional geolocation, with its geohash. */
  readonly geo?: GeoPoint & { readonly geohash: string }
  /** NIP-40 expiration (Unix seconds), if the event carries one. */
  readonly expiresAt?: number
  /** The event's tags, verbatim (needed to recompute the id). */
  readonly tags: readonly (readonly string[])[]
  /** BIP-340 signature, lowercase hex. */
  readonly sig: string
  /**
   * Present (`true`) only on a withdrawal: a tombstone version of the address (the `["deleted"]`
   * tag, empty text) that its author signed to withdraw the record. A peerset stores and syncs
   * tombstones but never returns them from `records()` or `get()`.
   */
  readonly withdrawn?: true
}

/** What a host app passes to `publish()`. */
export interface RecordDraft {
  text: string
  link?: string
  geo?: GeoPoint
  /** Reuse an existing uuid of your own to publish a new version of that record (an edit). */
  uuid?: string
}

/** Size limits of a record. A record must fit one transport frame. */
export interface RecordLimits {
  /** Maximum `text` length in UTF-8 bytes. */
  maxTextBytes: number
  /** Maximum link length in characters. */
  maxLinkLength: number
  /** Maximum number of tags. */
  maxTags: number
  /** Maximum number of values in one tag (including its name). */
  maxTagValues: number
  /** Maximum UTF-8 bytes of one tag value. */
  maxTagValueBytes: number
  /** Maximum size of the whole event as JSON, UTF-8 bytes. */
  maxEventBytes: number
}

/** Why a record or event was refused by the record module. */
export type RecordRejectReason =
  /** Not an object of the right shape, a field of the wrong type, or an unknown top-level field. */
  | 'malformed'
  /** Hex of the wrong length or case, a string that would not round-trip JSON/UTF-8, a bad field value. */
  | 'invalid-field'
  /** Over one of the {@link RecordLimits}. */
  | 'too-large'
  /** A valid event that is not a Peerset record (wrong kind, no uuid). */
  | 'not-a-record'
  /** The given id is not the hash of the fields. */
  | 'bad-id'
  /** The signature does not verify. */
  | 'bad-signature'

/** The result of verifying untrusted input. Never throws. */
export type VerifyResult =
  | { ok: true; record: PeersetRecord }
  | { ok: false; reason: RecordRejectReason; message: string }
