import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_RETENTION_MS,
  dailyBuckets,
  fixedIntervalBuckets,
  granularityFromDescriptor,
  hourlyBuckets,
  quarterDayBuckets,
  sameGranularity,
} from '../../src/buckets/index.js'
import { isPeersetError } from '../../src/errors.js'

const DAY = 86_400_000
const HOUR = 3_600_000

function expectInvalid(fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    expect(isPeersetError(err, 'INVALID_ARGUMENT')).toBe(true)
    expect((err as Error).message).toMatch(/^peerset: /)
    return
  }
  throw new Error('expected an INVALID_ARGUMENT PeersetError')
}

describe('epoch alignment', () => {
  it('daily buckets start at UTC midnight, whatever day a peer starts on', () => {
    const g = dailyBuckets()
    const t = Date.parse('2026-11-05T13:45:12.345Z')
    expect(g.rangeOf(g.bucketOf(t))).toEqual({
      startMs: Date.parse('2026-11-05T00:00:00Z'),
      endMs: Date.parse('2026-11-06T00:00:00Z'),
    })
    // Two peers created on different days compute the same bucket number.
    expect(dailyBuckets().bucketOf(t)).toBe(g.bucketOf(t))
    expect(g.bucketOf(0)).toBe(0)
    expect(g.bucketOf(t)).toBe(Math.floor(t / DAY))
  })

  it('quarter-day buckets start at 00, 06, 12 and 18 UTC', () => {
    const g = quarterDayBuckets()
    const starts = ['00', '06', '12', '18'].map((h) => g.rangeOf(g.bucketOf(Date.parse(`2026-11-05T${h}:30:00Z`))).startMs)
    expect(starts).toEqual(['00', '06', '12', '18'].map((h) => Date.parse(`2026-11-05T${h}:00:00Z`)))
  })

  it('hourly buckets start on the hour', () => {
    const g = hourlyBuckets()
    expect(g.rangeOf(g.bucketOf(Date.parse('2026-11-05T13:59:59.999Z'))).startMs).toBe(Date.parse('2026-11-05T13:00:00Z'))
  })
})

describe('boundaries', () => {
  it('the last ms of a bucket and the first ms of the next fall in consecutive buckets', () => {
    for (const g of [dailyBuckets(), quarterDayBuckets(), hourlyBuckets(), fixedIntervalBuckets(1000, { retentionMs: 60_000 })]) {
      const { endMs } = g.rangeOf(20_000)
      expect(g.bucketOf(endMs - 1)).toBe(20_000)
      expect(g.bucketOf(endMs)).toBe(20_001)
      expect(g.rangeOf(20_001).startMs).toBe(endMs)
    }
  })

  it('pre-epoch times map to negative buckets', () => {
    const g = dailyBuckets()
    expect(g.bucketOf(-1)).toBe(-1)
    expect(g.rangeOf(-1)).toEqual({ startMs: -DAY, endMs: 0 })
  })
})

describe('retention window', () => {
  it('holds retentionBuckets buckets ending with the current one', () => {
    const g = dailyBuckets()
    expect(g.descriptor).toEqual({ intervalMs: DAY, retentionBuckets: 90 })
    const now = Date.parse('2026-11-05T13:00:00Z')
    const w = g.windowAt(now)
    expect(w.newest).toBe(g.bucketOf(now))
    expect(w.newest - w.oldest + 1).toBe(90)
  })

  it('rounds the retention up to whole buckets', () => {
    expect(fixedIntervalBuckets(HOUR, { retentionMs: HOUR + 1 }).descriptor.retentionBuckets).toBe(2)
    expect(fixedIntervalBuckets(HOUR, { retentionMs: 1 }).descriptor.retentionBuckets).toBe(1)
    expect(hourlyBuckets().descriptor.retentionBuckets).toBe(DEFAULT_RETENTION_MS / HOUR)
  })

  it('window size equals retentionBuckets for any settings and time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 30 * DAY }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (intervalMs, buckets, now) => {
          const g = granularityFromDescriptor({ intervalMs, retentionBuckets: buckets })
          const w = g.windowAt(now)
          return w.newest - w.oldest + 1 === buckets && g.descriptor.retentionBuckets === buckets
        },
      ),
    )
  })
})

