/**
 * `workerVerifier()`: verification spread over a pool of workers (Web Workers in browsers,
 * `worker_threads` in Node). Each `verify` call is cut into one contiguous chunk per worker, sent as
 * one transferred buffer (see `pack.ts`), so message passing costs microseconds per batch.
 */
import { assertKnownOptions, PeersetError } from '../errors.js'
import { isWellFormedCheck, packChecks, type VerifyAnswer, type VerifyRequest } from './pack.js'
import type { SignatureCheck, VerifierStrategy } from './types.js'
import { spawnVerifyWorker, type VerifyWorker } from './spawn.js'

/** Options of {@link workerVerifier}. */
export interface WorkerVerifierOptions {
  /** Workers in the pool. Default: the cores available (`os.availableParallelism()` in Node, `navigator.hardwareConcurrency` in browsers). */
  size?: number
  /** Fewest checks sent to one worker: a smaller batch uses fewer workers. Default 8. */
  minChunk?: number
  /**
   * Where the worker script is. Default: `verify-worker.js` beside the package's own module, which
   * Node and Vite find by themselves; give it for a bundler that does not copy workers it finds in
   * `new Worker(new URL(..., import.meta.url))`. A URL object or an absolute URL string; a relative
   * string only where there is a page to resolve it against (`location`, in a browser), else
   * `workerVerifier` throws `INVALID_ARGUMENT`.
   */
  workerUrl?: URL | string
}

/** Whether `url` is absolute, or relative where a page location resolves it (as `new Worker` would). */
function parsesAsUrl(url: string): boolean {
  try {
    new URL(url, (globalThis as { location?: { href?: string } }).location?.href)
    return true
  } catch {
    return false
  }
}

/** Workers that fail before answering anything, in a row, after which the pool stops spawning and every `verify` rejects at once. */
const MAX_FAILED_SPAWNS = 3

interface Slot {
  worker: VerifyWorker
  pending: Map<number, { count: number; resolve: (valid: Uint8Array) => void; reject: (error: PeersetError) => void }>
  load: number
  answered: boolean
}

/**
 * A verifier that runs noble's Schnorr verification in `size` workers, in parallel with the
 * calling thread (about 1.9x the main-thread rate with two workers on two cores). Workers start
 * on the first `verify` and are closed by `close()` (which `peerset.close()` calls). A worker that
 * crashes rejects its pending checks with `PeersetError` `VERIFIER_FAILED` (the engine then
 * verifies them on the calling thread) and is replaced on the next call.
 * @example
 * ```ts
 * import { createPeerset, workerVerifier } from 'peerset'
 * const peerset = await createPeerset({ room: 'demo', verifier: workerVerifier({ size: 2 }) })
 * ```
 */
export function workerVerifier(options: WorkerVerifierOptions = {}): VerifierStrategy {
  assertKnownOptions('workerVerifier', options, ['size', 'minChunk', 'workerUrl'])
  const size = options.size ?? defaultSize()
  if (!(Number.isSafeInteger(size) && size >= 1 && size <= 256)) throw new PeersetError('INVALID_ARGUMENT', `workerVerifier: size must be an integer in 1..256, got ${String(size)}`)
  const minChunk = options.minChunk ?? 8
  if (!(Number.isSafeInteger(minChunk) && minChunk >= 1)) throw new PeersetError('INVALID_ARGUMENT', `workerVerifier: minChunk must be a positive integer, got ${String(minChunk)}`)
  const { workerUrl } = options
  if (workerUrl !== undefined && typeof workerUrl !== 'string' && !(workerUrl instanceof URL)) throw new PeersetError('INVALID_ARGUMENT', 'workerVerifier: workerUrl must be a URL or a string')
  if (typeof workerUrl === 'string' && !parsesAsUrl(workerUrl)) {
    throw new PeersetError('INVALID_ARGUMENT', `workerVerifier: workerUrl ${JSON.stringify(workerUrl.slice(0, 200))} is not an absolute URL (and there is no page location to resolve it against): pass new URL('./verify-worker.js', import.meta.url) or an absolute URL`)
  }
  return new WorkerPool(size, minChunk, workerUrl)
}

class WorkerPool implements VerifierStrategy {
  readonly name = 'workers'
  readonly concurrent = true
  readonly #slots: (Slot | undefined)[]
  readonly #minChunk: number
  readonly #url: URL | string | undefined
  #nextJob = 0
  #failedSpawns = 0
  #closed = false

  constructor(size: number, minChunk: number, url: URL | string | undefined) {
    this.#slots = new Array<Slot | undefined>(size).fill(undefined)
    this.#minChunk = minChunk
    this.#url = url
  }

