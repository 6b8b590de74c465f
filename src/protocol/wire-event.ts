/**
 * The compact binary form of one event inside a `records` message (internal):
 * pubkey (32 raw bytes), sig (64 raw bytes), created_at (varint), kind (varint), tag count, each tag
 * as a value count and length-prefixed UTF-8 values, content (length-prefixed UTF-8). The id is not
 * sent: the receiver recomputes it. Strings are carried verbatim (UTF-8 of well-formed UTF-16).
 */
import { ByteReader, ByteWriter, encodeError, isLowerHex, utf8Length, varintSize } from './bytes.js'
import type { WireEvent } from './messages.js'

/** Largest kind NIP-01 defines. */
export const MAX_WIRE_KIND = 65_535
/** Most tags, and most values of one tag, a decoder accepts (a frame could not hold many more). */
export const MAX_WIRE_TAGS = 8_192

const PUBKEY_BYTES = 32
const SIG_BYTES = 64
/** pubkey + sig + created_at, kind, tag count and content length (1 byte each at least). */
export const MIN_WIRE_EVENT_BYTES = PUBKEY_BYTES + SIG_BYTES + 4

/**
 * Exact encoded size of an event, validating it on the way: lowercase hex pubkey (64) and sig (128),
 * safe non-negative integer `created_at`, integer kind in 0..65535, tags as arrays of strings, no lone
 * surrogates. Throws `PeersetError` `INVALID_ARGUMENT` otherwise.
 * @example
 * ```ts
 * wireEventSize({ pubkey: 'ab'.repeat(32), sig: 'cd'.repeat(64), created_at: 1, kind: 1, tags: [], content: 'hi' })
 * // 32 + 64 + 1 + 1 + 1 + 3 = 102
 * ```
 */
export function wireEventSize(event: WireEvent): number {
  if (typeof event !== 'object' || event === null) throw encodeError('records: expected an event object')
  if (!isLowerHex(event.pubkey, 64)) throw encodeError('records: pubkey must be 64 lowercase hex digits')
  if (!isLowerHex(event.sig, 128)) throw encodeError('records: sig must be 128 lowercase hex digits')
  if (!Number.isSafeInteger(event.created_at) || event.created_at < 0) {
    throw encodeError('records: created_at must be a non-negative safe integer')
  }
  if (!Number.isInteger(event.kind) || event.kind < 0 || event.kind > MAX_WIRE_KIND) {
    throw encodeError(`records: kind must be an integer in 0..${MAX_WIRE_KIND}`)
  }
  if (!Array.isArray(event.tags)) throw encodeError('records: tags must be an array of string arrays')
  let size = PUBKEY_BYTES + SIG_BYTES + varintSize(event.created_at) + varintSize(event.kind)
  size += varintSize(event.tags.length)
  for (const tag of event.tags) {
    if (!Array.isArray(tag)) throw encodeError('records: every tag must be an array of strings')
    size += varintSize(tag.length)
    for (const value of tag) size += stringSize(value, 'a tag value')
  }
  return size + stringSize(event.content, 'content')
}

function stringSize(value: unknown, what: string): number {
  if (typeof value !== 'string') throw encodeError(`records: ${what} must be a string`)
  const n = utf8Length(value)
  if (n < 0) throw encodeError(`records: ${what} contains a lone UTF-16 surrogate, which UTF-8 cannot carry verbatim`)
  return varintSize(n) + n
}

/** Writes an event already checked by {@link wireEventSize}. */
export function writeWireEvent(w: ByteWriter, event: WireEvent): void {
  w.hex(event.pubkey).hex(event.sig).varint(event.created_at).varint(event.kind).varint(event.tags.length)
  for (const tag of event.tags) {
    w.varint(tag.length)
    for (const value of tag) w.utf8(value, utf8Length(value))
  }
  w.utf8(event.content, utf8Length(event.content))
}

/** Reads one event. Throws `PeersetError` `PROTOCOL` on anything malformed. */
export function readWireEvent(r: ByteReader): WireEvent {
  const pubkey = r.hex(PUBKEY_BYTES, 'pubkey')
  const sig = r.hex(SIG_BYTES, 'sig')
  const created_at = r.varint('created_at')
  const kind = r.varint('kind', MAX_WIRE_KIND)
  const tagCount = r.count('tag count', 1, MAX_WIRE_TAGS)
  const tags: string[][] = []
  for (let i = 0; i < tagCount; i++) {
    const valueCount = r.count('tag value count', 1, MAX_WIRE_TAGS)
    const tag: string[] = []
    for (let j = 0; j < valueCount; j++) tag.push(r.utf8('tag value', r.remaining))
    tags.push(tag)
  }
  const content = r.utf8('content', r.remaining)
  return { pubkey, created_at, kind, tags, content, sig }
}
