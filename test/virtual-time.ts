/**
 * Virtual time for tests: fake timers (setTimeout, setInterval, setImmediate, Date, performance)
 * starting at the fixture time, and helpers that advance them. Budgets are in virtual time, so a
 * loaded machine only makes a test slower, never makes it pass or fail. Peersets under test take
 * `clock: virtualClock`.
 */
import { vi } from 'vitest'
import { FIXTURE_NOW } from './helpers.js'

/** The timer functions the swarm tests fake; microtasks (promises, `queueMicrotask`, `nextTick`) stay real. */
export const VIRTUAL_TIMERS = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'Date', 'performance'] as const

/**
 * Runs the simulation on virtual time, from the fixture time: every timer the engine and the
 * memory network use (`setTimeout`, `setInterval`, `setImmediate`, `Date.now`, `performance.now`)
 * is faked, and time only moves when the test advances it ({@link sleep}, {@link waitFor},
 * {@link drive}). CPU work (signature checks, 20 peers sharing one core) then takes no virtual
 * time at all, so timeouts (10 s requests, 90 s idle sessions, 30 s roots) fire at the same
 * simulated moments however slow or loaded the machine is. Pass {@link virtualClock} as the
 * peersets' `clock`. Call {@link realTime} in `afterEach` (after closing the peers).
 *
 * The cost model, deterministic: a zero-delay timer or `setImmediate` created while time advances
 * runs 1 ms later (fake timers never loop at one instant), and the memory network delivers one
 * frame per macrotask, so the whole network carries about 1 000 frames per virtual second and a
 * burst queues up in virtual time (as on a busy link), whatever the machine's speed.
 */
export function virtualTime(startMs = FIXTURE_NOW * 1000): void {
  vi.useFakeTimers({ toFake: [...VIRTUAL_TIMERS], now: startMs })
}

/** Back to real timers. */
export function realTime(): void {
  vi.useRealTimers()
}

/** The virtual clock (the faked `Date.now`): pass as a peerset's `clock`. */
export const virtualClock = (): number => Date.now()

/** Real (wall-clock) milliseconds, for reports only: `process.hrtime` is not faked. */
export function realMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n)
}

/** Let `ms` of virtual time pass, running every timer due on the way (and the microtasks between them). */
export async function sleep(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms)
}

/**
 * Advance virtual time in steps of `stepMs` until `predicate` holds; fails once `budgetMs` of
 * VIRTUAL time has passed (real time does not count: a loaded machine only makes the test slower).
 */
export async function waitFor(predicate: () => boolean, budgetMs = 10_000, what = 'condition', stepMs = 10): Promise<void> {
  const until = Date.now() + budgetMs
  while (!predicate()) {
    if (Date.now() >= until) throw new Error(`waited ${budgetMs / 1000} s of virtual time for ${what}`)
    await vi.advanceTimersByTimeAsync(stepMs)
  }
}

/** Await a promise that may need timers (opening, importing, closing), advancing virtual time until it settles. */
export async function drive<T>(promise: Promise<T>, budgetMs = 60_000, what = 'an operation'): Promise<T> {
  let settled = false
  const tracked = promise.finally(() => void (settled = true))
  tracked.catch(() => undefined)
  await waitFor(() => settled, budgetMs, what, 1)
  return tracked
}

