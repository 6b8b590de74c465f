/**
 * Encoding of sync messages into frames. Every frame starts with the protocol version and the
 * message type, and is at most `MAX_FRAME_BYTES` long: a message too big for one frame is split
 * into several self-contained messages of the same type (see each type for how).
 */
import { PeersetError } from '../errors.js'
import { ByteWriter, encodeError, isLowerHex, varintSize, zigzag } from './bytes.js'
import {
  CHILD_DIGEST_BYTES,
  CURSOR_ID_BYTES,
  DIGEST_BYTES,
  EMPTY_CHILD_DIGEST,
  GOSSIP_ID_BYTES,
  GOSSIP_OP_CODES,
  ID_BYTES,
  MAX_ABS_BUCKET,
  MAX_FETCH_RECORDS,
  MAX_FINGERPRINT_COUNT,
  MAX_FRAME_BYTES,
  MAX_RANGE_DEPTH,
  MAX_WINDOW_BUCKETS,
  MESSAGE_TYPE_CODES,
  PROTOCOL_VERSION,
  RANGE_BRANCHES,
  REJECT_CLASS_CODES,
  SHORT_ID_BYTES,
  SUMMARY_DIGEST_BYTES,
  SUMMARY_SALT_BYTES,
  SYMBOL_SALT_BYTES,
  MAX_SYMBOL_INDEX,
  expectedCount,
  type MoreMessage,
  type SymbolsMessage,
  type BucketWindow,
  type EvidenceMessage,
  type FetchMessage,
  type OfferMessage,
  type PushedMessage,
  type FingerprintValue,
  type GossipMessage,
  type HaveMessage,
  type RangeEntry,
  type RangesMessage,
  type RecordsMessage,
  type RejectMessage,
  type RootMessage,
  type SummaryMessage,
  type SyncMessage,
  type WantMessage,
} from './messages.js'
import { wireEventSize, writeWireEvent } from './wire-event.js'

/** Version and type bytes. */
const HEADER_BYTES = 2
/** Room kept for a list count (a frame holds fewer than 2^14 items). */
const COUNT_BYTES = 2
/** Room kept for a summary part's window, root and span. */
const SUMMARY_PREFIX_BYTES = 64
/** Usable bytes of a frame after its header and one list count. */
const BODY_BYTES = MAX_FRAME_BYTES - HEADER_BYTES - COUNT_BYTES

/**
 * Encode a message into one or more frames, each at most `MAX_FRAME_BYTES` (16,348) bytes.
 * Long lists are split over several frames, each a complete message of the same type; a summary
 * is split into parts covering consecutive bucket spans. Validates the message first.
 *
 * @throws PeersetError `INVALID_ARGUMENT` for a malformed message; `INVALID_RECORD` (reason
 * `too-large`) for an event that does not fit one frame on its own.
 * @example
 * ```ts
 * const frames = encodeMessage({ type: 'want', ids: ['ab'.repeat(32)] })
 * frames.length // 1
 * decodeMessage(frames[0]!) // { type: 'want', ids: ['abab…ab'] }
 * ```
 */
export function encodeMessage(message: SyncMessage): Uint8Array[] {
  if (typeof message !== 'object' || message === null) throw encodeError('expected a message object')
  switch (message.type) {
    case 'root':
      return [encodeRoot(message)]
    case 'summary':
      return encodeSummary(message)
    case 'ranges':
      return encodeRanges(message)
    case 'have':
      return encodeHave(message)
    case 'want':
      return encodeWant(message)
    case 'records':
      return encodeRecords(message)
    case 'reject':
      return encodeReject(message)
    case 'evidence':
      return encodeRecords(message, 'evidence')
    case 'gossip':
      return encodeGossip(message)
    case 'fetch':
      return [encodeFetch(message)]
    case 'pushed':
      return encodePushed(message)
    case 'offer':
      return encodeOffer(message)
    case 'symbols':
      return encodeSymbols(message)
    case 'more':
      return [encodeMore(message)]
    default:
      throw encodeError(`unknown message type ${JSON.stringify((message as { type?: unknown }).type)}`)
  }
}

/**
 * Encode several messages, in order, into frames.
 * @example
 * ```ts
 * encodeMessages([{ type: 'want', ids: [] }, { type: 'have', groups: [] }]).length // 2
 * ```
 */
