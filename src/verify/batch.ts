/**
 * How the engine uses a verifier (internal): one call per batch, answers checked, and a verifier
 * that fails or answers garbage replaced by main-thread verification for that batch, so a broken
 * strategy costs speed and an `error` event, never a wrong verdict or a stuck ingest queue.
 */
import { PeersetError } from '../errors.js'
import { breakerOf } from './breaker.js'
import { verifyHere } from './main-thread.js'
import type { SignatureCheck, VerifierStrategy } from './types.js'

/**
 * Signatures being checked or checked, by id and signature: for one ingest batch, or (held by the
 * ingestor) for the batches queued behind it too, so a verifier that runs off the calling thread
 * checks the next batches' signatures while the current one is judged and written. Every answer
 * is a promise that never rejects (a failing verifier is replaced by the main thread, see
 * {@link verifyBatch}); missing ones are verified on demand.
 */
export class SignatureBook {
  readonly #verifier: VerifierStrategy
  readonly #onError: (error: PeersetError) => void
  readonly #known = new Map<string, Promise<boolean>>()

  constructor(verifier: VerifierStrategy, onError: (error: PeersetError) => void) {
    this.#verifier = verifier
    this.#onError = onError
  }

  /** Start checking these in one verifier call (those already asked are skipped); resolves when all of them are answered. */
  async prefetch(checks: readonly SignatureCheck[]): Promise<void> {
    this.ask(checks)
    await Promise.all(checks.map((check) => this.#known.get(keyOf(check))))
  }

  /** Start checking these in one verifier call (those already asked are skipped), without waiting. */
  ask(checks: readonly SignatureCheck[]): void {
    const keys = new Set<string>()
    const unknown = checks.filter((check) => {
      const key = keyOf(check)
      if (this.#known.has(key) || keys.has(key)) return false
      keys.add(key)
      return true
    })
    if (unknown.length === 0) return
    const answers = verifyBatch(this.#verifier, unknown, this.#onError)
    unknown.forEach((check, i) => this.#known.set(keyOf(check), answers.then((a) => a[i]!)))
  }

  /** Whether this signature verifies (from the answers asked for, or verified now). */
  valid(check: SignatureCheck): Promise<boolean> {
    if (!this.#known.has(keyOf(check))) this.ask([check])
    return this.#known.get(keyOf(check))!
  }

  /** Forget these answers (their batch is judged). */
  forget(checks: Iterable<SignatureCheck>): void {
    for (const check of checks) this.#known.delete(keyOf(check))
  }

  /** Answers held (for tests: bounded by the records queued for ingest). */
  get size(): number {
    return this.#known.size
  }
}

function keyOf(check: SignatureCheck): string {
  return `${check.id}:${check.sig}`
}

/**
 * Longest a verifier may take for one batch: 10 s, plus 10 ms per signature (about eight times what
 * the main thread takes for one). A batch not answered by then is verified on the main thread and
 * reported as `VERIFIER_FAILED`, as if the verifier had failed; a late answer is ignored.
 */
export function verifyTimeoutMs(checks: number): number {
  return 10_000 + 10 * checks
}

/**
 * The verifier's answers, or the main thread's when it fails or is too late, or while its breaker
 * is open after an earlier failure (see VerifierBreaker in breaker.ts: one `onError` per trip, not per batch).
 */
export async function verifyBatch(verifier: VerifierStrategy, checks: readonly SignatureCheck[], onError: (error: PeersetError) => void): Promise<boolean[]> {
  const breaker = breakerOf(verifier)
  if (!breaker.closed) return verifyHere(checks)
  const askedAt = Date.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  let cancel = (): void => undefined
  try {
    const ms = verifyTimeoutMs(checks.length)
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PeersetError('VERIFIER_FAILED', `verifier "${verifier.name}" did not answer ${checks.length} signatures within ${ms} ms; verified on the main thread instead`)), ms)
      cancel = breaker.onTrip(() => reject(TRIPPED))
    })
    const asked = Promise.resolve().then(() => verifier.verify(checks))
    asked.catch(() => undefined) // a verifier that fails after its time is up is not an unhandled rejection
    const answers: unknown = await Promise.race([asked, late])
    if (Array.isArray(answers) && answers.length === checks.length && answers.every((a) => typeof a === 'boolean')) {
      breaker.succeeded()
      return answers as boolean[]
    }
    breaker.failed(askedAt, new PeersetError('VERIFIER_FAILED', `verifier "${verifier.name}" answered ${Array.isArray(answers) ? `${answers.length} values` : typeof answers} for ${checks.length} signatures; verified on the main thread instead`), onError)
  } catch (cause) {
    if (cause !== TRIPPED) breaker.failed(askedAt, cause instanceof PeersetError ? cause : new PeersetError('VERIFIER_FAILED', `verifier "${verifier.name}" failed: ${String(cause)}`, { cause }), onError)
  } finally {
    clearTimeout(timer)
    cancel()
  }
  return verifyHere(checks)
}

/** Why a batch stopped waiting: another batch tripped the breaker (already reported). */
const TRIPPED = Symbol('tripped')
