/**
 * How the engine uses a verifier (internal): one call per batch, answers checked, and a verifier
 * that fails or answers garbage replaced by main-thread verification for that batch, so a broken
 * strategy costs speed and an `error` event, never a wrong verdict or a stuck ingest queue.
 */
import { PeersetError } from '../errors.js'
import { verifyHere } from './main-thread.js'
import type { SignatureCheck, VerifierStrategy } from './types.js'

/** The signatures checked for one ingest batch, by id and signature; missing ones are verified on demand. */
export class SignatureBook {
  readonly #verifier: VerifierStrategy
  readonly #onError: (error: PeersetError) => void
  readonly #known = new Map<string, boolean>()

  constructor(verifier: VerifierStrategy, onError: (error: PeersetError) => void) {
    this.#verifier = verifier
    this.#onError = onError
  }

  /** Verify these checks in one call (those already known are skipped). */
  async prefetch(checks: readonly SignatureCheck[]): Promise<void> {
    const unknown = checks.filter((check) => !this.#known.has(keyOf(check)))
    if (unknown.length === 0) return
    const answers = await verifyBatch(this.#verifier, unknown, this.#onError)
    unknown.forEach((check, i) => this.#known.set(keyOf(check), answers[i]!))
  }

  /** Whether this signature verifies (from the prefetched answers, or verified now). */
  async valid(check: SignatureCheck): Promise<boolean> {
    const key = keyOf(check)
    if (!this.#known.has(key)) await this.prefetch([check])
    return this.#known.get(key)!
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

/** The verifier's answers, or the main thread's when it fails or is too late (reported through `onError`). */
export async function verifyBatch(verifier: VerifierStrategy, checks: readonly SignatureCheck[], onError: (error: PeersetError) => void): Promise<boolean[]> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    const ms = verifyTimeoutMs(checks.length)
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PeersetError('VERIFIER_FAILED', `verifier "${verifier.name}" did not answer ${checks.length} signatures within ${ms} ms; verified on the main thread instead`)), ms)
    })
    const asked = Promise.resolve().then(() => verifier.verify(checks))
    asked.catch(() => undefined) // a verifier that fails after its time is up is not an unhandled rejection
    const answers: unknown = await Promise.race([asked, late])
    if (Array.isArray(answers) && answers.length === checks.length && answers.every((a) => typeof a === 'boolean')) return answers as boolean[]
    onError(new PeersetError('VERIFIER_FAILED', `verifier "${verifier.name}" answered ${Array.isArray(answers) ? `${answers.length} values` : typeof answers} for ${checks.length} signatures; verified on the main thread instead`))
  } catch (cause) {
    const error = cause instanceof PeersetError ? cause : new PeersetError('VERIFIER_FAILED', `verifier "${verifier.name}" failed: ${String(cause)}`, { cause })
    onError(error)
  } finally {
    clearTimeout(timer)
  }
  return verifyHere(checks)
}
