/** One specification, run against every storage strategy: they must behave alike. */
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { levelStorage } from '../../src/node/index.js'
import { isPeersetError } from '../../src/errors.js'
import type { PeersetRecord } from '../../src/record/types.js'
import { indexedDbStorage, memoryStorage, type StorageStrategy } from '../../src/storage/index.js'
import { byId, fakeRecord } from './fake-records.js'

const levelRoot = mkdtempSync(join(tmpdir(), 'peerset-level-spec-'))
afterAll(() => rmSync(levelRoot, { recursive: true, force: true }))

const strategies: [string, () => StorageStrategy][] = [
  ['memoryStorage', () => memoryStorage()],
  // A fresh factory per test: an empty, isolated IndexedDB.
  ['indexedDbStorage', () => indexedDbStorage({ indexedDB: new IDBFactory() })],
  // A fresh folder per test (LevelDB on disk), all removed at the end.
  ['levelStorage', () => levelStorage({ path: mkdtempSync(join(levelRoot, 'store-')) })],
]

async function expectCode(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(isPeersetError(err), `expected a PeersetError ${code}, got ${String(err)}`).toBe(true)
  expect((err as { code: string }).code).toBe(code)
  if (message) expect((err as Error).message).toMatch(message)
}

afterEach(() => {
  vi.unstubAllGlobals()
})