describe('validation', () => {
  it('rejects bad intervals', () => {
    for (const bad of [0, -1000, 999, 1000.5, Number.NaN, Number.POSITIVE_INFINITY, 400 * DAY, '1000' as unknown as number]) {
      expectInvalid(() => fixedIntervalBuckets(bad))
    }
  })

  it('rejects bad retention', () => {
    for (const bad of [0, -DAY, Number.NaN, Number.POSITIVE_INFINITY]) {
      expectInvalid(() => dailyBuckets({ retentionMs: bad }))
    }
    expectInvalid(() => fixedIntervalBuckets(1000, { retentionMs: 100_001 * 1000 }))
    expectInvalid(() => fixedIntervalBuckets(1000, null as unknown as object))
  })

  it('rejects non-finite times and non-integer buckets', () => {
    const g = dailyBuckets()
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number, 2 ** 60]) expectInvalid(() => g.bucketOf(bad))
    for (const bad of [1.5, Number.NaN, 2 ** 60]) expectInvalid(() => g.rangeOf(bad))
    expectInvalid(() => g.windowAt(Number.NaN))
  })

  it('rejects malformed descriptors', () => {
    for (const bad of [null, {}, { intervalMs: 1000 }, { intervalMs: 1000, retentionBuckets: 0 }, { intervalMs: 500, retentionBuckets: 1 }, { intervalMs: 1000, retentionBuckets: 1.5 }]) {
      expectInvalid(() => granularityFromDescriptor(bad as never))
      expectInvalid(() => sameGranularity(bad as never, dailyBuckets().descriptor))
    }
  })
})

describe('descriptors', () => {
  it('are equal for equal settings and differ otherwise', () => {
    expect(sameGranularity(dailyBuckets().descriptor, fixedIntervalBuckets(DAY).descriptor)).toBe(true)
    expect(sameGranularity(dailyBuckets().descriptor, dailyBuckets({ retentionMs: DAY * 89.5 }).descriptor)).toBe(true)
    expect(sameGranularity(dailyBuckets().descriptor, dailyBuckets({ retentionMs: DAY * 30 }).descriptor)).toBe(false)
    expect(sameGranularity(dailyBuckets().descriptor, hourlyBuckets().descriptor)).toBe(false)
    expect(sameGranularity(quarterDayBuckets().descriptor, granularityFromDescriptor(quarterDayBuckets().descriptor).descriptor)).toBe(true)
  })

  it('are frozen plain data that survive JSON', () => {
    const d = dailyBuckets().descriptor
    expect(Object.isFrozen(d)).toBe(true)
    expect(sameGranularity(JSON.parse(JSON.stringify(d)), d)).toBe(true)
  })
})

describe('changing granularity does not lose data', () => {
  it('every time maps to exactly one bucket, whose range contains it, under any strategy', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 365 * DAY }),
        fc.integer({ min: -4_102_444_800_000, max: 4_102_444_800_000 }),
        (intervalMs, t) => {
          const g = fixedIntervalBuckets(intervalMs, { retentionMs: intervalMs })
          const b = g.bucketOf(t)
          const { startMs, endMs } = g.rangeOf(b)
          // Contained in its bucket, and in neither neighbour: so exactly one bucket.
          return Number.isSafeInteger(b) && startMs <= t && t < endMs && g.rangeOf(b - 1).endMs === startMs && g.rangeOf(b + 1).startMs === endMs
        },
      ),
    )
  })

  it('a record in one daily bucket lies in exactly one hourly bucket inside that day', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800 }), (seconds) => {
        const t = seconds * 1000
        const day = dailyBuckets().rangeOf(dailyBuckets().bucketOf(t))
        const hour = hourlyBuckets().rangeOf(hourlyBuckets().bucketOf(t))
        return day.startMs <= hour.startMs && hour.endMs <= day.endMs
      }),
    )
  })
})
