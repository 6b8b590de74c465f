/**
 * Byte-level reading and writing for the wire codecs (internal): the sync codec (protocol/) and the
 * session codec (session/) share this one implementation. The reader checks every length against
 * the bytes that remain before it allocates anything, and throws `PeersetError` `PROTOCOL` for
 * anything malformed; the writer expects values its caller has validated (encoders throw
 * `INVALID_ARGUMENT`, see {@link encodeError}).
 */
import { PeersetError } from '../errors.js'
import { isLowerHex } from '../identity/key-format.js'

export { isLowerHex }

/** Longest varint accepted: 8 bytes (56 bits), and the value must also be a safe integer. */
export const MAX_VARINT_BYTES = 8

const HEX = '0123456789abcdef'
const HEX_PAIRS: string[] = Array.from({ length: 256 }, (_, i) => HEX[i >> 4]! + HEX[i & 15]!)
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const UTF8_ENCODER = new TextEncoder()

/**
 * A `PeersetError` of code `PROTOCOL` with a short machine-readable `reason`; the message starts
 * with `label` (the codec that refused the frame: `protocol` or `session`).
 */
export function protocolError(reason: string, message: string, label = 'protocol'): PeersetError {
  return new PeersetError('PROTOCOL', `${label}: ${message}`, { reason })
}

/** A `PeersetError` of code `INVALID_ARGUMENT` for something an encoder (named by `label`) was handed. */
export function encodeError(message: string, label = 'encodeMessage'): PeersetError {
  return new PeersetError('INVALID_ARGUMENT', `${label}: ${message}`)
}

/** Bytes an unsigned LEB128 varint of `value` takes. */
export function varintSize(value: number): number {
  let size = 1
  while (value >= 128) {
    value = Math.floor(value / 128)
    size++
  }
  return size
}

/** Zigzag mapping of a signed safe integer to an unsigned one (0, -1, 1, -2... -> 0, 1, 2, 3...). */
export function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1
}

/** Bytes of `value` as UTF-8, or -1 if it holds a lone surrogate (which UTF-8 cannot carry). */
export function utf8Length(value: string): number {
  if (!isWellFormedText(value)) return -1
  let bytes = 0
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdfff) {
      // The high half of a pair (the string is well-formed): 4 bytes for both halves.
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

/**
 * Whether a string has no lone UTF-16 surrogate, so UTF-8 and JSON round-trip it. The one
 * well-formedness check of the library (`String.prototype.isWellFormed`, Node 20+).
 */
export function isWellFormedText(value: string): boolean {
  return value.isWellFormed()
}

/** `value` with every lone UTF-16 surrogate replaced by U+FFFD (so it is {@link isWellFormedText}). */
export function toWellFormedText(value: string): string {
  return isWellFormedText(value) ? value : value.toWellFormed()
}

/** UTF-8 bytes of a string (lone surrogates become U+FFFD: check with {@link isWellFormedText} first). */
export function encodeUtf8(value: string): Uint8Array {
  return UTF8_ENCODER.encode(value)
}

/** Decodes UTF-8, refusing invalid sequences with `PROTOCOL` `bad-utf8` (message prefixed by `label`). */
export function decodeUtf8(bytes: Uint8Array, what: string, label = 'protocol'): string {
  try {
    return UTF8_DECODER.decode(bytes)
  } catch {
    throw protocolError('bad-utf8', `${what} is not valid UTF-8`, label)
  }
}


/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i]!]!
  return out
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  return -1
}

/**
 * Reads a frame front to back, from byte `start`. Every method throws `PeersetError` `PROTOCOL` on
 * bad input, its message prefixed by `label` (`protocol` for sync frames, `session` for session frames).
 */
export class ByteReader {
  readonly #bytes: Uint8Array
  readonly #label: string
  #pos: number

  constructor(bytes: Uint8Array, start = 0, label = 'protocol') {
    this.#bytes = bytes
    this.#pos = start
    this.#label = label
  }

  #error(reason: string, message: string): PeersetError {
    return protocolError(reason, message, this.#label)
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#bytes.length - this.#pos
  }

