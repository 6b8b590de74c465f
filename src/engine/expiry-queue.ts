/**
 * The records that carry a NIP-40 `expiration`, soonest first: a binary min-heap of
 * (expiresAt, id) with lazy deletion. Adding is O(log n); finding the k records expired by now is
 * O(k log n), so the prune tick never scans the whole index. Entries of removed records stay until
 * they reach the top (or until the heap holds twice as many entries as there are live ones, when it
 * is rebuilt), so memory stays within a constant factor of the live records. The heap is two
 * parallel arrays (times and ids), not an object per entry.
 */
export class ExpiryQueue {
  #ats: number[] = []
  #ids: string[] = []

  get size(): number {
    return this.#ids.length
  }

  /** Remember that `id` expires at `at` (Unix seconds). */
  add(id: string, at: number): void {
    this.#ats.push(at)
    this.#ids.push(id)
    this.#up(this.#ids.length - 1)
  }

  /**
   * The ids of live records (`isLive`) that expired at or before `nowSeconds`. They stay queued
   * until they are removed (so a failed removal is tried again at the next prune); entries of
   * records already removed are dropped on the way.
   */
  expiredBy(nowSeconds: number, isLive: (id: string, at: number) => boolean): string[] {
    const due: Array<[string, number]> = []
    while (this.#ids.length > 0 && this.#ats[0]! <= nowSeconds) {
      const top = this.#pop()
      if (isLive(top[0], top[1])) due.push(top)
    }
    for (const [id, at] of due) this.add(id, at)
    return due.map(([id]) => id)
  }

  /** Rebuild without dead entries once they are more than half of the heap. */
  compact(liveCount: number, isLive: (id: string, at: number) => boolean): void {
    if (this.#ids.length <= 2 * liveCount + 64) return
    const ats = this.#ats
    const ids = this.#ids
    this.#ats = []
    this.#ids = []
    for (let i = 0; i < ids.length; i++) if (isLive(ids[i]!, ats[i]!)) this.add(ids[i]!, ats[i]!)
  }

  #pop(): [string, number] {
    const top: [string, number] = [this.#ids[0]!, this.#ats[0]!]
    const lastId = this.#ids.pop()!
    const lastAt = this.#ats.pop()!
    if (this.#ids.length > 0) {
      this.#ids[0] = lastId
      this.#ats[0] = lastAt
      this.#down(0)
    }
    return top
  }

  #swap(i: number, j: number): void {
    const ats = this.#ats
    const ids = this.#ids
    ;[ats[i], ats[j]] = [ats[j]!, ats[i]!]
    ;[ids[i], ids[j]] = [ids[j]!, ids[i]!]
  }

  #up(i: number): void {
    const ats = this.#ats
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (ats[parent]! <= ats[i]!) return
      this.#swap(parent, i)
      i = parent
    }
  }

  #down(i: number): void {
    const ats = this.#ats
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let min = i
      if (l < ats.length && ats[l]! < ats[min]!) min = l
      if (r < ats.length && ats[r]! < ats[min]!) min = r
      if (min === i) return
      this.#swap(min, i)
      i = min
    }
  }
}
