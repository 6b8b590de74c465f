/**
 * Letting the event loop run between stretches of work (internal), without the delay of a
 * zero-delay timer: Node runs a `setTimeout(0)` after at least 1 ms and browsers clamp nested ones
 * to 4 ms, idle time that a catch-up verifying in 20 ms stretches lost on every stretch (5 to 17 %
 * of its rate). `scheduler.yield()` where the browser has it (input and rendering go first, then
 * this task continues), else `setImmediate` (Node), else a `MessageChannel` message (browsers),
 * else a zero-delay timer.
 */
type Yield = () => Promise<void>

function chooseYield(): Yield {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler
  if (typeof scheduler?.yield === 'function') return () => scheduler.yield!()
  // Looked up at each call: test clocks replace `setImmediate` after this module is loaded.
  if (typeof setImmediate === 'function') return () => new Promise((resolve) => setImmediate(resolve))
  if (typeof MessageChannel === 'function') {
    const channel = new MessageChannel()
    const waiting: (() => void)[] = []
    channel.port1.onmessage = () => waiting.shift()?.()
    return () =>
      new Promise((resolve) => {
        waiting.push(resolve)
        channel.port2.postMessage(null)
      })
  }
  return () => new Promise((resolve) => setTimeout(resolve, 0))
}

let chosen: Yield | undefined

/** Resolves after the event loop has had a turn (timers, I/O, input): see the module comment. */
export function yieldToEventLoop(): Promise<void> {
  chosen ??= chooseYield()
  return chosen()
}
