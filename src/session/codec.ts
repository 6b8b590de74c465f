/**
 * The session codec: hello, auth, ping, pong and bye frames. Same frame header as the sync codec
 * (byte 0 = protocol version, byte 1 = message type); session types are 0x40..0x4F, sync types are
 * below 0x40, so a frame is routed by its type byte (`isSessionFrame`). Layouts: docs/protocol.md.
 */
import { PeersetError, isPeersetError } from '../errors.js'
import type { GranularityDescriptor } from '../buckets/types.js'
import type { NostrEvent } from '../record/types.js'
import { MAX_POW_DIFFICULTY } from './defaults.js'
import type { CloseReason, SessionMessageType } from './types.js'
import { ByteReader, ByteWriter, decodeUtf8, encodeError as bytesEncodeError, encodeUtf8, isLowerHex, protocolError, utf8Length } from '../protocol/bytes.js'

/** Message prefix of `PROTOCOL` errors about session frames. */
const SESSION_ERROR_LABEL = 'session'

/** A `PeersetError` `PROTOCOL` about a session frame, with a short machine-readable `reason`. */
function sessionProtocolError(reason: string, message: string): PeersetError {
  return protocolError(reason, message, SESSION_ERROR_LABEL)
}

/**
 * Byte 0 of every session frame this peer sends. Version 2 added the hello's session epoch (version 1
 * had none); version 3 the hello's rules (the settings that change the kept set, after the epoch); version 4 has
 * the same layout and marks records bound to a room (their `h` tag), so builds without the room tag
 * cannot open a session with this one; sync frames keep their own version (`PROTOCOL_VERSION`, 2). A hello of another version
 * ends the session with `protocol-version`, without a strike.
 * @example
 * ```ts
 * frame[0] === SESSION_PROTOCOL_VERSION // 4, for frames of types 0x40..0x4F
 * ```
 */
export const SESSION_PROTOCOL_VERSION = 4

/**
 * Byte 1 of each session frame.
 * @example
 * ```ts
 * frame[1] === SESSION_TYPE_CODES.hello // 0x40
 * ```
 */
export const SESSION_TYPE_CODES: Readonly<Record<SessionMessageType, number>> = Object.freeze({
  hello: 0x40,
  auth: 0x41,
  ping: 0x42,
  pong: 0x43,
  bye: 0x44,
})

/** The range of type bytes reserved for session frames. */
export const SESSION_TYPE_MIN = 0x40
export const SESSION_TYPE_MAX = 0x4f

/** Largest moderation digest in a hello, UTF-8 bytes. */
export const MAX_MODERATION_DIGEST_BYTES = 256
/** Largest auth frame (the proof event as UTF-8 JSON, plus the 2-byte header). */
export const MAX_AUTH_FRAME_BYTES = 4_096
/** Largest detail text of a bye, UTF-8 bytes. */
export const MAX_BYE_DETAIL_BYTES = 256
/** Most tags a proof event may carry on the wire. */
const MAX_PROOF_TAGS = 16
/** Most values in one proof tag. */
const MAX_PROOF_TAG_VALUES = 4

/** Most rules (settings that change the kept set) in one hello. */
export const MAX_SETTING_RULES = 32
/** Longest rule name in a hello, UTF-8 bytes. */
export const MAX_SETTING_NAME_BYTES = 64

/**
 * The code of each close reason in a bye frame.
 * @example
 * ```ts
 * CLOSE_REASON_CODES['re-auth'] // 7
 * ```
 */
export const CLOSE_REASON_CODES: Readonly<Record<CloseReason, number>> = Object.freeze({
  'protocol-version': 1,
  granularity: 2,
  'moderation-policy': 3,
  'handshake-timeout': 4,
  'challenge-timeout': 5,
  'idle-timeout': 6,
  're-auth': 7,
  'auth-failed': 8,
  'pow-too-hard': 9,
  'signer-failed': 10,
  refused: 11,
  banned: 12,
  'peer-closed': 13,
  'peer-left': 14,
  local: 15,
  'record-limits': 16,
  'record-pow': 17,
  'clock-skew': 18,
  'author-strikes': 19,
})
const CLOSE_REASONS = new Map<number, CloseReason>(Object.entries(CLOSE_REASON_CODES).map(([r, c]) => [c, r as CloseReason]))
const TYPE_NAMES = new Map<number, SessionMessageType>(
  Object.entries(SESSION_TYPE_CODES).map(([name, code]) => [code, name as SessionMessageType]),
)

