/**
 * One peer's traffic budget: frame size, frames and bytes per second, unsolicited records per
 * second, and the records we asked for (flow control: those never count as a flood).
 */
import { PeersetError } from '../errors.js'
import { TokenBucket } from './token-bucket.js'
import type { SessionLimits } from './types.js'

/** Why a frame was refused by the budget. */
export type BudgetRefusal = 'frame-too-large' | 'rate-messages' | 'rate-bytes' | 'record-flood'

/** The budget's verdict on one frame. `strike` is false for a rate refusal soon after the last rate strike. */
export type BudgetVerdict = { ok: true } | { ok: false; reason: BudgetRefusal; detail: string; strike: boolean }

/**
 * Per-peer budgets, checked before any decoding. A frame is admitted whole or not at all (nothing is
 * taken from any bucket for a refused frame).
 * @example
 * ```ts
 * const budget = new PeerBudget(DEFAULT_SESSION_LIMITS, now)
 * budget.expectRecords(50) // we sent a want for 50 records
 * budget.admit(frame, 20, now) // { ok: true }: 20 of the 50 expected records, not charged to any rate
 * ```
 */
export class PeerBudget {
  readonly #limits: SessionLimits
  readonly #messages: TokenBucket
  readonly #bytes: TokenBucket
  readonly #unsolicited: TokenBucket
  #expected = 0
  #lastRateStrikeMs = -Infinity

  constructor(limits: SessionLimits, nowMs: number) {
    this.#limits = limits
    this.#messages = new TokenBucket(limits.messagesPerSecond, limits.messageBurst, nowMs)
    this.#bytes = new TokenBucket(limits.bytesPerSecond, limits.byteBurst, nowMs)
    this.#unsolicited = new TokenBucket(limits.unsolicitedRecordsPerSecond, limits.unsolicitedRecordBurst, nowMs)
  }

  /** Records we asked for and have not received yet. */
  get expectedRecords(): number {
    return this.#expected
  }

  /** We asked this peer for `n` more records (or accepted a catch-up of `n`). Capped at `maxExpectedRecords`. */
  expectRecords(n: number): void {
    assertCount(n, 'expectRecords')
    this.#expected = Math.min(this.#limits.maxExpectedRecords, this.#expected + n)
  }

  /** We no longer expect `n` of them (default: any). */
  cancelExpectedRecords(n: number = this.#expected): void {
    assertCount(n, 'cancelExpectedRecords')
    this.#expected = Math.max(0, this.#expected - n)
  }

  /**
   * Admits or refuses one frame of `bytes.length` bytes carrying `records` records (0 for a frame
   * that carries none). Expected records are used up first; a frame made only of expected records
   * is not charged to the frame and byte rates either (the receiver paces those by asking).
   */
  admit(bytes: Uint8Array, records: number, nowMs: number): BudgetVerdict {
    const size = bytes.length
    if (size > this.#limits.maxFrameBytes) {
      return { ok: false, reason: 'frame-too-large', detail: `frame of ${size} bytes is over the limit of ${this.#limits.maxFrameBytes}`, strike: true }
    }
    const covered = Math.min(records, this.#expected)
    const unsolicited = records - covered
    const charged = records === 0 || unsolicited > 0
    if (charged && this.#messages.available(nowMs) < 1) {
      return this.#rateRefusal('rate-messages', `over ${this.#limits.messagesPerSecond} frames per second`, nowMs)
    }
    if (charged && this.#bytes.available(nowMs) < size) {
      return this.#rateRefusal('rate-bytes', `over ${this.#limits.bytesPerSecond} bytes per second`, nowMs)
    }
    if (unsolicited > 0 && this.#unsolicited.available(nowMs) < unsolicited) {
      return this.#rateRefusal('record-flood', `${unsolicited} unsolicited records, over ${this.#limits.unsolicitedRecordsPerSecond} per second`, nowMs)
    }
    this.#expected -= covered
    if (charged) {
      this.#messages.take(1, nowMs)
      this.#bytes.take(size, nowMs)
    }
    if (unsolicited > 0) this.#unsolicited.take(unsolicited, nowMs)
    return { ok: true }
  }

  #rateRefusal(reason: BudgetRefusal, detail: string, nowMs: number): BudgetVerdict {
    const strike = nowMs - this.#lastRateStrikeMs >= this.#limits.rateStrikeIntervalMs
    if (strike) this.#lastRateStrikeMs = nowMs
    return { ok: false, reason, detail, strike }
  }
}

function assertCount(n: number, fn: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new PeersetError('INVALID_ARGUMENT', `${fn}: n must be a non-negative integer, got ${String(n)}`)
}