  async verify(checks: readonly SignatureCheck[]): Promise<boolean[]> {
    if (this.#closed) throw new PeersetError('CLOSED', 'workerVerifier: verify() after close()')
    if (!Array.isArray(checks)) throw new PeersetError('INVALID_ARGUMENT', 'workerVerifier: checks must be an array')
    if (this.#failedSpawns >= MAX_FAILED_SPAWNS) throw new PeersetError('VERIFIER_FAILED', `workerVerifier: ${MAX_FAILED_SPAWNS} workers in a row failed before answering; the pool is off`)
    const answers = new Array<boolean>(checks.length).fill(false)
    // Plain loops: this runs on the calling thread for every batch the workers verify.
    const sendable: number[] = []
    for (let i = 0; i < checks.length; i++) if (isWellFormedCheck(checks[i]!)) sendable.push(i)
    const parts = Math.min(this.#slots.length, Math.ceil(sendable.length / this.#minChunk))
    const chunk = Math.ceil(sendable.length / Math.max(parts, 1))
    const jobs: Promise<void>[] = []
    for (let start = 0; start < sendable.length; start += chunk) {
      const indices = sendable.slice(start, start + chunk)
      const part: SignatureCheck[] = new Array<SignatureCheck>(indices.length)
      for (let k = 0; k < indices.length; k++) part[k] = checks[indices[k]!]!
      jobs.push(
        this.#run(part).then((valid) => {
          for (let k = 0; k < indices.length; k++) answers[indices[k]!] = valid[k] === 1
        }),
      )
    }
    await Promise.all(jobs)
    return answers
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const slots = this.#slots.filter((s): s is Slot => s !== undefined)
    this.#slots.fill(undefined)
    for (const slot of slots) for (const job of slot.pending.values()) job.reject(new PeersetError('CLOSED', 'workerVerifier: closed while verifying'))
    await Promise.all(slots.map((slot) => slot.worker.terminate()))
  }

  /** Send one chunk to the least loaded worker (spawning it if its slot is empty). */
  #run(checks: readonly SignatureCheck[]): Promise<Uint8Array> {
    const slot = this.#leastLoaded()
    const job = this.#nextJob++
    return new Promise<Uint8Array>((resolve, reject) => {
      slot.pending.set(job, { count: checks.length, resolve, reject })
      slot.load += checks.length
      slot.worker.busy(true)
      const request: VerifyRequest = { job, packed: packChecks(checks) }
      try {
        slot.worker.post(request)
      } catch (cause) {
        this.#fail(slot, cause)
      }
    })
  }

  #leastLoaded(): Slot {
    let best = -1
    for (let i = 0; i < this.#slots.length; i++) {
      const slot = this.#slots[i]
      if (slot === undefined) {
        this.#slots[i] = this.#spawn()
        return this.#slots[i]!
      }
      if (best < 0 || slot.load < this.#slots[best]!.load) best = i
    }
    return this.#slots[best]!
  }

  #spawn(): Slot {
    const slot: Slot = { worker: undefined as unknown as VerifyWorker, pending: new Map(), load: 0, answered: false }
    slot.worker = spawnVerifyWorker(this.#url, {
      answer: (message) => this.#answer(slot, message),
      fail: (cause) => this.#fail(slot, cause),
    })
    return slot
  }

  #answer(slot: Slot, message: VerifyAnswer): void {
    const job = slot.pending.get(message?.job)
    if (job === undefined) return
    slot.pending.delete(message.job)
    slot.load -= job.count
    if (slot.pending.size === 0) slot.worker.busy(false)
    if (!(message.valid instanceof Uint8Array) || message.valid.length !== job.count) {
      job.reject(new PeersetError('VERIFIER_FAILED', 'workerVerifier: a worker answered with the wrong number of verdicts'))
      return
    }
    slot.answered = true
    this.#failedSpawns = 0
    job.resolve(message.valid)
  }

  /** A worker crashed, exited or could not be reached: reject its pending jobs, drop it (the next call spawns another). */
  #fail(slot: Slot, cause: unknown): void {
    const i = this.#slots.indexOf(slot)
    if (i < 0) return // already dropped or closed
    this.#slots[i] = undefined
    if (!slot.answered) this.#failedSpawns++
    const error = new PeersetError('VERIFIER_FAILED', `workerVerifier: a worker failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    for (const job of slot.pending.values()) job.reject(error)
    slot.pending.clear()
    void slot.worker.terminate().catch(() => undefined)
  }
}

function defaultSize(): number {
  const os = typeof process === 'object' && typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule('node:os') : undefined
  if (os) return Math.max(1, os.availableParallelism())
  const cores = typeof navigator === 'object' ? navigator.hardwareConcurrency : undefined
  return typeof cores === 'number' && cores >= 1 ? Math.min(cores, 16) : 2
}
