/**
 * Decoding of one frame into one sync message. Untrusted input: every length is checked against
 * the bytes that remain before anything is allocated, and anything malformed (unknown version or
 * type, truncation, trailing bytes, over-long or non-minimal varints, invalid UTF-8, out-of-range
 * values, unsorted summaries) is refused with `PeersetError` `PROTOCOL` — never any other error.
 */
import { isPeersetError } from '../errors.js'
import { ByteReader, protocolError } from './bytes.js'
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
  type BucketFingerprint,
  type BucketIds,
  type BucketWindow,
  type FingerprintValue,
  type GossipMessage,
  type RangeEntry,
  type RejectClass,
  type RejectItem,
  type SyncMessage,
  type WireEvent,
} from './messages.js'
import { MIN_WIRE_EVENT_BYTES, readWireEvent } from './wire-event.js'

/** Most entries of any list in one frame (a frame could not hold more anyway). */
const MAX_LIST = MAX_FRAME_BYTES

const REJECT_CLASSES = new Map<number, RejectClass>(
  Object.entries(REJECT_CLASS_CODES).map(([name, code]) => [code, name as RejectClass]),
)

/**
 * Decode one frame. The result is structurally valid (see `SyncMessage`); whether it makes sense
 * in the conversation is the sync core's business.
 *
 * @throws PeersetError `PROTOCOL` (with a `reason` such as `truncated`, `trailing-bytes`,
 * `unknown-version`, `unknown-type`, `bad-varint`, `bad-utf8`, `out-of-range`) for any bad frame.
 * @example
 * ```ts
 * const [frame] = encodeMessage({ type: 'want', ids: ['00'.repeat(32)] })
 * decodeMessage(frame!) // { type: 'want', ids: ['0000…00'] }
 * decodeMessage(new Uint8Array([9, 1])) // throws PeersetError PROTOCOL (unknown-version)
 * ```
 */
export function decodeMessage(frame: Uint8Array): SyncMessage {
  if (!(frame instanceof Uint8Array)) throw protocolError('not-bytes', 'a frame must be a Uint8Array')
  if (frame.length > MAX_FRAME_BYTES) {
    throw protocolError('too-large', `frame of ${frame.length} bytes is over the limit of ${MAX_FRAME_BYTES}`)
  }
  try {
    return decodeUnchecked(new ByteReader(frame))
  } catch (error) {
    if (isPeersetError(error, 'PROTOCOL')) throw error
    // Defensive: nothing else is expected, but a decoder of untrusted bytes must not leak other errors.
    throw protocolError('malformed', `could not decode frame (${String(error)})`)
  }
}

function decodeUnchecked(r: ByteReader): SyncMessage {
  const version = r.u8('version')
  if (version !== PROTOCOL_VERSION) {
    throw protocolError('unknown-version', `unsupported protocol version ${version} (this peer speaks ${PROTOCOL_VERSION})`)
  }
  const type = r.u8('message type')
  let message: SyncMessage
  switch (type) {
    case MESSAGE_TYPE_CODES.root: {
      const window = readWindow(r)
      const { count, digest } = readFingerprint(r, 'root')
      message = { type: 'root', window, count, digest, wanting: r.varint('root.wanting', MAX_FINGERPRINT_COUNT) }
      break
    }
    case MESSAGE_TYPE_CODES.summary:
      message = readSummary(r)
      break
    case MESSAGE_TYPE_CODES.ranges:
      message = { type: 'ranges', entries: readRanges(r) }
      break
    case MESSAGE_TYPE_CODES.have:
      message = { type: 'have', groups: readHave(r) }
      break
    case MESSAGE_TYPE_CODES.want: {
      const n = r.count('want count', ID_BYTES, MAX_LIST)
      const ids: string[] = []
      for (let i = 0; i < n; i++) ids.push(r.hex(ID_BYTES, 'want id'))
      message = { type: 'want', ids }
      break
    }
    case MESSAGE_TYPE_CODES.records: {
      const n = r.count('record count', MIN_WIRE_EVENT_BYTES, MAX_LIST)
      const events: WireEvent[] = []
      for (let i = 0; i < n; i++) events.push(readWireEvent(r))
      message = { type: 'records', events }
      break
    }
    case MESSAGE_TYPE_CODES.reject:
      message = { type: 'reject', items: readReject(r) }
      break
    case MESSAGE_TYPE_CODES.fetch:
      message = readFetch(r)
      break
    case MESSAGE_TYPE_CODES.pushed: {
      const flags = r.u8('pushed flags')
      if (flags > 3 || flags === 2) throw protocolError('out-of-range', 'unknown pushed flags')
      const n = r.count('pushed count', MIN_WIRE_EVENT_BYTES, MAX_LIST)
      const events: WireEvent[] = []
      for (let i = 0; i < n; i++) events.push(readWireEvent(r))
      message = { type: 'pushed', events, last: (flags & 1) === 1, exhausted: (flags & 2) === 2 }
      break
    }
    case MESSAGE_TYPE_CODES.offer: {
      const n = r.count('offer count', 1, MAX_LIST)
      const buckets: number[] = []
      for (let i = 0; i < n; i++) {
        const bucket = i === 0 ? readBucket(r, 0, 'offer bucket') : buckets[i - 1]! + 1 + r.varint('offer gap', 2 * MAX_ABS_BUCKET)
        if (bucket > MAX_ABS_BUCKET) throw protocolError('out-of-range', 'offer bucket out of range')
        buckets.push(bucket)
      }
      message = { type: 'offer', buckets }
      break
    }
    case MESSAGE_TYPE_CODES.symbols:
      message = readSymbols(r)
      break
    case MESSAGE_TYPE_CODES.more: {
      const salt = r.hex(SYMBOL_SALT_BYTES, 'more.salt')
      const from = r.varint('more.from', MAX_SYMBOL_INDEX)
      message = { type: 'more', salt, from, count: r.varint('more.count', MAX_SYMBOL_INDEX - from, 1) }
      break
    }
    case MESSAGE_TYPE_CODES.evidence: {
      const n = r.count('evidence count', MIN_WIRE_EVENT_BYTES, MAX_LIST)
      const events: WireEvent[] = []
      for (let i = 0; i < n; i++) events.push(readWireEvent(r))
      message = { type: 'evidence', events }
      break
    }
    case MESSAGE_TYPE_CODES.gossip:
      message = readGossip(r)
      break
    default:
      throw protocolError('unknown-type', `unknown message type ${type}`)
  }
  r.end(message.type)
  return message
}

