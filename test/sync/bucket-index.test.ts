import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { dailyBuckets } from '../../src/buckets/index.js'
import { EMPTY_DIGEST } from '../../src/protocol/messages.js'
import { BucketIndex } from '../../src/sync/bucket-index.js'
import { Fingerprint } from '../../src/sync/fingerprint.js'

const DAY = 86_400
const id = (i: number) => i.toString(16).padStart(64, '0')
const g = dailyBuckets()

describe('BucketIndex', () => {
  it('files ids by the bucket of their creation time', () => {
    const index = new BucketIndex(g)
    expect(index.add(id(1), 20_000 * DAY + 5)).toBe(true)
    expect(index.add(id(2), 20_000 * DAY + 100)).toBe(true)
    expect(index.add(id(3), 20_001 * DAY)).toBe(true)
    expect(index.add(id(1), 20_000 * DAY + 5)).toBe(false)
    expect(index.size).toBe(3)
    expect(index.has(id(2))).toBe(true)
    expect(index.createdAtOf(id(2))).toBe(20_000 * DAY + 100)
    expect(index.bucketOfId(id(3))).toBe(20_001)
    expect([...index.bucketIds(20_000)].sort()).toEqual([id(1), id(2)])
    expect(index.buckets()).toEqual([20_000, 20_001])
  })

  it('keeps per-bucket and root fingerprints equal to a recomputation, through any adds and removes', () => {
    const op = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 5 }))
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const index = new BucketIndex(g)
        const truth = new Map<string, number>()
        for (const [add, n, day] of ops) {
          if (add && !truth.has(id(n))) {
            index.add(id(n), (20_000 + day) * DAY)
            truth.set(id(n), 20_000 + day)
          } else if (!add) {
            expect(index.remove(id(n))).toBe(truth.delete(id(n)))
          }
        }
        const window = { oldest: 20_001, newest: 20_004 }
        const summary = index.summary(window)
        const inWindow = [...truth].filter(([, b]) => b >= 20_001 && b <= 20_004)
        expect(summary.count).toBe(inWindow.length)
        expect(summary.digest).toBe(Fingerprint.of(inWindow.map(([x]) => x)).digest())
        for (const b of summary.buckets) {
          const ids = [...truth].filter(([, bucket]) => bucket === b.bucket).map(([x]) => x)
          expect(b).toEqual({ bucket: b.bucket, ...Fingerprint.of(ids).value() })
        }
        expect(summary.buckets.map((b) => b.bucket)).toEqual([...new Set(inWindow.map(([, b]) => b))].sort())
        expect(index.root({ oldest: 0, newest: 30_000 }).count).toBe(truth.size)
      }),
    )
  })

  it('lists sorted ids per bucket and invalidates the order on change', () => {
    const index = new BucketIndex(g)
    for (const n of [5, 3, 9]) index.add(id(n), 20_000 * DAY)
    expect(index.sortedBucketIds(20_000)).toEqual([id(3), id(5), id(9)])
    index.add(id(1), 20_000 * DAY)
    expect(index.sortedBucketIds(20_000)).toEqual([id(1), id(3), id(5), id(9)])
    expect(index.sortedBucketIds(1)).toEqual([])
    expect(index.bucketFingerprint(1)).toEqual({ count: 0, digest: EMPTY_DIGEST })
  })

  it('drops whole buckets before a bucket and returns their ids', () => {
    const index = new BucketIndex(g)
    index.add(id(1), 19_999 * DAY)
    index.add(id(2), 20_000 * DAY)
    index.add(id(3), 20_001 * DAY)
    expect(index.idsBefore(20_001).sort()).toEqual([id(1), id(2)])
    expect(index.bucketCount).toBe(3)
    expect(index.dropBucketsBefore(20_001).sort()).toEqual([id(1), id(2)])
    expect(index.bucketCount).toBe(1)
    expect(index.size).toBe(1)
    expect(index.has(id(1))).toBe(false)
    expect(index.root({ oldest: 0, newest: 30_000 })).toEqual(Fingerprint.of([id(3)]).value())
    expect(index.dropBucketsBefore(20_001)).toEqual([])
  })

  it('refuses malformed ids and times', () => {
    const index = new BucketIndex(g)
    expect(() => index.add('XYZ', 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => index.add(id(1), 1.5)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => new BucketIndex({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(index.size).toBe(0)
  })
})
