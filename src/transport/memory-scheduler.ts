/**
 * The delivery queue of the memory network (internal). The only part of the memory network that
 * uses timers.
 */

/** A scheduled delivery. */
interface Delivery {
  due: number
  seq: number
  run: () => void
}

/** The queue: `push` a delivery due at a `performance.now()` time; `close` discards everything. */
export interface DeliveryScheduler {
  push(due: number, run: () => void): void
  close(): void
}

/**
 * Runs each delivery in its own macrotask, in (due, arrival) order, so microtasks settle between two
 * deliveries as they do between two network events in a browser.
 */
export function createScheduler(): DeliveryScheduler {
  const heap: Delivery[] = []
  let seq = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  let timerDue = Number.POSITIVE_INFINITY
  let taskPending = false
  let closed = false
  const nextTask = macrotask()

  const before = (a: Delivery, b: Delivery): boolean => a.due < b.due || (a.due === b.due && a.seq < b.seq)
  function pushHeap(item: Delivery): void {
    let i = heap.push(item) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i] as Delivery, heap[parent] as Delivery)) break
      ;[heap[i], heap[parent]] = [heap[parent] as Delivery, heap[i] as Delivery]
      i = parent
    }
  }
  function popHeap(): Delivery | undefined {
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last
      let i = 0
      for (;;) {
        const [l, r] = [2 * i + 1, 2 * i + 2]
        let m = i
        if (l < heap.length && before(heap[l] as Delivery, heap[m] as Delivery)) m = l
        if (r < heap.length && before(heap[r] as Delivery, heap[m] as Delivery)) m = r
        if (m === i) break
        ;[heap[i], heap[m]] = [heap[m] as Delivery, heap[i] as Delivery]
        i = m
      }
    }
    return top
  }
  function runOne(): void {
    taskPending = false
    if (closed) return
    const top = heap[0]
    try {
      if (top !== undefined && top.due <= performance.now()) popHeap()?.run()
    } finally {
      // A handler that throws surfaces as an uncaught error, but the network keeps running.
      pump()
    }
  }
  function pump(): void {
    const top = heap[0]
    if (closed || taskPending || top === undefined) return
    const now = performance.now()
    if (top.due <= now) {
      taskPending = true
      nextTask(runOne)
    } else if (top.due < timerDue) {
      clearTimeout(timer)
      timerDue = top.due
      timer = setTimeout(() => {
        timer = undefined
        timerDue = Number.POSITIVE_INFINITY
        pump()
      }, Math.max(1, Math.ceil(top.due - now)))
    }
  }
  return {
    push(due, run) {
      pushHeap({ due, seq: seq++, run })
      pump()
    },
    close() {
      closed = true
      heap.length = 0
      clearTimeout(timer)
    },
  }
}

/** Schedule a macrotask: setImmediate (Node), else a MessageChannel (browsers), else setTimeout. */
function macrotask(): (fn: () => void) => void {
  if (typeof setImmediate === 'function') return (fn) => void setImmediate(fn)
  if (typeof MessageChannel === 'function') {
    const channel = new MessageChannel()
    const queue: (() => void)[] = []
    channel.port1.onmessage = () => queue.shift()?.()
    return (fn) => {
      queue.push(fn)
      channel.port2.postMessage(null)
    }
  }
  return (fn) => void setTimeout(fn, 0)
}
