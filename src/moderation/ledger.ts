/** The author strike and ban ledger: a pure data structure the engine feeds and persists. */
import { PeersetError } from '../errors.js'
import { compareRecords } from './normalize.js'
import { integerIn, invalid, optionsObject, shortString } from './options.js'

/** Options of {@link createStrikeLedger}. */
export interface StrikeLedgerOptions {
  /** Strikes that start a ban. Default 3. */
  threshold?: number
  /** How long a ban lasts, in seconds, from the `createdAt` of the strike that completed it. Default 7 days. */
  banSeconds?: number
  /**
   * The window, in seconds of record time, that `threshold` strikes must fall in to ban (the first
   * and last striking records at most this far apart); also how long `expire` keeps a strike after
   * its record's `createdAt`. Default 30 days.
   */
  strikeSeconds?: number
}

/** One strike: a record of `author` refused (or evicted) by a rule that strikes. */
export interface Strike {
  readonly author: string
  readonly recordId: string
  /** The striking record's `createdAt`, Unix seconds. */
  readonly createdAt: number
  /** The verdict's reason, e.g. `bad-words`. */
  readonly reason: string
}

/** A ban. `until` is Unix seconds (record time, like `createdAt`). */
export interface Ban {
  readonly until: number
}

/** What {@link StrikeLedger.strike} did. */
export interface StrikeResult {
  /** False when this record had already struck (the same record seen twice, or from two peers). */
  readonly added: boolean
  /** The author's strikes now. */
  readonly strikes: number
  /** The author's ban, if any (it may already be over; see {@link StrikeLedger.isBanned}). */
  readonly ban: Ban | undefined
  /** Whether this strike started the ban or moved its end later. */
  readonly banChanged: boolean
}

/** The ledger as plain JSON, for the storage meta store. Sorted, so equal ledgers give equal JSON. */
export interface StrikeLedgerJSON {
  format: 'peerset-strike-ledger'
  version: 1
  strikes: Array<{ author: string; recordId: string; createdAt: number; reason: string }>
  bans: Array<{ author: string; until: number }>
}

/** Author strikes and bans. Made by {@link createStrikeLedger}; never looks at the clock itself. */
export interface StrikeLedger {
  readonly threshold: number
  readonly banSeconds: number
  readonly strikeSeconds: number
  /** Records a strike; idempotent per `recordId`. Throws `INVALID_ARGUMENT` for malformed input. */
  strike(author: string, recordId: string, recordCreatedAt: number, reason: string): StrikeResult
  /** The author's strikes, ordered by (createdAt, recordId). */
  strikesOf(author: string): readonly Strike[]
  /** The author's ban, even if it is over (until `expire` drops it). */
  banOf(author: string): Ban | undefined
  /** Whether the author is banned at `nowMs` (milliseconds). */
  isBanned(author: string, nowMs: number): boolean
  /** Drops strikes older than `strikeSeconds` and bans that are over. Returns how many of each went. */
  expire(nowMs: number): { strikes: number; bans: number }
  /** A JSON snapshot for persistence; restore it with {@link strikeLedgerFromJSON}. */
  toJSON(): StrikeLedgerJSON
}

const HEX64 = /^[0-9a-f]{64}$/
const DAY = 86_400

/** The defaults of {@link createStrikeLedger}: 3 strikes within 30 days ban for 7 days. */
export const DEFAULT_STRIKE_LEDGER_OPTIONS: Readonly<Required<StrikeLedgerOptions>> = Object.freeze({ threshold: 3, banSeconds: 7 * 86_400, strikeSeconds: 30 * 86_400 })

/**
 * Creates an empty strike ledger. A ban starts when `threshold` strikes of one author have
 * records created within `strikeSeconds` of each other, and ends `banSeconds` after the
 * `createdAt` of the strike that completed it (the latest such end wins). Both depend only on the
 * set of striking records, never on arrival order or the local clock, so peers that saw the same
 * records reach the same bans.
 * @example
 * ```ts
 * const ledger = createStrikeLedger({ threshold: 3, banSeconds: 7 * 86_400 })
 * const { banChanged } = ledger.strike(record.author, record.id, record.createdAt, 'bad-words')
 * if (banChanged && ledger.isBanned(record.author, Date.now())) removeRecordsOf(record.author)
 * await store.setMeta('strikes', ledger.toJSON())
 * ```
 */