describe.each(strategies)('%s', (_name, makeStorage) => {
  it('is supported and starts empty', async () => {
    const storage = makeStorage()
    expect(storage.isSupported()).toBe(true)
    const store = await storage.open('room')
    expect(await store.loadRecords()).toEqual([])
    expect(await store.getMeta('anything')).toBeUndefined()
    await store.close()
  })

  it('writes a batch and loads every record back, in id order', async () => {
    const store = await makeStorage().open('room')
    const records = Array.from({ length: 50 }, () => fakeRecord())
    records.push(fakeRecord({ link: 'https://example.org', geo: { lat: 1.5, lon: -2.25, geohash: 's00twy01m' }, expiresAt: 1_800_000_000 }))
    await store.write({ put: records })
    expect(await store.loadRecords()).toEqual(byId(records))
  })

  it('loadRecords(onBatch) hands every record over in batches of at most 1,000, in id order, and resolves with none left', async () => {
    const store = await makeStorage().open('room')
    const records = Array.from({ length: 2_345 }, () => fakeRecord())
    for (let i = 0; i < records.length; i += 500) await store.write({ put: records.slice(i, i + 500) })
    const batches: PeersetRecord[][] = []
    const rest = await store.loadRecords((batch) => batches.push(batch))
    expect(rest).toEqual([])
    // LevelDB's iterator may answer fewer than asked per step: only the bound is common.
    expect(batches.length).toBeGreaterThanOrEqual(3)
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(1_000)
    expect(batches.flat()).toEqual(byId(records))
    // Without a callback: everything at once, as before.
    expect(await store.loadRecords()).toEqual(byId(records))
  })

  it('put overwrites a record with the same id', async () => {
    const store = await makeStorage().open('room')
    const a = fakeRecord()
    await store.write({ put: [a] })
    await store.write({ put: [{ ...a, text: 'changed' }] })
    expect(await store.loadRecords()).toEqual([{ ...a, text: 'changed' }])
  })

  it('deletes by id; deleting a missing id is a no-op', async () => {
    const store = await makeStorage().open('room')
    const [a, b] = [fakeRecord(), fakeRecord()]
    await store.write({ put: [a, b] })
    await store.write({ delete: [a.id, 'f'.repeat(64)] })
    expect(await store.loadRecords()).toEqual([b])
    await store.write({})
    await store.write({ put: [], delete: [] })
    expect(await store.loadRecords()).toEqual([b])
  })

  it('applies puts before deletes: an id in both ends deleted', async () => {
    const store = await makeStorage().open('room')
    const [old, replacement] = [fakeRecord(), fakeRecord()]
    await store.write({ put: [old] })
    await store.write({ put: [replacement, old], delete: [old.id] })
    expect(await store.loadRecords()).toEqual([replacement])
  })

  it('a failing batch rejects with STORAGE_FAILED and changes nothing', async () => {
    const store = await makeStorage().open('room')
    const [kept, doomed] = [fakeRecord(), fakeRecord()]
    await store.write({ put: [kept, doomed] })
    const fresh = fakeRecord()
    // A function cannot be structured-cloned: the batch must fail as a whole.
    const poison = { ...fakeRecord(), text: (() => 'no') as unknown as string }
    await expectCode(store.write({ put: [fresh, poison], delete: [doomed.id] }), 'STORAGE_FAILED', /DataCloneError/)
    expect(await store.loadRecords()).toEqual(byId([kept, doomed]))
    // The store still works afterwards.
    await store.write({ put: [fresh] })
    expect(await store.loadRecords()).toEqual(byId([kept, doomed, fresh]))
  })

  it('stores copies: mutating a written or loaded record changes nothing stored', async () => {
    const store = await makeStorage().open('room')
    const a = fakeRecord()
    const mutable = { ...a, tags: a.tags.map((t) => [...t]) }
    await store.write({ put: [mutable] })
    mutable.tags[0]![1] = 'mutated'
    const [loaded] = (await store.loadRecords()) as [PeersetRecord]
    ;(loaded.tags[0] as string[])[1] = 'mutated again'
    expect(await store.loadRecords()).toEqual([a])
  })

  it('gets, sets, overwrites and deletes meta values (structured clones)', async () => {
    const store = await makeStorage().open('room')
    const strikes = { peerA: 2, since: new Date(0), ids: new Set(['x']) }
    await store.setMeta('strikes', strikes)
    strikes.peerA = 3
    expect(await store.getMeta('strikes')).toEqual({ peerA: 2, since: new Date(0), ids: new Set(['x']) })
    await store.setMeta('strikes', 7)
    expect(await store.getMeta<number>('strikes')).toBe(7)
    await store.setMeta('strikes', undefined)
    expect(await store.getMeta('strikes')).toBeUndefined()
    await store.setMeta('missing', undefined)
    await store.setMeta('null', null)
    expect(await store.getMeta('null')).toBeNull()
    await expectCode(store.setMeta('fn', () => 1), 'STORAGE_FAILED', /DataCloneError/)
    expect(await store.getMeta('fn')).toBeUndefined()
  })

  it('keeps records and meta across close and reopen', async () => {
    const storage = makeStorage()
    const store = await storage.open('room')
    const records = [fakeRecord(), fakeRecord()]
    await store.write({ put: records })
    await store.setMeta('bans', ['npub1x'])
    await store.close()
    const again = await storage.open('room')
    expect(await again.loadRecords()).toEqual(byId(records))
    expect(await again.getMeta('bans')).toEqual(['npub1x'])
    await again.close()
  })

  it('keeps rooms apart', async () => {
    const storage = makeStorage()
    const [one, two] = await Promise.all([storage.open('one'), storage.open('two')])
    await one.write({ put: [fakeRecord()] })
    await one.setMeta('k', 1)
    expect(await two.loadRecords()).toEqual([])
    expect(await two.getMeta('k')).toBeUndefined()
  })

  it('rejects every call with CLOSED after close(); close is idempotent', async () => {
    const store = await makeStorage().open('room')
    await store.close()
    await store.close()
    await expectCode(store.loadRecords(), 'CLOSED', /^peerset: /)
    await expectCode(store.write({ put: [fakeRecord()] }), 'CLOSED')
    await expectCode(store.getMeta('k'), 'CLOSED')
    await expectCode(store.setMeta('k', 1), 'CLOSED')
  })

  it('rejects bad arguments with INVALID_ARGUMENT', async () => {
    const storage = makeStorage()
    await expectCode(storage.open(''), 'INVALID_ARGUMENT', /room/)
    await expectCode(storage.open(42 as unknown as string), 'INVALID_ARGUMENT')
    const store = await storage.open('room')
    await expectCode(store.write(null as never), 'INVALID_ARGUMENT', /batch/)
    await expectCode(store.write({ put: {} as never }), 'INVALID_ARGUMENT', /batch\.put/)
    await expectCode(store.write({ put: [{ ...fakeRecord(), id: undefined } as never] }), 'INVALID_ARGUMENT', /batch\.put\[0\]/)
    await expectCode(store.write({ delete: [''] }), 'INVALID_ARGUMENT', /batch\.delete\[0\]/)
    await expectCode(store.getMeta(''), 'INVALID_ARGUMENT', /key/)
    await expectCode(store.setMeta(1 as never, 1), 'INVALID_ARGUMENT', /key/)
  })

  it('requestPersistence asks navigator.storage.persist and never throws', async () => {
    const store = await makeStorage().open('room')
    const expected = (answer: boolean) => (store.persistent ? answer : undefined)
    vi.stubGlobal('navigator', undefined)
    expect(await store.requestPersistence()).toBeUndefined()
    vi.stubGlobal('navigator', { storage: { persist: async () => true } })
    expect(await store.requestPersistence()).toBe(expected(true))
    vi.stubGlobal('navigator', { storage: { persist: async () => { throw new Error('denied') } } })
    expect(await store.requestPersistence()).toBeUndefined()
  })
})
