/** IndexedDB-only behaviour: schema, upgrade from version 1, aborts, other tabs. */
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { isPeersetError } from '../../src/errors.js'
import { indexedDbStorage } from '../../src/storage/index.js'
import { byId, fakeRecord } from './fake-records.js'
import { rawOpen, requestResult, writeV1Database } from './old-schema-fixture.js'

async function rejection(promise: Promise<unknown>): Promise<{ code: string; reason?: string; message: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isPeersetError(err)) throw new Error(`expected a PeersetError, got ${String(err)}`)
  return err
}

afterEach(() => {
  vi.restoreAllMocks()
  vi.unstubAllGlobals()
})

describe('indexedDbStorage schema', () => {
  it('creates one database per room at version 2 with the records indexes and the meta store', async () => {
    const factory = new IDBFactory()
    const store = await indexedDbStorage({ indexedDB: factory }).open('lobby')
    await store.close()
    const db = await rawOpen(factory, 'peerset:lobby')
    expect(db.version).toBe(2)
    expect([...db.objectStoreNames].sort()).toEqual(['meta', 'records'])
    const records = db.transaction('records').objectStore('records')
    expect(records.keyPath).toBe('id')
    expect([...records.indexNames].sort()).toEqual(['author', 'authorUuid', 'createdAt'])
    expect(records.index('authorUuid').keyPath).toEqual(['author', 'uuid'])
    db.close()
  })

  it('uses options.databaseName and validates it', async () => {
    const factory = new IDBFactory()
    const store = await indexedDbStorage({ indexedDB: factory, databaseName: (room) => `app/${room}` }).open('lobby')
    await store.close()
    expect((await factory.databases()).map((d) => d.name)).toEqual(['app/lobby'])
    const bad = indexedDbStorage({ indexedDB: factory, databaseName: () => '' })
    expect((await rejection(bad.open('lobby'))).code).toBe('INVALID_ARGUMENT')
  })

  it('validates its options', () => {
    for (const bad of [null, { databaseName: 'x' }, { indexedDB: {} }, { blockedTimeoutMs: -1 }, { blockedTimeoutMs: Number.NaN }]) {
      expect(() => indexedDbStorage(bad as never)).toThrowError(/^peerset: indexedDbStorage: /)
    }
  })

  it('is unsupported (and open fails clearly) without an IndexedDB', async () => {
    vi.stubGlobal('indexedDB', undefined)
    const storage = indexedDbStorage()
    expect(storage.isSupported()).toBe(false)
    const err = await rejection(storage.open('lobby'))
    expect(err.code).toBe('STORAGE_FAILED')
    expect(err.reason).toBe('unsupported')
  })
})

describe('upgrade from schema version 1', () => {
  it('keeps every record and makes the new indexes usable', async () => {
    const factory = new IDBFactory()
    const alice = 'a'.repeat(64)
    const old = [...Array.from({ length: 300 }, () => fakeRecord()), fakeRecord({ author: alice, uuid: 'u-1' })]
    await writeV1Database(factory, 'peerset:lobby', old)

    const store = await indexedDbStorage({ indexedDB: factory }).open('lobby')
    expect(await store.loadRecords()).toEqual(byId(old))
    await store.setMeta('settings', { v: 1 })
    expect(await store.getMeta('settings')).toEqual({ v: 1 })
    await store.close()

    const db = await rawOpen(factory, 'peerset:lobby')
    expect(db.version).toBe(2)
    const records = db.transaction('records').objectStore('records')
    expect(await requestResult(records.index('authorUuid').get([alice, 'u-1']))).toEqual(old.at(-1))
    expect(await requestResult(records.index('author').count(alice))).toBe(1)
    expect(await requestResult(records.index('createdAt').count())).toBe(old.length)
    db.close()
  })
})

describe('failed writes change nothing', () => {
  it('a store error thrown mid-batch (QuotaExceededError) rolls back puts and deletes already made', async () => {
    const store = await indexedDbStorage({ indexedDB: new IDBFactory() }).open('lobby')
    const [x, y] = [fakeRecord(), fakeRecord()]
    await store.write({ put: [x, y] })
    const original = IDBObjectStore.prototype.delete
    vi.spyOn(IDBObjectStore.prototype, 'delete').mockImplementation(function (this: IDBObjectStore, key) {
      if (key === 'poison') throw new DOMException('quota', 'QuotaExceededError')
      return original.call(this, key)
    })
    const err = await rejection(store.write({ put: [fakeRecord(), fakeRecord()], delete: [x.id, y.id, 'poison'] }))
    expect(err.code).toBe('STORAGE_FAILED')
    expect(err.reason).toBe('QuotaExceededError')
    expect(err.message).toMatch(/QuotaExceededError/)
    vi.restoreAllMocks()
    expect(await store.loadRecords()).toEqual(byId([x, y]))
  })

  it('a transaction that aborts after its requests were made rejects with AbortError', async () => {
    const store = await indexedDbStorage({ indexedDB: new IDBFactory() }).open('lobby')
    const kept = fakeRecord()
    await store.write({ put: [kept] })
    const original = IDBObjectStore.prototype.put
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value, key) {
      const request = original.call(this, value, key)
      // Like the browser aborting the transaction (e.g. quota) once the requests are queued.
      if ((value as { text?: string }).text === 'last') queueMicrotask(() => this.transaction.abort())
      return request
    })
    const err = await rejection(store.write({ put: [fakeRecord(), fakeRecord({ text: 'last' })], delete: [kept.id] }))
    expect(err.code).toBe('STORAGE_FAILED')
    expect(err.message).toMatch(/AbortError/)
    vi.restoreAllMocks()
    expect(await store.loadRecords()).toEqual([kept])
  })
})

