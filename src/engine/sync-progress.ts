/**
 * Progress of a catch-up, for `sync:progress`: how many wanted records have arrived (and been
 * judged) since the catch-up began, how many are expected in all, and the rate over the last few
 * seconds. Throttled here, so a host app can redraw a progress bar on each event without being
 * flooded: at most one event per {@link SYNC_PROGRESS_INTERVAL_MS} of the peerset's clock, plus one
 * at the start and one at the end.
 */

/** What `sync:progress` reports. */
export interface SyncProgressInfo {
  /** Wanted records that arrived and were judged since the catch-up began (added, duplicate or refused). */
  received: number
  /** `received` plus the records still wanted: what the catch-up will have received when it ends, as far as this peer knows now. */
  expected: number
  /** Of `received`, the records added to the store. */
  added: number
  /** Records received per second over the last {@link SYNC_RATE_WINDOW_MS} (0 before time has passed). */
  rate: number
}

/** Shortest time between two `sync:progress` events of one catch-up (the last one excepted). */
export const SYNC_PROGRESS_INTERVAL_MS = 250

/** The window of the `rate`. */
export const SYNC_RATE_WINDOW_MS = 5_000

/** Counters read from the sync driver: records judged and records added since the peerset opened, records still wanted. */
export interface SyncCounters {
  resolved: number
  added: number
  wanted: number
}

/** The progress of the current catch-up. */
export class SyncProgress {
  #base: SyncCounters = { resolved: 0, added: 0, wanted: 0 }
  #lastEmitMs = Number.NEGATIVE_INFINITY
  #last: SyncProgressInfo | undefined
  /** (time, received) samples at most every interval, the oldest within the rate window first. */
  #samples: Array<{ atMs: number; received: number }> = []

  /** A catch-up began: the first event (nothing received yet). */
  start(nowMs: number, counters: SyncCounters): SyncProgressInfo {
    this.#base = counters
    this.#samples = [{ atMs: nowMs, received: 0 }]
    return this.#emitted(nowMs, this.#info(nowMs, counters))
  }

  /** During the catch-up: the event to emit now, or `undefined` if one was emitted less than an interval ago or nothing changed. */
  update(nowMs: number, counters: SyncCounters): SyncProgressInfo | undefined {
    if (nowMs - this.#lastEmitMs < SYNC_PROGRESS_INTERVAL_MS) return undefined
    const info = this.#info(nowMs, counters)
    if (this.#last && info.received === this.#last.received && info.expected === this.#last.expected) return undefined
    return this.#emitted(nowMs, info)
  }

  /** The catch-up ended (nothing is wanted any more): the last event, `received === expected`. */
  finish(nowMs: number, counters: SyncCounters): SyncProgressInfo {
    return this.#emitted(nowMs, this.#info(nowMs, { ...counters, wanted: 0 }))
  }

  #emitted(nowMs: number, info: SyncProgressInfo): SyncProgressInfo {
    this.#lastEmitMs = nowMs
    this.#last = info
    return info
  }

  #info(nowMs: number, counters: SyncCounters): SyncProgressInfo {
    const received = counters.resolved - this.#base.resolved
    const added = counters.added - this.#base.added
    return { received, expected: received + counters.wanted, added, rate: this.#rate(nowMs, received) }
  }

  #rate(nowMs: number, received: number): number {
    const last = this.#samples[this.#samples.length - 1]
    if (last === undefined || nowMs - last.atMs >= SYNC_PROGRESS_INTERVAL_MS) this.#samples.push({ atMs: nowMs, received })
    // Keep one sample at or before the window's start, so the rate covers the whole window.
    while (this.#samples.length > 2 && this.#samples[1]!.atMs <= nowMs - SYNC_RATE_WINDOW_MS) this.#samples.shift()
    const first = this.#samples[0]!
    const seconds = (nowMs - first.atMs) / 1000
    return seconds > 0 ? Math.round(((received - first.received) / seconds) * 10) / 10 : 0
  }
}
