/**
 * Who may (re)connect: cool-downs after a dropped session, bans by transport id and by pubkey, and
 * strikes remembered across sessions. Pure (time passed in), bounded, and serializable so the engine
 * can persist it in storage meta.
 */
import { PeersetError } from '../errors.js'
import type { CloseReason } from './types.js'

/** Default wait before a dropped peer may connect again: 30 s. */
export const DEFAULT_RECONNECT_COOLDOWN_MS = 30_000
/** Default time strikes are remembered across sessions: 1 h. */
export const DEFAULT_STRIKE_MEMORY_MS = 3_600_000
/** Default most entries of each table (bans by id, bans by pubkey, cool-downs, strikes). */
export const DEFAULT_REGISTRY_MAX_ENTRIES = 10_000

/** Sessions a peer id may end before authentication in a row; then one per `HANDSHAKE_INTERVAL_MS`. */
export const HANDSHAKE_BURST = 3
/** How often a peer id earns one more session that may end before authentication: 20 s. */
export const HANDSHAKE_INTERVAL_MS = 20_000

/**
 * Cool-down after a first handshake timed out, ms: 5 s. A handshake that times out may be a single lost
 * frame or a slow signer between honest peers, so the cool-down starts short and grows fourfold
 * with each timeout in a row ({@link HANDSHAKE_TIMEOUT_COOLDOWNS}: 5 s, 20 s, then the full cool-down);
 * a session that authenticates clears the count, which is forgotten after {@link TIMEOUT_MEMORY_MS}.
 */
export const FIRST_TIMEOUT_COOLDOWN_MS = 5_000
/** Handshake timeouts in a row after which the full cool-down applies (5 s, 20 s, then full). */
export const HANDSHAKE_TIMEOUT_COOLDOWNS = 2
/** How long handshake timeouts in a row are remembered: 10 minutes. */
export const TIMEOUT_MEMORY_MS = 600_000
/** Close reasons that get the growing cool-down when the session did not authenticate. */
const HANDSHAKE_TIMEOUTS: ReadonlySet<CloseReason> = new Set(['challenge-timeout', 'handshake-timeout'])

/** Close reasons after which a peer may reconnect at once: ends that are nobody's fault (a re-authentication, a goodbye, leaving the room). */
const NO_COOLDOWN: ReadonlySet<CloseReason> = new Set(['re-auth', 'local', 'peer-closed', 'peer-left'])

/** Options of {@link PeerRegistry}. */
export interface PeerRegistryOptions {
  /** Wait after a drop before the peer id may connect again, ms. Default 30 s. */
  cooldownMs?: number
  /** How long strikes are remembered after a session ends, ms. Default 1 h. */
  strikeMemoryMs?: number
  /** Most entries per table; the entry that expires first is evicted. Default 10 000. */
  maxEntries?: number
}

/** What a dropped session leaves behind. */
export interface DropInfo {
  /** Why the session ended (`re-auth` and `local` start no cool-down). */
  reason?: CloseReason
  /** The peer's proven pubkey, if any: its strikes are remembered by key too. */
  pubkey?: string
  /** The session's strike count, remembered for `strikeMemoryMs`. */
  strikes?: number
  /**
   * Whether the session authenticated. One that did not (and was not closed by us, `local`) costs
   * the peer id one handshake: at most `HANDSHAKE_BURST` in a row, then one per `HANDSHAKE_INTERVAL_MS`,
   * since each handshake may cost us a signature and proof of work.
   */
  authenticated?: boolean
  /**
   * Whether we answered the peer's hello in that session (signed a proof for it). Default `true`. A
   * session that ended before we got the peer's hello cost us no signature, so it costs the peer id
   * no handshake (a link that flaps during handshakes must not hold honest peers apart).
   */
  answered?: boolean
}

/** An entry of the serialized registry. `kind` says whether `key` is a transport id or a pubkey. */
export interface RegistryEntryJSON {
  kind: 'peer' | 'pubkey'
  key: string
  untilMs: number
  /** Strikes (strike entries only). */
  count?: number
}

/** The serialized registry (`toJSON`), e.g. for storage meta. */
export interface PeerRegistryJSON {
  version: 1
  bans: RegistryEntryJSON[]
  cooldowns: RegistryEntryJSON[]
  strikes: RegistryEntryJSON[]
}

