/**
 * Withdrawals on one peer (issue 16): `withdraw()` signs a tombstone that replaces the record, frees
 * the author's quota place, keeps older versions out, is capped per author, and a forgery is refused.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createIdentity } from '../../src/identity/index.js'
import { acceptAll, createModeration, type ModerationStrategy } from '../../src/moderation/index.js'
import type { Peerset } from '../../src/peerset.js'
import { computeEventId, createRecord, createWithdrawal, MAX_WITHDRAWALS_PER_AUTHOR, toNostrEvent } from '../../src/record/index.js'
import { memoryStorage } from '../../src/storage/index.js'
import { collect, createClock, FIXTURE_NOW, FIXTURE_ROOM, openPeerset } from '../helpers.js'

let open: Peerset[] = []
afterEach(async () => {
  await Promise.all(open.map((p) => p.close()))
  open = []
})

async function peersetOf(identity = createIdentity(), clock = createClock(), moderation: ModerationStrategy = createModeration()): Promise<{ peerset: Peerset; identity: typeof identity; clock: typeof clock }> {
  const peerset = await openPeerset({ identity, clock: clock.now, moderation })
  open.push(peerset)
  return { peerset, identity, clock }
}

describe('withdraw()', () => {
  it('removes the record with reason withdrawn, hides the tombstone, and says so in status()', async () => {
    const { peerset, clock } = await peersetOf()
    const record = await peerset.publish({ text: 'Lost cat, grey' })
    clock.advance(60_000)
    const log = collect(peerset, 'record:added', 'records:added', 'record:removed')
    const tombstone = await peerset.withdraw(record.id)
    expect(tombstone).toMatchObject({ withdrawn: true, uuid: record.uuid, author: record.author, text: '', createdAt: FIXTURE_NOW + 60 })
    expect(log).toEqual([['record:removed', record, { reason: 'withdrawn' }]])
    expect(peerset.records()).toEqual([])
    expect(peerset.get(record.id)).toBeUndefined()
    expect(peerset.get(tombstone.id)).toBeUndefined()
    expect(peerset.status()).toMatchObject({ records: 0, withdrawals: 1, authors: 0 })
    // Withdrawing again gives the tombstone back; someone else's record cannot be withdrawn.
    expect((await peerset.withdraw(record)).id).toBe(tombstone.id)
    const other = await createRecord({ text: 'not mine' }, createIdentity().signer, { now: FIXTURE_NOW, room: FIXTURE_ROOM })
    expect((await peerset.importRecord(toNostrEvent(other))).status).toBe('added')
    await expect(peerset.withdraw(other)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(peerset.get(other.id)).toBeDefined()
  })

  it('frees the author’s quota place: with 5 records kept, withdraw one, and the next publish is kept', async () => {
    const { peerset, clock } = await peersetOf()
    const kept = []
    for (let i = 0; i < 5; i++) {
      kept.push(await peerset.publish({ text: `note number ${i}` }))
      clock.advance(1_000)
    }
    await expect(peerset.publish({ text: 'one too many' })).rejects.toMatchObject({ code: 'INVALID_RECORD' })
    await peerset.withdraw(kept[2]!)
    clock.advance(1_000)
    const sixth = await peerset.publish({ text: 'room for this one now' })
    expect(peerset.get(sixth.id)).toBeDefined()
    expect(peerset.status().records).toBe(5)
  })

  it('keeps an older version out: an edit created before the withdrawal, arriving late, is refused as superseded', async () => {
    const { peerset, identity, clock } = await peersetOf()
    const record = await peerset.publish({ text: 'first version' })
    // An edit made on another device, a little after the record, that has not reached us yet.
    const edit = await createRecord({ text: 'second version', uuid: record.uuid }, identity.signer, { now: FIXTURE_NOW + 30, room: FIXTURE_ROOM })
    clock.advance(60_000)
    await peerset.withdraw(record)
    const outcome = await peerset.importRecord(toNostrEvent(edit))
    expect(outcome).toMatchObject({ status: 'rejected', reason: 'superseded' })
    expect(peerset.records()).toEqual([])
    // The original itself does not come back either.
    expect(await peerset.importRecord(toNostrEvent(record))).toMatchObject({ status: 'rejected', reason: 'superseded' })
    expect(peerset.records()).toEqual([])
  })

  it('refuses a forged withdrawal (a bad signature, or the withdrawal signed by another key) and keeps the record', async () => {
    const { peerset } = await peersetOf()
    const author = createIdentity()
    const mallory = createIdentity()
    const record = await createRecord({ text: 'mine to keep' }, author.signer, { now: FIXTURE_NOW - 60, room: FIXTURE_ROOM })
    await peerset.importRecord(toNostrEvent(record))
    // Mallory signs a tombstone for her own address with the author's uuid, then claims the author's key.
    const own = toNostrEvent(await createWithdrawal({ ...record, author: mallory.publicKey }, mallory.signer, { now: FIXTURE_NOW }))
    const relabelled = { ...own, pubkey: author.publicKey }
    expect(await peerset.importRecord({ ...relabelled, id: computeEventId(relabelled) })).toMatchObject({ status: 'rejected', reason: 'bad-signature' })
    // Her genuine tombstone is at HER address (the address includes the key): the author's record stays.
    expect(await peerset.importRecord(own)).toMatchObject({ status: 'added' })
    expect(peerset.get(record.id)).toBeDefined()
    expect(peerset.status()).toMatchObject({ records: 1, withdrawals: 1 })
  })

  it(`caps tombstones per author under a create-and-withdraw loop (the newest ${MAX_WITHDRAWALS_PER_AUTHOR} are kept), and no withdrawn record comes back`, async () => {
    const { peerset, clock } = await peersetOf()
    const published = []
    for (let i = 0; i < MAX_WITHDRAWALS_PER_AUTHOR + 7; i++) {
      const record = await peerset.publish({ text: `flash sale ${i}` })
      published.push(record)
      clock.advance(1_000)
      await peerset.withdraw(record)
      clock.advance(1_000)
      expect(peerset.status().withdrawals).toBe(Math.min(i + 1, MAX_WITHDRAWALS_PER_AUTHOR))
    }
    expect(peerset.records()).toEqual([])
    // The oldest withdrawals were evicted, yet their records stay out (the version memory remembers them).
    for (const record of published.slice(0, 7)) expect(await peerset.importRecord(toNostrEvent(record))).toMatchObject({ status: 'rejected', reason: 'superseded' })
    expect(peerset.records()).toEqual([])
  })

  it('keeps the same tombstones and refuses the same records whatever order the withdrawals arrive in, also past the cap', async () => {
    const author = createIdentity()
    const n = MAX_WITHDRAWALS_PER_AUTHOR + 1
    const records = []
    const tombstones = []
    for (let i = 0; i < n; i++) {
      const at = FIXTURE_NOW - 3_600 + i * 60
      const record = await createRecord({ text: `item ${i}` }, author.signer, { now: at, room: FIXTURE_ROOM })
      records.push(toNostrEvent(record))
      tombstones.push(toNostrEvent(await createWithdrawal({ ...record, roomHash: record.roomHash }, author.signer, { now: at + 30 })))
    }
    // A: each record, then its withdrawal, oldest first (the oldest tombstone is kept, then evicted by the cap).
    // No quota here (acceptAll): the author keeps all 21 records until they are withdrawn.
    const a = (await peersetOf(undefined, undefined, acceptAll())).peerset
    for (let i = 0; i < n; i++) {
      expect((await a.importRecord(records[i])).status).toBe('added')
      expect((await a.importRecord(tombstones[i])).status).toBe('added')
    }
    // B: every record first, then the withdrawals newest first (the oldest arrives below the horizon: refused, and its record is evicted as older than the horizon).
    const b = (await peersetOf(undefined, undefined, acceptAll())).peerset
    for (const event of records) expect((await b.importRecord(event)).status).toBe('added')
    const removed = collect(b, 'record:removed')
    for (const event of [...tombstones].reverse()) await b.importRecord(event)
    expect(removed.length).toBe(n)
    for (const p of [a, b]) {
      expect(p.records()).toEqual([])
      expect(p.status()).toMatchObject({ records: 0, withdrawals: MAX_WITHDRAWALS_PER_AUTHOR })
      expect(await p.importRecord(tombstones[0])).toMatchObject({ status: 'rejected', reason: 'moderation', rule: 'withdrawal-cap' })
      // Each withdrawn record stays out: as superseded, or, the oldest, as older than the author's horizon.
      for (const event of records) expect((await p.importRecord(event)).status).toBe('rejected')
      expect(p.records()).toEqual([])
      expect(await p.importRecord(tombstones[n - 1])).toMatchObject({ status: 'duplicate' })
    }
  })

  it(`past ${MAX_WITHDRAWALS_PER_AUTHOR} withdrawals, the author's records older than the 20th newest go too (withdrawal-cap), and the quota has room again`, async () => {
    const { peerset, clock } = await peersetOf()
    const old = []
    for (let i = 0; i < 4; i++) {
      old.push(await peerset.publish({ text: `old note ${i}` }))
      clock.advance(1_000)
    }
    const removed = collect(peerset, 'record:removed')
    for (let i = 0; i < MAX_WITHDRAWALS_PER_AUTHOR + 1; i++) {
      const record = await peerset.publish({ text: `flash sale ${i}` }) // the fifth quota place
      clock.advance(1_000)
      await peerset.withdraw(record)
      clock.advance(1_000)
    }
    // The 20th withdrawal made the first one the horizon: the four old notes are older, so they went.
    expect(removed.filter(([, , info]) => (info as { reason: string }).reason === 'withdrawal-cap').map(([, record]) => (record as { id: string }).id)).toEqual(old.map((r) => r.id))
    expect(peerset.records()).toEqual([])
    expect(peerset.status()).toMatchObject({ records: 0, withdrawals: MAX_WITHDRAWALS_PER_AUTHOR })
    const outcome = await peerset.importRecord(toNostrEvent(old[0]!))
    expect(outcome).toMatchObject({ status: 'rejected', reason: 'moderation', rule: 'withdrawal-cap', permanent: true, peerFault: false })
    for (let i = 0; i < 5; i++) {
      await peerset.publish({ text: `new note ${i}` })
      clock.advance(1_000)
    }
    expect(peerset.status().records).toBe(5)
  })

  it('while its tombstone is kept, a withdrawn uuid published again is refused for now, and a tombstone replaces a newer version', async () => {
    const { peerset, identity, clock } = await peersetOf()
    const record = await peerset.publish({ text: 'first life' })
    clock.advance(60_000)
    const tombstone = await peerset.withdraw(record)
    const again = await createRecord({ text: 'second life', uuid: record.uuid }, identity.signer, { now: tombstone.createdAt + 60, room: FIXTURE_ROOM })
    expect(await peerset.importRecord(toNostrEvent(again))).toMatchObject({ status: 'rejected', reason: 'superseded', permanent: false })
    expect(peerset.records()).toEqual([])
    // Another peer, which got the new version first: the tombstone replaces it all the same.
    const other = (await peersetOf(createIdentity(), clock)).peerset
    expect((await other.importRecord(toNostrEvent(again))).status).toBe('added')
    const removed = collect(other, 'record:removed')
    expect((await other.importRecord(toNostrEvent(tombstone))).status).toBe('added')
    expect(removed).toEqual([['record:removed', again, { reason: 'withdrawn' }]])
    expect(other.records()).toEqual([])
  })

  it('keeps the tombstone across a reopen: the withdrawn record stays out and is not counted', async () => {
    const storage = memoryStorage()
    const identity = createIdentity()
    const clock = createClock()
    const first = await openPeerset({ identity, clock: clock.now, storage })
    const record = await first.publish({ text: 'short-lived' })
    clock.advance(60_000)
    await first.withdraw(record)
    await first.close()
    const again = await openPeerset({ identity, clock: clock.now, storage })
    open.push(again)
    expect(again.status()).toMatchObject({ records: 0, withdrawals: 1 })
    expect(await again.importRecord(toNostrEvent(record))).toMatchObject({ status: 'rejected', reason: 'superseded' })
    expect(again.records()).toEqual([])
  })
})
