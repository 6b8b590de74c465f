/**
 * The compact form in which the record index holds a record body (issue 14: 100k records in a
 * phone's tab). A {@link PackedRecord} keeps as fields what the engine reads often (id, author,
 * uuid, times, the withdrawn flag) and the text as given (copying it into `rest` cost more time on
 * open than its string header saves), and everything else in one string, `rest`, built so that it
 * stays a one-byte V8 string in practice:
 *
 * - lowercase hex (the signature, the room hash) is written two digits per char (half the size);
 * - a string equal to a field or to one written before (the uuid in the `d` tag, the room hash in the `h` tag,
 *   the geohash in the `g` tag, the coordinates in the `geo` tag, the expiration) or to a known tag
 *   name is written as a one-char reference;
 * - lengths are written as three chars of 8 bits;
 * - tags exactly as `createRecord` and `createWithdrawal` write them (`buildRecordTags`: d, h,
 *   expiration, deleted, r, g, geo, each made of the record's fields) are not written at all, only
 *   a bit saying so: unpacking makes them again from the fields. Other tags are written verbatim.
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
    /** The text, as given (copying it into `rest` cost more time on open than its string header saves). */
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
/** The mask bit saying that the tags are the standard ones made from the fields (see {@link standardTags}): none written. */
const STANDARD_TAGS = 32

/** The value of each lowercase hex digit by char code (below 128), -1 for other chars. */
const NIBBLES = new Int8Array(128).fill(-1)
for (let i = 0; i < 16; i++) NIBBLES['0123456789abcdef'.charCodeAt(i)] = i

/** Where a record's own references start: after the constants, its uuid, expiration and room hash. */
const FIRST_FREE_REF = CONSTANTS.length + 3

/**
 * Packing writes char codes into one buffer, reused by every call (packing is synchronous), and
 * makes the string at the end: no garbage per char and no array per record but the last copy,
 * which matters when 100k records are packed on open (about 1 µs a record, issue 14's open time).
 */
class Writer {
  #codes = new Uint16Array(1024)
  #used = 0
  /** The strings a reference may name: the constants, then the record's; `#refCount` of them in use. */
  readonly #refs: string[] = [...CONSTANTS, '', '', '']
  #refCount = FIRST_FREE_REF

  /** Start a record whose fields `uuid`, `expiresAt` and `roomHash` may be referred to (see `initialRefs`); returns `expiresAt` as written. */
  reset(uuid: string, expiresAt: number | undefined, roomHash: string | undefined): string {
    this.#used = 0
    const refs = this.#refs
    const expiration = expiresAt === undefined ? '' : String(expiresAt)
    refs[CONSTANTS.length] = uuid
    refs[CONSTANTS.length + 1] = expiration
    refs[CONSTANTS.length + 2] = roomHash ?? ''
    this.#refCount = FIRST_FREE_REF
    return expiration
  }