interface Entry {
  untilMs: number
  count: number
}

/**
 * @example
 * ```ts
 * const registry = new PeerRegistry()
 * registry.ban(peerId, pubkey, now + 3_600_000)
 * registry.canConnect(peerId, undefined, now) // false
 * registry.canConnect('other-id', pubkey, now) // false: the key is banned too
 * storage.setMeta('peerset/bans', JSON.stringify(registry))
 * const restored = PeerRegistry.fromJSON(JSON.parse(saved))
 * ```
 */
export class PeerRegistry {
  readonly #cooldownMs: number
  readonly #strikeMemoryMs: number
  readonly #maxEntries: number
  readonly #bans = { peer: new Map<string, Entry>(), pubkey: new Map<string, Entry>() }
  readonly #strikes = { peer: new Map<string, Entry>(), pubkey: new Map<string, Entry>() }
  readonly #cooldowns = new Map<string, Entry>()
  /** Handshake debt per peer id: `untilMs` is when it is paid off (a leaky bucket in one number). */
  readonly #handshakes = new Map<string, Entry>()
  /** Handshake timeouts in a row per peer id (`count`), forgotten at `untilMs`. */
  readonly #timeouts = new Map<string, Entry>()

  constructor(options: PeerRegistryOptions = {}) {
    if (typeof options !== 'object' || options === null) throw fail('options must be an object')
    this.#cooldownMs = checkNonNegative(options.cooldownMs ?? DEFAULT_RECONNECT_COOLDOWN_MS, 'cooldownMs')
    this.#strikeMemoryMs = checkNonNegative(options.strikeMemoryMs ?? DEFAULT_STRIKE_MEMORY_MS, 'strikeMemoryMs')
    this.#maxEntries = options.maxEntries ?? DEFAULT_REGISTRY_MAX_ENTRIES
    if (!Number.isSafeInteger(this.#maxEntries) || this.#maxEntries < 1) throw fail('maxEntries must be a positive integer')
  }

  /** Entries held, per table (for status and tests). */
  get size(): { bans: number; cooldowns: number; strikes: number } {
    return {
      bans: this.#bans.peer.size + this.#bans.pubkey.size,
      cooldowns: this.#cooldowns.size,
      strikes: this.#strikes.peer.size + this.#strikes.pubkey.size,
    }
  }

  /** Whether a peer may start a session now: its id is neither banned nor cooling down, and its pubkey (if known) is not banned. */
  canConnect(peerId: string, pubkey: string | undefined, nowMs: number): boolean {
    checkKey(peerId, 'peerId')
    checkTime(nowMs)
    if (live(this.#bans.peer.get(peerId), nowMs) || live(this.#cooldowns.get(peerId), nowMs)) return false
    const debt = this.#handshakes.get(peerId)
    if (debt !== undefined && debt.untilMs - nowMs > (HANDSHAKE_BURST - 1) * HANDSHAKE_INTERVAL_MS) return false
    return pubkey === undefined || !live(this.#bans.pubkey.get(checkKey(pubkey, 'pubkey')), nowMs)
  }

  /** When a ban of this id or pubkey ends, or `undefined` if neither is banned. */
  bannedUntil(peerId: string | undefined, pubkey: string | undefined, nowMs: number): number | undefined {
    checkTime(nowMs)
    const a = peerId === undefined ? undefined : this.#bans.peer.get(peerId)
    const b = pubkey === undefined ? undefined : this.#bans.pubkey.get(pubkey)
    const until = Math.max(live(a, nowMs) ? a!.untilMs : -Infinity, live(b, nowMs) ? b!.untilMs : -Infinity)
    return until === -Infinity ? undefined : until
  }

  /** Bans a transport id, and a pubkey if given (only pass a pubkey the peer proved), until `untilMs`. */
  ban(peerId: string, pubkey: string | undefined, untilMs: number): void {
    checkKey(peerId, 'peerId')
    checkTime(untilMs)
    this.#put(this.#bans.peer, peerId, { untilMs, count: 0 })
    if (pubkey !== undefined) this.#put(this.#bans.pubkey, checkKey(pubkey, 'pubkey'), { untilMs, count: 0 })
  }

  /** Lifts the bans of an id and/or a pubkey. */
  unban(peerId: string | undefined, pubkey?: string): void {
    if (peerId !== undefined) this.#bans.peer.delete(peerId)
    if (pubkey !== undefined) this.#bans.pubkey.delete(pubkey)
  }

  /** A session with `peerId` ended at `nowMs`: start its cool-down and remember its strikes. */
  drop(peerId: string, nowMs: number, info: DropInfo = {}): void {
    checkKey(peerId, 'peerId')
    checkTime(nowMs)
    if (info.reason === undefined || !NO_COOLDOWN.has(info.reason)) this.#put(this.#cooldowns, peerId, { untilMs: nowMs + this.#cooldownFor(peerId, nowMs, info), count: 0 })
    if (info.authenticated === true) this.#timeouts.delete(peerId)
    if (info.authenticated === false && info.reason !== 'local' && info.answered !== false) {
      const paidOffAt = Math.max(this.#handshakes.get(peerId)?.untilMs ?? nowMs, nowMs) + HANDSHAKE_INTERVAL_MS
      this.#handshakes.delete(peerId)
      this.#put(this.#handshakes, peerId, { untilMs: paidOffAt, count: 0 })
    }
    const count = info.strikes ?? 0
    if (!Number.isSafeInteger(count) || count < 0) throw fail('drop: strikes must be a non-negative integer')
    if (count === 0) return
    const strike = { untilMs: nowMs + this.#strikeMemoryMs, count }
    this.#put(this.#strikes.peer, peerId, strike)
    if (info.pubkey !== undefined) this.#put(this.#strikes.pubkey, checkKey(info.pubkey, 'pubkey'), { ...strike })
  }

  /**
   * The cool-down of a drop: the full one, except for a handshake timeout (see
   * {@link FIRST_TIMEOUT_COOLDOWN_MS}), whose cool-down grows with the timeouts in a row.
   */
  #cooldownFor(peerId: string, nowMs: number, info: DropInfo): number {
    if (info.authenticated !== false || info.reason === undefined || !HANDSHAKE_TIMEOUTS.has(info.reason) || (info.strikes ?? 0) > 0) return this.#cooldownMs
    const known = this.#timeouts.get(peerId)
    const count = live(known, nowMs) ? known!.count + 1 : 1
    this.#timeouts.delete(peerId)
    this.#put(this.#timeouts, peerId, { untilMs: nowMs + TIMEOUT_MEMORY_MS, count })
    if (count > HANDSHAKE_TIMEOUT_COOLDOWNS) return this.#cooldownMs
    return Math.min(this.#cooldownMs, FIRST_TIMEOUT_COOLDOWN_MS * 4 ** (count - 1))
  }

  /**
   * When `peerId` may start a session again (its cool-down over, its handshakes paid down enough):
   * `nowMs` if it may now, `undefined` if its id is banned.
   */
  connectableAt(peerId: string, nowMs: number): number | undefined {
    checkTime(nowMs)
    if (live(this.#bans.peer.get(peerId), nowMs)) return undefined
    const cooldown = this.#cooldowns.get(peerId)
    const debt = this.#handshakes.get(peerId)
    const debtAt = debt === undefined ? nowMs : debt.untilMs - (HANDSHAKE_BURST - 1) * HANDSHAKE_INTERVAL_MS
    return Math.max(nowMs, live(cooldown, nowMs) ? cooldown!.untilMs : nowMs, debtAt)
  }

  /** Strikes remembered for this id or pubkey (the larger), to pass as `priorStrikes` to a new session. */
  strikesOf(peerId: string, pubkey: string | undefined, nowMs: number): number {
    checkTime(nowMs)
    const a = this.#strikes.peer.get(peerId)
    const b = pubkey === undefined ? undefined : this.#strikes.pubkey.get(pubkey)
    return Math.max(live(a, nowMs) ? a!.count : 0, live(b, nowMs) ? b!.count : 0)
  }

  /** Forgets every expired entry. */
  prune(nowMs: number): void {
    checkTime(nowMs)
    for (const map of this.#maps()) for (const [key, entry] of map) if (!live(entry, nowMs)) map.delete(key)
  }

  /** A plain-JSON snapshot (see {@link PeerRegistry.fromJSON}). */
  toJSON(): PeerRegistryJSON {
    const list = (maps: { peer: Map<string, Entry>; pubkey: Map<string, Entry> }, withCount: boolean) =>
      (['peer', 'pubkey'] as const).flatMap((kind) =>
        [...maps[kind]].map(([key, e]) => (withCount ? { kind, key, untilMs: e.untilMs, count: e.count } : { kind, key, untilMs: e.untilMs })),
      )
    return {
      version: 1,
      bans: list(this.#bans, false),
      cooldowns: [...this.#cooldowns].map(([key, e]) => ({ kind: 'peer' as const, key, untilMs: e.untilMs })),
      strikes: list(this.#strikes, true),
    }
  }

  /**
   * Restores a registry from {@link PeerRegistry.toJSON}'s output. Throws `INVALID_ARGUMENT` for
   * anything else.
   */
  static fromJSON(json: unknown, options: PeerRegistryOptions = {}): PeerRegistry {
    const registry = new PeerRegistry(options)
    if (typeof json !== 'object' || json === null) throw fail('fromJSON: expected an object')
    const j = json as Partial<PeerRegistryJSON>
    if (j.version !== 1 || !Array.isArray(j.bans) || !Array.isArray(j.cooldowns) || !Array.isArray(j.strikes)) {
      throw fail('fromJSON: expected { version: 1, bans, cooldowns, strikes }')
    }
    for (const e of j.bans) {
      const entry = readEntry(e, false)
      registry.#put(registry.#bans[entry.kind], entry.key, { untilMs: entry.untilMs, count: 0 })
    }
    for (const e of j.cooldowns) {
      const entry = readEntry(e, false)
      if (entry.kind !== 'peer') throw fail('fromJSON: a cool-down is by transport id (kind "peer")')
      registry.#put(registry.#cooldowns, entry.key, { untilMs: entry.untilMs, count: 0 })
    }
    for (const e of j.strikes) {
      const entry = readEntry(e, true)
      registry.#put(registry.#strikes[entry.kind], entry.key, { untilMs: entry.untilMs, count: entry.count ?? 0 })
    }
    return registry
  }

  #maps(): Map<string, Entry>[] {
    return [this.#bans.peer, this.#bans.pubkey, this.#strikes.peer, this.#strikes.pubkey, this.#cooldowns, this.#handshakes, this.#timeouts]
  }

  /** Sets an entry (merged with an existing one: the later expiry, the larger count); at capacity, evicts the entry that expires first. */
  #put(map: Map<string, Entry>, key: string, entry: Entry): void {
    const existing = map.get(key)
    if (existing !== undefined) {
      map.set(key, { untilMs: Math.max(existing.untilMs, entry.untilMs), count: Math.max(existing.count, entry.count) })
      return
    }
    if (map.size >= this.#maxEntries) {
      let victim: string | undefined
      let soonest = Infinity
      for (const [k, e] of map) {
        if (e.untilMs < soonest) {
          soonest = e.untilMs
          victim = k
        }
      }
      if (soonest > entry.untilMs) return // the new entry would be the first to go
      map.delete(victim!)
    }
    map.set(key, entry)
  }
}

function live(entry: Entry | undefined, nowMs: number): boolean {
  return entry !== undefined && entry.untilMs > nowMs
}

function readEntry(value: unknown, withCount: boolean): RegistryEntryJSON {
  if (typeof value !== 'object' || value === null) throw fail('fromJSON: every entry must be an object')
  const e = value as Partial<RegistryEntryJSON>
  if (e.kind !== 'peer' && e.kind !== 'pubkey') throw fail('fromJSON: entry kind must be "peer" or "pubkey"')
  checkKey(e.key, 'fromJSON: entry key')
  checkTime(e.untilMs)
  if (withCount && (!Number.isSafeInteger(e.count) || e.count! < 0)) throw fail('fromJSON: a strike entry needs a non-negative integer count')
  return { kind: e.kind, key: e.key as string, untilMs: e.untilMs as number, ...(withCount ? { count: e.count as number } : {}) }
}

function checkKey(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw fail(`${what} must be a string of 1..256 characters`)
  return value
}

function checkTime(value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw fail('times must be finite numbers of milliseconds')
}

function checkNonNegative(value: number, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw fail(`${what} must be a finite number >= 0`)
  return value
}

function fail(message: string): PeersetError {
  return new PeersetError('INVALID_ARGUMENT', `PeerRegistry: ${message}`)
}
