/**
 * Bounded waits for the steps of `createPeerset` that call host code (internal): a storage whose
 * `open()` or `loadRecords()`, or a signer whose `getPublicKey()`, never settles makes
 * `createPeerset` reject with a typed error naming the step, instead of waiting forever.
 */
import type { PeersetError } from '../errors.js'

/** How long `createPeerset` waits for one step of host code (opening the store, loading its records, the signer's public key): 30 s. */
export const OPEN_STEP_TIMEOUT_MS = 30_000

/**
 * `step`'s outcome, or `timedOut()` rejected after `ms`. A value that arrives later goes to
 * `onLate` (e.g. to close a store that opened too late), so nothing is left open.
 */
export function withinDeadline<T>(step: Promise<T>, timedOut: () => PeersetError, onLate?: (value: T) => void, ms = OPEN_STEP_TIMEOUT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let late = false
    const timer = setTimeout(() => {
      late = true
      reject(timedOut())
    }, ms)
    step.then(
      (value) => {
        clearTimeout(timer)
        if (late) onLate?.(value)
        else resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        if (!late) reject(error)
      },
    )
  })
}
