/**
 * A rateless invertible Bloom lookup table over 64-bit short ids, after Yang, Gilad and Alizadeh,
 * "Practical Rateless Set Reconciliation" (SIGCOMM 2024). An element maps to coded symbol 0 and
 * then to each symbol i with probability 1/(1 + i/2), so the first symbols hold many elements and
 * later ones few; a receiver subtracts its own symbols from the sender's and peels pure symbols
 * (one element left) until symbol 0 is empty. About 1.35-1.5 symbols per difference suffice for
 * large differences, whatever the size of the sets.
 *
 * Which symbols an element maps to, and its checksum, come from SHA-256(salt || short id): with a
 * salt fresh for each session a peer cannot choose ids that collide in the mapping or checksum.
 * Each symbol holds the number of elements mapped to it, the XOR of their short ids (as two 32-bit
 * halves) and the XOR of their 32-bit checksums.
 *
 * An element may carry a tag (0-255, e.g. which of the stream's buckets it is in), XORed into the
 * top byte of its checksum: a receiver peeling a pure symbol learns the tag with the short id, at
 * no cost on the wire. The checksum then proves purity with its low 24 bits plus the tag being
 * below the stream's tag count (a false pure symbol: at most tags / 2^32 per symbol tested).
 */
import { sha256 } from '@noble/hashes/sha2.js'

/** Tags an element may carry: 0 to 255 (see the module's comment). */
export const MAX_TAGS = 256

/** One coded symbol (or a difference of two). */
export interface CodedSymbol {
  count: number
  hi: number
  lo: number
  check: number
}

/** A 64-bit short id as two unsigned 32-bit halves. */
export interface ShortId {
  hi: number
  lo: number
}

/** The short id (16 hex digits) as two halves. */
export function shortIdHalves(short: string): ShortId {
  return { hi: Number.parseInt(short.slice(0, 8), 16) >>> 0, lo: Number.parseInt(short.slice(8, 16), 16) >>> 0 }
}

/** The 16 hex digits of a short id. */
export function shortIdHex(x: ShortId): string {
  return x.hi.toString(16).padStart(8, '0') + x.lo.toString(16).padStart(8, '0')
}

/** The probability that an element maps to symbol `i` (the expected count is the set size times it). */
export function mappingProbability(i: number): number {
  return 2 / (i + 2)
}

