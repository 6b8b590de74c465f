/**
 * Which missing ids are wanted, who has them, and which are requested from whom (internal to the
 * sync core). Each id is requested from one peer at a time; each peer has a bounded number of
 * requests in flight and all peers together too; the rest wait in per-peer queues. A request that
 * times out moves to another peer that has the id; when no peer is left the id is forgotten (the
 * next reconciliation finds it again). A peer whose requests time out unanswered has fewer of them
 * in flight (its allowance), and one that keeps talking without answering any is reported.
 *
 * Wanted records are keyed by gossip id (the first 8 bytes of the event id, see `GOSSIP_ID_BYTES`):
 * a record announced by its full id (reconciliation) and the same record announced by gossip id
 * (new records) are one wanted record, requested from one peer at a time. The full id is known
 * when a peer announced it so (it is then requested with `want`), or once the record arrived;
 * otherwise it is requested by gossip id, and any record matching that gossip id is taken.
 */
import { GOSSIP_ID_CHARS, gossipIdOf } from './gossip-ids.js'

interface Want {
  /** The gossip id: the key of the wanted record. */
  readonly id: string
  /** The full event id, once known (announced by it, or the record arrived). */
  full: string | undefined
  readonly bucket: number
  /** When it was first announced to us (by any source). */
  readonly offeredAtMs: number
  /** Peers that said they have it. */
  readonly sources: Set<string>
  /** The peer whose request slot it occupies, if requested. */
  holder: string | undefined
  sentAtMs: number
  /** The record came and is being checked by the engine (the slot stays taken until it is resolved). */
  arrived: boolean
  /** Peers that did not deliver it in time. */
  failed: Set<string> | undefined
  /** Requests of it that timed out at a peer that was its last source left, asked again of that peer (see {@link LAST_SOURCE_RETRIES}). */
  retries?: number
  /** Whether the pending request was made by gossip id (then any record matching it is taken). */
  byGossipId: boolean
  /** Whether some peer announced it by gossip id (a new record spreading; relayed once accepted). */
  gossiped?: boolean
  /** It came unannounced, in answer to a fetch of its bucket (its slot is the holder's `pushed`, not `inFlight`). */
  pushed?: boolean
  /**
   * Wanted by gossip id although we hold a record with it (a decoded difference whose short id
   * collides with one of ours: only ever an attacker's own pair). Every record matching it is taken.
   */
  collides?: boolean
}

interface PeerRequests {
  readonly inFlight: Set<string>
  /** Records this peer pushed (answering a fetch) that the engine is still checking. */
  readonly pushed: Set<string>
  /** FIFO of ids to request from this peer; stale entries are skipped when popped. */
  queue: string[]
  head: number
  /** How many wanted ids list this peer as a source. */
  offered: number
  /**
   * Requests this peer may have in flight now: `maxInFlightPerPeer` at first, one less for each of
   * its requests that timed out unanswered (down to {@link RequestScheduler.minAllowance}), one
   * more for each record it delivers. A peer that announces ids and never delivers them cannot
   * occupy the pull pipeline.
   */
  allowance: number
  /** When the peer last sent us any sync message (it is alive and talking). */
  lastHeardMs: number
  /** Requests that timed out while the peer kept talking, since it last answered one; and when the first of them timed out. */
  silentIds: number
  silentSinceMs: number | undefined
  /** When the first request of this run of reports (no answer since) timed out. */
  quietSinceMs: number | undefined
  /** Times it was reported as not delivering since it last answered (after the first, a few more time-outs report it again). */
  reports: number
}

/**
 * How many times a request that timed out is made again of the same peer when no other peer that
 * has the record is left to ask: on a link that loses 10% of frames, about one request in five is
 * lost (the `want` or its answer), one in 140 three times in a row.
 */
export const LAST_SOURCE_RETRIES = 2

/** A peer that kept announcing ids and not delivering them (see {@link RequestScheduler.timeouts}). */
export interface Undelivered {
  peerId: string
  /** Requests that timed out unanswered while it kept talking, since it last answered one. */
  ids: number
  /** How long it has not answered a single request while talking (ms): since the first of its requests timed out unanswered, over all the reports in a row. */
  silentMs: number
  /** How many times in a row it was reported (this one included) without answering a request in between. */
  reports: number
}

