/** When a record refused before its signature is held against the peer that announced it: fair to honest peers at the edges. */
import { describe, expect, it } from 'vitest'
import { dailyBuckets } from '../../src/buckets/index.js'
import { ANNOUNCE_FAULT_MARGIN_MS, announcedInvalid } from '../../src/engine/announce-fault.js'
import { DEFAULT_CLOCK_SKEW_MS } from '../../src/engine/time-window.js'
import { FIXTURE_NOW } from '../helpers.js'

const g = dailyBuckets()
const skew = DEFAULT_CLOCK_SKEW_MS
const now = FIXTURE_NOW * 1000
const bucketAt = (ms: number): number => g.bucketOf(ms)
const event = (createdMs: number, expiresMs?: number) => ({
  created_at: Math.floor(createdMs / 1000),
  tags: expiresMs === undefined ? [] : [['expiration', String(Math.floor(expiresMs / 1000))]],
})
const fault = (reason: Parameters<typeof announcedInvalid>[0], e: ReturnType<typeof event>, atMs = now, bucket = bucketAt(e.created_at * 1000)) =>
  announcedInvalid(reason, e, { bucket, atMs }, g, skew)

describe('announcedInvalid', () => {
  it('too large is always the sender’s fault (limits are agreed in the hello)', () => {
    expect(fault('too-large', event(now))).toBeDefined()
  })

  it('a record announced in a bucket other than its own is a lie', () => {
    expect(fault('expired', event(now - 200 * 86_400_000), now, bucketAt(now))).toMatch(/announced in bucket/)
    expect(fault('future', event(now + 2 * 86_400_000), now, bucketAt(now))).toMatch(/announced in bucket/)
  })

  it('a record that left the retention window in transit, announced in its true bucket, is not a fault', () => {
    expect(fault('expired', event(now - 89 * 86_400_000), now)).toBeUndefined()
  })

  it('NIP-40: expired in transit, or by less than the skew plus the margin when announced, is not a fault; long before is', () => {
    expect(fault('expired', event(now - 3_600_000, now + 10_000), now)).toBeUndefined() // valid when announced
    expect(fault('expired', event(now - 3_600_000, now - 30_000), now)).toBeUndefined() // clock skew
    expect(fault('expired', event(now - 3_600_000, now - skew - ANNOUNCE_FAULT_MARGIN_MS + 1_000), now)).toBeUndefined() // at the edge
    expect(fault('expired', event(now - 7_200_000, now - skew - ANNOUNCE_FAULT_MARGIN_MS - 60_000), now)).toMatch(/already expired/)
  })

  it('future: within twice the skew plus the margin is not a fault; far beyond (in the same bucket) is', () => {
    const at = now - 6 * 3_600_000 // early in the day, so a few hours ahead stays in the same daily bucket
    expect(fault('future', event(at + 2 * skew), at)).toBeUndefined()
    expect(fault('future', event(at + 2 * skew + ANNOUNCE_FAULT_MARGIN_MS - 1_000), at)).toBeUndefined()
    expect(fault('future', event(at + 3 * 3_600_000), at)).toMatch(/after it was announced/)
  })

  it('other reasons are not judged here', () => {
    expect(fault('superseded', event(now))).toBeUndefined()
    expect(fault('moderation', event(now))).toBeUndefined()
  })
})