export function createStrikeLedger(options?: StrikeLedgerOptions): StrikeLedger {
  const o = optionsObject<StrikeLedgerOptions>('createStrikeLedger:', options, ['threshold', 'banSeconds', 'strikeSeconds'])
  const threshold = integerIn('createStrikeLedger: threshold', o.threshold, 1, 1000, 3)
  const banSeconds = integerIn('createStrikeLedger: banSeconds', o.banSeconds, 1, 10 * 365 * DAY, 7 * DAY)
  const strikeSeconds = integerIn('createStrikeLedger: strikeSeconds', o.strikeSeconds, 1, 10 * 365 * DAY, 30 * DAY)

  const byAuthor = new Map<string, Strike[]>()
  const struck = new Set<string>()
  const bans = new Map<string, number>()

  /** The latest ban end over the windows of `threshold` strikes that contain index `at`. */
  const banEndAround = (list: readonly Strike[], at: number): number => {
    let until = 0
    for (let first = Math.max(0, at - threshold + 1); first <= at && first + threshold - 1 < list.length; first++) {
      const last = list[first + threshold - 1]!
      if (last.createdAt - list[first]!.createdAt <= strikeSeconds) until = Math.max(until, last.createdAt + banSeconds)
    }
    return until
  }

  /** Inserts in (createdAt, recordId) order; returns the author's list and the index. */
  const insert = (strike: Strike): [Strike[], number] => {
    const list = byAuthor.get(strike.author) ?? []
    byAuthor.set(strike.author, list)
    let at = list.length
    while (at > 0 && compareStrikes(list[at - 1]!, strike) > 0) at--
    list.splice(at, 0, strike)
    struck.add(strike.recordId)
    return [list, at]
  }

  const add = (strike: Strike): StrikeResult => {
    const [list, at] = insert(strike)
    const before = bans.get(strike.author) ?? 0
    const until = Math.max(before, banEndAround(list, at))
    if (until > before) bans.set(strike.author, until)
    return { added: true, strikes: list.length, ban: until > 0 ? { until } : undefined, banChanged: until > before }
  }

  const ledger: StrikeLedger = {
    threshold,
    banSeconds,
    strikeSeconds,
    strike(author, recordId, recordCreatedAt, reason) {
      checkHex('strike: author', author)
      checkHex('strike: recordId', recordId)
      integerIn('strike: recordCreatedAt', recordCreatedAt ?? Number.NaN, 0, Number.MAX_SAFE_INTEGER, 0)
      shortString('strike: reason', reason, 64)
      if (struck.has(recordId)) {
        const until = bans.get(author)
        return { added: false, strikes: byAuthor.get(author)?.length ?? 0, ban: until ? { until } : undefined, banChanged: false }
      }
      return add({ author, recordId, createdAt: recordCreatedAt, reason })
    },
    strikesOf: (author) => [...(byAuthor.get(author) ?? [])],
    banOf(author) {
      const until = bans.get(author)
      return until === undefined ? undefined : { until }
    },
    isBanned(author, nowMs) {
      checkNow('isBanned: nowMs', nowMs)
      const until = bans.get(author)
      return until !== undefined && nowMs < until * 1000
    },
    expire(nowMs) {
      checkNow('expire: nowMs', nowMs)
      const dropped = { strikes: 0, bans: 0 }
      for (const [author, list] of byAuthor) {
        const kept = list.filter((s) => (s.createdAt + strikeSeconds) * 1000 > nowMs)
        dropped.strikes += list.length - kept.length
        for (const s of list) if (!kept.includes(s)) struck.delete(s.recordId)
        if (kept.length === 0) byAuthor.delete(author)
        else byAuthor.set(author, kept)
      }
      for (const [author, until] of bans) {
        if (until * 1000 <= nowMs) {
          bans.delete(author)
          dropped.bans++
        }
      }
      return dropped
    },
    toJSON() {
      const authors = [...byAuthor.keys()].sort()
      return {
        format: 'peerset-strike-ledger',
        version: 1,
        strikes: authors.flatMap((author) => byAuthor.get(author)!.map((s) => ({ ...s }))),
        bans: [...bans].sort(([a], [b]) => (a < b ? -1 : 1)).map(([author, until]) => ({ author, until })),
      }
    },
  }
  // Internal door for strikeLedgerFromJSON: loads exactly what was saved, without re-deriving bans.
  restorers.set(ledger, (strikes, storedBans) => {
    for (const s of strikes) if (!struck.has(s.recordId)) insert(s)
    for (const b of storedBans) bans.set(b.author, Math.max(bans.get(b.author) ?? 0, b.until))
  })
  return Object.freeze(ledger)
}

