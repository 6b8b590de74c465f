/** A token bucket with time passed in: pure, no timers. */
import { PeersetError } from '../errors.js'

/**
 * Holds up to `capacity` tokens and gains `ratePerSecond` tokens per second. Starts full. Time only
 * moves forward: an earlier `nowMs` than seen before counts as no time passing.
 * @example
 * ```ts
 * const bucket = new TokenBucket(10, 20, 0) // 10 per second, bursts of 20
 * bucket.take(20, 0)   // true
 * bucket.take(1, 0)    // false: empty
 * bucket.take(5, 500)  // true: half a second refilled 5
 * ```
 */
export class TokenBucket {
  readonly ratePerSecond: number
  readonly capacity: number
  #tokens: number
  #lastMs: number

  constructor(ratePerSecond: number, capacity: number, nowMs: number) {
    if (!(Number.isFinite(ratePerSecond) && ratePerSecond >= 0)) {
      throw new PeersetError('INVALID_ARGUMENT', `TokenBucket: ratePerSecond must be a finite number >= 0, got ${String(ratePerSecond)}`)
    }
    if (!(Number.isFinite(capacity) && capacity > 0)) {
      throw new PeersetError('INVALID_ARGUMENT', `TokenBucket: capacity must be a finite number > 0, got ${String(capacity)}`)
    }
    if (!Number.isFinite(nowMs)) throw new PeersetError('INVALID_ARGUMENT', 'TokenBucket: nowMs must be a finite number')
    this.ratePerSecond = ratePerSecond
    this.capacity = capacity
    this.#tokens = capacity
    this.#lastMs = nowMs
  }

  /** Tokens available at `nowMs`. */
  available(nowMs: number): number {
    this.#refill(nowMs)
    return this.#tokens
  }

  /** Takes `n` tokens if there are that many (and returns `true`); otherwise takes none. */
  take(n: number, nowMs: number): boolean {
    this.#refill(nowMs)
    if (this.#tokens < n) return false
    this.#tokens -= n
    return true
  }

  #refill(nowMs: number): void {
    if (!(nowMs > this.#lastMs)) return
    this.#tokens = Math.min(this.capacity, this.#tokens + ((nowMs - this.#lastMs) * this.ratePerSecond) / 1000)
    this.#lastMs = nowMs
  }
}
