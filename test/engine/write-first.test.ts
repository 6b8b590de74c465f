/**
 * Write first, then report: a batch is judged, written in one transaction, and only after the write
 * commits are the index, the strike ledger and every event applied. A failed write leaves no trace;
 * a record displaced within its own batch is never reported added; the store holds one version per
 * (author, uuid) after open; an evicted newest version keeps older ones out, across a reopen.
 */
import { describe, expect, it } from 'vitest'
import { createIdentity } from '../../src/identity/index.js'
import { createModeration } from '../../src/moderation/index.js'
import { createRecord, createWithdrawal, toNostrEvent } from '../../src/record/index.js'
import type { PeersetRecord } from '../../src/record/types.js'
import { memoryStorage } from '../../src/storage/index.js'
import { FIXTURE_NOW, FIXTURE_ROOM, collect, flakyStorage, openPeerset } from '../helpers.js'

const author = createIdentity()
const troll = createIdentity()

/** A signed record by `by` (default `author`) at FIXTURE_NOW - `ageSeconds`. */
function make(text: string, ageSeconds: number, uuid?: string, by = author): Promise<PeersetRecord> {
  return createRecord({ text, ...(uuid ? { uuid } : {}) }, by.signer, { now: FIXTURE_NOW - ageSeconds, room: FIXTURE_ROOM })
}

/** Submit records in one ingest batch (calls made in one turn are queued together). */
function importTogether(peerset: Awaited<ReturnType<typeof openPeerset>>, records: readonly PeersetRecord[]) {
  return Promise.all(records.map((r) => peerset.importRecord(toNostrEvent(r))))
}

describe('a failed write leaves no trace', () => {
  it('no strike, no ban, no record event, and every record of the batch that looked at the store fails', async () => {
    const flaky = flakyStorage()
    const peerset = await openPeerset({ storage: flaky.strategy, moderation: createModeration({ links: false }), strikes: { threshold: 1 } })
    const log = collect(peerset, 'record:added', 'record:removed', 'record:rejected', 'author:strike', 'author:banned')
    const good = await make('a lost black cat', 300)
    const rude = await make('oh sh1t, my bike is gone', 200, undefined, troll)
    const copy = good
    // The first submission runs alone; the rest are one batch. Make the batch's write fail.
    await peerset.importRecord(toNostrEvent(await make('warm-up', 400)))
    log.length = 0
    flaky.failWrites(1)
    const outcomes = await importTogether(peerset, [good, rude, copy])
    expect(outcomes.map((o) => o.status)).toEqual(['failed', 'failed', 'failed'])
    // The rude record would have struck (threshold 1: and banned) the troll. Nothing of that happened.
    expect(log).toEqual([])
    expect(peerset.records().map((r) => r.text)).toEqual(['warm-up'])
    expect(outcomes[0]).toMatchObject({ error: { code: 'STORAGE_FAILED' } })
    // The batch wrote the strike with the records, in the same transaction: the failed write held it.
    expect(flaky.writes.at(-1)?.meta?.['moderation:ledger']).toBeDefined()

    // Once the store works again, the same records give the outcomes they should have had.
    const again = await importTogether(peerset, [good, rude, copy])
    expect(again.map((o) => o.status)).toEqual(['added', 'rejected', 'duplicate'])
    expect(log.map(([name]) => name)).toEqual(['author:strike', 'author:banned', 'record:added', 'record:rejected'])
    expect(log[1]![1]).toEqual({ author: troll.publicKey, untilMs: (rude.createdAt + 7 * 86_400) * 1000 })
    await peerset.close()

    // The strike was committed with the batch: it is there after a reopen.
    const reopened = await openPeerset({ storage: flaky.strategy, moderation: createModeration({ links: false }), strikes: { threshold: 1 } })
    expect(await reopened.importRecord(toNostrEvent(await make('a new post', 100, undefined, troll)))).toMatchObject({ status: 'rejected', rule: 'ban:author-banned' })
    await reopened.close()
  })

  it('records refused without looking at the store (format, time, signature) are still refused when the write fails', async () => {
    const flaky = flakyStorage()
    const peerset = await openPeerset({ storage: flaky.strategy })
    await peerset.importRecord(toNostrEvent(await make('warm-up', 400)))
    const rejected = collect(peerset, 'record:rejected')
    const good = await make('fine', 300)
    const forged = { ...toNostrEvent(await make('forged', 250)), sig: toNostrEvent(good).sig }
    const future = await createRecord({ text: 'from the future' }, author.signer, { now: FIXTURE_NOW + 3600, room: FIXTURE_ROOM })
    flaky.failWrites(1)
    const outcomes = await Promise.all([peerset.importRecord(toNostrEvent(good)), peerset.importRecord(forged), peerset.importRecord(toNostrEvent(future))])
    expect(outcomes.map((o) => (o.status === 'rejected' ? o.reason : o.status))).toEqual(['failed', 'bad-signature', 'future'])
    expect(rejected.map(([, info]) => (info as { reason: string }).reason)).toEqual(['bad-signature', 'future'])
    await peerset.close()
  })
})

