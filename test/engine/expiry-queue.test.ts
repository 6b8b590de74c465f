import { describe, expect, it } from 'vitest'
import { ExpiryQueue } from '../../src/engine/expiry-queue.js'

/** A small deterministic generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('the expiry queue', () => {
  it('gives the live ids expired by a time, as a scan of the live set would, through adds, removals, compactions and prunes', () => {
    const next = random(14)
    const queue = new ExpiryQueue()
    const live = new Map<string, number>()
    const isLive = (id: string, at: number): boolean => live.get(id) === at
    let now = 1_000
    let counter = 0
    let expiredSeen = 0
    for (let step = 0; step < 5_000; step++) {
      const roll = next()
      if (roll < 0.5) {
        const id = `r${counter++}`
        const at = now + Math.floor(next() * 500)
        live.set(id, at)
        queue.add(id, at)
      } else if (roll < 0.8 && live.size > 0) {
        const ids = [...live.keys()]
        live.delete(ids[Math.floor(next() * ids.length)]!)
        queue.compact(live.size, isLive)
      } else {
        now += Math.floor(next() * 60)
        const due = queue.expiredBy(now, isLive)
        const expected = [...live].filter(([, at]) => at <= now).map(([id]) => id)
        expect(due.sort()).toEqual(expected.sort())
        expiredSeen += due.length
        // The prune removes half of them; the rest must come back next time.
        for (const id of due.filter((_, i) => i % 2 === 0)) live.delete(id)
      }
    }
    expect(expiredSeen).toBeGreaterThan(500)
    queue.compact(live.size, isLive)
    expect(queue.size).toBeLessThanOrEqual(2 * live.size + 64)
  })
})
