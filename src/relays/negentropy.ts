/**
 * Negentropy (protocol version 1, 0x61), the range-based set reconciliation of NIP-77: both roles,
 * over a sorted list of (timestamp, id). Pure: messages in, messages out, no I/O. The initiator
 * learns which ids only it has (`have`) and which only the other side has (`need`).
 * See https://github.com/hoytech/negentropy (the protocol description) and NIP-77.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'

const PROTOCOL_VERSION = 0x61
const ID_SIZE = 32
const FINGERPRINT_SIZE = 16
const BUCKETS = 16
const MODE_SKIP = 0
const MODE_FINGERPRINT = 1
const MODE_IDLIST = 2
/** The bound past every item. */
const INFINITY = Number.MAX_SAFE_INTEGER

/** One element of a set: a timestamp (Unix seconds) and a 32-byte id. */
export interface NegentropyItem {
  timestamp: number
  id: Uint8Array
}

interface Bound {
  timestamp: number
  id: Uint8Array
}

/** A protocol error: the other side's message is malformed (a typed refusal, never a crash). */
export class NegentropyError extends Error {}

/** Sort and freeze the elements of one side (ids in lowercase hex). */
export function negentropyItems(elements: Iterable<{ timestamp: number; id: string }>): NegentropyItem[] {
  const items = [...elements].map((e) => ({ timestamp: e.timestamp, id: hexToBytes(e.id) }))
  return items.sort(compareItems)
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

function compareItems(a: Bound, b: Bound): number {
  return a.timestamp === b.timestamp ? compareBytes(a.id, b.id) : a.timestamp - b.timestamp
}

/** One side of a reconciliation. */
export class Negentropy {
  readonly #items: NegentropyItem[]
  readonly #initiator: boolean
  #lastIn = 0
  #lastOut = 0

  constructor(items: NegentropyItem[], initiator: boolean) {
    this.#items = items
    this.#initiator = initiator
  }

  /** The initiator's first message (hex). */
  initiate(): string {
    this.#lastOut = 0
    const out: number[] = [PROTOCOL_VERSION]
    this.#splitRange(0, this.#items.length, { timestamp: INFINITY, id: new Uint8Array(0) }, out)
    return bytesToHex(Uint8Array.from(out))
  }

  /**
   * Process the other side's message (hex). The initiator gets the next message, or `undefined` when
   * the reconciliation is complete, and the ids it has and needs; the responder always gets a reply.
   * @throws NegentropyError if the message is malformed.
   */
  reconcile(message: string): { next: string | undefined; have: string[]; need: string[] } {
    let query: Uint8Array
    try {
      query = hexToBytes(message)
    } catch {
      throw new NegentropyError('not hex')
    }
    const reader = new Reader(query)
    if (reader.byte() !== PROTOCOL_VERSION) throw new NegentropyError('unsupported protocol version')
    const have: string[] = []
    const need: string[] = []
    const out = this.#reconcileRanges(reader, have, need)
    const next = out.length === 1 && this.#initiator ? undefined : bytesToHex(Uint8Array.from(out))
    return { next, have, need }
  }

  #reconcileRanges(reader: Reader, have: string[], need: string[]): number[] {
    this.#lastIn = 0
    this.#lastOut = 0
    const full: number[] = [PROTOCOL_VERSION]
    let prevBound: Bound = { timestamp: 0, id: new Uint8Array(0) }
    let prevIndex = 0
    let skip = false
    while (!reader.done()) {
      const o: number[] = []
      const doSkip = (): void => {
        if (!skip) return
        skip = false
        this.#encodeBound(prevBound, o)
        o.push(...varint(MODE_SKIP))
      }
      const bound = this.#decodeBound(reader)
      const mode = reader.varint()
      const lower = prevIndex
      const upper = this.#lowerBound(prevIndex, bound)
      if (mode === MODE_SKIP) {
        skip = true
      } else if (mode === MODE_FINGERPRINT) {
        const theirs = reader.bytes(FINGERPRINT_SIZE)
        if (compareBytes(theirs, this.#fingerprint(lower, upper)) !== 0) {
          doSkip()
          this.#splitRange(lower, upper, bound, o)
        } else {
          skip = true
        }
      } else if (mode === MODE_IDLIST) {
        const count = reader.varint()
        const theirs = new Set<string>()
        for (let i = 0; i < count; i++) theirs.add(bytesToHex(reader.bytes(ID_SIZE)))
        if (this.#initiator) {
          skip = true
          for (let i = lower; i < upper; i++) {
            const id = bytesToHex(this.#items[i]!.id)
            if (!theirs.delete(id)) have.push(id)
          }
          need.push(...theirs)
        } else {
          doSkip()
          this.#encodeBound(bound, o)
          o.push(...varint(MODE_IDLIST), ...varint(upper - lower))
          for (let i = lower; i < upper; i++) o.push(...this.#items[i]!.id)
        }
      } else {
        throw new NegentropyError(`unknown mode ${mode}`)
      }
      full.push(...o)
      prevIndex = upper
      prevBound = bound
    }
    return full
  }

  #splitRange(lower: number, upper: number, upperBound: Bound, o: number[]): void {
    const n = upper - lower
    if (n < BUCKETS * 2) {
      this.#encodeBound(upperBound, o)
      o.push(...varint(MODE_IDLIST), ...varint(n))
      for (let i = lower; i < upper; i++) o.push(...this.#items[i]!.id)
      return
    }
    const perBucket = Math.floor(n / BUCKETS)
    const withExtra = n % BUCKETS
    let curr = lower
    for (let i = 0; i < BUCKETS; i++) {
      const size = perBucket + (i < withExtra ? 1 : 0)
      const fingerprint = this.#fingerprint(curr, curr + size)
      curr += size
      const next = curr === upper ? upperBound : minimalBound(this.#items[curr - 1]!, this.#items[curr]!)
      this.#encodeBound(next, o)
      o.push(...varint(MODE_FINGERPRINT), ...fingerprint)
    }
  }

  /** The first index at or after `begin` whose item is not below `bound`. */
  #lowerBound(begin: number, bound: Bound): number {
    let lo = begin
    let hi = this.#items.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareItems(this.#items[mid]!, bound) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** sha256(sum of the ids as 256-bit little-endian numbers, mod 2^256, then varint(count)), first 16 bytes. */
  #fingerprint(lower: number, upper: number): Uint8Array {
    const sum = new Uint8Array(ID_SIZE)
    for (let i = lower; i < upper; i++) {
      const id = this.#items[i]!.id
      let carry = 0
      for (let j = 0; j < ID_SIZE; j++) {
        const v = sum[j]! + id[j]! + carry
        sum[j] = v & 0xff
        carry = v >> 8
      }
    }
    const count = varint(upper - lower)
    const input = new Uint8Array(ID_SIZE + count.length)
    input.set(sum)
    input.set(count, ID_SIZE)
    return sha256(input).subarray(0, FINGERPRINT_SIZE)
  }

  #encodeBound(bound: Bound, o: number[]): void {
    let encoded: number
    if (bound.timestamp === INFINITY) {
      this.#lastOut = INFINITY
      encoded = 0
    } else {
      encoded = bound.timestamp - this.#lastOut + 1
      this.#lastOut = bound.timestamp
    }
    o.push(...varint(encoded), ...varint(bound.id.length), ...bound.id)
  }

  #decodeBound(reader: Reader): Bound {
    const raw = reader.varint()
    let timestamp = raw === 0 ? INFINITY : raw - 1
    if (this.#lastIn === INFINITY || timestamp === INFINITY) {
      this.#lastIn = INFINITY
      timestamp = INFINITY
    } else {
      timestamp += this.#lastIn
      this.#lastIn = timestamp
    }
    const length = reader.varint()
    if (length > ID_SIZE) throw new NegentropyError('bound id too long')
    return { timestamp, id: reader.bytes(length) }
  }
}

/** The shortest bound between two adjacent items. */
function minimalBound(prev: NegentropyItem, curr: NegentropyItem): Bound {
  if (curr.timestamp !== prev.timestamp) return { timestamp: curr.timestamp, id: new Uint8Array(0) }
  let shared = 0
  while (shared < ID_SIZE && curr.id[shared] === prev.id[shared]) shared++
  return { timestamp: curr.timestamp, id: curr.id.subarray(0, shared + 1) }
}

/** Unsigned varint: base 128, most significant group first, high bit set on all but the last byte. */
function varint(n: number): number[] {
  if (n === 0) return [0]
  const groups: number[] = []
  while (n > 0) {
    groups.push(n % 128)
    n = Math.floor(n / 128)
  }
  groups.reverse()
  return groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g))
}

class Reader {
  #pos = 0
  constructor(readonly bytesIn: Uint8Array) {}

  done(): boolean {
    return this.#pos >= this.bytesIn.length
  }

  byte(): number {
    if (this.done()) throw new NegentropyError('message ends early')
    return this.bytesIn[this.#pos++]!
  }

  varint(): number {
    let n = 0
    for (let i = 0; i < 9; i++) {
      const b = this.byte()
      n = n * 128 + (b & 0x7f)
      if ((b & 0x80) === 0) return n
    }
    throw new NegentropyError('varint too long')
  }

  bytes(length: number): Uint8Array {
    if (this.#pos + length > this.bytesIn.length) throw new NegentropyError('message ends early')
    const out = this.bytesIn.subarray(this.#pos, this.#pos + length)
    this.#pos += length
    return out
  }
}
