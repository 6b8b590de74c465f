import { describe, expect, it } from 'vitest'
import { packRecord, unpackRecord } from '../../src/engine/packed-record.js'
import { RecordIndex, UNPACKED_CACHE_SIZE } from '../../src/engine/record-index.js'
import { dailyBuckets } from '../../src/buckets/index.js'
import { createRecord, createWithdrawal, toNostrEvent, verifyRecord, type PeersetRecord } from '../../src/record/index.js'
import { BucketIndex } from '../../src/sync/index.js'
import { FIXTURE_ROOM, loadFixtures } from '../helpers.js'
import { NOW, testSigner } from '../record/helpers.js'

/** Equal values, the same own keys in the same order (an optional key present as undefined included). */
function expectSameRecord(actual: PeersetRecord | undefined, expected: PeersetRecord): void {
  expect(actual).toStrictEqual(expected)
  expect(Object.keys(actual!)).toEqual(Object.keys(expected))
}

const roundTrip = (record: PeersetRecord): PeersetRecord => unpackRecord(packRecord(record))

async function variedRecords(): Promise<PeersetRecord[]> {
  const options = { now: NOW, room: FIXTURE_ROOM }
  const plain = await createRecord({ text: 'Lost cat' }, testSigner, options)
  const full = await createRecord({ text: 'Chat perdu 🐈 près du café', link: 'https://example.org/ünï?q=1', geo: { lat: -33.86785, lon: 151.20732 } }, testSigner, options)
  // The withdrawal of another record: one version per address in this list.
  const gone = await createRecord({ text: 'gone', link: 'https://example.org' }, testSigner, options)
  const withdrawal = await createWithdrawal(gone, testSigner, { now: NOW + 60 })
  const noRoom = await createRecord({ text: '' }, testSigner, { now: NOW })
  return [plain, full, withdrawal, noRoom]
}

describe('a packed record unpacks to a record equal to the one packed', () => {
  it('every field of records as createRecord and createWithdrawal make them: tags, room, link, geolocation, expiration, withdrawn', async () => {
    const records = await variedRecords()
    expect(records.map((r) => [r.link !== undefined, r.geo !== undefined, r.withdrawn === true, r.roomHash !== undefined])).toEqual([
      [false, false, false, true],
      [true, true, false, true],
      [false, false, true, true],
      [false, false, false, false],
    ])
    for (const record of records) {
      expectSameRecord(roundTrip(record), record)
      // And as verifyRecord reads them back (absent optional fields present as undefined keys).
      const verified = verifyRecord(toNostrEvent(record))
      if (!verified.ok) throw new Error(verified.message)
      expect(Object.keys(verified.record)).toContain('link')
      expectSameRecord(roundTrip(verified.record), verified.record)
    }
  })

  it('every fixture record (several authors, rooms, edits)', () => {
    const { records: events } = loadFixtures()
    expect(events.length).toBeGreaterThan(50)
    for (const event of events) {
      const verified = verifyRecord(event, { checkSignature: false })
      if (!verified.ok) continue
      expectSameRecord(roundTrip(verified.record), verified.record)
      expect(toNostrEvent(roundTrip(verified.record))).toEqual(toNostrEvent(verified.record))
    }
  })

  it('odd tags verbatim: unknown tags, repeated and empty values, hex-looking and uppercase hex, Unicode, long values, -0', () => {
    const hex = 'ab'.repeat(40)
    const record: PeersetRecord = {
      id: 'f'.repeat(64),
      author: '0'.repeat(64),
      uuid: '0b0e7d1c-5a3f-4e8b-9c2d-1f6a7b8c9d0e',
      createdAt: 1_790_000_000,
      text: 'x'.repeat(3000) + '\u0000\uffff',
      geo: { lat: -0, lon: 1e-7, geohash: 's0000' },
      tags: [
        ['d', '0b0e7d1c-5a3f-4e8b-9c2d-1f6a7b8c9d0e'],
        ['t', ''],
        ['t', ''],
        [],
        ['hex', hex, hex, 'ABCDEF', 'abc', '0'],
        ['unicode', '日本語 ✓ 🐈', 'é'],
        ['long', 'z'.repeat(70_000)],
        ['many', ...Array.from({ length: 300 }, (_, i) => `v${i}`), 'v7', 'v299'],
        ['geo', '-0', '0.0000001'],
      ],
      sig: 'e'.repeat(128),
    }
    const back = roundTrip(record)
    expectSameRecord(back, record)
    expect(Object.is(back.geo!.lat, -0)).toBe(true)
  })

  it('packs the room record of bench:store in well under half of its fields’ size', async () => {
    const [, full] = await variedRecords()
    const packed = packRecord(full!)
    // Signature 128 hex digits -> 64 chars; the uuid, room, geohash, coordinates and expiration in the tags -> references.
    expect(packed.rest.length).toBeLessThan(JSON.stringify({ ...full, text: '', id: '', author: '', uuid: '', roomHash: '' }).length / 2)
  })

  it('does not write the tags createRecord and createWithdrawal make (they are made again from the fields)', async () => {
    const records = await variedRecords()
    for (const record of records) {
      // The same record with one unknown tag more has all its tags written: 5 chars a tag at least (a length, a reference).
      const other = { ...record, tags: [...record.tags, ['t', '']] }
      expect(packRecord(other).rest.length - packRecord(record).rest.length).toBeGreaterThanOrEqual(5 * record.tags.length)
      expectSameRecord(roundTrip(other), other)
    }
  })

  it('writes tags verbatim that are nearly but not exactly the standard ones', async () => {
    const [plain, full, withdrawal] = await variedRecords()
    const tags = full!.tags
    const at = (name: string): number => tags.findIndex((t) => t[0] === name)
    const replaced = (name: string, tag: string[]): PeersetRecord['tags'] => tags.map((t, i) => (i === at(name) ? tag : t))
    const variants: PeersetRecord[] = [
      { ...full!, tags: replaced('geo', ['geo', `${full!.geo!.lat}0`, String(full!.geo!.lon)]) }, // the same coordinate, written otherwise
      { ...full!, tags: replaced('r', ['r', 'https://example.org/other']) },
      { ...full!, tags: replaced('d', ['d', full!.uuid, 'extra']) },
      { ...full!, tags: replaced('expiration', ['expiration', `0${full!.expiresAt}`]) },
      { ...full!, tags: [...tags].reverse() },
      { ...full!, tags: tags.filter((t) => t[0] !== 'h') },
      { ...full!, tags: tags.filter((t) => t[0] !== 'g') },
      { ...plain!, tags: [...plain!.tags, ['deleted']] },
      { ...withdrawal!, tags: withdrawal!.tags.filter((t) => t[0] !== 'deleted') },
      { ...plain!, expiresAt: undefined },
      { ...plain!, roomHash: undefined },
      { ...plain!, tags: plain!.tags.slice(0, -1) },
    ]
    for (const variant of variants) expectSameRecord(roundTrip(variant), variant)
  })
})