/** A 32-bit generator (mulberry32) for the mapping indices; its seed comes from the keyed hash. */
function nextRandom(state: Uint32Array, e: number): number {
  const s = (state[e]! + 0x6d2b79f5) >>> 0
  state[e] = s
  let t = Math.imul(s ^ (s >>> 15), s | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return (t ^ (t >>> 14)) >>> 0
}

/** The next symbol an element maps to after `i`: P(next > j) = (i+1)(i+2) / ((j+1)(j+2)). */
function nextIndex(i: number, u32: number): number {
  const r = (u32 + 1) / 4_294_967_296
  const t = ((i + 1) * (i + 2)) / r
  let j = Math.max(i + 1, Math.ceil(Math.sqrt(t + 0.25) - 1.5))
  while ((j + 1) * (j + 2) <= t) j++
  while (j > i + 1 && j * (j + 1) > t) j--
  return j
}

/** Short ids as two parallel arrays of halves, and optionally each element's tag (default 0). */
export interface ShortIdArrays {
  hi: Uint32Array
  lo: Uint32Array
  tags?: Uint8Array
}

/**
 * Elements with their salted checksums and mapping seeds. Symbols are usually asked for in order
 * (batch after batch): each element's walk over the symbols it maps to resumes where the last
 * batch stopped, so a stream of k symbols costs about 2 ln(k) steps per element in all, not per batch.
 */
export class SymbolSource {
  readonly size: number
  /** How many tags the elements may carry (a recovered element's tag is below it). */
  readonly tagCount: number
  readonly #hi: Uint32Array
  readonly #lo: Uint32Array
  readonly #check: Uint32Array
  readonly #seed: Uint32Array
  /** The salt, with room for one short id after it (see {@link keyed}). */
  readonly #buf: Uint8Array
  /** Per element: its generator state and the next symbol it maps to at or past {@link #at}. */
  readonly #state: Uint32Array
  readonly #next: Float64Array
  /** The end of the last batch made (0: none yet). */
  #at = 0

  /** `tagCount`: how many tags the elements carry (1 to {@link MAX_TAGS}; every tag must be below it). */
  constructor(salt: Uint8Array, elements: readonly ShortId[] | ShortIdArrays, tagCount = 1) {
    if (!Number.isInteger(tagCount) || tagCount < 1 || tagCount > MAX_TAGS) throw new RangeError(`SymbolSource: tagCount must be 1 to ${MAX_TAGS}`)
    this.tagCount = tagCount
    this.#buf = keyBuffer(salt)
    const arrays = Array.isArray(elements) ? toArrays(elements as readonly ShortId[]) : (elements as ShortIdArrays)
    this.size = arrays.hi.length
    this.#hi = arrays.hi
    this.#lo = arrays.lo
    this.#check = new Uint32Array(this.size)
    this.#seed = new Uint32Array(this.size)
    for (let e = 0; e < this.size; e++) {
      const h = keyed(this.#buf, this.#hi[e]!, this.#lo[e]!)
      const tag = arrays.tags?.[e] ?? 0
      if (tag >= tagCount) throw new RangeError('SymbolSource: a tag is not below tagCount')
      this.#check[e] = (h.check ^ (tag << 24)) >>> 0
      this.#seed[e] = h.seed
    }
    this.#state = this.#seed.slice()
    this.#next = new Float64Array(this.size)
  }

  /** The checksum (before any tag) and mapping seed of any element under this source's salt. */
  keyed(x: ShortId): { check: number; seed: number } {
    return keyed(this.#buf, x.hi, x.lo)
  }

  /** The coded symbols `from..to-1` of this set. */
  symbols(from: number, to: number): CodedSymbol[] {
    const out: CodedSymbol[] = Array.from({ length: Math.max(0, to - from) }, () => ({ count: 0, hi: 0, lo: 0, check: 0 }))
    if (from !== this.#at) {
      // Not the continuation of the last batch (a gap asked again): walk again from symbol 0.
      this.#state.set(this.#seed)
      this.#next.fill(0)
    }
    const state = this.#state
    const next = this.#next
    for (let e = 0; e < this.size; e++) {
      let i = next[e]!
      for (; i < to; i = nextIndex(i, nextRandom(state, e))) {
        if (i < from) continue
        const s = out[i - from]!
        s.count++
        s.hi = (s.hi ^ this.#hi[e]!) >>> 0
        s.lo = (s.lo ^ this.#lo[e]!) >>> 0
        s.check = (s.check ^ this.#check[e]!) >>> 0
      }
      next[e] = i
    }
    this.#at = Math.max(from, to)
    return out
  }
}

function toArrays(elements: readonly ShortId[]): ShortIdArrays {
  return { hi: Uint32Array.from(elements, (x) => x.hi), lo: Uint32Array.from(elements, (x) => x.lo) }
}

/** A buffer holding the salt, with room for one short id after it. */
function keyBuffer(salt: Uint8Array): Uint8Array {
  const buf = new Uint8Array(salt.length + 8)
  buf.set(salt)
  return buf
}

/** SHA-256(salt || short id): the checksum is its first 4 bytes, the mapping seed the next 4. */
function keyed(buf: Uint8Array, hi: number, lo: number): { check: number; seed: number } {
  const o = buf.length - 8
  buf[o] = hi >>> 24
  buf[o + 1] = hi >>> 16
  buf[o + 2] = hi >>> 8
  buf[o + 3] = hi
  buf[o + 4] = lo >>> 24
  buf[o + 5] = lo >>> 16
  buf[o + 6] = lo >>> 8
  buf[o + 7] = lo
  const h = sha256(buf)
  return { check: ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0, seed: ((h[4]! << 24) | (h[5]! << 16) | (h[6]! << 8) | h[7]!) >>> 0 }
}

/** An element recovered by peeling: +1 only the sender has it, -1 only we have it; and its tag. */
export interface Recovered extends ShortId {
  sign: 1 | -1
  tag: number
}

/**
 * The receiving side: the sender's symbols minus ours, peeled as they come. Work is bounded by the
 * symbols received times the number of elements recovered (each recovered element is removed from
 * the symbols it maps to, about 2 ln(symbols) of them).
 */
export class SymbolDecoder {
  readonly #local: SymbolSource
  readonly #diff: CodedSymbol[] = []
  readonly #recovered: Array<Recovered & { seed: number; check: number }> = []
  readonly #seen = new Set<string>()

  constructor(local: SymbolSource) {
    this.#local = local
  }

  /** Symbols received so far. */
  get received(): number {
    return this.#diff.length
  }

  /** Elements recovered so far. */
  get recovered(): readonly Recovered[] {
    return this.#recovered
  }

  /** Whether every difference is recovered (symbol 0 is empty once peeled). */
  get done(): boolean {
    const s = this.#diff[0]
    return s !== undefined && s.count === 0 && s.hi === 0 && s.lo === 0 && s.check === 0
  }

  /** Add the sender's symbols `received..` (in order) and peel. */
  add(remote: readonly CodedSymbol[]): void {
    const from = this.#diff.length
    const to = from + remote.length
    const local = this.#local.symbols(from, to)
    remote.forEach((r, k) => {
      const l = local[k]!
      this.#diff.push({ count: r.count - l.count, hi: (r.hi ^ l.hi) >>> 0, lo: (r.lo ^ l.lo) >>> 0, check: (r.check ^ l.check) >>> 0 })
    })
    // Elements recovered earlier are removed from the new symbols too.
    for (const x of this.#recovered) this.#remove(x, from, to, undefined)
    const queue: number[] = []
    for (let i = 0; i < to; i++) if (this.#diff[i]!.count === 1 || this.#diff[i]!.count === -1) queue.push(i)
    this.#peel(queue)
  }

  /**
   * An estimate of the differences not recovered yet, from the counts left in the symbols past 0.
   * Each remaining difference is in symbol i with probability p_i, on one side or the other; with
   * g the net count left (symbol 0 holds every element, so its count is exactly g), a count has
   * the mean g p_i and the variance d p_i (1 - p_i), which gives d (unbiased: measured over random
   * sets, with a spread of about 5% at a thousand symbols).
   */
  estimateRemaining(): number {
    const first = this.#diff[0]
    if (first === undefined) return 0
    const g = first.count
    // Each symbol's count gives an estimate of d on its own: (c - g p)^2 / (p (1 - p)). Weighted
    // first by p (1 - p), then by the inverse of each estimate's variance at that first guess
    // (about d^2 (2 + 1/lambda), lambda = d p (1 - p)): late symbols count as much as early ones.
    let guess = 0
    for (let pass = 0; pass < 2; pass++) {
      let sum = 0
      let weights = 0
      for (let i = 1; i < this.#diff.length; i++) {
        const p = mappingProbability(i)
        const spread = p * (1 - p)
        const lambda = Math.max(guess, 1) * spread
        const w = pass === 0 ? spread : lambda / (1 + 2 * lambda)
        // The count less its mean g p: what is left has the variance d p (1 - p).
        sum += (w * (this.#diff[i]!.count - g * p) ** 2) / spread
        weights += w
      }
      if (weights === 0) return Math.abs(g)
      guess = Math.max(Math.abs(g), sum / weights)
    }
    return guess
  }

  #peel(queue: number[]): void {
    while (queue.length > 0) {
      const i = queue.pop()!
      const s = this.#diff[i]!
      if (s.count !== 1 && s.count !== -1) continue
      const x = { hi: s.hi, lo: s.lo }
      const k = this.#local.keyed(x)
      const differs = (k.check ^ s.check) >>> 0
      const tag = differs >>> 24
      // The low 24 bits must match, and the top byte be a tag the stream can carry.
      if ((differs & 0xffffff) !== 0 || tag >= this.#local.tagCount) continue
      const key = shortIdHex(x)
      if (this.#seen.has(key)) continue
      this.#seen.add(key)
      const rec = { ...x, sign: s.count as 1 | -1, tag, seed: k.seed, check: s.check }
      this.#recovered.push(rec)
      this.#remove(rec, 0, this.#diff.length, queue)
    }
  }

  /** Take a recovered element out of the symbols `from..to-1` it maps to. */
  #remove(x: Recovered & { seed: number; check: number }, from: number, to: number, queue: number[] | undefined): void {
    const state = Uint32Array.of(x.seed)
    const check = x.check
    for (let i = 0; i < to; i = nextIndex(i, nextRandom(state, 0))) {
      if (i < from) continue
      const s = this.#diff[i]!
      s.count -= x.sign
      s.hi = (s.hi ^ x.hi) >>> 0
      s.lo = (s.lo ^ x.lo) >>> 0
      s.check = (s.check ^ check) >>> 0
      if (s.count === 1 || s.count === -1) queue?.push(i)
    }
  }
}