export function encodeMessages(messages: readonly SyncMessage[]): Uint8Array[] {
  const frames: Uint8Array[] = []
  for (const m of messages) for (const f of encodeMessage(m)) frames.push(f)
  return frames
}

function frameWriter(type: keyof typeof MESSAGE_TYPE_CODES): ByteWriter {
  return new ByteWriter(64).u8(PROTOCOL_VERSION).u8(MESSAGE_TYPE_CODES[type])
}

/** A frame: header, optional prefix, list count, list body. */
function finishFrame(type: keyof typeof MESSAGE_TYPE_CODES, prefix: ByteWriter | undefined, count: number, body: ByteWriter): Uint8Array {
  const w = frameWriter(type)
  if (prefix) w.bytes(prefix.finish())
  return w.varint(count).bytes(body.finish()).finish()
}

function checkInt(value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw encodeError(`${what} must be an integer in ${min}..${max}, got ${String(value)}`)
  }
  return value
}

function checkBucket(value: unknown, what: string): number {
  return checkInt(value, -MAX_ABS_BUCKET, MAX_ABS_BUCKET, what)
}

function checkWindow(window: BucketWindow, what: string): void {
  if (typeof window !== 'object' || window === null) throw encodeError(`${what}.window must be an object`)
  checkBucket(window.oldest, `${what}.window.oldest`)
  checkInt(window.newest, window.oldest, window.oldest + MAX_WINDOW_BUCKETS - 1, `${what}.window.newest`)
  checkBucket(window.newest, `${what}.window.newest`)
}

function checkFingerprint(fp: FingerprintValue, what: string, digestBytes = DIGEST_BYTES): void {
  if (typeof fp !== 'object' || fp === null) throw encodeError(`${what} must be a { count, digest } object`)
  checkInt(fp.count, 0, MAX_FINGERPRINT_COUNT, `${what}.count`)
  if (!isLowerHex(fp.digest, digestBytes * 2)) throw encodeError(`${what}.digest must be ${digestBytes * 2} lowercase hex digits`)
}

function checkIds(ids: unknown, chars: number, what: string): asserts ids is string[] {
  if (!Array.isArray(ids)) throw encodeError(`${what} must be an array`)
  for (const id of ids) if (!isLowerHex(id, chars)) throw encodeError(`${what}: every id must be ${chars} lowercase hex digits`)
}

function writeWindow(w: ByteWriter, window: BucketWindow): void {
  w.signed(window.oldest).varint(window.newest - window.oldest)
}

function encodeRoot(m: RootMessage): Uint8Array {
  checkWindow(m.window, 'root')
  checkFingerprint(m, 'root')
  checkInt(m.wanting, 0, MAX_FINGERPRINT_COUNT, 'root.wanting')
  const w = frameWriter('root')
  writeWindow(w, m.window)
  return w.varint(m.count).hex(m.digest).varint(m.wanting).finish()
}