describe('the record index holds records packed', () => {
  function indexOf(records: PeersetRecord[]): { index: RecordIndex; buckets: BucketIndex } {
    const buckets: BucketIndex = new BucketIndex(dailyBuckets(), { createdAtOf: (id: string): number | undefined => index.createdAtOf(id) })
    const index: RecordIndex = new RecordIndex(buckets)
    for (const r of records) index.add(r)
    return { index, buckets }
  }

  it('gives back equal records from get, atAddress, values and query, newest first and filtered', async () => {
    const records = await variedRecords()
    const { index } = indexOf(records)
    for (const r of records) {
      expectSameRecord(index.get(r.id), r)
      expectSameRecord(index.atAddress(r.author, r.uuid), r)
    }
    const live = records.filter((r) => !r.withdrawn)
    expect([...index.values()]).toStrictEqual(live)
    const newestFirst = [...live].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1))
    expect(index.query()).toStrictEqual(newestFirst)
    expect(index.query({}, 1, 1)).toStrictEqual(newestFirst.slice(1, 2))
    expect(index.query({ author: '0'.repeat(64) })).toEqual([])
    expect(index.query({ since: NOW + 1 })).toEqual([])
  })

  it('keeps the bucket index (which asks it for creation times) equal to one that keeps its own', async () => {
    const { records: events } = loadFixtures()
    const records = events.map((e) => verifyRecord(e, { checkSignature: false })).flatMap((v) => (v.ok ? [v.record] : []))
    const { index, buckets } = indexOf([])
    const own = new BucketIndex(dailyBuckets())
    const window = { oldest: 0, newest: Number.MAX_SAFE_INTEGER }
    const held = new Map<string, PeersetRecord>()
    records.forEach((r, i) => {
      if (index.atAddress(r.author, r.uuid) !== undefined) return
      index.add(r)
      own.add(r.id, r.createdAt)
      held.set(r.id, r)
      // Remove every third record again.
      if (i % 3 === 0) {
        expect(index.remove(r.id)).toStrictEqual(r)
        own.remove(r.id)
        held.delete(r.id)
      }
    })
    expect(held.size).toBeGreaterThan(20)
    expect(buckets.summary(window)).toEqual(own.summary(window))
    expect(buckets.size).toBe(held.size)
    for (const r of records) {
      expect(buckets.has(r.id)).toBe(held.has(r.id))
      expect(buckets.createdAtOf(r.id)).toBe(held.has(r.id) ? r.createdAt : undefined)
      expect(buckets.bucketOfId(r.id)).toBe(own.bucketOfId(r.id))
    }
  })

  it('forgets an author once their records are gone, live and withdrawn', async () => {
    const options = { now: NOW, room: FIXTURE_ROOM }
    const a = await createRecord({ text: 'a' }, testSigner, options)
    const b = await createRecord({ text: 'b' }, testSigner, options)
    const c = await createRecord({ text: 'c' }, testSigner, options)
    const tombstone = await createWithdrawal(c, testSigner, { now: NOW + 1 })
    const { index } = indexOf([a, b, tombstone])
    expect(index.authorCount).toBe(1)
    expect([...index.idsOfAuthor(a.author)].sort()).toEqual([a.id, b.id].sort())
    expect([...index.withdrawalsOfAuthor(a.author)]).toEqual([tombstone.id])
    index.remove(a.id)
    expect([...index.idsOfAuthor(a.author)]).toEqual([b.id])
    index.remove(b.id)
    index.remove(tombstone.id)
    expect(index.authorCount).toBe(0)
    expect([...index.authors()]).toEqual([])
    expect(index.idsOfAuthor(a.author).size).toBe(0)
    expect(index.withdrawalsOfAuthor(a.author).size).toBe(0)
    expect(index.size + index.withdrawalCount).toBe(0)
    // A later record of that author is held as it was given.
    index.add(c)
    expectSameRecord(index.get(c.id), c)
  })

  it('keeps the records last read at hand, and forgets them with the record', async () => {
    const records = await variedRecords()
    const { index } = indexOf(records)
    const [first] = records
    const read = index.get(first!.id)
    expect(index.get(first!.id)).toBe(read)
    expect(index.atAddress(first!.author, first!.uuid)).toBe(read)
    expect(index.remove(first!.id)).toBe(read)
    expect(index.get(first!.id)).toBeUndefined()
    index.add(first!)
    expectSameRecord(index.get(first!.id), first!)
    // Read past the cache's size: still equal records.
    const many = Array.from({ length: UNPACKED_CACHE_SIZE + 10 }, (_, i) => ({ ...first!, id: i.toString(16).padStart(64, '0'), uuid: `u${i}` }))
    for (const r of many) index.add(r)
    for (const r of many) expectSameRecord(index.get(r.id), r)
    expectSameRecord(index.get(many[0]!.id), many[0]!)
  })

  it('finds each address when two authors use one uuid', async () => {
    const options = { now: NOW, room: FIXTURE_ROOM }
    const mine = await createRecord({ text: 'mine' }, testSigner, options)
    const theirs: PeersetRecord = { ...mine, id: 'a'.repeat(64), author: 'b'.repeat(64), text: 'theirs' }
    const { index } = indexOf([mine, theirs])
    expectSameRecord(index.atAddress(mine.author, mine.uuid), mine)
    expectSameRecord(index.atAddress(theirs.author, mine.uuid), theirs)
    index.remove(mine.id)
    expect(index.atAddress(mine.author, mine.uuid)).toBeUndefined()
    expectSameRecord(index.atAddress(theirs.author, mine.uuid), theirs)
  })

  it('addNewest (the rebuild on open) keeps the newest version at each address, whatever the order, and names the one left out', async () => {
    const options = { room: FIXTURE_ROOM }
    const v1 = await createRecord({ text: 'v1' }, testSigner, { ...options, now: NOW - 60 })
    const v2: PeersetRecord = { ...v1, id: 'e'.repeat(64), createdAt: v1.createdAt + 30, text: 'v2' }
    const other: PeersetRecord = { ...v1, id: 'f'.repeat(64), author: 'b'.repeat(64), text: 'same uuid, other author' }
    for (const order of [[v1, other, v2], [v2, other, v1], [other, v2, v1]]) {
      const { index } = indexOf([])
      const leftOut = order.map((r) => index.addNewest(r))
      expectSameRecord(index.atAddress(v1.author, v1.uuid), v2)
      expectSameRecord(index.atAddress(other.author, v1.uuid), other)
      expect(index.get(v1.id)).toBeUndefined()
      expect(leftOut.filter((id) => id !== undefined)).toEqual([v1.id])
      expect(index.size).toBe(2)
    }
    // Same creation time: the smaller id wins (supersedes), and adding a held id again changes nothing.
    const tie: PeersetRecord = { ...v1, id: '0'.repeat(64), text: 'tie' }
    const { index } = indexOf([v1])
    expect(index.addNewest(tie)).toBe(v1.id)
    expect(index.addNewest(tie)).toBeUndefined()
    expectSameRecord(index.atAddress(v1.author, v1.uuid), tie)
  })
})