describe('other tabs', () => {
  it('closes itself on versionchange so another connection can upgrade; later calls reject CLOSED', async () => {
    const factory = new IDBFactory()
    const store = await indexedDbStorage({ indexedDB: factory }).open('lobby')
    const newer = await rawOpen(factory, 'peerset:lobby', 3)
    expect(newer.version).toBe(3)
    const err = await rejection(store.loadRecords())
    expect(err.code).toBe('CLOSED')
    expect(err.message).toMatch(/versionchange/)
    await store.close()
    newer.close()
    // This library cannot open a newer schema than its own.
    const downgrade = await rejection(indexedDbStorage({ indexedDB: factory }).open('lobby'))
    expect(downgrade.code).toBe('STORAGE_FAILED')
    expect(downgrade.message).toMatch(/VersionError/)
  })

  it('fails with STORAGE_FAILED (blocked) instead of hanging when an old tab keeps the database open', async () => {
    const factory = new IDBFactory()
    await writeV1Database(factory, 'peerset:lobby', [fakeRecord()])
    const oldTab = await rawOpen(factory, 'peerset:lobby', 1) // ignores versionchange
    const err = await rejection(indexedDbStorage({ indexedDB: factory, blockedTimeoutMs: 50 }).open('lobby'))
    expect(err.code).toBe('STORAGE_FAILED')
    expect(err.reason).toBe('blocked')
    // Once the old tab closes, the abandoned upgrade completes and its connection is closed at once,
    // so it does not block anyone in turn.
    oldTab.close()
    const store = await indexedDbStorage({ indexedDB: factory, blockedTimeoutMs: 1000 }).open('lobby')
    expect(await store.loadRecords()).toHaveLength(1)
    await store.close()
    const upgraded = await rawOpen(factory, 'peerset:lobby', 4)
    upgraded.close()
  })
})

describe('many records', () => {
  it('loads 20,000 records written in batches', async () => {
    const store = await indexedDbStorage({ indexedDB: new IDBFactory() }).open('lobby')
    const records = Array.from({ length: 20_000 }, () => fakeRecord())
    for (let i = 0; i < records.length; i += 500) await store.write({ put: records.slice(i, i + 500) })
    const loaded = await store.loadRecords()
    expect(loaded).toHaveLength(records.length)
    expect(new Set(loaded.map((r) => r.id))).toEqual(new Set(records.map((r) => r.id)))
  })
})

describe('health of a store whose connection is closed under it', () => {
  it('reports closed on versionchange (a real upgrade from a second openDB), then closed for good when the newer schema cannot be reopened', async () => {
    const factory = new IDBFactory()
    const store = await indexedDbStorage({ indexedDB: factory, reopenDelayMs: 0 }).open('lobby')
    const changes: Array<{ state: string; reason: string }> = []
    const gaveUp = new Promise<void>((resolve) =>
      store.onHealthChange!((c) => {
        changes.push({ state: c.state, reason: c.reason })
        if (c.reason === 'reopen-failed') resolve()
      }),
    )
    const newer = await rawOpen(factory, 'peerset:lobby', 3)
    expect(changes[0]).toEqual({ state: 'closed', reason: 'versionchange' })
    await gaveUp
    expect(changes.map((c) => c.reason)).toEqual(['versionchange', 'reopen-failed'])
    expect((await rejection(store.write({ put: [fakeRecord()] }))).code).toBe('CLOSED')
    newer.close()
    await store.close()
  })

  it('reopens after another connection deleted the database, and works again', async () => {
    const factory = new IDBFactory()
    const store = await indexedDbStorage({ indexedDB: factory, reopenDelayMs: 0 }).open('lobby')
    await store.write({ put: [fakeRecord()] })
    const changes: string[] = []
    const reopened = new Promise<void>((resolve) =>
      store.onHealthChange!((c) => {
        changes.push(`${c.state}:${c.reason}`)
        if (c.state === 'ok') resolve()
      }),
    )
    await requestResult(factory.deleteDatabase('peerset:lobby'))
    await reopened
    expect(changes).toEqual(['closed:versionchange', 'ok:reopened'])
    const record = fakeRecord()
    await store.write({ put: [record] })
    expect(await store.loadRecords()).toEqual([record])
    await store.close()
  })

  it('stops reopening once closed', async () => {
    const factory = new IDBFactory()
    const store = await indexedDbStorage({ indexedDB: factory, reopenDelayMs: 0 }).open('lobby')
    const changes: string[] = []
    store.onHealthChange!((c) => changes.push(c.reason))
    const deleted = requestResult(factory.deleteDatabase('peerset:lobby'))
    await store.close()
    await deleted
    await rawOpen(factory, 'probe').then((db) => db.close()) // let any queued reopen run
    expect(changes.filter((c) => c === 'reopened')).toEqual([])
    expect((await rejection(store.loadRecords())).code).toBe('CLOSED')
  })
})