/** First frame of each side: who I claim to be, my challenge, and my settings. */
export interface HelloMessage {
  type: 'hello'
  /** x-only public key, lowercase hex (32 bytes on the wire). */
  pubkey: string
  /** Fresh random challenge, lowercase hex (32 bytes). */
  nonce: string
  /** `settingsDigest(settings)`, lowercase hex (32 bytes). */
  settingsDigest: string
  /** Leading zero bits the sender requires of the receiver's proof id (0 = none). */
  powDifficulty: number
  granularity: GranularityDescriptor
  moderationDigest: string
  /**
   * The sender's session epoch: a number that grows with every session the sender starts (under
   * one transport id), so a receiver can tell a hello of a dead session (lower than one it has seen)
   * from a new session's (higher) and from a copy of the current one (equal).
   */
  epoch: number
  /** The sender's other settings that change the kept set (`SessionSettings.rules`); absent = none. */
  rules?: Readonly<Record<string, number>>
}

/** The sender's signed session proof (see `createSessionProof`). */
export interface AuthMessage {
  type: 'auth'
  proof: NostrEvent
}

/** Keepalive; answered by a pong. */
export interface PingMessage {
  type: 'ping'
}

export interface PongMessage {
  type: 'pong'
}

/** The sender ends the session. An unknown reason code reads as `unknown`. */
export interface ByeMessage {
  type: 'bye'
  reason: CloseReason | 'unknown'
  detail: string
}

export type SessionMessage = HelloMessage | AuthMessage | PingMessage | PongMessage | ByeMessage

/**
 * Whether a frame belongs to the session layer (type byte 0x40..0x4F), whatever its version.
 * @example
 * ```ts
 * if (isSessionFrame(bytes)) session.receive(bytes, Date.now()) // else: a sync frame (still through the session)
 * ```
 */
export function isSessionFrame(bytes: Uint8Array): boolean {
  return bytes instanceof Uint8Array && bytes.length >= 2 && bytes[1]! >= SESSION_TYPE_MIN && bytes[1]! <= SESSION_TYPE_MAX
}

/**
 * Whether a frame is a hello (of any version): the engine makes a session for a peer that has none
 * when one arrives.
 * @example
 * ```ts
 * if (!sessions.has(peerId) && isHelloFrame(bytes)) openSession(peerId)
 * ```
 */
export function isHelloFrame(bytes: Uint8Array): boolean {
  return bytes instanceof Uint8Array && bytes.length >= 2 && bytes[1] === SESSION_TYPE_CODES.hello
}

/**
 * The session message type of a frame's type byte, or `undefined` (not a session type, or an
 * unassigned one in 0x45..0x4F).
 * @example
 * ```ts
 * sessionMessageType(0x42) // 'ping'
 * ```
 */
export function sessionMessageType(typeByte: number): SessionMessageType | undefined {
  return TYPE_NAMES.get(typeByte)
}

/**
 * Encodes one session message as one frame. Throws `PeersetError` `INVALID_ARGUMENT` for a message
 * that does not fit the layout.
 * @example
 * ```ts
 * encodeSessionMessage({ type: 'ping' }) // Uint8Array [1, 0x42]
 * ```
 */
export function encodeSessionMessage(message: SessionMessage): Uint8Array {
  if (typeof message !== 'object' || message === null) throw encodeError('expected a message object')
  const code = SESSION_TYPE_CODES[message.type as SessionMessageType]
  if (code === undefined) throw encodeError(`unknown session message type ${String(message.type)}`)
  const w = new ByteWriter().u8(SESSION_PROTOCOL_VERSION).u8(code)
  switch (message.type) {
    case 'hello':
      return encodeHello(w, message)
    case 'auth':
      return encodeAuth(w, message)
    case 'ping':
    case 'pong':
      return w.finish()
    case 'bye': {
      const reasonCode = CLOSE_REASON_CODES[message.reason as CloseReason]
      if (reasonCode === undefined) throw encodeError(`bye.reason ${String(message.reason)} is not a close reason`)
      checkText(message.detail, MAX_BYE_DETAIL_BYTES, 'bye.detail')
      return w.u8(reasonCode).utf8(message.detail).finish()
    }
  }
}