function encodeSummary(m: SummaryMessage): Uint8Array[] {
  checkWindow(m.window, 'summary')
  checkFingerprint(m, 'summary')
  checkInt(m.from, m.window.oldest, m.window.newest, 'summary.from')
  checkInt(m.to, m.from, m.window.newest, 'summary.to')
  if (!Array.isArray(m.buckets)) throw encodeError('summary.buckets must be an array')
  if (!isLowerHex(m.salt, SUMMARY_SALT_BYTES * 2)) throw encodeError(`summary.salt must be ${SUMMARY_SALT_BYTES * 2} lowercase hex digits`)
  let previous = m.from - 1
  for (const b of m.buckets) {
    checkInt(b.bucket, previous + 1, m.to, 'summary bucket (increasing, inside from..to)')
    checkFingerprint(b, 'summary bucket', SUMMARY_DIGEST_BYTES)
    if (b.count === 0) throw encodeError('summary lists non-empty buckets only')
    previous = b.bucket
  }
  const frames: Uint8Array[] = []
  const capacity = BODY_BYTES - SUMMARY_PREFIX_BYTES
  let from = m.from
  let start = 0
  while (true) {
    let used = 0
    let end = start
    let expected = from
    let previousCount = 0
    for (; end < m.buckets.length; end++) {
      const b = m.buckets[end]!
      const size = varintSize(b.bucket - expected) + varintSize(zigzag(b.count - previousCount)) + SUMMARY_DIGEST_BYTES
      if (used + size > capacity) break
      used += size
      expected = b.bucket + 1
      previousCount = b.count
    }
    const last = end === m.buckets.length
    const to = last ? m.to : m.buckets[end - 1]!.bucket
    const prefix = new ByteWriter(64)
    writeWindow(prefix, m.window)
    prefix.varint(m.count).hex(m.digest).hex(m.salt).varint(from - m.window.oldest).varint(to - from)
    const body = new ByteWriter(used + 8)
    expected = from
    previousCount = 0
    for (let i = start; i < end; i++) {
      const b = m.buckets[i]!
      // The count as a difference from the previous bucket's (buckets hold similar counts: 1 byte, not 2).
      body.varint(b.bucket - expected).signed(b.count - previousCount).hex(b.digest)
      expected = b.bucket + 1
      previousCount = b.count
    }
    frames.push(finishFrame('summary', prefix, end - start, body))
    if (last) return frames
    start = end
    from = to + 1
  }
}

function rangeEntrySize(e: RangeEntry, previousBucket: number): number {
  let size = varintSize(zigzag(e.bucket - previousBucket)) + 1 + Math.ceil(e.prefix.length / 2) + 1
  if (e.kind === 'split') {
    for (const c of e.children) size += varintSize(c.count) + (c.count > 0 ? CHILD_DIGEST_BYTES : 0)
  } else {
    size += varintSize(e.shortIds.length) + e.shortIds.length * SHORT_ID_BYTES
  }
  return size
}

function checkRangeEntry(e: RangeEntry): void {
  if (typeof e !== 'object' || e === null) throw encodeError('ranges: every entry must be an object')
  checkBucket(e.bucket, 'ranges entry bucket')
  if (typeof e.prefix !== 'string' || e.prefix.length > MAX_RANGE_DEPTH || (e.prefix !== '' && !isLowerHex(e.prefix, e.prefix.length))) {
    throw encodeError(`ranges entry prefix must be 0 to ${MAX_RANGE_DEPTH} lowercase hex digits`)
  }
  if (e.kind === 'split') {
    if (e.prefix.length >= MAX_RANGE_DEPTH) throw encodeError(`ranges: a range of depth ${MAX_RANGE_DEPTH} cannot be split`)
    if (!Array.isArray(e.children) || e.children.length !== RANGE_BRANCHES) {
      throw encodeError(`ranges: a split entry has exactly ${RANGE_BRANCHES} children`)
    }
    for (const c of e.children) {
      checkFingerprint(c, 'ranges split child', CHILD_DIGEST_BYTES)
      if (c.count === 0 && c.digest !== EMPTY_CHILD_DIGEST) throw encodeError('ranges: an empty split child must carry EMPTY_CHILD_DIGEST')
    }
  } else if (e.kind === 'ids' || e.kind === 'need') {
    checkIds(e.shortIds, SHORT_ID_BYTES * 2, `ranges ${e.kind} entry`)
  } else {
    throw encodeError(`ranges: unknown entry kind ${JSON.stringify((e as { kind?: unknown }).kind)}`)
  }
}

const RANGE_KIND_CODES = { split: 1, ids: 2, need: 3 } as const

function encodeRanges(m: RangesMessage): Uint8Array[] {
  if (!Array.isArray(m.entries)) throw encodeError('ranges.entries must be an array')
  for (const e of m.entries) checkRangeEntry(e)
  const frames: Uint8Array[] = []
  let body = new ByteWriter(1024)
  let count = 0
  let previous = 0
  for (const e of m.entries) {
    let size = rangeEntrySize(e, previous)
    if (body.length + size > BODY_BYTES && count > 0) {
      frames.push(finishFrame('ranges', undefined, count, body))
      body = new ByteWriter(1024)
      count = 0
      previous = 0
      size = rangeEntrySize(e, previous)
    }
    if (size > BODY_BYTES) throw encodeError(`ranges: one entry of ${size} bytes does not fit a frame`)
    body.signed(e.bucket - previous).u8(e.prefix.length)
    if (e.prefix.length > 0) body.hex(e.prefix.length % 2 === 0 ? e.prefix : `${e.prefix}0`)
    body.u8(RANGE_KIND_CODES[e.kind])
    if (e.kind === 'split') {
      for (const c of e.children) {
        body.varint(c.count)
        if (c.count > 0) body.hex(c.digest)
      }
    } else {
      body.varint(e.shortIds.length)
      for (const s of e.shortIds) body.hex(s)
    }
    previous = e.bucket
    count++
  }
  frames.push(finishFrame('ranges', undefined, count, body))
  return frames
}

