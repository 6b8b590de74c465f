/**
 * The compact form in which the record index holds a record body (issue 14: 100k records in a
 * phone's tab). A {@link PackedRecord} keeps as fields what the engine reads often (id, author,
 * uuid, times, the withdrawn flag, the text) and everything else in one string, `rest`, built so
 * that it stays a one-byte V8 string in practice:
 *
 * - lowercase hex (the signature, the room hash) is written two digits per char (half the size);
 * - a string equal to a field or to one written before (the uuid in the `d` tag, the room hash in the `h` tag,
 *   the geohash in the `g` tag, the coordinates in the `geo` tag, the expiration) or to a known tag
 *   name is written as a one-char reference;
 * - lengths are written as three chars of 8 bits.
 *
 * {@link unpackRecord} gives back a plain object equal to the original, with the same own keys
 * (an optional field present as `undefined` stays present), in the order `verifyRecord` writes them.
 * Interning: the caller may pass strings to share (`author`, `uuid`) — the record index passes
 * the copies its maps already hold, so a string lives as long as a record uses it and no longer.
 */
import type { PeersetRecord } from '../record/types.js'

/** A record body, compact. Read with {@link unpackRecord}. */
export class PackedRecord {
  constructor(
    readonly id: string,
    readonly author: string,
    readonly uuid: string,
    readonly roomHash: string | undefined,
    readonly createdAt: number,
    readonly expiresAt: number | undefined,
    readonly withdrawn: boolean,
    /** The text, unless it is Latin-1: then it is in `rest` (one string header less) and this is `''`. */
    readonly text: string,
    /** Signature, link, geolocation, tags and which optional keys exist (see the module comment). */
    readonly rest: string,
  ) {}
}

const RAW = 1
const HEX = 2
const REF = 3
const UNDEF = 4
const NUM = 5
const MAX_REFS = 255

/** Strings every record may repeat (tag names): references 0..n-1, shared by encoder and decoder. */
const CONSTANTS = ['d', 'h', 'expiration', 'deleted', 'r', 'g', 'geo', 'location']

/** Optional keys of a record, one bit each in the key mask. */
const OPTIONAL_KEYS = ['roomHash', 'link', 'geo', 'expiresAt', 'withdrawn'] as const
/** The mask bit saying that the text is in `rest` (it is Latin-1), not in the `text` field. */
const TEXT_IN_REST = 32
/** A char outside Latin-1: such a text would make `rest` a two-byte string, so it stays apart. */
const NOT_LATIN1 = /[^\u0000-\u00ff]/

/** The value of a lowercase hex digit, or -1. */
function nibble(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1
}


/**
 * Packing writes char codes into one buffer, reused by every call (packing is synchronous), and
 * makes the string at the end: no garbage per char, which matters when 100k records are packed on open.
 */
class Writer {
  #codes: number[] = new Array<number>(1024).fill(0)
  #used = 0
  readonly #refs: string[] = []

  /** Start a record whose fields `uuid`, `expiresAt` and `roomHash` may be referred to. */
  reset(refs: readonly string[]): void {
    this.#used = 0
    this.#refs.length = 0
    for (const ref of refs) this.#refs.push(ref)
  }

