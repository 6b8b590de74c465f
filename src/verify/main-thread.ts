/** The default verifier: noble's audited Schnorr code on the calling thread, yielding now and then. */
import { assertKnownOptions, PeersetError } from '../errors.js'
import { isWellFormedCheck } from './pack.js'
import { schnorrVerifies } from './schnorr.js'
import type { SignatureCheck, VerifierStrategy } from './types.js'
import { yieldToEventLoop } from './yield.js'

/** Options of {@link mainThreadVerifier}. */
export interface MainThreadVerifierOptions {
  /**
   * Longest stretch of verifying before it lets timers, input and I/O run (`scheduler.yield()`,
   * `setImmediate` or a `MessageChannel` message: no timer's delay), in
   * ms. Default 20: one verify costs about 1.3 ms, so a browser tab stays responsive during a catch-up.
   */
  yieldEveryMs?: number
}

/**
 * Verifies on the calling thread with `@noble/curves` (about 770 verifies/s on one core of the
 * machines we measured). The default `verifier` of `createPeerset`.
 * @example
 * ```ts
 * const verifier = mainThreadVerifier()
 * await verifier.verify([{ id, pubkey, sig }]) // [true]
 * ```
 */
export function mainThreadVerifier(options: MainThreadVerifierOptions = {}): VerifierStrategy {
  assertKnownOptions('mainThreadVerifier', options, ['yieldEveryMs'])
  const yieldEveryMs = options.yieldEveryMs ?? 20
  if (!(typeof yieldEveryMs === 'number' && yieldEveryMs >= 0 && Number.isFinite(yieldEveryMs))) {
    throw new PeersetError('INVALID_ARGUMENT', 'mainThreadVerifier: yieldEveryMs must be a non-negative number of ms')
  }
  let closed = false
  return {
    name: 'main-thread',
    async verify(checks) {
      if (closed) throw new PeersetError('CLOSED', 'mainThreadVerifier: verify() after close()')
      return verifyHere(checks, yieldEveryMs)
    },
    close() {
      closed = true
      return Promise.resolve()
    },
  }
}

/** Verify `checks` one by one on this thread, yielding to the event loop every `yieldEveryMs`. */
export async function verifyHere(checks: readonly SignatureCheck[], yieldEveryMs = 20): Promise<boolean[]> {
  if (!Array.isArray(checks)) throw new PeersetError('INVALID_ARGUMENT', 'verify: checks must be an array')
  const answers: boolean[] = []
  let lastYield = performance.now()
  for (const check of checks) {
    answers.push(isWellFormedCheck(check) && schnorrVerifies(check.sig, check.id, check.pubkey))
    if (performance.now() - lastYield > yieldEveryMs) {
      await yieldToEventLoop()
      lastYield = performance.now()
    }
  }
  return answers
}
