/**
 * The health of the peerset's store, as `status().storage` shows it: `ok`; `degraded` (writes
 * fail, e.g. the quota is exceeded); `closed` (the connection is gone: another tab upgrades the
 * database, the browser closed it). A change for the worse is a `warning`.
 *
 * While the store is not `ok`, records are not pulled from peers (every pulled record would fail
 * to be stored, and be pulled again on the next round, forever): {@link StorageHealth.mayPull}
 * lets one probe batch through per back-off period (doubling from {@link STORAGE_PROBE_MS} to
 * {@link MAX_STORAGE_PROBE_MS}) while `degraded`, none while `closed`. A write that succeeds, or
 * the store reporting that it reopened, makes it `ok` again and pulling resumes.
 */
import { PeersetError } from '../errors.js'
import type { PeersetWarning } from '../peerset-types.js'
import type { RecordStore, StoreHealthChange, StoreHealthState } from '../storage/types.js'
import type { Reporter } from './reporter.js'

/** First wait, after a failed write, before one probe batch of records is pulled again, ms. */
export const STORAGE_PROBE_MS = 30_000
/** Longest wait between two probe batches while writes keep failing, ms. */
export const MAX_STORAGE_PROBE_MS = 600_000

/** What `status().storage` tells of the store's health. */
export interface StorageHealthStatus {
  state: StoreHealthState
  /** The last storage error (a failed write, a lost connection), while not `ok`. */
  lastError?: string
}

export class StorageHealth {
  readonly #reporter: Reporter
  readonly #clock: () => number
  #state: StoreHealthState = 'ok'
  #lastError: string | undefined
  /** Failed writes (or probes) in a row. */
  #failures = 0
  #probeAt = 0
  /** Whether the store said it is closed (only it can say it is open again). */
  #storeClosed = false
  readonly #unsubscribe: (() => void) | undefined

  constructor(store: RecordStore, reporter: Reporter, clock: () => number) {
    this.#reporter = reporter
    this.#clock = clock
    this.#unsubscribe = store.onHealthChange?.((change) => this.storeChanged(change))
  }

  status(): StorageHealthStatus {
    return this.#lastError === undefined || this.#state === 'ok' ? { state: this.#state } : { state: this.#state, lastError: this.#lastError }
  }

  /** Whether records may be pulled from peers now (see the module comment). */
  mayPull(): boolean {
    if (this.#state === 'ok') return true
    return !this.#storeClosed && this.#clock() >= this.#probeAt
  }

  /** Records were requested: while not `ok`, that was the probe; the next one waits. */
  pulled(): void {
    if (this.#state !== 'ok') this.#probeAt = this.#clock() + probeDelayMs(this.#failures)
  }

  /** A write committed: the store works. */
  writeSucceeded(): void {
    if (this.#state === 'ok' || this.#storeClosed) return
    this.#failures = 0
    this.#set('ok', undefined)
  }

  /**
   * A write failed. A `CLOSED` error from a store that does not report its health shows as
   * `closed`, but is probed like a full store (it may come back).
   */
  writeFailed(error: unknown): void {
    this.#failures++
    this.#probeAt = this.#clock() + probeDelayMs(this.#failures - 1)
    if (this.#state !== 'ok') {
      this.#lastError = String(error)
      return
    }
    const closed = error instanceof PeersetError && error.code === 'CLOSED'
    const quota = isQuotaError(error)
    const code: PeersetWarning['code'] = closed ? 'storage-closed' : quota ? 'storage-quota' : 'storage-failed'
    const what = closed ? 'storage is closed' : quota ? 'storage is full (quota exceeded)' : 'writing to storage failed'
    this.#set(closed ? 'closed' : 'degraded', String(error), code, `${what} (${String(error)}): records are not pulled from peers until a write succeeds (one probe batch every ${Math.round(probeDelayMs(0) / 1000)} s or more)`)
  }

  /** The store reported a change of its own (a lost or reopened connection). */
  storeChanged(change: StoreHealthChange): void {
    if (change.state === 'ok') {
      this.#storeClosed = false
      this.#failures = 0
      return this.#set('ok', undefined)
    }
    this.#storeClosed = change.state === 'closed'
    const detail = change.error === undefined ? change.reason : `${change.reason}: ${String(change.error)}`
    if (change.state === this.#state && change.reason !== 'reopen-failed') {
      this.#lastError = detail
      return
    }
    const message =
      change.reason === 'reopen-failed'
        ? `the storage connection was lost and could not be reopened (${detail}): records are not stored or pulled; reload the page`
        : `the storage connection was closed (${detail}): records are not pulled from peers until it is reopened`
    this.#set(change.state, detail, change.state === 'closed' ? 'storage-closed' : 'storage-failed', message)
  }

  close(): void {
    this.#unsubscribe?.()
  }

  #set(state: StoreHealthState, lastError: string | undefined, code?: PeersetWarning['code'], message?: string): void {
    this.#state = state
    this.#lastError = lastError
    if (code !== undefined && message !== undefined) this.#reporter.warn({ code, message })
  }
}

/** The wait before the probe after `failures` failed probes: 30 s doubling up to 10 minutes. */
export function probeDelayMs(failures: number): number {
  return Math.min(MAX_STORAGE_PROBE_MS, STORAGE_PROBE_MS * 2 ** Math.min(failures, 20))
}

/** Whether an error (or its cause) is a QuotaExceededError. */
export function isQuotaError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { name?: unknown }).name === 'QuotaExceededError' || (e as { reason?: unknown }).reason === 'QuotaExceededError') return true
  }
  return false
}
