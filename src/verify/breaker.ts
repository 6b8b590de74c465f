/**
 * The circuit breaker around a verifier (internal): after the verifier fails or times out, the
 * engine verifies on the main thread for a back-off period (30 s, doubling on each trip up to
 * 10 min, back to 30 s once the verifier answers again) and reports one error per trip, not one per
 * batch, so a broken verifier costs speed and a few events, never a stream of errors or time-outs.
 */
import { PeersetError } from '../errors.js'
import type { VerifierStrategy } from './types.js'

/** First back-off after a verifier fails: 30 s of main-thread verification before it is tried again. */
export const VERIFIER_BACKOFF_MIN_MS = 30_000
/** Longest back-off: 10 min. */
export const VERIFIER_BACKOFF_MAX_MS = 600_000

/** The state of one verifier's breaker: open (main thread only) until `openUntil`. */
export class VerifierBreaker {
  #openUntil = -Infinity
  #backoffMs = VERIFIER_BACKOFF_MIN_MS
  readonly #onTrip = new Set<() => void>()

  /** Whether the verifier may be asked now (the breaker is closed or its back-off is over). */
  get closed(): boolean {
    return Date.now() >= this.#openUntil
  }

  /** The verifier answered: the next trip backs off for the shortest period again. */
  succeeded(): void {
    this.#backoffMs = VERIFIER_BACKOFF_MIN_MS
  }

  /**
   * The verifier failed (a batch asked at `askedAt`): trip unless a failure since then already
   * tripped it; reports `error` once per trip and tells batches still waiting to stop waiting.
   */
  failed(askedAt: number, error: PeersetError, onError: (error: PeersetError) => void): void {
    if (this.#openUntil > askedAt) return // already tripped since this batch was asked
    const ms = this.#backoffMs
    this.#openUntil = Date.now() + ms
    this.#backoffMs = Math.min(ms * 2, VERIFIER_BACKOFF_MAX_MS)
    const message = `${error.message.replace(/^peerset: /, '')} (verifying on the main thread for ${ms / 1000} s before trying the verifier again)`
    onError(new PeersetError(error.code, message, { reason: error.reason, cause: error.cause ?? error }))
    for (const stop of [...this.#onTrip]) stop()
  }

  /** Call `stop` at the next trip; returns the function that cancels it. */
  onTrip(stop: () => void): () => void {
    this.#onTrip.add(stop)
    return () => this.#onTrip.delete(stop)
  }
}

const breakers = new WeakMap<VerifierStrategy, VerifierBreaker>()

/** The breaker of this verifier (one per verifier object, shared by every batch that uses it). */
export function breakerOf(verifier: VerifierStrategy): VerifierBreaker {
  let breaker = breakers.get(verifier)
  if (!breaker) breakers.set(verifier, (breaker = new VerifierBreaker()))
  return breaker
}