/**
 * Decodes one session frame. Throws `PeersetError` `PROTOCOL` (with a `reason` such as
 * `unknown-version`, `unknown-type`, `truncated`, `trailing-bytes`, `too-large`, `bad-json`) for
 * anything malformed, and never any other error.
 * @example
 * ```ts
 * decodeSessionMessage(new Uint8Array([1, 0x43])) // { type: 'pong' }
 * ```
 */
export function decodeSessionMessage(bytes: Uint8Array): SessionMessage {
  if (!(bytes instanceof Uint8Array)) throw sessionProtocolError('not-bytes', 'a frame must be a Uint8Array')
  try {
    return decodeUnchecked(bytes)
  } catch (error) {
    if (isPeersetError(error, 'PROTOCOL')) throw error
    throw sessionProtocolError('malformed', `could not decode session frame (${String(error)})`)
  }
}

function decodeUnchecked(bytes: Uint8Array): SessionMessage {
  const r = new ByteReader(bytes, 0, SESSION_ERROR_LABEL)
  const version = r.u8('version')
  if (version !== SESSION_PROTOCOL_VERSION) {
    throw sessionProtocolError('unknown-version', `unsupported protocol version ${version} (this peer speaks ${SESSION_PROTOCOL_VERSION})`)
  }
  const code = r.u8('message type')
  const type = TYPE_NAMES.get(code)
  switch (type) {
    case 'hello':
      return decodeHello(r)
    case 'auth':
      return decodeAuth(bytes)
    case 'ping':
    case 'pong':
      r.end(type)
      return { type }
    case 'bye': {
      const reason = CLOSE_REASONS.get(r.u8('bye reason')) ?? 'unknown'
      const detail = r.utf8('bye detail', MAX_BYE_DETAIL_BYTES)
      r.end('bye')
      return { type: 'bye', reason, detail }
    }
    case undefined:
      throw sessionProtocolError('unknown-type', `unknown session message type 0x${code.toString(16).padStart(2, '0')}`)
  }
}

function encodeHello(w: ByteWriter, m: HelloMessage): Uint8Array {
  const g = m.granularity
  if (typeof g !== 'object' || g === null) throw encodeError('hello.granularity must be a granularity descriptor')
  checkInt(g.intervalMs, 1, Number.MAX_SAFE_INTEGER, 'hello.granularity.intervalMs')
  checkInt(g.retentionBuckets, 1, Number.MAX_SAFE_INTEGER, 'hello.granularity.retentionBuckets')
  checkInt(m.powDifficulty, 0, MAX_POW_DIFFICULTY, 'hello.powDifficulty')
  checkText(m.moderationDigest, MAX_MODERATION_DIGEST_BYTES, 'hello.moderationDigest')
  checkInt(m.epoch, 0, Number.MAX_SAFE_INTEGER, 'hello.epoch')
  const rules = Object.entries(m.rules ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  if (rules.length > MAX_SETTING_RULES) throw encodeError(`hello.rules may have at most ${MAX_SETTING_RULES} entries`)
  for (const [name, value] of rules) {
    checkText(name, MAX_SETTING_NAME_BYTES, 'hello.rules name')
    checkInt(value, 0, Number.MAX_SAFE_INTEGER, `hello.rules.${name}`)
  }
  w

    .hex(hex32(m.pubkey, 'hello.pubkey'))
    .hex(hex32(m.nonce, 'hello.nonce'))
    .hex(hex32(m.settingsDigest, 'hello.settingsDigest'))
    .u8(m.powDifficulty)
    .varint(g.intervalMs)
    .varint(g.retentionBuckets)
    .utf8(m.moderationDigest)
    .varint(m.epoch)
    .varint(rules.length)
  for (const [name, value] of rules) w.utf8(name).varint(value)
  return w.finish()
}

function decodeHello(r: ByteReader): HelloMessage {
  const pubkey = r.hex(32, 'hello pubkey')
  const nonce = r.hex(32, 'hello nonce')
  const settingsDigest = r.hex(32, 'hello settings digest')
  const powDifficulty = r.u8('hello pow difficulty')
  if (powDifficulty > MAX_POW_DIFFICULTY) {
    throw sessionProtocolError('out-of-range', `hello pow difficulty ${powDifficulty} is over ${MAX_POW_DIFFICULTY}`)
  }
  const intervalMs = r.varint('hello intervalMs', Number.MAX_SAFE_INTEGER, 1)
  const retentionBuckets = r.varint('hello retentionBuckets', Number.MAX_SAFE_INTEGER, 1)
  const moderationDigest = r.utf8('hello moderation digest', MAX_MODERATION_DIGEST_BYTES)
  const epoch = r.varint('hello epoch', Number.MAX_SAFE_INTEGER, 0)
  const count = r.varint('hello rule count', MAX_SETTING_RULES, 0)
  const rules: Record<string, number> = {}
  let previous: string | undefined
  for (let i = 0; i < count; i++) {
    const name = r.utf8('hello rule name', MAX_SETTING_NAME_BYTES)
    // Canonical: names strictly ascending (so no duplicates), non-empty.
    if (name === '' || (previous !== undefined && name <= previous)) throw sessionProtocolError('out-of-range', 'hello rule names must be non-empty and strictly ascending')
    rules[name] = r.varint('hello rule value', Number.MAX_SAFE_INTEGER, 0)
    previous = name
  }
  r.end('hello')
  const hello: HelloMessage = { type: 'hello', pubkey, nonce, settingsDigest, powDifficulty, granularity: { intervalMs, retentionBuckets }, moderationDigest, epoch }
  return count > 0 ? { ...hello, rules } : hello
}

function encodeAuth(w: ByteWriter, m: AuthMessage): Uint8Array {
  const p = m.proof
  if (typeof p !== 'object' || p === null) throw encodeError('auth.proof must be a signed event')
  const json = JSON.stringify({ id: p.id, pubkey: p.pubkey, created_at: p.created_at, kind: p.kind, tags: p.tags, content: p.content, sig: p.sig })
  if (readEvent(JSON.parse(json) as unknown) === undefined) throw encodeError('auth.proof is not a well-formed signed event')
  const body = encodeUtf8(json)
  if (body.length + 2 > MAX_AUTH_FRAME_BYTES) throw encodeError(`auth frame of ${body.length + 2} bytes is over ${MAX_AUTH_FRAME_BYTES}`)
  return w.bytes(body).finish()
}

function decodeAuth(bytes: Uint8Array): AuthMessage {
  if (bytes.length > MAX_AUTH_FRAME_BYTES) {
    throw sessionProtocolError('too-large', `auth frame of ${bytes.length} bytes is over ${MAX_AUTH_FRAME_BYTES}`)
  }
  const text = decodeUtf8(bytes.subarray(2), 'auth proof', SESSION_ERROR_LABEL)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw sessionProtocolError('bad-json', 'auth proof is not JSON')
  }
  const proof = readEvent(parsed)
  if (proof === undefined) throw sessionProtocolError('bad-event', 'auth proof is not a well-formed signed Nostr event')
  return { type: 'auth', proof }
}

