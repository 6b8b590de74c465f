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
  /**
   * By signature (the record's own string: its hash is computed once and kept by the engine), or,
   * for a second id claiming a signature already held, by `id:signature`; each entry says which
   * id it is for. The answer of each check is its batch's, read at `at`: no promise per check
   * unless one is asked for (`valid`).
   */
  readonly #known = new Map<string, Entry>()
  /** Entries held by `id:signature`. */
  #aliases = 0

  constructor(verifier: VerifierStrategy, onError: (error: PeersetError) => void) {
    this.#verifier = verifier
    this.#onError = onError
  }

  /** Start checking these in one verifier call (those already asked are skipped); resolves when all of them are answered. */
  async prefetch(checks: readonly SignatureCheck[]): Promise<void> {
    this.ask(checks)
    const batches = new Set<Promise<boolean[]>>()
    for (const check of checks) batches.add(this.#entry(check)!.batch!)
    await Promise.all(batches)
  }

  /** Start checking these in one verifier call (those already asked are skipped), without waiting. */
  ask(checks: readonly SignatureCheck[]): void {
    const unknown: SignatureCheck[] = []
    const entries: Entry[] = []
    for (const check of checks) {
      if (this.#entry(check) !== undefined) continue
      const entry: Entry = { id: check.id, at: unknown.length, batch: undefined, answer: undefined }
      this.#known.set(this.#free(check), entry)
      unknown.push(check)
      entries.push(entry)
    }
    if (unknown.length === 0) return
    const batch = verifyBatch(this.#verifier, unknown, this.#onError)
    for (const entry of entries) entry.batch = batch
  }

  /** Whether this signature verifies (from the answers asked for, or verified now). */
  valid(check: SignatureCheck): Promise<boolean> {
    let entry = this.#entry(check)
    if (entry === undefined) {
      this.ask([check])
      entry = this.#entry(check)!
    }
    const { at } = entry
    return (entry.answer ??= entry.batch!.then((answers) => answers[at]!))
  }

  /** Forget these answers (their batch is judged). */
  forget(checks: Iterable<SignatureCheck>): void {
    for (const check of checks) {
      if (this.#known.get(check.sig)?.id === check.id) this.#known.delete(check.sig)
      if (this.#aliases > 0 && this.#known.delete(`${check.id}:${check.sig}`)) this.#aliases--
    }
  }

  /** Answers held (for tests: bounded by the records queued for ingest). */
  get size(): number {
    return this.#known.size
  }

  #entry(check: SignatureCheck): Entry | undefined {
    const held = this.#known.get(check.sig)
    if (held === undefined || held.id === check.id) return held
    return this.#known.get(`${check.id}:${check.sig}`)
  }

  /** The key for a check not held: its signature, unless another id holds it. */
  #free(check: SignatureCheck): string {
    if (!this.#known.has(check.sig)) return check.sig
    this.#aliases++
    return `${check.id}:${check.sig}`
  }
}

interface Entry {
  readonly id: string
  /** Index of this check's answer in its batch. */
  readonly at: number
  batch: Promise<boolean[]> | undefined
  answer: Promise<boolean> | undefined
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
