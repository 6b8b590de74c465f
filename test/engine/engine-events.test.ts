/** The engine's typed events for catch-ups and moderation, as a host app sees them. */
import { describe, expect, it } from 'vitest'
import { acceptAll, createModeration } from '../../src/moderation/index.js'
import { createPeerset } from '../../src/peerset.js'
import { createIdentity } from '../../src/identity/index.js'
import { createRecord } from '../../src/record/index.js'
import { memoryStorage } from '../../src/storage/index.js'
import { createMemoryNetwork } from '../../src/transport/index.js'
import { FIXTURE_NOW, FIXTURE_ROOM, collect, loadFixtures, waitFor } from '../helpers.js'

const { records: events } = loadFixtures()

describe('engine events', () => {
  it('reports the start and the end of a catch-up with sync:started and sync:idle', async () => {
    const network = createMemoryNetwork({ latencyMs: 1 })
    const common = { room: FIXTURE_ROOM, storage: memoryStorage(), moderation: acceptAll(), clock: () => FIXTURE_NOW * 1000, sessionTickMs: 50 }
    const full = await createPeerset({ ...common, identity: createIdentity(), transport: network.transport() })
    for (const e of events.slice(0, 100)) await full.importRecord(e)
    const fresh = await createPeerset({ ...common, storage: memoryStorage(), identity: createIdentity(), transport: network.transport() })
    const log = collect(fresh, 'sync:started', 'sync:idle')
    await waitFor(() => log.some(([name]) => name === 'sync:idle'), 10_000, 'sync:idle')
    expect(log[0]![0]).toBe('sync:started')
    expect((log[0]![1] as { wanted: number }).wanted).toBeGreaterThan(0)
    const idle = log.find(([name]) => name === 'sync:idle')![1] as { recordsAdded: number }
    expect(idle.recordsAdded).toBe(full.records().length)
    expect(fresh.records()).toEqual(full.records())
    await Promise.all([full.close(), fresh.close()])
  })

  it('does not report sync:idle when the peerset closes in the middle of a catch-up', async () => {
    const network = createMemoryNetwork({ latencyMs: 1 })
    const common = { room: FIXTURE_ROOM, storage: memoryStorage(), moderation: acceptAll(), clock: () => FIXTURE_NOW * 1000, sessionTickMs: 50 }
    const full = await createPeerset({ ...common, identity: createIdentity(), transport: network.transport() })
    for (const e of events.slice(0, 100)) await full.importRecord(e)
    const fresh = await createPeerset({ ...common, storage: memoryStorage(), identity: createIdentity(), transport: network.transport() })
    const log = collect(fresh, 'sync:started', 'sync:progress', 'sync:idle')
    let closing: Promise<void> | undefined
    fresh.on('record:added', () => {
      closing ??= fresh.close()
    })
    await waitFor(() => closing !== undefined, 10_000, 'a first record')
    await closing
    expect(log.filter(([name]) => name === 'sync:started')).toHaveLength(1)
    expect(fresh.records().length).toBeLessThan(100)
    expect(fresh.records().length).toBeGreaterThan(0)
    expect(log.map(([name]) => name)).not.toContain('sync:idle')
    await full.close()
  })

  it('reports author strikes and bans, then removes and refuses the banned author’s records', async () => {
    const now = FIXTURE_NOW * 1000
    const peerset = await createPeerset({
      room: FIXTURE_ROOM,
      identity: createIdentity(),
      storage: memoryStorage(),
      transport: false,
      moderation: createModeration(),
      strikes: { threshold: 2 },
      clock: () => now,
    })
    const log = collect(peerset, 'author:strike', 'author:banned', 'record:removed', 'record:rejected')
    const troll = createIdentity()
    const at = (s: number) => ({ now: FIXTURE_NOW - 1000 + s, room: FIXTURE_ROOM })
    const fine = await createRecord({ text: 'a perfectly fine post' }, troll.signer, at(0))
    const bad1 = await createRecord({ text: 'you are a piece of shit' }, troll.signer, at(1))
    const bad2 = await createRecord({ text: 'f u c k this' }, troll.signer, at(2))
    const later = await createRecord({ text: 'another fine post' }, troll.signer, at(3))
    expect((await peerset.importRecord(fine)).status).toBe('added')
    expect(await peerset.importRecord(bad1)).toMatchObject({ status: 'rejected', reason: 'moderation' })
    expect(await peerset.importRecord(bad2)).toMatchObject({ status: 'rejected', reason: 'moderation' })
    expect(await peerset.importRecord(later)).toMatchObject({ status: 'rejected', reason: 'moderation', rule: 'ban:author-banned' })
    const names = log.map(([name]) => name)
    expect(names.filter((n) => n === 'author:strike')).toHaveLength(2)
    expect(log.find(([name]) => name === 'author:banned')![1]).toMatchObject({ author: troll.publicKey })
    expect(log.find(([name]) => name === 'record:removed')!.slice(1)).toMatchObject([{ id: fine.id }, { reason: 'author-banned' }])
    expect(peerset.records()).toEqual([])
    await peerset.close()
  })
})

describe('proof of work on records (optional)', () => {
  it('mines its own records and refuses records without the required work', async () => {
    const peerset = await createPeerset({
      room: FIXTURE_ROOM,
      identity: createIdentity(),
      storage: memoryStorage(),
      transport: false,
      moderation: acceptAll(),
      proofOfWork: { records: 8 },
    })
    const mine = await peerset.publish({ text: 'mined' })
    expect(mine.id.startsWith('00')).toBe(true)
    expect(mine.tags.find((t) => t[0] === 'nonce')?.[2]).toBe('8')
    const lazy = await createRecord({ text: 'not mined' }, createIdentity().signer, { room: FIXTURE_ROOM })
    const outcome = await peerset.importRecord(lazy)
    // One in 256 random ids has 8 leading zero bits, but without a nonce tag committing to 8 it never counts.
    expect(outcome).toMatchObject({ status: 'rejected', reason: 'insufficient-pow' })
    await peerset.close()
  })
})
