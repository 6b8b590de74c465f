/**
 * Byte reading and writing for session frames (internal). The reader checks every length against
 * the bytes that remain before it allocates, and throws `PeersetError` `PROTOCOL` on bad input.
 */
import { PeersetError } from '../errors.js'

const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const UTF8_ENCODER = new TextEncoder()
/** Longest varint accepted: 8 bytes (and the value must be a safe integer). */
const MAX_VARINT_BYTES = 8

/** A `PeersetError` `PROTOCOL` with a short machine-readable `reason`. */
export function sessionProtocolError(reason: string, message: string): PeersetError {
  return new PeersetError('PROTOCOL', `session: ${message}`, { reason })
}

/** UTF-8 bytes of a string (lone surrogates become U+FFFD: check with `isWellFormedText` first). */
export function utf8(value: string): Uint8Array {
  return UTF8_ENCODER.encode(value)
}

/** Whether a string has no lone UTF-16 surrogate (so UTF-8 round-trips it). */
export function isWellFormedText(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1)
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false
      i++
    } else if (c >= 0xdc00 && c <= 0xdfff) return false
  }
  return true
}

/** Decodes UTF-8, refusing invalid sequences with `PROTOCOL` `bad-utf8`. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return UTF8_DECODER.decode(bytes)
  } catch {
    throw sessionProtocolError('bad-utf8', `${what} is not valid UTF-8`)
  }
}

/** Reads a frame front to back. */
export class FrameReader {
  readonly #bytes: Uint8Array
  #pos: number

  constructor(bytes: Uint8Array, start = 0) {
    this.#bytes = bytes
    this.#pos = start
  }

  get remaining(): number {
    return this.#bytes.length - this.#pos
  }

  u8(what: string): number {
    if (this.#pos >= this.#bytes.length) throw sessionProtocolError('truncated', `frame ends inside ${what}`)
    return this.#bytes[this.#pos++]!
  }

  /** `n` bytes, a view into the frame. */
  bytes(n: number, what: string): Uint8Array {
    if (n > this.remaining) throw sessionProtocolError('truncated', `frame ends inside ${what}`)
    const out = this.#bytes.subarray(this.#pos, this.#pos + n)
    this.#pos += n
    return out
  }

  /** An unsigned, minimally encoded LEB128 varint in `min..max`. */
  varint(what: string, min: number, max: number): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = this.u8(what)
      value += (byte & 0x7f) * scale
      if ((byte & 0x80) === 0) {
        if (byte === 0 && i > 0) throw sessionProtocolError('bad-varint', `${what}: varint is not minimally encoded`)
        if (value < min || value > max) throw sessionProtocolError('out-of-range', `${what} is ${value}, outside ${min}..${max}`)
        return value
      }
      scale *= 128
    }
    throw sessionProtocolError('bad-varint', `${what}: varint longer than ${MAX_VARINT_BYTES} bytes`)
  }

  /** A varint length (at most `maxBytes`) followed by that many bytes of UTF-8. */
  utf8(what: string, maxBytes: number): string {
    const n = this.varint(`${what} length`, 0, maxBytes)
    return decodeUtf8(this.bytes(n, what), what)
  }

  /** Refuses trailing bytes. */
  end(what: string): void {
    if (this.remaining !== 0) throw sessionProtocolError('trailing-bytes', `${this.remaining} unexpected bytes after ${what}`)
  }
}

/** Appends bytes; the caller has validated every value. */
export class FrameWriter {
  readonly #parts: number[] = []

  u8(value: number): this {
    this.#parts.push(value & 0xff)
    return this
  }

  bytes(bytes: Uint8Array): this {
    for (const b of bytes) this.#parts.push(b)
    return this
  }

  /** An unsigned minimal LEB128 varint of a non-negative safe integer. */
  varint(value: number): this {
    while (value >= 128) {
      this.#parts.push((value % 128) | 0x80)
      value = Math.floor(value / 128)
    }
    this.#parts.push(value)
    return this
  }

  /** A varint length and the UTF-8 bytes of `value`. */
  utf8(value: string): this {
    const bytes = utf8(value)
    return this.varint(bytes.length).bytes(bytes)
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.#parts)
  }
}

/**
 * The unsigned varint at `offset` of `bytes`, or `undefined` if there is none (internal; used to
 * read the record count of a sync `records` frame without decoding it).
 */
export function peekVarint(bytes: Uint8Array, offset: number): number | undefined {
  try {
    return new FrameReader(bytes, offset).varint('count', 0, Number.MAX_SAFE_INTEGER)
  } catch {
    return undefined
  }
}