/**
 * A peer is reported as not delivering once, while it kept sending us sync messages, at least this
 * many of its requests timed out without it answering a single one in between...
 */
export const UNDELIVERED_MIN_IDS = 16
/** ...and the first and the last of them timed out at least this many request time-outs apart. */
export const UNDELIVERED_MIN_TIMEOUTS = 2

/** Limits of a {@link RequestScheduler}. */
export interface RequestLimits {
  maxInFlightPerPeer: number
  maxInFlightTotal: number
  maxWanted: number
  maxWantedPerPeer: number
}

/**
 * Ids asked of one peer are remembered this many request time-outs after they were asked, so a late
 * or repeated answer from an honest peer is told apart from a record it was never asked for (30:
 * five minutes with the default 10 s; a very slow device answered after more than a minute, and a
 * frame of such late answers looked like forgeries, one strike per record).
 */
export const ASKED_MEMORY_TIMEOUTS = 30
/** Most ids remembered as asked of one peer (the oldest are forgotten first): at least this many... */
const MIN_ASKED_PER_PEER = 4_096
/** ...or this many times the requests in flight per peer. */
const ASKED_PER_IN_FLIGHT = 64

/** Pending requests of the sync core. */
export class RequestScheduler {
  readonly #limits: RequestLimits
  readonly #wanted = new Map<string, Want>()
  readonly #peers = new Map<string, PeerRequests>()
  /** Per peer id: the ids asked of it lately, oldest first, with when (kept after the peer leaves). */
  readonly #asked = new Map<string, Map<string, number>>()
  readonly #maxAskedPerPeer: number
  #inFlight = 0

  constructor(limits: RequestLimits) {
    this.#limits = limits
    this.#maxAskedPerPeer = Math.max(MIN_ASKED_PER_PEER, ASKED_PER_IN_FLIGHT * limits.maxInFlightPerPeer)
  }

  /**
   * Whether `id` was asked of `peerId` lately (within {@link ASKED_MEMORY_TIMEOUTS} request
   * time-outs, and among the last few thousand ids asked of it). An honest peer only ever sends
   * records it was asked for, so a record whose recomputed id was never asked of the sender is
   * its fault (e.g. a forged copy: the bytes no longer hash to the id it announced).
   */
  wasAsked(peerId: string, id: string): boolean {
    return this.#asked.get(peerId)?.has(gossipIdOf(id)) ?? false
  }

