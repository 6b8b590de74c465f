/**
 * Watches trystero's signalling sockets (trackers or relays) and reports their state; keeps failing
 * ones retried with backoff. Internal to the trystero transport; it reads sockets through a getter
 * (trystero's `getRelaySockets()`), so it is tested with fake sockets.
 *
 * What trystero does by itself (checked in `@trystero-p2p/core` 0.25, `makeSocket`): a socket that
 * closes is reopened after a random delay in [0, period), the period starting at 3.3 s and doubling
 * up to 60 s; once the period reaches 60 s (about six failed tries, one to two minutes) it gives up
 * on that url for the rest of the process. So a tracker that is down for a few minutes would never be
 * used again. Our addition: while any watched server is failing we hold trystero's reconnection
 * (`pauseRelayReconnection`: a socket that closes then waits instead of counting towards the give-up)
 * and release it (`resumeRelayReconnection`) after our own backoff, {@link signallingRetryMs}:
 * 2 s doubling up to 60 s, shortened by up to half at random, for as long as it takes.
 */
import type { SignallingServerState, TransportState } from './types.js'

/** The part of a WebSocket the monitor reads (browser `WebSocket` and `ws` both have it). */
export interface SocketLike {
  readonly readyState: number
  addEventListener?(type: 'open' | 'error' | 'close', listener: (event: { message?: unknown; code?: unknown; error?: unknown }) => void): void
}

/** Hooks into trystero's reconnection (module-level in trystero, so process-wide). */
export interface ReconnectControl {
  pause(): void
  resume(): void
}

export interface SignallingMonitorOptions {
  /** The urls in use, if known (configured); otherwise every url `sockets()` returns is watched. */
  urls: readonly string[]
  /** The current socket of each url, by url (trystero's `getRelaySockets()`). */
  sockets(): Record<string, SocketLike | undefined>
  clock(): number
  /** A socket still connecting after this long counts as failing. Default 10 s. */
  connectTimeoutMs?: number
  /** trystero's reconnection, held and released by our backoff. Omit to leave trystero alone. */
  reconnect?: ReconnectControl
  /** Random numbers in [0, 1) for the backoff jitter. Default `Math.random`. */
  random?(): number
  /** Schedule a call (the backoff's release). Default `setTimeout` (unref'd). */
  schedule?(fn: () => void, ms: number): () => void
  /** The state changed. */
  onChange(): void
  /** A socket was seen for the first time (e.g. to wrap its `send`). */
  onSocket?(url: string, socket: SocketLike): void
}

/** First wait before releasing trystero's reconnection, ms; doubled while servers keep failing. */
export const SIGNALLING_RETRY_MS = 2_000
/** Longest wait between two reconnection attempts, ms. */
export const MAX_SIGNALLING_RETRY_MS = 60_000

/** The wait before reconnection attempt `failures + 1`: 2 s doubling up to 60 s, shortened by up to half at random. */
export function signallingRetryMs(failures: number, random: number): number {
  const base = Math.min(MAX_SIGNALLING_RETRY_MS, SIGNALLING_RETRY_MS * 2 ** Math.min(failures, 30))
  return Math.max(SIGNALLING_RETRY_MS / 2, Math.round(base * (1 - random / 2)))
}

interface Entry {
  state: SignallingServerState['state']
  since: number
  lastError: string | undefined
  socket: SocketLike | undefined
  /** When the current socket was first seen connecting. */
  connectingSince: number
  /** It failed since it was last open (a reconnecting socket stays `failing` until it opens). */
  failed: boolean
}

export class SignallingMonitor {
  readonly #o: SignallingMonitorOptions
  readonly #entries = new Map<string, Entry>()
  #lastError: string | undefined
  #failures = 0
  #holding = false
  #cancelRelease: (() => void) | undefined
  #stopped = false

  constructor(options: SignallingMonitorOptions) {
    this.#o = options
    const now = options.clock()
    for (const url of options.urls) this.#entries.set(url, { state: 'connecting', since: now, lastError: undefined, socket: undefined, connectingSince: now, failed: false })
  }

