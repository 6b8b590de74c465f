/** Verification of untrusted records and events, and conversion between records and events. */
import { schnorr } from '@noble/curves/secp256k1.js'
import { hexToBytes } from '@noble/hashes/utils.js'
import { PeersetError } from '../errors.js'
import { RECORD_KIND } from './constants.js'
import { snapshotEvent, type EventSnapshot } from './event-shape.js'
import { resolveLimits } from './limits.js'
import { hashSerialization } from './serialize.js'
import { readRecordTags, type RecordTagFields, type Rejection } from './tags.js'
import type { NostrEvent, PeersetRecord, RecordLimits, VerifyResult } from './types.js'

/** Options of {@link verifyRecord}. */
export interface VerifyRecordOptions {
  /** Overrides of the default {@link RecordLimits} (see `resolveLimits`). */
  limits?: Partial<RecordLimits>
  /**
   * Check the Schnorr signature (default `true`). Pass `false` only for records this process
   * verified itself before (e.g. read back from its own store); the id is recomputed regardless.
   */
  checkSignature?: boolean
}

/**
 * Verifies untrusted input as a Peerset record and returns it, or says why not. Never throws on
 * bad input (only on invalid `options`). Checks run cheapest first: shape (exactly the seven NIP-01
 * fields) -> types -> lowercase hex and integers -> clean strings -> limits -> kind and uuid ->
 * Peerset's tags -> recomputed id -> Schnorr signature. The given id is never trusted.
 * @example
 * ```ts
 * const result = verifyRecord(JSON.parse(frame))
 * if (result.ok) store(result.record)
 * else console.warn(result.reason, result.message) // e.g. 'bad-signature'
 * ```
 */
export function verifyRecord(input: unknown, options?: VerifyRecordOptions): VerifyResult {
  const limits = resolveLimits(options?.limits)
  const checkSignature = options?.checkSignature ?? true
  if (typeof checkSignature !== 'boolean') throw new PeersetError('INVALID_ARGUMENT', 'verifyRecord: checkSignature must be a boolean')

  const candidate = checkRecordCandidate(input, limits)
  if ('ok' in candidate) return candidate
  const { snapshot, fields } = candidate
  const event = snapshot.event
  if (hashSerialization(snapshot.serialized) !== event.id) {
    return { ok: false, reason: 'bad-id', message: 'the id is not the SHA-256 of the event fields' }
  }
  if (checkSignature && !schnorrVerifies(event)) {
    return { ok: false, reason: 'bad-signature', message: 'the signature does not verify for this id and pubkey' }
  }
  const record: PeersetRecord = {
    id: event.id,
    author: event.pubkey,
    uuid: fields.uuid,
    roomHash: fields.roomHash,
    createdAt: event.created_at,
    text: event.content,
    link: fields.link,
    geo: fields.geo,
    expiresAt: fields.expiresAt,
    tags: event.tags,
    sig: event.sig,
    ...(fields.withdrawn ? { withdrawn: true as const } : {}),
  }
  return { ok: true, record }
}

/**
 * Like {@link verifyRecord}, but throws `PeersetError` `INVALID_RECORD` (with `reason`) instead of
 * returning a failure.
 * @example
 * ```ts
 * try {
 *   const record = recordFromNostrEvent(event)
 * } catch (err) {
 *   if (isPeersetError(err, 'INVALID_RECORD')) console.warn(err.reason) // e.g. 'not-a-record'
 * }
 * ```
 */
export function recordFromNostrEvent(event: NostrEvent, options?: VerifyRecordOptions): PeersetRecord {
  const result = verifyRecord(event, options)
  if (!result.ok) throw new PeersetError('INVALID_RECORD', `recordFromNostrEvent: ${result.message}`, { reason: result.reason })
  return result.record
}

