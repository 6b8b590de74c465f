/** The peerset's outward voice, shared by the parts of the engine: events, warnings and errors. */
import { createEmitter, type Emitter } from '../events.js'
import type { PeersetEvents, PeersetWarning } from '../peerset-types.js'

/** Warnings `status()` lists at most (the newest); a warning repeated over a long run (a failing rejoin) cannot grow it without end. */
export const MAX_WARNINGS = 100

/**
 * Events plus the warning list of `status()`. Warnings raised while the peerset opens are held and
 * emitted on the next macrotask, once the caller has had a chance to subscribe; later ones at once.
 */
export class Reporter {
  readonly events: Emitter<PeersetEvents>
  readonly #warnings: PeersetWarning[] = []
  #live = false

  constructor() {
    this.events = createEmitter<PeersetEvents>((error) => this.events.emit('error', error))
  }

  get warnings(): PeersetWarning[] {
    return [...this.#warnings]
  }

  warn(warning: PeersetWarning): void {
    this.#warnings.push(warning)
    if (this.#warnings.length > MAX_WARNINGS) this.#warnings.shift()
    if (this.#live) this.events.emit('warning', warning)
  }

  error(error: unknown): void {
    this.events.emit('error', error)
  }

  /** Open for business: emit the warnings held so far on the next macrotask, unless `stillOpen()` is false by then. */
  goLive(stillOpen: () => boolean): void {
    const held = [...this.#warnings]
    setTimeout(() => {
      if (stillOpen()) for (const w of held) this.events.emit('warning', w)
    }, 0)
    this.#live = true
  }
}

/** Don't keep a Node process alive for a timer. */
export function unref(timer: unknown): void {
  ;(timer as { unref?: () => void }).unref?.()
}

/** `promise`, or `undefined` after `ms` if it has not settled by then. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(undefined), ms)
    promise.then(
      (v) => {
        clearTimeout(t)
        resolve(v)
      },
      (e) => {
        clearTimeout(t)
        reject(e)
      },
    )
  })
}