  /** The servers' states now. */
  state(peers: number): TransportState {
    const signalling = [...this.#entries].map(([url, e]) => ({ url, state: e.state, since: e.since, ...(e.lastError !== undefined && { lastError: e.lastError }) }))
    return { signalling, peers, ...(this.#lastError !== undefined && { lastError: this.#lastError }) }
  }

  /** Read the sockets again; calls `onChange` if anything changed. */
  poll(): void {
    if (this.#stopped) return
    const now = this.#o.clock()
    const sockets = this.#o.sockets()
    let changed = false
    if (this.#o.urls.length === 0) {
      for (const url of Object.keys(sockets)) {
        if (this.#entries.has(url)) continue
        this.#entries.set(url, { state: 'connecting', since: now, lastError: undefined, socket: undefined, connectingSince: now, failed: false })
        changed = true
      }
    }
    for (const [url, e] of this.#entries) {
      const socket = sockets[url]
      if (socket !== undefined && socket !== e.socket) {
        e.socket = socket
        e.connectingSince = now
        this.#listen(url, e, socket)
        this.#o.onSocket?.(url, socket)
      }
      const next = this.#stateOf(url, e, now)
      if (next !== e.state) {
        e.state = next
        e.since = now
        changed = true
      }
    }
    this.#retry()
    if (changed) this.#o.onChange()
  }

  /** Stop watching; release trystero's reconnection if we hold it. */
  stop(): void {
    this.#stopped = true
    this.#cancelRelease?.()
    this.#cancelRelease = undefined
    if (this.#holding) this.#o.reconnect?.resume()
    this.#holding = false
  }

  #stateOf(url: string, e: Entry, now: number): Entry['state'] {
    const ready = e.socket?.readyState
    if (ready === 1) {
      e.failed = false
      return 'open'
    }
    if (ready === 2 || ready === 3) {
      e.failed = true
      if (e.lastError === undefined) {
        // It closed before we could listen to it (between two polls).
        e.lastError = e.state === 'open' ? 'connection closed' : 'could not connect'
        this.#lastError = `${url}: ${e.lastError}`
      }
      return 'failing'
    }
    if (e.failed) return 'failing'
    if (now - e.connectingSince >= (this.#o.connectTimeoutMs ?? 10_000)) {
      e.lastError ??= `no connection after ${Math.round((now - e.connectingSince) / 1000)} s`
      this.#lastError ??= e.lastError
      return 'failing'
    }
    return 'connecting'
  }

  #listen(url: string, e: Entry, socket: SocketLike): void {
    let errored = false
    const note = (message: string): void => {
      if (this.#stopped || e.socket !== socket) return
      e.lastError = message
      this.#lastError = `${url}: ${message}`
      this.#o.onChange()
      this.poll()
    }
    socket.addEventListener?.('error', (event) => {
      errored = true
      const detail = event.message ?? (event.error as { message?: unknown } | undefined)?.message
      note(typeof detail === 'string' && detail !== '' ? detail : 'connection error')
    })
    socket.addEventListener?.('close', (event) => {
      if (errored) return void (this.#stopped || this.poll()) // the error said why
      const code = typeof event.code === 'number' ? ` (code ${event.code})` : ''
      note(e.state === 'open' ? `connection closed${code}` : `could not connect${code}`)
    })
    socket.addEventListener?.('open', () => void (this.#stopped || this.poll()))
  }

  /** While a server fails, hold trystero's reconnection and release it after our backoff. */
  #retry(): void {
    const control = this.#o.reconnect
    if (!control) return
    const failing = [...this.#entries.values()].some((e) => e.state === 'failing')
    if (!failing) {
      this.#failures = 0
      this.#cancelRelease?.()
      this.#cancelRelease = undefined
      if (this.#holding) control.resume()
      this.#holding = false
      return
    }
    if (!this.#holding) control.pause()
    this.#holding = true
    if (this.#cancelRelease) return // a release is already scheduled
    const delay = signallingRetryMs(this.#failures++, (this.#o.random ?? Math.random)())
    const schedule = this.#o.schedule ?? defaultSchedule
    this.#cancelRelease = schedule(() => void this.#release(control), delay)
  }

  /**
   * Let the waiting sockets reconnect, then hold again before any of them can fail: trystero reopens
   * them a few microtasks after the release, and a socket fails at the earliest in a later I/O
   * callback. A socket that fails while we hold waits for our next release (it never counts towards
   * trystero's give-up); one that opens is seen at the next poll, which lets go for good.
   */
  async #release(control: ReconnectControl): Promise<void> {
    this.#cancelRelease = undefined
    if (this.#stopped) return
    control.resume()
    for (let i = 0; i < 10; i++) await null
    if (this.#stopped) return
    control.pause()
    this.#holding = true
    this.poll()
  }
}

function defaultSchedule(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms)
  ;(timer as { unref?: () => void }).unref?.()
  return () => clearTimeout(timer)
}
