import { describe, expect, it } from 'vitest'
import { createIdentity } from '../../src/identity/index.js'
import { createRecord, roomHash, roomTag, toNostrEvent } from '../../src/record/index.js'
import { memoryStorage } from '../../src/storage/index.js'
import { FIXTURE_NOW, FIXTURE_ROOM, collect, loadFixtures, openPeerset } from '../helpers.js'

const author = createIdentity()
const sign = (text: string, room: string | undefined) => createRecord({ text }, author.signer, { now: FIXTURE_NOW - 60, ...(room === undefined ? {} : { room }) })

describe('records belong to one room', () => {
  it('publish signs every record for the peerset’s room', async () => {
    const peerset = await openPeerset({ room: 'room-a' })
    const record = await peerset.publish({ text: 'hello' })
    expect(record.roomHash).toBe(roomHash('room-a'))
    expect(record.tags).toContainEqual(roomTag('room-a'))
    await peerset.close()
  })

  it('refuses a record signed for another room as wrong-room: permanent, no peer fault, an event, not stored', async () => {
    const peerset = await openPeerset()
    const log = collect(peerset, 'record:rejected', 'record:added', 'error')
    const foreign = await sign('signed for room b', 'room-b')
    for (const input of [toNostrEvent(foreign), foreign]) {
      const outcome = await peerset.importRecord(input)
      expect(outcome).toMatchObject({ status: 'rejected', id: foreign.id, reason: 'wrong-room', permanent: true, peerFault: false })
    }
    expect(peerset.get(foreign.id)).toBeUndefined()
    expect(peerset.records()).toEqual([])
    expect(log).toEqual([
      ['record:rejected', expect.objectContaining({ id: foreign.id, reason: 'wrong-room', origin: 'import', permanent: true })],
      ['record:rejected', expect.objectContaining({ id: foreign.id, reason: 'wrong-room', origin: 'import', permanent: true })],
    ])
    await peerset.close()
  })

  it('refuses a record without a room tag as wrong-room', async () => {
    const peerset = await openPeerset()
    const roomless = await sign('signed for no room', undefined)
    expect(await peerset.importRecord(toNostrEvent(roomless))).toMatchObject({ status: 'rejected', reason: 'wrong-room', permanent: true, peerFault: false })
    expect(peerset.status().records).toBe(0)
    await peerset.close()
  })

  it('accepts the same kind of record in its own room', async () => {
    const peerset = await openPeerset({ room: 'room-b' })
    const own = await sign('signed for room b', 'room-b')
    expect(await peerset.importRecord(toNostrEvent(own))).toMatchObject({ status: 'added' })
    expect(peerset.get(own.id)?.roomHash).toBe(roomHash('room-b'))
    await peerset.close()
  })

  it('the fixtures are signed for FIXTURE_ROOM: imported into another room, every one is refused', async () => {
    const events = loadFixtures().records.slice(0, 5)
    const elsewhere = await openPeerset({ room: `${FIXTURE_ROOM}-elsewhere` })
    const outcomes = await Promise.all(events.map((e) => elsewhere.importRecord(e)))
    expect(outcomes.map((o) => o.status === 'rejected' && o.reason)).toEqual(events.map(() => 'wrong-room'))
    await elsewhere.close()
    const home = await openPeerset()
    expect((await Promise.all(events.map((e) => home.importRecord(e)))).every((o) => o.status === 'added')).toBe(true)
    await home.close()
  })

  it('on open, drops records of another room or of none from the store (written by an older build or another program)', async () => {
    const storage = memoryStorage()
    const store = await storage.open(FIXTURE_ROOM)
    const own = await sign('ours', FIXTURE_ROOM)
    const foreign = await sign('theirs', 'room-b')
    const roomless = await sign('nobody’s', undefined)
    await store.write({ put: [own, foreign, roomless] })
    await store.close()
    const peerset = await openPeerset({ storage })
    expect(peerset.records().map((r) => r.id)).toEqual([own.id])
    await peerset.close()
    const reopened = await storage.open(FIXTURE_ROOM)
    expect((await reopened.loadRecords()).map((r) => r.id)).toEqual([own.id])
    await reopened.close()
  })
})