  u8(what: string): number {
    if (this.#pos >= this.#bytes.length) throw this.#error('truncated', `frame ends inside ${what}`)
    return this.#bytes[this.#pos++]!
  }

  /** An unsigned minimal LEB128 varint of at most {@link MAX_VARINT_BYTES} bytes, in `min..max`. */
  varint(what: string, max: number = Number.MAX_SAFE_INTEGER, min = 0): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = this.u8(what)
      value += (byte & 0x7f) * scale
      if ((byte & 0x80) === 0) {
        if (byte === 0 && i > 0) throw this.#error('bad-varint', `${what}: varint is not minimally encoded`)
        if (value < min || value > max) {
          const bound = min === 0 ? `over the maximum of ${max}` : `outside ${min}..${max}`
          throw this.#error('out-of-range', `${what} is ${value}, ${bound}`)
        }
        return value
      }
      scale *= 128
    }
    throw this.#error('bad-varint', `${what}: varint longer than ${MAX_VARINT_BYTES} bytes`)
  }

  /** A zigzag varint: a signed integer with `|value| <= maxAbs`. */
  signed(what: string, maxAbs: number): number {
    const z = this.varint(what, maxAbs * 2)
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2
  }

  /**
   * A count of items that each take at least `minItemBytes`: refused if over `max` or if the
   * remaining bytes could not hold that many items (checked before anything is allocated).
   */
  count(what: string, minItemBytes: number, max: number): number {
    const n = this.varint(what, max)
    if (n * minItemBytes > this.remaining) {
      throw this.#error('truncated', `${what} is ${n} but only ${this.remaining} bytes remain`)
    }
    return n
  }

  /** `n` raw bytes (a view into the frame). */
  bytes(n: number, what: string): Uint8Array {
    if (n > this.remaining) throw this.#error('truncated', `frame ends inside ${what}`)
    const out = this.#bytes.subarray(this.#pos, this.#pos + n)
    this.#pos += n
    return out
  }

  /** `n` raw bytes as lowercase hex. */
  hex(n: number, what: string): string {
    return toHex(this.bytes(n, what))
  }

  /** A length-prefixed UTF-8 string of at most `maxBytes` bytes; invalid UTF-8 is refused. */
  utf8(what: string, maxBytes: number): string {
    const n = this.varint(`${what} length`, maxBytes)
    return decodeUtf8(this.bytes(n, what), what, this.#label)
  }

  /** Refuses trailing bytes. */
  end(what: string): void {
    if (this.remaining !== 0) throw this.#error('trailing-bytes', `${this.remaining} unexpected bytes after ${what}`)
  }
}

/** Appends bytes to a growable buffer. */
export class ByteWriter {
  #buf: Uint8Array
  #len = 0

  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(initialCapacity)
  }

  get length(): number {
    return this.#len
  }

  #reserve(extra: number): void {
    const need = this.#len + extra
    if (need <= this.#buf.length) return
    let cap = this.#buf.length * 2
    while (cap < need) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.#buf.subarray(0, this.#len))
    this.#buf = next
  }

  u8(value: number): this {
    this.#reserve(1)
    this.#buf[this.#len++] = value & 0xff
    return this
  }

  /** An unsigned minimal LEB128 varint. `value` must be a non-negative safe integer. */
  varint(value: number): this {
    this.#reserve(MAX_VARINT_BYTES)
    while (value >= 128) {
      this.#buf[this.#len++] = (value % 128) | 0x80
      value = Math.floor(value / 128)
    }
    this.#buf[this.#len++] = value
    return this
  }

  /** A signed integer as a zigzag varint. */
  signed(value: number): this {
    return this.varint(zigzag(value))
  }

  bytes(bytes: Uint8Array): this {
    this.#reserve(bytes.length)
    this.#buf.set(bytes, this.#len)
    this.#len += bytes.length
    return this
  }

  /** Lowercase hex written as raw bytes; the caller has checked it with {@link isLowerHex}. */
  hex(value: string): this {
    const n = value.length >> 1
    this.#reserve(n)
    for (let i = 0; i < n; i++) {
      this.#buf[this.#len++] = (hexValue(value.charCodeAt(2 * i)) << 4) | hexValue(value.charCodeAt(2 * i + 1))
    }
    return this
  }

  /**
   * A length-prefixed UTF-8 string. `value` must be well-formed ({@link isWellFormedText}); pass its
   * byte length if already computed with {@link utf8Length}.
   */
  utf8(value: string, bytes: number = utf8Length(value)): this {
    this.varint(bytes)
    this.#reserve(bytes)
    const { written } = UTF8_ENCODER.encodeInto(value, this.#buf.subarray(this.#len, this.#len + bytes))
    this.#len += written
    return this
  }

  /** A copy of the bytes written so far. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len)
  }
}

/**
 * The unsigned varint at `offset` of `bytes`, or `undefined` if there is none (used to read the
 * record count of a sync `records` frame without decoding it).
 */
export function peekVarint(bytes: Uint8Array, offset: number): number | undefined {
  try {
    return new ByteReader(bytes, offset).varint('count')
  } catch {
    return undefined
  }
}
