/**
 * NIP-01 canonical serialization and event id:
 * `id = sha256(utf8(JSON.stringify([0, pubkey, created_at, kind, tags, content])))`.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { PeersetError } from '../errors.js'
import { isLowerHex64 } from '../identity/key-format.js'
import { isWellFormedText } from '../protocol/bytes.js'
import type { NostrEvent } from './types.js'

/** The fields of a Nostr event that its id commits to. */
export type SerializableEvent = Pick<NostrEvent, 'pubkey' | 'created_at' | 'kind' | 'tags' | 'content'>

/** Largest kind NIP-01 defines. */
export const MAX_EVENT_KIND = 65_535

/**
 * The NIP-01 canonical serialization of an event: the exact string whose SHA-256 is its id.
 * Validates the fields (lowercase hex pubkey, integer `created_at` and `kind`, string tags, no lone
 * surrogates) and throws `PeersetError` `INVALID_ARGUMENT` otherwise.
 * @example
 * ```ts
 * serializeEvent({ pubkey: 'a4'.repeat(32), created_at: 1, kind: 1, tags: [], content: 'hi' })
 * // '[0,"a4a4…a4",1,1,[],"hi"]'
 * ```
 */
export function serializeEvent(event: SerializableEvent): string {
  assertSerializable(event, 'serializeEvent')
  return serializeUnchecked(event)
}

/**
 * The NIP-01 event id: lowercase hex SHA-256 of {@link serializeEvent}'s output (UTF-8).
 * Throws `PeersetError` `INVALID_ARGUMENT` on fields that cannot be serialized unambiguously.
 * @example
 * ```ts
 * computeEventId({
 *   pubkey: 'a48380f4cfcc1ad5378294fcac36439770f9c878dd880ffa94bb74ea54a6f243',
 *   created_at: 1651794653, kind: 1, tags: [['nonce', '776797', '20']],
 *   content: "It's just me mining my own business",
 * }) // '000006d8c378af1779d2feebc7603a125d99eca0ccf1085959b307f64e5dd358'
 * ```
 */
export function computeEventId(event: SerializableEvent): string {
  assertSerializable(event, 'computeEventId')
  return hashSerialization(utf8ToBytes(serializeUnchecked(event)))
}

/** Serialization without validation (internal: callers have validated the fields). */
export function serializeUnchecked(event: SerializableEvent): string {
  return JSON.stringify([0, event.pubkey, event.created_at, event.kind, event.tags, event.content])
}

/** Lowercase hex SHA-256 of serialized bytes (internal). */
export function hashSerialization(serialized: Uint8Array): string {
  return bytesToHex(sha256(serialized))
}

/**
 * Bytes that `JSON.stringify(event)` adds to the serialization when the event has the NIP-01 key
 * order `id, pubkey, created_at, kind, tags, content, sig`: key names, the 64-char id and the
 * 128-char sig, minus the serialization's `[0,` wrapper. So an event's JSON size is known from its
 * serialization without stringifying twice.
 */
export const EVENT_JSON_OVERHEAD_BYTES = 253

function assertSerializable(event: unknown, fn: string): asserts event is SerializableEvent {
  const fail = (what: string) => new PeersetError('INVALID_ARGUMENT', `${fn}: ${what}`)
  if (typeof event !== 'object' || event === null) throw fail('expected an event object')
  const e = event as Record<string, unknown>
  if (!isLowerHex64(e.pubkey)) throw fail('pubkey must be 64 lowercase hex digits')
  if (!isNonNegativeSafeInteger(e.created_at)) throw fail('created_at must be a non-negative safe integer (Unix seconds)')
  if (!isNonNegativeSafeInteger(e.kind) || e.kind > MAX_EVENT_KIND) throw fail(`kind must be an integer in 0..${MAX_EVENT_KIND}`)
  if (typeof e.content !== 'string') throw fail('content must be a string')
  if (!isWellFormedText(e.content)) throw fail('content contains a lone UTF-16 surrogate')
  if (!Array.isArray(e.tags)) throw fail('tags must be an array of string arrays')
  for (const [i, tag] of (e.tags as unknown[]).entries()) {
    if (!Array.isArray(tag)) throw fail(`tags[${i}] must be an array of strings`)
    for (let j = 0; j < tag.length; j++) {
      const value: unknown = tag[j]
      if (typeof value !== 'string') throw fail(`tags[${i}][${j}] must be a string`)
      if (!isWellFormedText(value)) throw fail(`tags[${i}][${j}] contains a lone UTF-16 surrogate`)
    }
  }
}

/** Whether `value` is an integer in 0..2^53-1. */
export function isNonNegativeSafeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}