function encodeHave(m: HaveMessage): Uint8Array[] {
  return encodeGroups('have', undefined, m.groups, ID_BYTES)
}

/** `gossip`: the op byte, then groups of gossip ids like `have`'s (8 bytes per id instead of 32). */
function encodeGossip(m: GossipMessage): Uint8Array[] {
  if (!Object.hasOwn(GOSSIP_OP_CODES, m.op)) throw encodeError(`gossip: unknown op ${JSON.stringify(m.op)}`)
  return encodeGroups('gossip', GOSSIP_OP_CODES[m.op], m.groups, GOSSIP_ID_BYTES)
}

/** Groups of ids by bucket (each bucket a delta from the previous one), `idBytes` per id, split over frames. */
function encodeGroups(type: 'have' | 'gossip', op: number | undefined, groups: readonly { bucket: number; ids: string[] }[], idBytes: number): Uint8Array[] {
  if (!Array.isArray(groups)) throw encodeError(`${type}.groups must be an array`)
  for (const g of groups) {
    if (typeof g !== 'object' || g === null) throw encodeError(`${type}: every group must be an object`)
    checkBucket(g.bucket, `${type} group bucket`)
    checkIds(g.ids, idBytes * 2, `${type} group ids`)
    if (g.ids.length === 0) throw encodeError(`${type}: a group lists at least one id`)
  }
  const prefix = () => (op === undefined ? undefined : new ByteWriter(1).u8(op))
  const room = BODY_BYTES - (op === undefined ? 0 : 1)
  const frames: Uint8Array[] = []
  let body = new ByteWriter(4096)
  let count = 0
  let previous = 0
  for (const g of groups) {
    let i = 0
    while (i < g.ids.length) {
      const header = varintSize(zigzag(g.bucket - previous)) + COUNT_BYTES
      const k = Math.min(g.ids.length - i, Math.floor((room - body.length - header) / idBytes))
      if (k <= 0) {
        frames.push(finishFrame(type, prefix(), count, body))
        body = new ByteWriter(4096)
        count = 0
        previous = 0
        continue
      }
      body.signed(g.bucket - previous).varint(k)
      for (let j = i; j < i + k; j++) body.hex(g.ids[j]!)
      previous = g.bucket
      count++
      i += k
    }
  }
  frames.push(finishFrame(type, prefix(), count, body))
  return frames
}

/** Packs fixed-size items `itemBytes` long into as few frames as possible. */
function packFixed<T>(type: keyof typeof MESSAGE_TYPE_CODES, items: readonly T[], itemBytes: number, write: (w: ByteWriter, item: T) => void): Uint8Array[] {
  const perFrame = Math.floor(BODY_BYTES / itemBytes)
  const frames: Uint8Array[] = []
  let start = 0
  do {
    const end = Math.min(items.length, start + perFrame)
    const body = new ByteWriter((end - start) * itemBytes)
    for (let i = start; i < end; i++) write(body, items[i]!)
    frames.push(finishFrame(type, undefined, end - start, body))
    start = end
  } while (start < items.length)
  return frames
}

function encodeWant(m: WantMessage): Uint8Array[] {
  checkIds(m.ids, ID_BYTES * 2, 'want.ids')
  return packFixed('want', m.ids, ID_BYTES, (w, id) => w.hex(id))
}

