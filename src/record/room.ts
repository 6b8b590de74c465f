/** The room a record belongs to: its `h` tag carries a hash of the room name, covered by the id. */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { PeersetError } from '../errors.js'

/**
 * The name of the tag that binds a record to its room. `h` is NIP-29's "group the event belongs to",
 * which is what a Peerset room is; being a single letter, relays index it (NIP-01), so a room's
 * records can be queried with `{ kinds: [RECORD_KIND], '#h': [roomHash(room)] }`.
 */
export const ROOM_TAG_NAME = 'h'

/** The domain separator hashed before the room name, so the hash means nothing outside Peerset. */
const ROOM_HASH_PREFIX = 'peerset-room:'

/**
 * The room hash written in a record's `h` tag: lowercase hex SHA-256 of the UTF-8 bytes of
 * `"peerset-room:" + room`. The room name itself is never written into a record. Throws
 * `INVALID_ARGUMENT` for anything but a non-empty, well-formed string (no lone surrogates).
 * @example
 * ```ts
 * roomHash('demo') // sha256('peerset-room:demo'), 64 lowercase hex digits
 * ```
 */
export function roomHash(room: string): string {
  if (typeof room !== 'string' || room.length === 0) throw new PeersetError('INVALID_ARGUMENT', 'roomHash: room must be a non-empty string')
  if (!isWellFormed(room)) throw new PeersetError('INVALID_ARGUMENT', 'roomHash: room must be well-formed UTF-16 (no lone surrogates: UTF-8 turns each into U+FFFD, so different names would share a room)')
  return bytesToHex(sha256(utf8ToBytes(ROOM_HASH_PREFIX + room)))
}

/** Whether `text` has no lone surrogate (`String.prototype.isWellFormed`, ES2024). */
export function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)
}

/**
 * The tag binding a record to `room`: `["h", roomHash(room)]` (a new array each call).
 * @example
 * ```ts
 * const filter = { kinds: [RECORD_KIND], '#h': [roomTag('demo')[1]] } // a room's records on a relay
 * ```
 */
export function roomTag(room: string): [string, string] {
  return [ROOM_TAG_NAME, roomHash(room)]
}