const restorers = new WeakMap<StrikeLedger, (strikes: Strike[], bans: Array<{ author: string; until: number }>) => void>()

/**
 * Restores a ledger saved with `toJSON()` (the object, or its JSON string). A missing value gives
 * an empty ledger; a corrupt one gives an empty ledger and a `problem` to report, never a throw.
 * Options (threshold, durations) come from the caller, not from the stored value.
 * @example
 * ```ts
 * const { ledger, problem } = strikeLedgerFromJSON(await store.getMeta('strikes'), { threshold: 3 })
 * if (problem) console.warn(problem)
 * ```
 */
export function strikeLedgerFromJSON(value: unknown, options?: StrikeLedgerOptions): { ledger: StrikeLedger; problem?: string } {
  const ledger = createStrikeLedger(options)
  if (value === undefined || value === null) return { ledger }
  try {
    const data: unknown = typeof value === 'string' ? JSON.parse(value) : value
    const { strikes, bans } = parseLedgerJSON(data)
    restorers.get(ledger)!(strikes, bans)
    return { ledger }
  } catch (cause) {
    const why = cause instanceof PeersetError ? cause.message.replace(/^peerset: /, '') : cause instanceof Error ? cause.message : String(cause)
    return { ledger: createStrikeLedger(options), problem: `peerset: the stored strike ledger is corrupt and was reset (${why})` }
  }
}

function parseLedgerJSON(data: unknown): { strikes: Strike[]; bans: Array<{ author: string; until: number }> } {
  if (typeof data !== 'object' || data === null) invalid('strike ledger', 'is not an object')
  const d = data as Partial<Record<keyof StrikeLedgerJSON, unknown>>
  if (d.format !== 'peerset-strike-ledger' || d.version !== 1) invalid('strike ledger', 'has an unknown format or version')
  if (!Array.isArray(d.strikes) || !Array.isArray(d.bans)) invalid('strike ledger', 'needs arrays `strikes` and `bans`')
  const strikes = d.strikes.map((s: unknown, i): Strike => {
    const e = (typeof s === 'object' && s !== null ? s : {}) as Partial<Record<keyof Strike, unknown>>
    checkHex(`strikes[${i}].author`, e.author)
    checkHex(`strikes[${i}].recordId`, e.recordId)
    const createdAt = integerIn(`strikes[${i}].createdAt`, e.createdAt ?? Number.NaN, 0, Number.MAX_SAFE_INTEGER, 0)
    const reason = shortString(`strikes[${i}].reason`, e.reason, 64)
    return { author: e.author as string, recordId: e.recordId as string, createdAt, reason }
  })
  const bans = d.bans.map((b: unknown, i) => {
    const e = (typeof b === 'object' && b !== null ? b : {}) as { author?: unknown; until?: unknown }
    checkHex(`bans[${i}].author`, e.author)
    return { author: e.author as string, until: integerIn(`bans[${i}].until`, e.until ?? Number.NaN, 1, Number.MAX_SAFE_INTEGER, 1) }
  })
  return { strikes, bans }
}

function compareStrikes(a: Strike, b: Strike): number {
  return compareRecords({ createdAt: a.createdAt, id: a.recordId }, { createdAt: b.createdAt, id: b.recordId })
}

function checkHex(label: string, value: unknown): void {
  if (typeof value !== 'string' || !HEX64.test(value)) invalid(label, 'must be 64 lowercase hex digits')
}

function checkNow(label: string, nowMs: unknown): void {
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) invalid(label, `must be a finite number of milliseconds, got ${String(nowMs)}`)
}