  /** The wanted record `id` (a full id) may be: one with its gossip id and the same or no known full id. */
  #match(id: string): Want | undefined {
    const w = this.#wanted.get(gossipIdOf(id))
    return w && (w.full === undefined || w.full === id || id.length === GOSSIP_ID_CHARS) ? w : undefined
  }

  #remember(peerId: string, id: string, nowMs: number): void {
    let asked = this.#asked.get(peerId)
    if (!asked) this.#asked.set(peerId, (asked = new Map()))
    asked.delete(id) // re-inserted at the end: the map stays ordered by when each id was last asked
    asked.set(id, nowMs)
    if (asked.size > this.#maxAskedPerPeer) asked.delete(asked.keys().next().value!)
  }

  #forgetAskedBefore(cutoffMs: number): void {
    for (const [peerId, asked] of this.#asked) {
      for (const [id, atMs] of asked) {
        if (atMs >= cutoffMs) break
        asked.delete(id)
      }
      if (asked.size === 0) this.#asked.delete(peerId)
    }
  }

  /** The fewest requests a peer may have in flight, however many of its requests timed out. */
  get minAllowance(): number {
    return Math.max(1, Math.ceil(this.#limits.maxInFlightPerPeer / 16))
  }

  /** `peerId` sent us a sync message (of any type) at `nowMs`. */
  heard(peerId: string, nowMs: number): void {
    const p = this.#peers.get(peerId)
    if (p && nowMs > p.lastHeardMs) p.lastHeardMs = nowMs
  }

  /** How many wanted ids `peerId` announced (is a source of): what we are still fetching that it could give us. */
  wantingFrom(peerId: string): number {
    return this.#peers.get(peerId)?.offered ?? 0
  }

  /** How many ids are wanted (queued, in flight or arrived). */
  get wanting(): number {
    return this.#wanted.size
  }

  /** How many requests are in flight (including records arrived but not yet resolved). */
  get inFlight(): number {
    return this.#inFlight
  }

  /** Whether a record is wanted, by full id or by gossip id. */
  isWanted(id: string): boolean {
    return this.#match(id) !== undefined
  }

  addPeer(peerId: string): void {
    if (this.#peers.has(peerId)) return
    this.#peers.set(peerId, {
      inFlight: new Set(),
      pushed: new Set(),
      queue: [],
      head: 0,
      offered: 0,
      allowance: this.#limits.maxInFlightPerPeer,
      lastHeardMs: Number.NEGATIVE_INFINITY,
      silentIds: 0,
      silentSinceMs: undefined,
      quietSinceMs: undefined,
      reports: 0,
    })
  }

  /** The bucket `id` was announced in, and when it was first announced; while it is wanted. */
  announcement(id: string): { bucket: number; atMs: number } | undefined {
    const w = this.#match(id)
    return w && { bucket: w.bucket, atMs: w.offeredAtMs }
  }

  /**
   * `peerId` has `id` (a full id, or a gossip id), which we lack (announced at `nowMs`; `gossiped`:
   * as a new record spreading, to be relayed once accepted; `collides`: a gossip id we hold a record
   * with, wanted all the same). Returns false if it was ignored (limits).
   */
  offer(peerId: string, id: string, bucket: number, nowMs = 0, gossiped = false, collides = false): boolean {
    const p = this.#peers.get(peerId)
    if (!p) return false
    const key = gossipIdOf(id)
    const full = id.length === GOSSIP_ID_CHARS ? undefined : id
    const w = this.#wanted.get(key)
    if (w) {
      // Another record with the same gossip id (only ever an attacker's own pair): the next reconciliation finds it.
      if (full !== undefined && w.full !== undefined && w.full !== full) return true
      if (full !== undefined && w.full === undefined && w.holder === undefined && !w.arrived) w.full = full
      if (gossiped) w.gossiped = true
      if (w.sources.has(peerId)) return true
      if (p.offered >= this.#limits.maxWantedPerPeer) return false
      w.sources.add(peerId)
      p.offered++
      if (w.holder === undefined && !w.arrived && !w.failed?.has(peerId)) p.queue.push(key)
      return true
    }
    if (this.#wanted.size >= this.#limits.maxWanted || p.offered >= this.#limits.maxWantedPerPeer) return false
    this.#wanted.set(key, { id: key, full, bucket, offeredAtMs: nowMs, sources: new Set([peerId]), holder: undefined, sentAtMs: 0, arrived: false, failed: undefined, byGossipId: false, gossiped, collides })
    p.offered++
    p.queue.push(key)
    return true
  }

  /**
   * A record `peerId` pushed in answer to our fetch of `bucket` arrived: it is wanted and being
   * checked from now until `resolve` (as a pulled record that arrived). Returns false if it was
   * wanted already or the limits are reached (the record is then dropped; a later round finds it).
   */
  pushed(peerId: string, id: string, bucket: number, nowMs: number): boolean {
    const p = this.#peers.get(peerId)
    const key = gossipIdOf(id)
    if (!p || this.#wanted.has(key) || this.#wanted.size >= this.#limits.maxWanted || p.offered >= this.#limits.maxWantedPerPeer) return false
    this.#wanted.set(key, { id: key, full: id, bucket, offeredAtMs: nowMs, sources: new Set([peerId]), holder: peerId, sentAtMs: nowMs, arrived: true, failed: undefined, byGossipId: false, pushed: true })
    p.offered++
    p.pushed.add(key)
    return true
  }

  /** Records `peerId` pushed that are still being checked. */
  pushedPending(peerId: string): number {
    return this.#peers.get(peerId)?.pushed.size ?? 0
  }

  /**
   * Take ids to request now, filling free slots peer by peer (each peer up to its allowance, which
   * shrinks with every request of it that timed out). A peer with requests in flight is refilled
   * only once a quarter of its slots are free, so requests go out in batches rather than one small
   * `want` per record. `stillWanted` drops ids that became unwanted meanwhile (we got
   * them, or they left the window; `collides`: see {@link Want.collides}). Each request is the full
   * id when known, else the gossip id.
   */
  pull(nowMs: number, stillWanted: (id: string, bucket: number, collides: boolean) => boolean): Array<[peerId: string, ids: Array<{ id: string; bucket: number }>]> {
    const out: Array<[string, Array<{ id: string; bucket: number }>]> = []
    for (const [peerId, p] of this.#peers) {
      const ids: Array<{ id: string; bucket: number }> = []
      if (p.inFlight.size > 0 && p.allowance - p.inFlight.size < Math.ceil(p.allowance / 4)) continue
      while (p.inFlight.size < p.allowance && this.#inFlight < this.#limits.maxInFlightTotal && p.head < p.queue.length) {
        const id = p.queue[p.head++]!
        const w = this.#wanted.get(id)
        if (!w || w.holder !== undefined || w.arrived || !w.sources.has(peerId) || w.failed?.has(peerId)) continue
        if (!stillWanted(w.full ?? id, w.bucket, w.collides === true)) {
          this.#forget(w)
          continue
        }
        w.holder = peerId
        w.byGossipId = w.full === undefined
        w.sentAtMs = nowMs
        p.inFlight.add(id)
        this.#inFlight++
        this.#remember(peerId, id, nowMs)
        ids.push({ id: w.full ?? id, bucket: w.bucket })
      }
      if (p.head > 1024 && p.head * 2 > p.queue.length) {
        p.queue = p.queue.slice(p.head)
        p.head = 0
      }
      if (ids.length > 0) out.push([peerId, ids])
    }
    return out
  }

  /**
   * A record with this id came from `peerId`. Returns whether it was asked for: requested from that
   * peer now, or earlier (a late answer after a time-out), and not arrived yet.
   */
  arrived(peerId: string, id: string): boolean {
    const w = this.#match(id)
    if (!w || w.arrived) return false
    if (w.holder === peerId) {
      w.full = id
      w.arrived = true
      this.#answered(peerId, true)
      return true
    }
    if (!w.failed?.has(peerId)) return false
    // A late answer: take it, and cancel the request now with another peer.
    this.#release(w)
    w.full = id
    w.arrived = true
    this.#answered(peerId, true)
    return true
  }

  /**
   * Whether `id` (a record from `peerId` that {@link arrived} did not take) matches the gossip id of
   * a request made of that peer by gossip id, whose first matching record already came: the holder
   * sends every record it holds with that gossip id, and each of them is taken (none is lost to a
   * collision of gossip ids).
   */
  alsoMatches(peerId: string, id: string): boolean {
    const w = this.#wanted.get(gossipIdOf(id))
    return w !== undefined && w.byGossipId && w.arrived && w.holder === peerId && w.full !== id
  }

  /**
   * `peerId` answered that it does not have `id`, which we asked it for (it had announced it, and
   * the record went meanwhile: expired, replaced, its author banned). The request moves to another
   * source at once, as after a time-out, but the peer answered: it is not charged. Returns whether
   * the id was asked of that peer (and not delivered yet).
   */
  notServed(peerId: string, id: string): boolean {
    const w = this.#match(id)
    if (!w || w.arrived || w.holder !== peerId) return false
    this.#answered(peerId, false)
    this.#release(w)
    ;(w.failed ??= new Set()).add(peerId)
    this.#requeue(w)
    return true
  }

  /** The peer answered a request: it is not silent; a delivered record gives back one request slot. */
  #answered(peerId: string, delivered: boolean): void {
    const p = this.#peers.get(peerId)
    if (!p) return
    p.silentIds = 0
    p.silentSinceMs = undefined
    p.quietSinceMs = undefined
    p.reports = 0
    if (delivered && p.allowance < this.#limits.maxInFlightPerPeer) p.allowance++
  }

  /** The engine is done with `id` (stored, refused or duplicate): forget it and free its slot. */
  resolve(id: string): { sources: ReadonlySet<string>; gossiped: boolean } | undefined {
    const w = this.#match(id)
    if (!w) return undefined
    this.#forget(w)
    return { sources: w.sources, gossiped: w.gossiped === true }
  }

  /**
   * Move requests older than `timeoutMs` to another source, and charge the peer that did not answer
   * (its allowance shrinks by one per request). A record that arrived keeps its slot while the
   * engine checks it (that paces the pull); only if it is never resolved is the slot freed, after
   * 6 x `timeoutMs`.
   *
   * Returns the peers that keep announcing and not delivering: a request times out "while the peer
   * talks" if the peer sent us any sync message after it was made (so a dead link or a partition,
   * where nothing comes, never counts); a peer is listed once at least {@link UNDELIVERED_MIN_IDS}
   * such requests timed out, over at least {@link UNDELIVERED_MIN_TIMEOUTS} time-outs, without it
   * answering a single request in between (a record, or a notice that it no longer has one). Its
   * count then starts again: while it still answers nothing, it is listed again after as many
   * time-outs, with its (shrunk) allowance of requests each time.
   */
  timeouts(nowMs: number, timeoutMs: number): Undelivered[] {
    this.#forgetAskedBefore(nowMs - ASKED_MEMORY_TIMEOUTS * timeoutMs)
    const silent: Undelivered[] = []
    for (const [peerId, p] of this.#peers) {
      for (const key of [...p.pushed]) {
        const w = this.#wanted.get(key)!
        if (nowMs - w.sentAtMs >= 6 * timeoutMs) this.#forget(w)
      }
      for (const id of [...p.inFlight]) {
        const w = this.#wanted.get(id)!
        if (w.arrived) {
          if (nowMs - w.sentAtMs >= 6 * timeoutMs) this.#forget(w)
          continue
        }
        if (nowMs - w.sentAtMs < timeoutMs) continue
        if (p.lastHeardMs > w.sentAtMs) {
          p.silentSinceMs ??= nowMs
          p.silentIds++
        }
        p.allowance = Math.max(this.minAllowance, p.allowance - 1)
        this.#release(w)
        ;(w.failed ??= new Set()).add(peerId)
        this.#requeue(w, peerId)
      }
      if (p.silentSinceMs === undefined || p.silentIds < (p.reports > 0 ? this.minAllowance : UNDELIVERED_MIN_IDS)) continue
      const silentMs = nowMs - p.silentSinceMs
      if (silentMs < UNDELIVERED_MIN_TIMEOUTS * timeoutMs) continue
      p.reports++
      p.quietSinceMs ??= p.silentSinceMs
      silent.push({ peerId, ids: p.silentIds, silentMs: nowMs - p.quietSinceMs, reports: p.reports })
      p.silentIds = 0
      p.silentSinceMs = undefined
    }
    return silent
  }

  /** A peer left: its requests go back to the other sources; ids nobody else has are forgotten. */
  removePeer(peerId: string): void {
    const p = this.#peers.get(peerId)
    if (!p) return
    this.#inFlight -= p.inFlight.size
    this.#peers.delete(peerId)
    for (const w of this.#wanted.values()) {
      const wasHolder = w.holder === peerId
      if (wasHolder) w.holder = undefined
      if (!w.sources.delete(peerId) || w.arrived) continue
      if (wasHolder || w.sources.size === 0) this.#requeue(w)
    }
  }

  #release(w: Want): void {
    if (w.holder === undefined) return
    if (w.pushed) {
      this.#peers.get(w.holder)?.pushed.delete(w.id)
      w.holder = undefined
      return
    }
    if (this.#peers.get(w.holder)?.inFlight.delete(w.id)) this.#inFlight--
    w.holder = undefined
  }

  /**
   * Queue `w` at every source that has not failed it. With none left but `timedOut` (the peer whose
   * request of it just timed out), a lost frame (a `want` or its answer) is no reason to give the
   * record up until the next reconciliation round: that peer is asked again, {@link LAST_SOURCE_RETRIES} times.
   */
  #requeue(w: Want, timedOut?: string): void {
    let queued = false
    for (const s of w.sources) {
      if (w.failed?.has(s)) continue
      this.#peers.get(s)?.queue.push(w.id)
      queued = true
    }
    if (queued) return
    const retries = w.retries ?? 0
    if (timedOut !== undefined && retries < LAST_SOURCE_RETRIES && this.#peers.has(timedOut)) {
      w.retries = retries + 1
      w.failed?.delete(timedOut)
      this.#peers.get(timedOut)!.queue.push(w.id)
      return
    }
    this.#forget(w)
  }

  #forget(w: Want): void {
    this.#release(w)
    for (const s of w.sources) {
      const p = this.#peers.get(s)
      if (p) p.offered--
    }
    this.#wanted.delete(w.id)
  }
}