describe('only what was written is reported', () => {
  it('importing v1 and v2 of one record together reports v2 added and v1 superseded (never added, never removed)', async () => {
    const peerset = await openPeerset()
    await peerset.importRecord(toNostrEvent(await make('warm-up', 400)))
    const log = collect(peerset, 'record:added', 'record:removed', 'record:rejected', 'records:added')
    const v1 = await make('lost: black cat', 300)
    const v2 = await make('found: black cat', 200, v1.uuid)
    const outcomes = await importTogether(peerset, [v1, v2])
    expect(outcomes[0]).toMatchObject({ status: 'rejected', reason: 'superseded', permanent: true })
    expect(outcomes[1]).toMatchObject({ status: 'added' })
    expect(log.map(([name, x]) => `${name} ${(x as PeersetRecord).id ?? ''}`)).toEqual([
      `record:added ${v2.id}`,
      `record:rejected ${v1.id}`,
      'records:added ',
    ])
    expect(peerset.records().map((r) => r.id)).not.toContain(v1.id)
    await peerset.close()
  })

  it('a record evicted by a later record of its own batch is refused as it would be in the other order', async () => {
    const peerset = await openPeerset({ moderation: createModeration({ links: false }) })
    await peerset.importRecord(toNostrEvent(await make('warm-up', 400)))
    const added = collect(peerset, 'record:added', 'record:removed')
    // Same text: the later one is the duplicate, whichever arrives first.
    const later = await make('bike for sale', 100)
    const earlier = await make('bike for sale', 300)
    const [first, second] = await importTogether(peerset, [later, earlier])
    expect(second).toMatchObject({ status: 'added' })
    expect(first).toMatchObject({ status: 'rejected', reason: 'moderation', rule: 'duplicate', permanent: false })
    expect(added.map(([name, r]) => `${name} ${(r as PeersetRecord).id}`)).toEqual([`record:added ${earlier.id}`])
    await peerset.close()
  })
})

describe('record:removed names only a record that was stored', () => {
  /** `removed(text, reason, replacedBy text)` for each record:removed; `added(text)` for each record:added. */
  function track(peerset: Awaited<ReturnType<typeof openPeerset>>): string[] {
    const log: string[] = []
    peerset.on('record:added', (r) => log.push(`added(${r.text})`))
    peerset.on('record:removed', (r, info) => log.push(`removed(${r.text}, ${info.reason}, ${info.replacedBy?.text ?? '-'})`))
    return log
  }

  it('v2 and v3 of a held v1 in one batch: v1 is replaced by v3, not by v2 which was never stored', async () => {
    const peerset = await openPeerset()
    const v1 = await make('v1', 300)
    await peerset.importRecord(toNostrEvent(v1))
    const log = track(peerset)
    const outcomes = await importTogether(peerset, [await make('v2', 200, v1.uuid), await make('v3', 100, v1.uuid)])
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'added'])
    expect(log).toEqual(['removed(v1, replaced, v3)', 'added(v3)'])
    expect(peerset.records().map((r) => r.text)).toEqual(['v3'])
    await peerset.close()
  })

  it('a new version and a tombstone in one batch: the held version was withdrawn, with no replacedBy', async () => {
    const peerset = await openPeerset()
    const v1 = await make('v1', 300)
    await peerset.importRecord(toNostrEvent(v1))
    const log = track(peerset)
    const v2 = await make('v2', 200, v1.uuid)
    const tombstone = await createWithdrawal(v2, author.signer, { now: FIXTURE_NOW - 100 })
    const outcomes = await importTogether(peerset, [v2, tombstone])
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'added'])
    expect(log).toEqual(['removed(v1, withdrawn, -)'])
    expect(peerset.records()).toEqual([])
    expect(peerset.status().withdrawals).toBe(1)
    await peerset.close()
  })

  it('a new version evicted later in its batch: the held version goes for the same reason, with no replacedBy', async () => {
    const peerset = await openPeerset({ moderation: createModeration({ links: false }) })
    const v1 = await make('a lost black cat', 400)
    await peerset.importRecord(toNostrEvent(v1))
    const log = track(peerset)
    // v2 is accepted, then the earlier record with the same text makes it the duplicate.
    const v2 = await make('bike for sale', 100, v1.uuid)
    const earlier = await make('bike for sale', 300)
    const outcomes = await importTogether(peerset, [v2, earlier])
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'added'])
    expect(log).toEqual(['removed(a lost black cat, duplicate, -)', 'added(bike for sale)'])
    expect(peerset.records().map((r) => r.id)).toEqual([earlier.id])
    await peerset.close()
  })
})

describe('the store on open', () => {
  it('keeps one version per (author, uuid): the loser of the replacement rule is deleted', async () => {
    const storage = memoryStorage()
    const v1 = await make('v1', 300)
    const v2 = await make('v2', 200, v1.uuid)
    const store = await storage.open('test')
    await store.write({ put: [v2, v1] })
    await store.close()
    const peerset = await openPeerset({ storage })
    expect(peerset.records().map((r) => r.id)).toEqual([v2.id])
    await peerset.close()
    const raw = await storage.open('test')
    expect((await raw.loadRecords()).map((r) => r.id)).toEqual([v2.id])
    await raw.close()
  })

  it('remembers an evicted newest version across a reopen, so an older version cannot come back', async () => {
    const storage = memoryStorage()
    const moderation = () => createModeration({ links: false })
    const peerset = await openPeerset({ storage, moderation: moderation() })
    const v2 = await make('garden sale sunday', 200)
    const v1 = await make('garden sale saturday', 300, v2.uuid)
    const twin = await make('garden sale sunday', 400) // earlier, same text: evicts v2 as a duplicate
    expect(await peerset.importRecord(toNostrEvent(v2))).toMatchObject({ status: 'added' })
    expect(await peerset.importRecord(toNostrEvent(twin))).toMatchObject({ status: 'added' })
    expect(peerset.get(v2.id)).toBeUndefined()
    await peerset.close()
    const reopened = await openPeerset({ storage, moderation: moderation() })
    expect(await reopened.importRecord(toNostrEvent(v1))).toMatchObject({ status: 'rejected', reason: 'superseded' })
    await reopened.close()
  })
})
