/**
 * The local store as the engine uses it: deduplication, replacement of versions, the time window,
 * pruning, and nothing lost across close/reopen or failed writes.
 */
import 'fake-indexeddb/auto'
import { describe, expect, it } from 'vitest'
import { dailyBuckets, hourlyBuckets } from '../../src/buckets/index.js'
import type { NostrEvent, PeersetRecord } from '../../src/record/types.js'
import { indexedDbStorage, memoryStorage } from '../../src/storage/index.js'
import { createModeration } from '../../src/moderation/index.js'
import { FIXTURE_NOW, collect, createClock, flakyStorage, loadFixtures, openPeerset, uuidOf } from '../helpers.js'

const DAY = 86_400_000
const { records: events, authors } = loadFixtures()

/** Pairs of fixture events that are versions of one (author, uuid). */
function versionPairs(): Array<[NostrEvent, NostrEvent]> {
  const byAddress = new Map<string, NostrEvent[]>()
  for (const e of events) {
    const key = `${e.pubkey}:${uuidOf(e)}`
    byAddress.set(key, [...(byAddress.get(key) ?? []), e])
  }
  return [...byAddress.values()].filter((v) => v.length === 2).map((v) => [v[0]!, v[1]!])
}

/** The winner of two versions: newer creation time, then lower id. */
function winnerOf(a: NostrEvent, b: NostrEvent): NostrEvent {
  if (a.created_at !== b.created_at) return a.created_at > b.created_at ? a : b
  return a.id < b.id ? a : b
}

describe('deduplication and replacement', () => {
  it('adds a record once: the same id again is a no-op', async () => {
    const peerset = await openPeerset()
    const log = collect(peerset, 'record:added')
    const first = await peerset.importRecord(events[0])
    const second = await peerset.importRecord(structuredClone(events[0]))
    expect(first.status).toBe('added')
    expect(second).toEqual({ status: 'duplicate', id: events[0]!.id })
    expect(log).toHaveLength(1)
    expect(peerset.records()).toHaveLength(1)
    await peerset.close()
  })

  it('keeps the newer version of an (author, uuid), whatever the arrival order, and reports the replaced one', async () => {
    const pairs = versionPairs()
    expect(pairs.length).toBeGreaterThan(5)
    for (const order of ['forward', 'backward'] as const) {
      const peerset = await openPeerset()
      const removed = collect(peerset, 'record:removed')
      for (const [a, b] of pairs) {
        const [x, y] = order === 'forward' ? [a, b] : [b, a]
        await peerset.importRecord(x)
        await peerset.importRecord(y)
      }
      const kept = new Set(peerset.records().map((r) => r.id))
      expect(kept).toEqual(new Set(pairs.map(([a, b]) => winnerOf(a, b).id)))
      // Each pair where the loser arrived first produced one `replaced` removal.
      const expectedRemovals = pairs.filter(([a, b]) => winnerOf(a, b) === (order === 'forward' ? b : a)).length
      expect(removed.filter(([, , info]) => (info as { reason: string }).reason === 'replaced')).toHaveLength(expectedRemovals)
      await peerset.close()
    }
  })

  it('breaks equal creation times by the lower id', async () => {
    const ties = versionPairs().filter(([a, b]) => a.created_at === b.created_at)
    expect(ties.length).toBeGreaterThan(0)
    const peerset = await openPeerset()
    for (const [a, b] of ties) {
      const [hi, lo] = a.id > b.id ? [a, b] : [b, a]
      await peerset.importRecord(hi)
      await peerset.importRecord(lo)
      expect(peerset.get(lo.id)).toBeDefined()
      expect(peerset.get(hi.id)).toBeUndefined()
      const late = await peerset.importRecord(hi)
      expect(late).toMatchObject({ status: 'rejected', reason: 'superseded' })
    }
    await peerset.close()
  })

  it('lets an author edit a record by publishing the same uuid again', async () => {
    const clock = createClock()
    const peerset = await openPeerset({ clock: clock.now, identity: authors[0]!.nsec })
    const removed = collect(peerset, 'record:removed')
    const v1 = await peerset.publish({ text: 'first version' })
    clock.advance(1000)
    const v2 = await peerset.publish({ text: 'second version', uuid: v1.uuid })
    expect(peerset.records().map((r) => r.text)).toEqual(['second version'])
    expect(removed).toEqual([['record:removed', v1, { reason: 'replaced', replacedBy: v2 }]])
    await peerset.close()
  })

  it("does not let one author displace another author's record by reusing its uuid", async () => {
    const clock = createClock()
    const alice = await openPeerset({ clock: clock.now, identity: authors[0]!.nsec })
    const original = await alice.publish({ text: "alice's" })
    const mallory = await openPeerset({ clock: clock.now, identity: authors[1]!.nsec })
    clock.advance(5000)
    const copycat = await mallory.publish({ text: "mallory's", uuid: original.uuid })
    await alice.importRecord(toEvent(copycat))
    expect(alice.records().map((r) => r.text).sort()).toEqual(["alice's", "mallory's"])
    await Promise.all([alice.close(), mallory.close()])
  })
})

