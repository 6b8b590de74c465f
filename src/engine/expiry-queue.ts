/**
 * The records that carry a NIP-40 `expiration`, soonest first: a binary min-heap of
 * (expiresAt, id) with lazy deletion. Adding is O(log n); finding the k records expired by now is
 * O(k log n), so the prune tick never scans the whole index. Entries of removed records stay until
 * they reach the top (or until the heap holds twice as many entries as there are live ones, when it
 * is rebuilt), so memory stays within a constant factor of the live records.
 */
export class ExpiryQueue {
  #heap: Array<{ at: number; id: string }> = []

  get size(): number {
    return this.#heap.length
  }

  /** Remember that `id` expires at `at` (Unix seconds). */
  add(id: string, at: number): void {
    this.#heap.push({ at, id })
    this.#up(this.#heap.length - 1)
  }

  /**
   * The ids of live records (`isLive`) that expired at or before `nowSeconds`. They stay queued
   * until they are removed (so a failed removal is tried again at the next prune); entries of
   * records already removed are dropped on the way.
   */
  expiredBy(nowSeconds: number, isLive: (id: string, at: number) => boolean): string[] {
    const due: Array<{ at: number; id: string }> = []
    while (this.#heap.length > 0 && this.#heap[0]!.at <= nowSeconds) {
      const top = this.#pop()
      if (isLive(top.id, top.at)) due.push(top)
    }
    for (const entry of due) this.add(entry.id, entry.at)
    return due.map((e) => e.id)
  }

  /** Rebuild without dead entries once they are more than half of the heap. */
  compact(liveCount: number, isLive: (id: string, at: number) => boolean): void {
    if (this.#heap.length <= 2 * liveCount + 64) return
    const live = this.#heap.filter((e) => isLive(e.id, e.at))
    this.#heap = []
    for (const e of live) this.add(e.id, e.at)
  }

  #pop(): { at: number; id: string } {
    const heap = this.#heap
    const top = heap[0]!
    const last = heap.pop()!
    if (heap.length > 0) {
      heap[0] = last
      this.#down(0)
    }
    return top
  }

  #up(i: number): void {
    const heap = this.#heap
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (heap[parent]!.at <= heap[i]!.at) return
      ;[heap[parent], heap[i]] = [heap[i]!, heap[parent]!]
      i = parent
    }
  }

  #down(i: number): void {
    const heap = this.#heap
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let min = i
      if (l < heap.length && heap[l]!.at < heap[min]!.at) min = l
      if (r < heap.length && heap[r]!.at < heap[min]!.at) min = r
      if (min === i) return
      ;[heap[min], heap[i]] = [heap[i]!, heap[min]!]
      i = min
    }
  }
}