  /** The string written since `reset`, in slices small enough for `String.fromCharCode.apply`. */
  finish(): string {
    const codes = this.#codes
    if (this.#used <= 8192) return String.fromCharCode.apply(null, codes.slice(0, this.#used))
    let out = ''
    for (let i = 0; i < this.#used; i += 8192) out += String.fromCharCode.apply(null, codes.slice(i, Math.min(i + 8192, this.#used)))
    return out
  }

  #room(extra: number): number[] {
    const codes = this.#codes
    while (codes.length < this.#used + extra) codes.push(0)
    return codes
  }

  char(c: number): void {
    this.#room(1)[this.#used++] = c
  }

  length(n: number): void {
    const codes = this.#room(3)
    codes[this.#used++] = (n >>> 16) & 0xff
    codes[this.#used++] = (n >>> 8) & 0xff
    codes[this.#used++] = n & 0xff
  }

  string(s: string | undefined, kind = RAW): void {
    if (s === undefined) return this.char(UNDEF)
    const at = this.#refs.indexOf(s)
    if (at >= 0) {
      this.char(REF)
      return this.char(at)
    }
    if (this.#refs.length < MAX_REFS) this.#refs.push(s)
    if (kind === RAW && this.#hex(s)) return
    this.char(kind)
    this.length(s.length)
    const codes = this.#room(s.length)
    for (let i = 0; i < s.length; i++) codes[this.#used++] = s.charCodeAt(i)
  }

  number(n: number): void {
    this.string(Object.is(n, -0) ? '-0' : String(n), NUM)
  }

  /** Write `s` as bytes if it is even-length lowercase hex (checked while writing); false, and nothing written, if not. */
  #hex(s: string): boolean {
    if (s.length === 0 || s.length % 2 !== 0 || s.length > MAX_HEX_CHARS) return false
    const start = this.#used
    this.char(HEX)
    this.length(s.length / 2)
    const codes = this.#room(s.length / 2)
    for (let i = 0; i < s.length; i += 2) {
      const high = nibble(s.charCodeAt(i))
      const low = nibble(s.charCodeAt(i + 1))
      if ((high | low) < 0) {
        this.#used = start
        return false
      }
      codes[this.#used++] = (high << 4) | low
    }
    return true
  }
}

/** Longest hex string written as bytes (decoded with one `String.fromCharCode.apply`). */
const MAX_HEX_CHARS = 4096

const writer = new Writer()

/** Char codes of the hex digits, by value. */
const HEX_CODES = [...'0123456789abcdef'].map((d) => d.charCodeAt(0))

class Reader {
  #at = 0
  readonly #s: string
  readonly #refs: string[]

  constructor(s: string, refs: string[]) {
    this.#s = s
    this.#refs = refs
  }

  char(): number {
    return this.#s.charCodeAt(this.#at++)
  }

  length(): number {
    return (this.char() << 16) | (this.char() << 8) | this.char()
  }

  string(): string | undefined {
    const kind = this.char()
    if (kind === UNDEF) return undefined
    if (kind === REF) return this.#refs[this.char()]
    const n = this.length()
    let value: string
    if (kind === HEX) {
      const digits: number[] = new Array<number>(2 * n)
      for (let i = 0; i < n; i++) {
        const byte = this.char()
        digits[2 * i] = HEX_CODES[byte >>> 4]!
        digits[2 * i + 1] = HEX_CODES[byte & 15]!
      }
      value = String.fromCharCode.apply(null, digits) // at most MAX_HEX_CHARS digits
    } else {
      value = this.#s.slice(this.#at, this.#at + n)
      this.#at += n
    }
    if (this.#refs.length < MAX_REFS) this.#refs.push(value)
    return value
  }

  number(): number {
    return Number(this.string())
  }
}

function initialRefs(uuid: string, expiresAt: number | undefined, roomHash: string | undefined): string[] {
  return [...CONSTANTS, uuid, expiresAt === undefined ? '' : String(expiresAt), roomHash ?? '']
}

/**
 * Pack a record. `author`, `uuid` and `roomHash` may be passed as copies to share (equal to the record's).
 */
export function packRecord(record: PeersetRecord, author = record.author, uuid = record.uuid, roomHash = record.roomHash): PackedRecord {
  const w = writer
  w.reset(initialRefs(uuid, record.expiresAt, roomHash))
  let mask = 0
  OPTIONAL_KEYS.forEach((key, bit) => {
    if (Object.prototype.hasOwnProperty.call(record, key)) mask |= 1 << bit
  })
  const textInRest = !NOT_LATIN1.test(record.text)
  w.char(textInRest ? mask | TEXT_IN_REST : mask)
  if (textInRest) w.string(record.text)
  w.string(record.sig)
  w.string(record.link)
  const geo = record.geo
  w.char(geo === undefined ? 0 : 1)
  if (geo !== undefined) {
    w.number(geo.lat)
    w.number(geo.lon)
    w.string(geo.geohash)
  }
  w.length(record.tags.length)
  for (const tag of record.tags) {
    w.length(tag.length)
    for (const value of tag) w.string(value)
  }
  return new PackedRecord(record.id, author, uuid, roomHash, record.createdAt, record.expiresAt, record.withdrawn === true, textInRest ? '' : record.text, w.finish())
}

/** The record a {@link PackedRecord} holds: a new plain object, equal to the one packed. */
export function unpackRecord(packed: PackedRecord): PeersetRecord {
  const r = new Reader(packed.rest, initialRefs(packed.uuid, packed.expiresAt, packed.roomHash))
  const mask = r.char()
  const text = mask & TEXT_IN_REST ? (r.string() as string) : packed.text
  const sig = r.string() as string
  const link = r.string()
  let geo: PeersetRecord['geo'] | undefined
  if (r.char() === 1) {
    geo = { lat: r.number(), lon: r.number(), geohash: r.string() as string }
  }
  const tags: string[][] = new Array<string[]>(r.length())
  for (let i = 0; i < tags.length; i++) {
    const tag: string[] = new Array<string>(r.length())
    for (let j = 0; j < tag.length; j++) tag[j] = r.string() as string
    tags[i] = tag
  }
  const record: Record<string, unknown> = { id: packed.id, author: packed.author, uuid: packed.uuid }
  if (mask & 1) record.roomHash = packed.roomHash
  record.createdAt = packed.createdAt
  record.text = text
  if (mask & 2) record.link = link
  if (mask & 4) record.geo = geo
  if (mask & 8) record.expiresAt = packed.expiresAt
  record.tags = tags
  record.sig = sig
  if (mask & 16) record.withdrawn = packed.withdrawn ? true : undefined
  return record as unknown as PeersetRecord
}
