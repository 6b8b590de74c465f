/**
 * The transport's connection state as the host app sees it: every change is a `transport:state`
 * event, and a room with no reachable signalling server for {@link NO_SIGNALLING_WARNING_MS} is a
 * `no-signalling` warning (once per outage), never a crash.
 */
import type { TransportRoom, TransportState } from '../transport/types.js'
import { unref, type Reporter } from './reporter.js'

/** How long no signalling server may be open before the `no-signalling` warning, ms. */
export const NO_SIGNALLING_WARNING_MS = 10_000

export class TransportWatch {
  readonly #reporter: Reporter
  readonly #warnAfterMs: number
  #room: TransportRoom | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #warned = false
  #stopped = false

  constructor(reporter: Reporter, warnAfterMs = NO_SIGNALLING_WARNING_MS) {
    this.#reporter = reporter
    this.#warnAfterMs = warnAfterMs
  }

  /** The room in use (again after a rejoin); its state is checked now. */
  attach(room: TransportRoom): void {
    this.#room = room
    const state = room.state?.()
    if (state) this.#check(state)
  }

  /** The transport's `onState`. */
  changed(state: TransportState): void {
    if (this.#stopped) return
    this.#reporter.events.emit('transport:state', state)
    this.#check(state)
  }

  /** The state now (null when the transport reports none). */
  state(): TransportState | null {
    return this.#room?.state?.() ?? null
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  #check(state: TransportState): void {
    if (this.#stopped) return
    if (!unreachable(state)) {
      clearTimeout(this.#timer)
      this.#timer = undefined
      this.#warned = false
      return
    }
    if (this.#timer !== undefined || this.#warned) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      const now = this.state()
      if (this.#stopped || now === null || !unreachable(now)) return
      this.#warned = true
      this.#reporter.warn({ code: 'no-signalling', message: noSignallingMessage(now, this.#warnAfterMs) })
    }, this.#warnAfterMs)
    unref(this.#timer)
  }
}

/** Signalling servers are in use and none is open. */
function unreachable(state: TransportState): boolean {
  return state.signalling.length > 0 && !state.signalling.some((s) => s.state === 'open')
}

function noSignallingMessage(state: TransportState, afterMs: number): string {
  const servers = state.signalling.map((s) => `${s.url} ${s.state}${s.lastError === undefined ? '' : ` (${s.lastError})`}`).join(', ')
  return (
    `no signalling server reachable for ${Math.round(afterMs / 1000)} s: new peers cannot be found (peers already connected keep syncing); ` +
    `retrying with backoff. Servers: ${servers}`
  )
}
