/**
 * A small typed event emitter. Event names and payloads are checked by the compiler; every event
 * may have many listeners; a listener that throws never breaks the other listeners or the engine:
 * its error (or an async listener's rejection) is reported through `onListenerError` (the peerset
 * turns it into an `error` event).
 */
import { PeersetError } from './errors.js'

/** A map from event name to the tuple of arguments its listeners receive. */
export type EventMap = { [name: string]: unknown[] }

/** A listener of event `K`. */
export type Listener<M extends EventMap, K extends keyof M> = (...args: M[K]) => void

/** The subscribe half of an emitter: what a host app sees. */
export interface Subscribable<M extends EventMap> {
  /**
   * Subscribe to `event`. Returns a function that unsubscribes.
   * @example
   * const off = peerset.on('record:added', (record) => console.log(record.text))
   * off()
   */
  on<K extends keyof M>(event: K, listener: Listener<M, K>): () => void
  /** Subscribe for one call only. Returns a function that unsubscribes. */
  once<K extends keyof M>(event: K, listener: Listener<M, K>): () => void
  /** Remove a listener added with `on` (no-op if absent). */
  off<K extends keyof M>(event: K, listener: Listener<M, K>): void
}

/** The full emitter, kept by the owner of the events. */
export interface Emitter<M extends EventMap> extends Subscribable<M> {
  /** Call every listener of `event` in subscription order. Returns whether any listener ran. */
  emit<K extends keyof M>(event: K, ...args: M[K]): boolean
  /** The number of listeners of `event`. */
  listenerCount(event: keyof M): number
  /** Remove every listener. */
  clear(): void
}

/**
 * Create a typed emitter.
 * @param onListenerError called when a listener throws (never re-entered for its own errors).
 * @example
 * const events = createEmitter<{ ping: [n: number] }>()
 * events.on('ping', (n) => console.log(n))
 * events.emit('ping', 1)
 */
export function createEmitter<M extends EventMap>(
  onListenerError?: (error: unknown, event: keyof M) => void,
): Emitter<M> {
  const listeners = new Map<keyof M, Set<Listener<M, keyof M>>>()
  let reporting = false

  const report = (error: unknown, event: keyof M): void => {
    if (!onListenerError || reporting) return
    reporting = true
    try {
      onListenerError(error, event)
    } catch {
      // An error handler that throws has nowhere left to report to.
    } finally {
      reporting = false
    }
  }

  const on = <K extends keyof M>(event: K, listener: Listener<M, K>): (() => void) => {
    if (typeof listener !== 'function') {
      throw new PeersetError('INVALID_ARGUMENT', `on: the listener for "${String(event)}" must be a function, got ${listener === null ? 'null' : typeof listener}`)
    }
    let set = listeners.get(event)
    if (!set) listeners.set(event, (set = new Set()))
    // A Set keeps insertion order, and a listener added twice is called once.
    set.add(listener as unknown as Listener<M, keyof M>)
    return () => off(event, listener)
  }

  const off = <K extends keyof M>(event: K, listener: Listener<M, K>): void => {
    listeners.get(event)?.delete(listener as unknown as Listener<M, keyof M>)
  }

  const once = <K extends keyof M>(event: K, listener: Listener<M, K>): (() => void) => {
    const wrapper: Listener<M, K> = (...args) => {
      off(event, wrapper)
      listener(...args)
    }
    return on(event, wrapper)
  }

  const emit = <K extends keyof M>(event: K, ...args: M[K]): boolean => {
    const set = listeners.get(event)
    if (!set || set.size === 0) return false
    // Copy: listeners may unsubscribe (or subscribe) while we iterate.
    for (const listener of [...set]) {
      try {
        const result: unknown = listener(...args)
        // An async listener's rejection is reported like a throw, never left unhandled.
        if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
          ;(result as PromiseLike<unknown>).then(undefined, (error: unknown) => report(error, event))
        }
      } catch (error) {
        report(error, event)
      }
    }
    return true
  }

  return {
    on,
    once,
    off,
    emit,
    listenerCount: (event) => listeners.get(event)?.size ?? 0,
    clear: () => listeners.clear(),
  }
}
