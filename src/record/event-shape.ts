/**
 * First, cheap stage of verification (internal): is the input a NIP-01 event with exactly the seven
 * fields, the right types, canonical hex and integers, clean strings, within the limits? Produces a
 * private snapshot so later stages never re-read the caller's object (no getters, no aliasing).
 */
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { isLowerHex128, isLowerHex64 } from '../identity/key-format.js'
import { EVENT_JSON_OVERHEAD_BYTES, isNonNegativeSafeInteger, MAX_EVENT_KIND, serializeUnchecked } from './serialize.js'
import type { Rejection } from './tags.js'
import { ALLOW_ALL_CONTROLS, ALLOW_NO_CONTROLS, ALLOW_TAB_NEWLINE_CR, describeScanFailure, scanText } from './text-scan.js'
import type { NostrEvent, RecordLimits } from './types.js'

const EVENT_KEYS: ReadonlySet<string> = new Set(['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig'])

/** A checked copy of an event and its canonical serialization (UTF-8), ready to hash. */
export interface EventSnapshot {
  event: NostrEvent
  serialized: Uint8Array
}

/** `record` refuses control characters (but \t \n \r in content); `any` only refuses lone surrogates. */
export type TextPolicy = 'record' | 'any'

const reject = (reason: Rejection['reason'], message: string): Rejection => ({ ok: false, reason, message })

/** Checks shape, types, formats, strings and (if given) limits, in that order. Never throws. */
export function snapshotEvent(input: unknown, limits: RecordLimits | undefined, policy: TextPolicy): EventSnapshot | Rejection {
  try {
    return readSnapshot(input, limits, policy)
  } catch {
    // Only hostile objects get here: a throwing getter, a revoked proxy.
    return reject('malformed', 'the input could not be read as plain data')
  }
}

function readSnapshot(input: unknown, limits: RecordLimits | undefined, policy: TextPolicy): EventSnapshot | Rejection {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return reject('malformed', 'expected an event object')
  const proto: unknown = Object.getPrototypeOf(input)
  if (proto !== Object.prototype && proto !== null) return reject('malformed', 'expected a plain object')
  const keys = Object.keys(input)
  for (const key of keys) {
    if (!EVENT_KEYS.has(key)) return reject('malformed', `unknown field "${key.slice(0, 64)}" (an event has exactly id, pubkey, created_at, kind, tags, content, sig)`)
  }
  if (keys.length !== EVENT_KEYS.size) {
    const missing = [...EVENT_KEYS].filter((key) => !keys.includes(key))
    return reject('malformed', `missing field${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`)
  }

  // Read each field exactly once.
  const source = input as Record<string, unknown>
  const { id, pubkey, created_at: createdAt, kind, tags, content, sig } = source
  if (typeof id !== 'string') return reject('malformed', 'id must be a string')
  if (typeof pubkey !== 'string') return reject('malformed', 'pubkey must be a string')
  if (typeof sig !== 'string') return reject('malformed', 'sig must be a string')
  if (typeof content !== 'string') return reject('malformed', 'content must be a string')
  if (typeof createdAt !== 'number') return reject('malformed', 'created_at must be a number')
  if (typeof kind !== 'number') return reject('malformed', 'kind must be a number')
  if (!Array.isArray(tags)) return reject('malformed', 'tags must be an array')

  if (!isLowerHex64(id)) return reject('invalid-field', 'id must be 64 lowercase hex digits')
  if (!isLowerHex64(pubkey)) return reject('invalid-field', 'pubkey must be 64 lowercase hex digits')
  if (!isLowerHex128(sig)) return reject('invalid-field', 'sig must be 128 lowercase hex digits')
  if (!isNonNegativeSafeInteger(createdAt)) return reject('invalid-field', 'created_at must be a non-negative safe integer (Unix seconds)')
  if (!isNonNegativeSafeInteger(kind) || kind > MAX_EVENT_KIND) return reject('invalid-field', `kind must be an integer in 0..${MAX_EVENT_KIND}`)

  // Cheap bounds before walking anything: a UTF-8 string has at least as many bytes as UTF-16 units.
  if (limits !== undefined) {
    if (content.length > limits.maxTextBytes) return reject('too-large', `the text is over the limit of ${limits.maxTextBytes} bytes`)
    if (tags.length > limits.maxTags) return reject('too-large', `${tags.length} tags, over the limit of ${limits.maxTags}`)
  }

  const tagsCopy: string[][] = new Array<string[]>(tags.length)
  for (let i = 0; i < tags.length; i++) {
    const tag: unknown = tags[i]
    if (!Array.isArray(tag)) return reject('malformed', `tags[${i}] must be an array of strings`)
    if (tag.length === 0) return reject('malformed', `tags[${i}] is empty (a tag starts with its name)`)
    if (limits !== undefined && tag.length > limits.maxTagValues) {
      return reject('too-large', `tags[${i}] has ${tag.length} values, over the limit of ${limits.maxTagValues}`)
    }
    const copy = new Array<string>(tag.length)
    for (let j = 0; j < tag.length; j++) {
      const value: unknown = tag[j]
      if (typeof value !== 'string') return reject('malformed', `tags[${i}][${j}] must be a string`)
      if (limits !== undefined && value.length > limits.maxTagValueBytes) {
        return reject('too-large', `tags[${i}][${j}] is over the limit of ${limits.maxTagValueBytes} bytes`)
      }
      copy[j] = value
    }
    tagsCopy[i] = copy
  }

  const contentBytes = scanText(content, policy === 'record' ? ALLOW_TAB_NEWLINE_CR : ALLOW_ALL_CONTROLS)
  if (contentBytes < 0) return reject('invalid-field', `content contains ${describeScanFailure(contentBytes)}`)
  const tagControls = policy === 'record' ? ALLOW_NO_CONTROLS : ALLOW_ALL_CONTROLS
  let oversizedTagValue: string | undefined
  for (let i = 0; i < tagsCopy.length; i++) {
    const tag = tagsCopy[i] as string[]
    for (let j = 0; j < tag.length; j++) {
      const bytes = scanText(tag[j] as string, tagControls)
      if (bytes < 0) return reject('invalid-field', `tags[${i}][${j}] contains ${describeScanFailure(bytes)}`)
      if (limits !== undefined && bytes > limits.maxTagValueBytes) oversizedTagValue ??= `tags[${i}][${j}]`
    }
  }

  const event: NostrEvent = { id, pubkey, created_at: createdAt, kind, tags: tagsCopy, content, sig }
  const serialized = utf8ToBytes(serializeUnchecked(event))
  if (limits !== undefined) {
    if (contentBytes > limits.maxTextBytes) return reject('too-large', `the text is ${contentBytes} bytes, over the limit of ${limits.maxTextBytes}`)
    if (oversizedTagValue !== undefined) return reject('too-large', `${oversizedTagValue} is over the limit of ${limits.maxTagValueBytes} bytes`)
    const eventBytes = serialized.length + EVENT_JSON_OVERHEAD_BYTES
    if (eventBytes > limits.maxEventBytes) return reject('too-large', `the event is ${eventBytes} bytes as JSON, over the limit of ${limits.maxEventBytes}`)
  }
  return { event, serialized }
}