  /** The string written since `reset`, in slices small enough for `String.fromCharCode.apply`. */
  finish(): string {
    const codes = this.#codes
    // A view, not a copy: no array of char codes per record for the collector (100k on open).
    if (this.#used <= 8192) return String.fromCharCode.apply(null, codes.subarray(0, this.#used) as unknown as number[])
    let out = ''
    for (let i = 0; i < this.#used; i += 8192) out += String.fromCharCode.apply(null, codes.subarray(i, Math.min(i + 8192, this.#used)) as unknown as number[])
    return out
  }

  /** The buffer, with room for `extra` more codes. */
  #room(extra: number): Uint16Array {
    const need = this.#used + extra
    if (this.#codes.length < need) {
      const grown = new Uint16Array(Math.max(need, 2 * this.#codes.length))
      grown.set(this.#codes.subarray(0, this.#used))
      this.#codes = grown
    }
    return this.#codes
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
    const refs = this.#refs
    const count = this.#refCount
    for (let at = 0; at < count; at++) {
      if (refs[at] === s) {
        const codes = this.#room(2)
        codes[this.#used++] = REF
        codes[this.#used++] = at
        return
      }
    }
    if (count < MAX_REFS) {
      refs[count] = s
      this.#refCount = count + 1
    }
    if (kind === RAW && this.#hex(s)) return
    const n = s.length
    const codes = this.#room(4 + n)
    let used = this.#used
    codes[used++] = kind
    codes[used++] = (n >>> 16) & 0xff
    codes[used++] = (n >>> 8) & 0xff
    codes[used++] = n & 0xff
    for (let i = 0; i < n; i++) codes[used++] = s.charCodeAt(i)
    this.#used = used
  }

  /** Write a number as `numberText` gives it. */
  number(text: string): void {
    this.string(text, NUM)
  }

  /** Write `s` as bytes if it is even-length lowercase hex (checked while writing); false, and nothing written, if not. */
  #hex(s: string): boolean {
    const n = s.length
    if (n === 0 || n % 2 !== 0 || n > MAX_HEX_CHARS) return false
    const codes = this.#room(4 + n / 2)
    let used = this.#used
    codes[used++] = HEX
    codes[used++] = (n >>> 17) & 0xff
    codes[used++] = (n >>> 9) & 0xff
    codes[used++] = (n >>> 1) & 0xff
    for (let i = 0; i < n; i += 2) {
      const a = s.charCodeAt(i)
      const b = s.charCodeAt(i + 1)
      const high = a < 128 ? NIBBLES[a]! : -1
      const low = b < 128 ? NIBBLES[b]! : -1
      if ((high | low) < 0) return false
      codes[used++] = (high << 4) | low
    }
    this.#used = used
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

}

/** A number as packing writes it (and as a standard `geo` tag must hold it): `-0` kept. */
function numberText(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n)
}

/** Whether `tag` is exactly `[name, value]` (`value` undefined: exactly `[name]`). */
function isTag(tag: readonly string[] | undefined, name: string, value?: string): boolean {
  if (tag === undefined) return false
  return value === undefined ? tag.length === 1 && tag[0] === name : tag.length === 2 && tag[0] === name && tag[1] === value
}

/**
 * Whether a record's tags are those `buildRecordTags` makes from its fields, in its order: then
 * they are not written, and {@link standardTags} makes them again. `expiration` is `expiresAt`
 * as `String` writes it; the `geo` values are the coordinates as {@link numberText} writes them.
 */
function hasStandardTags(record: PeersetRecord, uuid: string, roomHash: string | undefined, expiration: string, lat: string, lon: string): boolean {
  const tags = record.tags
  let i = 0
  if (!isTag(tags[i++], 'd', uuid)) return false
  if (roomHash !== undefined && !isTag(tags[i++], 'h', roomHash)) return false
  if (record.expiresAt === undefined || !isTag(tags[i++], 'expiration', expiration)) return false
  if (record.withdrawn === true && !isTag(tags[i++], 'deleted')) return false
  if (record.link !== undefined && !isTag(tags[i++], 'r', record.link)) return false
  const geo = record.geo
  if (geo !== undefined) {
    if (!isTag(tags[i++], 'g', geo.geohash)) return false
    const tag = tags[i++]
    if (tag === undefined || tag.length !== 3 || tag[0] !== 'geo' || tag[1] !== lat || tag[2] !== lon) return false
  }
  return i === tags.length
}

/** The tags {@link hasStandardTags} accepted, made again from the unpacked fields (new arrays). */
function standardTags(uuid: string, roomHash: string | undefined, expiresAt: number | undefined, withdrawn: boolean, link: string | undefined, geo: { lat: string; lon: string; geohash: string } | undefined): string[][] {
  const tags: string[][] = [['d', uuid]]
  if (roomHash !== undefined) tags.push(['h', roomHash])
  tags.push(['expiration', String(expiresAt)])
  if (withdrawn) tags.push(['deleted'])
  if (link !== undefined) tags.push(['r', link])
  if (geo !== undefined) tags.push(['g', geo.geohash], ['geo', geo.lat, geo.lon])
  return tags
}

const hasOwn = (record: PeersetRecord, key: (typeof OPTIONAL_KEYS)[number]): boolean => Object.prototype.hasOwnProperty.call(record, key)

/** The references a record starts with, as the reader sees them (the writer keeps the same in place: `Writer.reset`). */
function initialRefs(uuid: string, expiresAt: number | undefined, roomHash: string | undefined): string[] {
  return [...CONSTANTS, uuid, expiresAt === undefined ? '' : String(expiresAt), roomHash ?? '']
}

/**
 * Pack a record. `author`, `uuid` and `roomHash` may be passed as copies to share (equal to the record's).
 */
export function packRecord(record: PeersetRecord, author = record.author, uuid = record.uuid, roomHash = record.roomHash): PackedRecord {
  const w = writer
  const expiration = w.reset(uuid, record.expiresAt, roomHash)
  // The bits of OPTIONAL_KEYS, unrolled (this runs for every record on open).
  let mask = (hasOwn(record, 'roomHash') ? 1 : 0) | (hasOwn(record, 'link') ? 2 : 0) | (hasOwn(record, 'geo') ? 4 : 0) | (hasOwn(record, 'expiresAt') ? 8 : 0) | (hasOwn(record, 'withdrawn') ? 16 : 0)
  const geo = record.geo
  const lat = geo === undefined ? '' : numberText(geo.lat)
  const lon = geo === undefined ? '' : numberText(geo.lon)
  const standard = hasStandardTags(record, uuid, roomHash, expiration, lat, lon)
  if (standard) mask |= STANDARD_TAGS
  w.char(mask)
  w.string(record.sig)
  w.string(record.link)
  w.char(geo === undefined ? 0 : 1)
  if (geo !== undefined) {
    w.number(lat)
    w.number(lon)
    w.string(geo.geohash)
  }
  if (!standard) {
    w.length(record.tags.length)
    for (const tag of record.tags) {
      w.length(tag.length)
      for (const value of tag) w.string(value)
    }
  }
  return new PackedRecord(record.id, author, uuid, roomHash, record.createdAt, record.expiresAt, record.withdrawn === true, record.text, w.finish())
}

/** Tags written verbatim. */
function readTags(r: Reader): string[][] {
  const tags: string[][] = new Array<string[]>(r.length())
  for (let i = 0; i < tags.length; i++) {
    const tag: string[] = new Array<string>(r.length())
    for (let j = 0; j < tag.length; j++) tag[j] = r.string() as string
    tags[i] = tag
  }
  return tags
}

/** The record a {@link PackedRecord} holds: a new plain object, equal to the one packed. */
export function unpackRecord(packed: PackedRecord): PeersetRecord {
  const r = new Reader(packed.rest, initialRefs(packed.uuid, packed.expiresAt, packed.roomHash))
  const mask = r.char()
  const sig = r.string() as string
  const link = r.string()
  const written = r.char() === 1 ? { lat: r.string() as string, lon: r.string() as string, geohash: r.string() as string } : undefined
  const geo: PeersetRecord['geo'] | undefined = written && { lat: Number(written.lat), lon: Number(written.lon), geohash: written.geohash }
  const tags = mask & STANDARD_TAGS ? standardTags(packed.uuid, packed.roomHash, packed.expiresAt, packed.withdrawn, link, written) : readTags(r)
  const record: Record<string, unknown> = { id: packed.id, author: packed.author, uuid: packed.uuid }
  if (mask & 1) record.roomHash = packed.roomHash
  record.createdAt = packed.createdAt
  record.text = packed.text
  if (mask & 2) record.link = link
  if (mask & 4) record.geo = geo
  if (mask & 8) record.expiresAt = packed.expiresAt
  record.tags = tags
  record.sig = sig
  if (mask & 16) record.withdrawn = packed.withdrawn ? true : undefined
  return record as unknown as PeersetRecord
}