/**
 * The Nostr event of a record (a new object; tags are copied). Tag layout, in write order:
 * - `["d", uuid]` — required; lowercase RFC 9562 uuid (any version on read, v4 on write);
 * - `["h", roomHash]` — the room the record belongs to (see `roomHash`); written when `createRecord`
 *   is given a room (a peerset always does); optional on read, 64 lowercase hex digits;
 * - `["expiration", "<created_at + retention>"]` — NIP-40; written on create, optional on read;
 *   a decimal integer without leading zeros, after `created_at`;
 * - `["deleted"]` — only on a withdrawal (a tombstone, see `createWithdrawal`): no value; the
 *   content is then empty and there is no `r`, `g` or `geo` tag;
 * - `["r", link]` — optional; non-empty, at most `maxLinkLength` characters;
 * - `["g", geohash]` — with `geo` only; 9 characters on write; on read it must equal the geohash
 *   of the `geo` coordinates at its own length (1..12);
 * - `["geo", lat, lon]` — optional; decimal degrees rounded to 7 places (about 1 cm), no exponent,
 *   no trailing zeros, no `-0`; lat in [-90, 90], lon in [-180, 180]; requires the `g` tag.
 *
 * On read, known tags are found by name in any order; each may appear once. Other tags are carried
 * verbatim within the limits. The kind is always {@link RECORD_KIND}.
 * @example
 * ```ts
 * const event = toNostrEvent(record)
 * verifyEvent(event) // nostr-tools agrees: true
 * ```
 */
export function toNostrEvent(record: PeersetRecord): NostrEvent {
  if (typeof record !== 'object' || record === null || !Array.isArray(record.tags)) {
    throw new PeersetError('INVALID_ARGUMENT', 'toNostrEvent: expected a PeersetRecord')
  }
  return {
    id: record.id,
    pubkey: record.author,
    created_at: record.createdAt,
    kind: RECORD_KIND,
    tags: record.tags.map((tag) => tag.slice()),
    content: record.text,
    sig: record.sig,
  }
}

/**
 * Verifies any NIP-01 event (any kind, no record rules, no size limits): exactly the seven fields,
 * lowercase hex, integer fields, no lone surrogates, the recomputed id equals `id`, and the
 * BIP-340 signature over it verifies. Returns `false` for anything else; never throws.
 * @example
 * ```ts
 * verifyEventSignature(await signer.signEvent({ kind: 1, created_at: 1, tags: [], content: 'hi' })) // true
 * ```
 */
export function verifyEventSignature(event: unknown): boolean {
  const snapshot = snapshotEvent(event, undefined, 'any')
  if ('ok' in snapshot) return false
  return hashSerialization(snapshot.serialized) === snapshot.event.id && schnorrVerifies(snapshot.event)
}

/**
 * Everything but the id and signature checks (internal; `createRecord` runs it before signing).
 */
export function checkRecordCandidate(input: unknown, limits: RecordLimits): { snapshot: EventSnapshot; fields: RecordTagFields } | Rejection {
  let snapshot: ReturnType<typeof snapshotEvent>
  try {
    // The one read of the caller's object: getters and proxies that throw make it malformed.
    snapshot = snapshotEvent(input, limits, 'record')
  } catch (error) {
    return { ok: false, reason: 'malformed', message: `reading the event threw: ${errorText(error)}` }
  }
  if ('ok' in snapshot) return snapshot
  const event = snapshot.event
  if (event.kind !== RECORD_KIND) {
    return { ok: false, reason: 'not-a-record', message: `expected kind ${RECORD_KIND} (a Peerset record), got kind ${event.kind}` }
  }
  const fields = readRecordTags(event.tags, event.created_at, limits)
  if ('ok' in fields) return fields
  if (fields.withdrawn && event.content !== '') return { ok: false, reason: 'invalid-field', message: 'a withdrawal (the "deleted" tag) must have empty content' }
  return { snapshot, fields }
}

function schnorrVerifies(event: NostrEvent): boolean {
  try {
    return schnorr.verify(hexToBytes(event.sig), hexToBytes(event.id), hexToBytes(event.pubkey))
  } catch {
    return false
  }
}

/** A short description of what a foreign getter or proxy threw (which may itself throw when read). */
function errorText(error: unknown): string {
  try {
    return String(error instanceof Error ? error.message : error).slice(0, 200)
  } catch {
    return 'an unprintable value'
  }
}