/** The event if `value` has exactly the seven NIP-01 fields with the right types and sizes. */
function readEvent(value: unknown): NostrEvent | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const e = value as Record<string, unknown>
  if (Object.keys(e).length !== 7) return undefined
  const { id, pubkey, created_at, kind, tags, content, sig } = e
  if (!isLowerHex(id, 64) || !isLowerHex(pubkey, 64) || !isLowerHex(sig, 128)) return undefined
  if (!isSafeUint(created_at) || !isSafeUint(kind) || typeof content !== 'string') return undefined
  if (!Array.isArray(tags) || tags.length > MAX_PROOF_TAGS) return undefined
  for (const tag of tags as unknown[]) {
    if (!Array.isArray(tag) || tag.length === 0 || tag.length > MAX_PROOF_TAG_VALUES) return undefined
    if (!tag.every((v: unknown) => typeof v === 'string')) return undefined
  }
  return { id, pubkey, created_at, kind, tags: (tags as string[][]).map((t) => t.slice()), content, sig }
}

function isSafeUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** `value` if it is 32 bytes of lowercase hex. */
function hex32(value: unknown, what: string): string {
  if (!isLowerHex(value, 64)) throw encodeError(`${what} must be 64 lowercase hex digits`)
  return value
}

function checkInt(value: unknown, min: number, max: number, what: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw encodeError(`${what} must be an integer in ${min}..${max}, got ${String(value)}`)
  }
}

function checkText(value: unknown, maxBytes: number, what: string): void {
  const bytes = typeof value === 'string' ? utf8Length(value) : -1
  if (bytes < 0 || bytes > maxBytes) {
    throw encodeError(`${what} must be a well-formed string of at most ${maxBytes} UTF-8 bytes`)
  }
}

function encodeError(message: string): PeersetError {
  return bytesEncodeError(message, 'encodeSessionMessage')
}
