/**
 * NIP-40 (issue 10): a record's `expiration` tag is honoured. A record is refused (`expired`,
 * permanent) once its expiration has passed, and removed (reason `expired`) when it passes, even
 * deep inside the retention window. On virtual time (the prune tick runs at exact simulated times).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createIdentity } from '../../src/identity/index.js'
import type { Peerset, RejectedRecord } from '../../src/peerset.js'
import { createRecord, toNostrEvent } from '../../src/record/index.js'
import { FIXTURE_ROOM, collect, openPeerset } from '../helpers.js'
import { drive, realTime, sleep, virtualClock, virtualTime, waitFor } from '../virtual-time.js'

const author = createIdentity()
const HOUR = 3_600

function recordExpiringIn(seconds: number, text: string, createdAgo = 0) {
  return createRecord({ text }, author.signer, { now: Math.floor(Date.now() / 1000) - createdAgo, retentionSeconds: seconds, room: FIXTURE_ROOM })
}

let peerset: Peerset | undefined
afterEach(async () => {
  if (peerset) await drive(peerset.close())
  peerset = undefined
  realTime()
})

describe('NIP-40 expiration', () => {
  it('refuses a record whose expiration has passed, permanently, though it is inside the window', async () => {
    virtualTime()
    peerset = await drive(openPeerset({ clock: virtualClock, tickIntervalMs: 1_000 }))
    const rejected = collect(peerset, 'record:rejected')
    // Created two hours ago (well inside the 90-day window), expired an hour ago.
    const stale = await recordExpiringIn(HOUR, 'gone already', 2 * HOUR)
    const outcome = await drive(peerset.importRecord(toNostrEvent(stale)))
    expect(outcome).toMatchObject({ status: 'rejected', reason: 'expired', permanent: true })
    expect((rejected[0]![1] as RejectedRecord).reason).toBe('expired')
    expect(peerset.records()).toHaveLength(0)
  })

  it('removes a record when its expiration passes, with reason expired, and refuses it afterwards', async () => {
    virtualTime()
    peerset = await drive(openPeerset({ clock: virtualClock, tickIntervalMs: 1_000 }))
    const shortLived = await recordExpiringIn(HOUR, 'for an hour')
    const longLived = await recordExpiringIn(90 * 24 * HOUR, 'for the whole window')
    await drive(peerset.importRecord(toNostrEvent(shortLived)))
    await drive(peerset.importRecord(toNostrEvent(longLived)))
    expect(peerset.records()).toHaveLength(2)
    const removed = collect(peerset, 'record:removed')
    await sleep((HOUR - 10) * 1000)
    expect(peerset.get(shortLived.id)).toBeDefined()
    await waitFor(() => removed.length === 1, 20_000, 'the expired record to be removed', 500)
    expect(removed[0]![1]).toMatchObject({ id: shortLived.id })
    expect(removed[0]![2]).toEqual({ reason: 'expired' })
    expect(peerset.records().map((r) => r.id)).toEqual([longLived.id])
    expect(peerset.status().buckets.nonEmpty).toBe(1)
    // Once gone, it is refused if a peer (or the app) offers it again.
    const again = await drive(peerset.importRecord(toNostrEvent(shortLived)))
    expect(again).toMatchObject({ status: 'rejected', reason: 'expired', permanent: true })
  })
})