describe('the time window', () => {
  it('refuses records older than the retention window, permanently', async () => {
    const peerset = await openPeerset({ clock: () => (FIXTURE_NOW + 200 * 86_400) * 1000 })
    const rejected = collect(peerset, 'record:rejected')
    expect(await peerset.importRecord(events[0])).toMatchObject({ status: 'rejected', reason: 'expired', permanent: true })
    expect(rejected[0]?.[1]).toMatchObject({ reason: 'expired', permanent: true, origin: 'import' })
    await peerset.close()
  })

  it('refuses records from the future beyond the clock-skew tolerance, but accepts them once their time has come', async () => {
    const latest = events.at(-1)!
    const clock = createClock((latest.created_at - 10 * 60) * 1000) // 10 minutes before it was made
    const peerset = await openPeerset({ clock: clock.now })
    expect(await peerset.importRecord(latest)).toMatchObject({ status: 'rejected', reason: 'future', permanent: false })
    clock.advance(6 * 60_000) // now 4 minutes before: inside the 5-minute tolerance
    expect(await peerset.importRecord(latest)).toMatchObject({ status: 'added' })
    await peerset.close()
  })

  it('honours a custom clock-skew tolerance', async () => {
    const latest = events.at(-1)!
    const peerset = await openPeerset({ clock: () => (latest.created_at - 60) * 1000, clockSkewMs: 30_000 })
    expect(await peerset.importRecord(latest)).toMatchObject({ status: 'rejected', reason: 'future' })
    await peerset.close()
  })

  it('prunes whole buckets as they leave the window, reports them and deletes them from storage', async () => {
    const storage = memoryStorage()
    const clock = createClock()
    const peerset = await openPeerset({ clock: clock.now, storage, tickIntervalMs: 20 })
    for (const e of events) await peerset.importRecord(e)
    const total = peerset.records().length
    const oldestDay = Math.floor((events[0]!.created_at * 1000) / DAY)
    const inOldestDay = peerset.records().filter((r) => Math.floor((r.createdAt * 1000) / DAY) === oldestDay)
    expect(inOldestDay.length).toBeGreaterThan(0)
    const removed = collect(peerset, 'record:removed')
    // Move to the first millisecond after the oldest day has left the 90-day window.
    clock.set((oldestDay + 90) * DAY)
    await waitForRemoval(removed, inOldestDay.length)
    expect(removed.every(([, , info]) => (info as { reason: string }).reason === 'expired')).toBe(true)
    expect(new Set(removed.map(([, r]) => (r as PeersetRecord).id))).toEqual(new Set(inOldestDay.map((r) => r.id)))
    expect(peerset.records()).toHaveLength(total - inOldestDay.length)
    await peerset.close()
    const reopened = await openPeerset({ clock: clock.now, storage })
    expect(reopened.records()).toHaveLength(total - inOldestDay.length)
    await reopened.close()
  })

  it('buckets by the configured granularity: hourly buckets prune hour by hour', async () => {
    const clock = createClock()
    const granularity = hourlyBuckets({ retentionMs: 10 * 3_600_000 })
    const peerset = await openPeerset({ clock: clock.now, granularity, tickIntervalMs: 20 })
    const recent = events.filter((e) => e.created_at * 1000 >= clock.now() - 10 * 3_600_000 + 3_600_000)
    for (const e of events) await peerset.importRecord(e)
    // Only records of the 10 most recent hourly buckets can be in.
    const window = granularity.windowAt(clock.now())
    for (const r of peerset.records()) expect(granularity.bucketOf(r.createdAt * 1000)).toBeGreaterThanOrEqual(window.oldest)
    expect(peerset.records().length).toBeGreaterThanOrEqual(recent.length - 2)
    await peerset.close()
  })
})