function readU32(r: ByteReader, what: string): number {
  return ((r.u8(what) << 24) | (r.u8(what) << 16) | (r.u8(what) << 8) | r.u8(what)) >>> 0
}

function readSymbols(r: ByteReader): SyncMessage {
  const salt = r.hex(SYMBOL_SALT_BYTES, 'symbols.salt')
  const total = r.varint('symbols.total', MAX_FINGERPRINT_COUNT)
  const from = r.varint('symbols.from', MAX_SYMBOL_INDEX)
  const end = from + r.varint('symbols.end', MAX_SYMBOL_INDEX - from)
  const nb = r.count('symbols bucket count', 1, MAX_LIST)
  const buckets: number[] = []
  for (let i = 0; i < nb; i++) {
    const bucket = i === 0 ? readBucket(r, 0, 'symbols bucket') : buckets[i - 1]! + 1 + r.varint('symbols bucket gap', 2 * MAX_ABS_BUCKET)
    if (bucket > MAX_ABS_BUCKET) throw protocolError('out-of-range', 'symbols bucket out of range')
    buckets.push(bucket)
  }
  const n = r.count('symbol count', 13, end - from)
  const symbols = []
  for (let k = 0; k < n; k++) {
    const count = expectedCount(total, from + k) + r.signed('symbol count', MAX_FINGERPRINT_COUNT)
    if (count < 0 || count > total) throw protocolError('out-of-range', 'symbol count out of range')
    symbols.push({ count, hi: readU32(r, 'symbol'), lo: readU32(r, 'symbol'), check: readU32(r, 'symbol') })
  }
  return { type: 'symbols', salt, buckets, total, from, end, symbols }
}

function readFetch(r: ByteReader): SyncMessage {
  const from = readBucket(r, 0, 'fetch.from')
  const to = from + r.varint('fetch span', MAX_WINDOW_BUCKETS - 1)
  if (to > MAX_ABS_BUCKET) throw protocolError('out-of-range', 'fetch.to out of range')
  const hasCursor = r.u8('fetch cursor flag')
  if (hasCursor > 1) throw protocolError('out-of-range', 'unknown fetch cursor flag')
  const after = hasCursor === 1 ? { bucket: from + r.varint('fetch cursor bucket', to - from), id: r.hex(CURSOR_ID_BYTES, 'fetch cursor id') } : undefined
  return { type: 'fetch', from, to, after, max: r.varint('fetch.max', MAX_FETCH_RECORDS) }
}

function readBucket(r: ByteReader, base: number, what: string): number {
  const bucket = base + r.signed(what, 2 * MAX_ABS_BUCKET)
  if (Math.abs(bucket) > MAX_ABS_BUCKET) throw protocolError('out-of-range', `${what}: bucket ${bucket} out of range`)
  return bucket
}

function readWindow(r: ByteReader): BucketWindow {
  const oldest = readBucket(r, 0, 'window.oldest')
  const newest = oldest + r.varint('window span', MAX_WINDOW_BUCKETS - 1)
  if (newest > MAX_ABS_BUCKET) throw protocolError('out-of-range', 'window.newest out of range')
  return { oldest, newest }
}

function readFingerprint(r: ByteReader, what: string): FingerprintValue {
  const count = r.varint(`${what}.count`, MAX_FINGERPRINT_COUNT)
  return { count, digest: r.hex(DIGEST_BYTES, `${what}.digest`) }
}

