/** The throttle and the rate of `sync:progress` (src/engine/sync-progress.ts), on given times. */
import { describe, expect, it } from 'vitest'
import { SYNC_PROGRESS_INTERVAL_MS, SYNC_RATE_WINDOW_MS, SyncProgress } from '../../src/engine/sync-progress.js'

describe('SyncProgress', () => {
  it('counts from the start of the catch-up, throttles, and ends with received === expected', () => {
    const progress = new SyncProgress()
    // The peerset had judged 40 records (30 added) before this catch-up; 100 are wanted.
    expect(progress.start(1_000, { resolved: 40, added: 30, wanted: 100 })).toEqual({ received: 0, expected: 100, added: 0, rate: 0 })
    expect(progress.update(1_000 + SYNC_PROGRESS_INTERVAL_MS - 1, { resolved: 50, added: 40, wanted: 90 })).toBeUndefined()
    expect(progress.update(1_000 + SYNC_PROGRESS_INTERVAL_MS, { resolved: 50, added: 40, wanted: 90 })).toMatchObject({ received: 10, expected: 100, added: 10 })
    // Nothing changed: nothing to say, however long it has been.
    expect(progress.update(5_000, { resolved: 50, added: 40, wanted: 90 })).toBeUndefined()
    // More announced: expected grows.
    expect(progress.update(5_000, { resolved: 60, added: 49, wanted: 120 })).toMatchObject({ received: 20, expected: 140, added: 19 })
    // The end, even right after the previous event: everything received that was wanted.
    expect(progress.finish(5_001, { resolved: 160, added: 140, wanted: 0 })).toMatchObject({ received: 120, expected: 120, added: 110 })
  })

  it(`gives the rate over the last ${SYNC_RATE_WINDOW_MS / 1000} s`, () => {
    const progress = new SyncProgress()
    progress.start(0, { resolved: 0, added: 0, wanted: 10_000 })
    // 100 records per second for 10 s, then 10 per second for 5 s.
    let resolved = 0
    let last
    for (let t = 250; t <= 10_000; t += 250) last = progress.update(t, { resolved: (resolved += 25), added: resolved, wanted: 10_000 - resolved })
    expect(last?.rate).toBe(100)
    for (let t = 10_500; t <= 15_000; t += 500) last = progress.update(t, { resolved: (resolved += 5), added: resolved, wanted: 10_000 - resolved })
    expect(last?.rate).toBe(10)
  })
})