describe('nothing lost', () => {
  it('keeps every published and imported record across close and reopen (IndexedDB)', async () => {
    const storage = indexedDbStorage({ databaseName: (room) => `reopen-${room}` })
    const clock = createClock()
    const peerset = await openPeerset({ clock: clock.now, storage })
    for (const e of events.slice(0, 150)) await peerset.importRecord(e)
    const mine = await peerset.publish({ text: 'mine', geo: { lat: 52.52, lon: 13.405 }, link: 'https://example.org/x' })
    const before = peerset.records()
    await peerset.close()
    const reopened = await openPeerset({ clock: clock.now, storage })
    expect(reopened.records()).toEqual(before)
    expect(reopened.get(mine.id)).toEqual(mine)
    expect(reopened.status().storage).toMatchObject({ name: 'indexeddb', persistent: true })
    await reopened.close()
  })

  it('surfaces a failed write as an error event; the record is not added and memory matches storage', async () => {
    const { strategy: flaky, failWrites } = flakyStorage()
    const peerset = await openPeerset({ storage: flaky })
    const log = collect(peerset, 'record:added', 'error')
    await peerset.importRecord(events[0])
    failWrites(1)
    const failed = await peerset.importRecord(events[1])
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'STORAGE_FAILED' } })
    failWrites(1)
    await expect(peerset.publish({ text: 'lost?' })).rejects.toMatchObject({ code: 'STORAGE_FAILED' })
    expect(log.map(([name]) => name)).toEqual(['record:added', 'error', 'error'])
    expect(peerset.records().map((r) => r.id)).toEqual([events[0]!.id])
    // The failed record can be added later, and memory and storage agree.
    expect(await peerset.importRecord(events[1])).toMatchObject({ status: 'added' })
    await peerset.close()
    const reopened = await openPeerset({ storage: flaky })
    expect(new Set(reopened.records().map((r) => r.id))).toEqual(new Set([events[0]!.id, events[1]!.id]))
    await reopened.close()
  })

  it('opens a store of a different granularity without losing records (buckets derive from creation times)', async () => {
    const storage = memoryStorage()
    const daily = await openPeerset({ storage, granularity: dailyBuckets() })
    for (const e of events.slice(0, 50)) await daily.importRecord(e)
    const ids = daily.records().map((r) => r.id)
    await daily.close()
    const quarter = await openPeerset({ storage, granularity: hourlyBuckets({ retentionMs: 90 * DAY }) })
    expect(quarter.records().map((r) => r.id)).toEqual(ids)
    expect(quarter.status().buckets.nonEmpty).toBeGreaterThan(0)
    await quarter.close()
  })
})

async function waitForRemoval(log: unknown[], n: number): Promise<void> {
  const until = Date.now() + 5000
  while (log.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
}

function toEvent(record: PeersetRecord): NostrEvent {
  return {
    id: record.id,
    pubkey: record.author,
    created_at: record.createdAt,
    kind: 37515,
    tags: record.tags.map((t) => [...t]),
    content: record.text,
    sig: record.sig,
  }
}

describe('a changed moderation policy', () => {
  it('re-moderates the kept records once on open: a lowered quota keeps each author’s earliest records', async () => {
    const storage = memoryStorage()
    const before = await openPeerset({ storage })
    for (const e of events.slice(0, 120)) await before.importRecord(e)
    const kept = before.records()
    await before.close()
    const strict = createModeration({ content: false, badWords: false, links: false, duplicates: false, quota: { maxRecords: 2 } })
    const after = await openPeerset({ storage, moderation: strict })
    // The re-check runs just after opening (so its removals are observable): settled() waits for it.
    await after.settled()
    const byAuthor = new Map<string, PeersetRecord[]>()
    for (const r of kept) byAuthor.set(r.author, [...(byAuthor.get(r.author) ?? []), r])
    const expected = [...byAuthor.values()].flatMap((rs) =>
      rs.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)).slice(0, 2).map((r) => r.id),
    )
    expect(new Set(after.records().map((r) => r.id))).toEqual(new Set(expected))
    await after.close()
    // Once done, the same policy does not run it again (nothing else is removed).
    const again = await openPeerset({ storage, moderation: strict })
    await again.settled()
    expect(again.records()).toHaveLength(expected.length)
    await again.close()
  })
})