function readSummary(r: ByteReader): SyncMessage {
  const window = readWindow(r)
  const { count, digest } = readFingerprint(r, 'summary')
  const salt = r.hex(SUMMARY_SALT_BYTES, 'summary.salt')
  const from = window.oldest + r.varint('summary.from', window.newest - window.oldest)
  const to = from + r.varint('summary.to', window.newest - from)
  const n = r.count('summary bucket count', 2 + SUMMARY_DIGEST_BYTES, to - from + 1)
  const buckets: BucketFingerprint[] = []
  let expected = from
  let previousCount = 0
  for (let i = 0; i < n; i++) {
    // A negative maximum refuses any value: there is no room left in from..to.
    const bucket = expected + r.varint('summary bucket gap', to - expected)
    const count = previousCount + r.signed('summary bucket.count', MAX_FINGERPRINT_COUNT)
    if (count < 1 || count > MAX_FINGERPRINT_COUNT) throw protocolError('out-of-range', 'summary bucket count out of range (every listed bucket is non-empty)')
    buckets.push({ bucket, count, digest: r.hex(SUMMARY_DIGEST_BYTES, 'summary bucket.digest') })
    expected = bucket + 1
    previousCount = count
  }
  return { type: 'summary', window, count, digest, from, to, salt, buckets }
}

const RANGE_KINDS = [undefined, 'split', 'ids', 'need'] as const

function readRanges(r: ByteReader): RangeEntry[] {
  const n = r.count('range entry count', 4, MAX_LIST)
  const entries: RangeEntry[] = []
  let previous = 0
  for (let i = 0; i < n; i++) {
    const bucket = readBucket(r, previous, 'range bucket')
    previous = bucket
    const depth = r.u8('range depth')
    if (depth > MAX_RANGE_DEPTH) throw protocolError('out-of-range', `range depth ${depth} over ${MAX_RANGE_DEPTH}`)
    let prefix = depth === 0 ? '' : r.hex(Math.ceil(depth / 2), 'range prefix')
    if (depth % 2 === 1) {
      if (!prefix.endsWith('0')) throw protocolError('out-of-range', 'range prefix padding must be zero')
      prefix = prefix.slice(0, depth)
    }
    const kind = RANGE_KINDS[r.u8('range kind')]
    if (kind === undefined) throw protocolError('out-of-range', 'unknown range entry kind')
    if (kind === 'split') {
      if (depth === MAX_RANGE_DEPTH) throw protocolError('out-of-range', `a range of depth ${MAX_RANGE_DEPTH} cannot be split`)
      const children: FingerprintValue[] = []
      for (let c = 0; c < RANGE_BRANCHES; c++) {
        const count = r.varint('split child count', MAX_FINGERPRINT_COUNT)
        children.push({ count, digest: count === 0 ? EMPTY_CHILD_DIGEST : r.hex(CHILD_DIGEST_BYTES, 'split child digest') })
      }
      entries.push({ bucket, prefix, kind, children })
    } else {
      const m = r.count('short id count', SHORT_ID_BYTES, MAX_LIST)
      const shortIds: string[] = []
      for (let j = 0; j < m; j++) shortIds.push(r.hex(SHORT_ID_BYTES, 'short id'))
      entries.push({ bucket, prefix, kind, shortIds })
    }
  }
  return entries
}

function readHave(r: ByteReader, what = 'have', idBytes = ID_BYTES): BucketIds[] {
  const n = r.count(`${what} group count`, 2 + idBytes, MAX_LIST)
  const groups: BucketIds[] = []
  let previous = 0
  for (let i = 0; i < n; i++) {
    const bucket = readBucket(r, previous, `${what} bucket`)
    previous = bucket
    const m = r.count(`${what} id count`, idBytes, MAX_LIST)
    if (m === 0) throw protocolError('out-of-range', `${what} group without ids`)
    const ids: string[] = []
    for (let j = 0; j < m; j++) ids.push(r.hex(idBytes, `${what} id`))
    groups.push({ bucket, ids })
  }
  return groups
}

const GOSSIP_OPS = new Map<number, GossipMessage['op']>(Object.entries(GOSSIP_OP_CODES).map(([op, code]) => [code, op as GossipMessage['op']]))

function readGossip(r: ByteReader): GossipMessage {
  const op = GOSSIP_OPS.get(r.u8('gossip op'))
  if (op === undefined) throw protocolError('out-of-range', 'unknown gossip op')
  return { type: 'gossip', op, groups: readHave(r, 'gossip', GOSSIP_ID_BYTES) }
}

function readReject(r: ByteReader): RejectItem[] {
  const n = r.count('reject count', ID_BYTES + 2, MAX_LIST)
  const items: RejectItem[] = []
  for (let i = 0; i < n; i++) {
    const id = r.hex(ID_BYTES, 'reject id')
    const reason = REJECT_CLASSES.get(r.u8('reject reason'))
    if (reason === undefined) throw protocolError('out-of-range', 'unknown reject reason')
    const flags = r.u8('reject flags')
    if (flags > 1) throw protocolError('out-of-range', 'unknown reject flags')
    items.push({ id, reason, permanent: flags === 1 })
  }
  return items
}