function encodeReject(m: RejectMessage): Uint8Array[] {
  if (!Array.isArray(m.items)) throw encodeError('reject.items must be an array')
  for (const item of m.items) {
    if (typeof item !== 'object' || item === null || !isLowerHex(item.id, ID_BYTES * 2)) {
      throw encodeError('reject: every item needs an id of 64 lowercase hex digits')
    }
    if (!Object.hasOwn(REJECT_CLASS_CODES, item.reason)) throw encodeError(`reject: unknown reason ${JSON.stringify(item.reason)}`)
    if (typeof item.permanent !== 'boolean') throw encodeError('reject: permanent must be a boolean')
  }
  return packFixed('reject', m.items, ID_BYTES + 2, (w, item) => {
    w.hex(item.id).u8(REJECT_CLASS_CODES[item.reason]).u8(item.permanent ? 1 : 0)
  })
}

/**
 * Bytes of the largest event (in its binary form, see `wireEventSize`) that fits one `records`
 * frame on its own: 16,344. Any record within the default limits (12,000 bytes of JSON) fits.
 * @example
 * ```ts
 * if (wireEventSize(event) > MAX_WIRE_EVENT_BYTES) skip(event)
 * ```
 */
export const MAX_WIRE_EVENT_BYTES = BODY_BYTES

/** Byte of a `pushed` frame: bit 0 = last frame of the answer, bit 1 = the fetched span is exhausted. */
const PUSHED_LAST = 1
const PUSHED_EXHAUSTED = 2

function encodeFetch(m: FetchMessage): Uint8Array {
  checkBucket(m.from, 'fetch.from')
  checkInt(m.to, m.from, m.from + MAX_WINDOW_BUCKETS - 1, 'fetch.to')
  checkBucket(m.to, 'fetch.to')
  checkInt(m.max, 0, MAX_FETCH_RECORDS, 'fetch.max')
  const w = frameWriter('fetch').signed(m.from).varint(m.to - m.from)
  if (m.after === undefined) w.u8(0)
  else {
    if (typeof m.after !== 'object' || m.after === null) throw encodeError('fetch.after must be a cursor or undefined')
    checkInt(m.after.bucket, m.from, m.to, 'fetch.after.bucket')
    if (!isLowerHex(m.after.id, CURSOR_ID_BYTES * 2)) throw encodeError(`fetch.after.id must be ${CURSOR_ID_BYTES * 2} lowercase hex digits`)
    w.u8(1).varint(m.after.bucket - m.from).hex(m.after.id)
  }
  return w.varint(m.max).finish()
}

function encodePushed(m: PushedMessage): Uint8Array[] {
  if (typeof m.last !== 'boolean' || typeof m.exhausted !== 'boolean') throw encodeError('pushed.last and pushed.exhausted must be booleans')
  if (m.exhausted && !m.last) throw encodeError('pushed: only the last frame of an answer may say exhausted')
  const frames = encodeRecords({ type: 'records', events: m.events }, 'pushed', 1)
  const flags = (m.exhausted ? PUSHED_EXHAUSTED : 0) | (m.last ? PUSHED_LAST : 0)
  return frames.map((f, i) => {
    f[2] = i === frames.length - 1 ? flags : 0
    return f
  })
}

function encodeOffer(m: OfferMessage): Uint8Array[] {
  if (!Array.isArray(m.buckets)) throw encodeError('offer.buckets must be an array')
  let previous = -Infinity
  for (const b of m.buckets) {
    checkBucket(b, 'offer bucket')
    if (b <= previous) throw encodeError('offer: buckets must be increasing')
    previous = b
  }
  if (m.buckets.length > Math.floor(BODY_BYTES / 10)) throw encodeError('offer: too many buckets for one frame')
  const body = new ByteWriter(64)
  let base = 0
  m.buckets.forEach((b, i) => {
    if (i === 0) body.signed(b)
    else body.varint(b - base - 1)
    base = b
  })
  return [finishFrame('offer', undefined, m.buckets.length, body)]
}

function checkSalt(salt: unknown, what: string): void {
  if (!isLowerHex(salt, SYMBOL_SALT_BYTES * 2)) throw encodeError(`${what}.salt must be ${SYMBOL_SALT_BYTES * 2} lowercase hex digits`)
}

/** Most bytes of one coded symbol: a 5-byte varint count and three 32-bit words. */
const MAX_SYMBOL_BYTES = 5 + 12

function u32(w: ByteWriter, v: number): void {
  w.u8(v >>> 24).u8(v >>> 16).u8(v >>> 8).u8(v)
}

function encodeSymbols(m: SymbolsMessage): Uint8Array[] {
  checkSalt(m.salt, 'symbols')
  checkInt(m.total, 0, MAX_FINGERPRINT_COUNT, 'symbols.total')
  checkInt(m.from, 0, MAX_SYMBOL_INDEX, 'symbols.from')
  if (!Array.isArray(m.symbols) || !Array.isArray(m.buckets)) throw encodeError('symbols.symbols and symbols.buckets must be arrays')
  checkInt(m.end, m.from + m.symbols.length, MAX_SYMBOL_INDEX, 'symbols.end')
  let previous = -Infinity
  for (const b of m.buckets) {
    checkBucket(b, 'symbols bucket')
    if (b <= previous) throw encodeError('symbols: buckets must be increasing')
    previous = b
  }
  for (const x of m.symbols) {
    if (typeof x !== 'object' || x === null) throw encodeError('symbols: every symbol must be an object')
    checkInt(x.count, 0, m.total, 'symbol count')
    for (const v of [x.hi, x.lo, x.check]) checkInt(v, 0, 0xffff_ffff, 'symbol word')
  }
  const prefixOf = (from: number) => {
    const prefix = new ByteWriter(64).hex(m.salt).varint(m.total).varint(from).varint(m.end - from).varint(m.buckets.length)
    m.buckets.forEach((b, i) => (i === 0 ? prefix.signed(b) : prefix.varint(b - m.buckets[i - 1]! - 1)))
    return prefix
  }
  const perFrame = Math.floor((BODY_BYTES - prefixOf(m.from).length - 16) / MAX_SYMBOL_BYTES)
  if (perFrame < 1) throw encodeError('symbols: too many buckets for one frame')
  const frames: Uint8Array[] = []
  let start = 0
  do {
    const end = Math.min(m.symbols.length, start + perFrame)
    const body = new ByteWriter((end - start) * MAX_SYMBOL_BYTES)
    for (let k = start; k < end; k++) {
      const x = m.symbols[k]!
      body.signed(x.count - expectedCount(m.total, m.from + k))
      u32(body, x.hi)
      u32(body, x.lo)
      u32(body, x.check)
    }
    frames.push(finishFrame('symbols', prefixOf(m.from + start), end - start, body))
    start = end
  } while (start < m.symbols.length)
  return frames
}

function encodeMore(m: MoreMessage): Uint8Array {
  checkSalt(m.salt, 'more')
  checkInt(m.from, 0, MAX_SYMBOL_INDEX, 'more.from')
  checkInt(m.count, 1, MAX_SYMBOL_INDEX - m.from, 'more.count')
  return frameWriter('more').hex(m.salt).varint(m.from).varint(m.count).finish()
}


function encodeRecords(m: RecordsMessage | EvidenceMessage, type: 'records' | 'evidence' | 'pushed' = 'records', reserved = 0): Uint8Array[] {
  if (!Array.isArray(m.events)) throw encodeError(`${type}.events must be an array`)
  const encoded = m.events.map((event) => {
    const size = wireEventSize(event)
    if (size > MAX_WIRE_EVENT_BYTES - reserved) {
      throw new PeersetError('INVALID_RECORD', `encodeMessage: an event of ${size} bytes does not fit one frame (at most ${MAX_WIRE_EVENT_BYTES - reserved})`, { reason: 'too-large' })
    }
    const w = new ByteWriter(size)
    writeWireEvent(w, event)
    return w.finish()
  })
  const frames: Uint8Array[] = []
  // `reserved` bytes after the header (a `pushed` frame's flags byte), zero here.
  const prefix = reserved > 0 ? new ByteWriter(reserved).bytes(new Uint8Array(reserved)) : undefined
  let body = new ByteWriter(4096)
  let count = 0
  for (const bytes of encoded) {
    if (body.length + bytes.length > BODY_BYTES - reserved && count > 0) {
      frames.push(finishFrame(type, prefix, count, body))
      body = new ByteWriter(4096)
      count = 0
    }
    body.bytes(bytes)
    count++
  }
  frames.push(finishFrame(type, prefix, count, body))
  return frames
}
