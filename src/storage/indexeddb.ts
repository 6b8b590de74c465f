/**
 * The IndexedDB storage strategy (on `idb`): one database per room, records keyed by id.
 */
import { type IDBPDatabase, unwrap, wrap } from 'idb'
import { assertKnownOptions, PeersetError } from '../errors.js'
import type { PeersetRecord } from '../record/types.js'
import { assertMetaKey, assertRoom, checkBatch, closedError, storageFailed } from './checks.js'
import { requestPersistence } from './persistence.js'
import { type PeersetDatabase, SCHEMA_VERSION, upgradeSchema } from './schema.js'
import type { RecordStore, StorageStrategy, StoreHealthChange, WriteBatch } from './types.js'

/** How many records `loadRecords()` reads per request. */
const LOAD_BATCH = 10_000
/**
 * How many records a `loadRecords(onBatch)` request reads: small enough that a batch, indexed and
 * dropped at once, dies in V8's young generation (1,000 rows of about 1 KB).
 */
const STREAM_BATCH = 1_000

/** Options of {@link indexedDbStorage}. */
export interface IndexedDbStorageOptions {
  /** The database name of a room. Default: `` room => `peerset:${room}` ``. */
  databaseName?: (room: string) => string
  /** The IndexedDB implementation to use. Default: `globalThis.indexedDB`, looked up at `open()`. */
  indexedDB?: IDBFactory
  /** How long `open()` waits for other tabs to close an older version before it fails. Default 10 000 ms. */
  blockedTimeoutMs?: number
  /**
   * How long a store waits before reopening its database after the browser or another tab closed
   * the connection (`close`, `versionchange`); doubled after each failed attempt. Default 1 000 ms.
   */
  reopenDelayMs?: number
}

/** Attempts to reopen a database whose connection was closed under the store, before giving up. */
export const MAX_REOPEN_ATTEMPTS = 5

/**
 * A storage strategy that keeps each room in its own IndexedDB database (`peerset:<room>` by default),
 * creating or upgrading the schema on open.
 *
 * Other tabs: a store closes its connection when another connection wants to upgrade or delete its
 * database (`versionchange`), and its calls reject with `CLOSED` meanwhile. It then tries to reopen
 * the database (after `reopenDelayMs`, doubling, at most 5 times, `MAX_REOPEN_ATTEMPTS`): that
 * works after a delete, not after an upgrade to a newer schema (`VersionError`: it stays closed).
 * A connection the browser closes itself (`close`: storage cleared, disk error) is reopened the same
 * way. Each change is reported through `onHealthChange` (`closed`, then `ok` once reopened).
 * If `open()` must upgrade while an older
 * tab keeps the database open and does not close it, it rejects with `STORAGE_FAILED` (reason
 * `blocked`) after `blockedTimeoutMs` instead of waiting forever.
 *
 * `idb` recognises IndexedDB objects by the global classes (`IDBRequest`...), so an injected factory
 * must come from the same implementation as those globals (in Node: `import 'fake-indexeddb/auto'`).
 *
 * @throws PeersetError `INVALID_ARGUMENT` for bad options.
 * @example
 * ```ts
 * const storage = indexedDbStorage()
 * if (storage.isSupported()) {
 *   const store = await storage.open('my-room')
 *   await store.write({ put: [record], delete: [olderVersion.id] })
 *   const records = await store.loadRecords()
 * }
 * ```
 */
export function indexedDbStorage(options: IndexedDbStorageOptions = {}): StorageStrategy {
  if (typeof options !== 'object' || options === null) {
    throw new PeersetError('INVALID_ARGUMENT', 'indexedDbStorage: options must be an object')
  }
  assertKnownOptions('indexedDbStorage', options, ['databaseName', 'indexedDB', 'blockedTimeoutMs', 'reopenDelayMs'])
  const { databaseName = (room: string) => `peerset:${room}`, blockedTimeoutMs = 10_000, reopenDelayMs = 1_000 } = options
  if (typeof databaseName !== 'function') {
    throw new PeersetError('INVALID_ARGUMENT', 'indexedDbStorage: options.databaseName must be a function (room) => string')
  }
  if (options.indexedDB !== undefined && typeof options.indexedDB?.open !== 'function') {
    throw new PeersetError('INVALID_ARGUMENT', 'indexedDbStorage: options.indexedDB must be an IDBFactory')
  }
  if (typeof blockedTimeoutMs !== 'number' || !(blockedTimeoutMs >= 0) || !Number.isFinite(blockedTimeoutMs)) {
    throw new PeersetError('INVALID_ARGUMENT', `indexedDbStorage: options.blockedTimeoutMs must be a finite number >= 0, got ${String(blockedTimeoutMs)}`)
  }
  if (typeof reopenDelayMs !== 'number' || !(reopenDelayMs >= 0) || !Number.isFinite(reopenDelayMs)) {
    throw new PeersetError('INVALID_ARGUMENT', `indexedDbStorage: options.reopenDelayMs must be a finite number >= 0, got ${String(reopenDelayMs)}`)
  }
  const factory = (): IDBFactory | undefined => options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB
  return {
    name: 'indexeddb',
    isSupported: () => typeof factory()?.open === 'function' && typeof (globalThis as { IDBRequest?: unknown }).IDBRequest === 'function',
    async open(room: string): Promise<RecordStore> {
      assertRoom(room, 'indexedDbStorage.open')
      const name = databaseName(room)
      if (typeof name !== 'string' || name.length === 0) {
        throw new PeersetError('INVALID_ARGUMENT', `indexedDbStorage.open: databaseName(${JSON.stringify(room)}) must return a non-empty string`)
      }
      const idb = factory()
      if (typeof idb?.open !== 'function' || typeof (globalThis as { IDBRequest?: unknown }).IDBRequest !== 'function') {
        throw new PeersetError('STORAGE_FAILED', 'indexedDbStorage.open: IndexedDB is not available here (in Node, import "fake-indexeddb/auto")', { reason: 'unsupported' })
      }
      const db = await openDatabase(idb, name, blockedTimeoutMs)
      return openIndexedDbStore(new DbConnection(db, () => openDatabase(idb, name, blockedTimeoutMs), reopenDelayMs), name)
    },
  }
}

/** Open (creating or upgrading) one database; see the blocked/timeout rule in {@link indexedDbStorage}. */
function openDatabase(factory: IDBFactory, name: string, blockedTimeoutMs: number): Promise<IDBPDatabase<PeersetDatabase>> {
  return new Promise((resolve, reject) => {
    let request: IDBOpenDBRequest
    try {
      request = factory.open(name, SCHEMA_VERSION)
    } catch (err) {
      reject(storageFailed(`indexedDbStorage.open(${JSON.stringify(name)})`, err))
      return
    }
    let settled = false
    let timer: ReturnType<typeof setTimeout> | undefined
    request.addEventListener('upgradeneeded', () => {
      // An exception here aborts the upgrade transaction, and the open fails with AbortError.
      upgradeSchema(request.result, request.transaction as IDBTransaction)
    })
    request.addEventListener('blocked', () => {
      timer ??= setTimeout(() => {
        settled = true
        reject(new PeersetError(
          'STORAGE_FAILED',
          `indexedDbStorage.open(${JSON.stringify(name)}) blocked: another tab keeps an older version of the database open (waited ${blockedTimeoutMs} ms)`,
          { reason: 'blocked' },
        ))
      }, blockedTimeoutMs)
    })
    ;(wrap(request) as Promise<IDBPDatabase<PeersetDatabase>>).then(
      (db) => {
        clearTimeout(timer)
        // Opened after we gave up: close it at once so it blocks nobody.
        if (settled) db.close()
        else resolve(db)
      },
      (err: unknown) => {
        clearTimeout(timer)
        if (!settled) reject(storageFailed(`indexedDbStorage.open(${JSON.stringify(name)})`, err))
      },
    )
  })
}

/**
 * The connection of a store, reopened when the browser or another tab closes it (see
 * {@link indexedDbStorage}); health changes go to the listeners.
 */
class DbConnection {
  #db: IDBPDatabase<PeersetDatabase> | undefined
  /** Why the store is closed for good (by `close()`, or reopening gave up). */
  closedBecause: string | undefined
  /** Why the connection is down for now (a reopen is scheduled). */
  #down: string | undefined
  #attempts = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  readonly #reopen: () => Promise<IDBPDatabase<PeersetDatabase>>
  readonly #delayMs: number
  readonly listeners = new Set<(change: StoreHealthChange) => void>()

  constructor(db: IDBPDatabase<PeersetDatabase>, reopen: () => Promise<IDBPDatabase<PeersetDatabase>>, delayMs: number) {
    this.#reopen = reopen
    this.#delayMs = delayMs
    this.#attach(db)
  }

  /** The open connection; throws `CLOSED` while there is none. */
  db(where: string): IDBPDatabase<PeersetDatabase> {
    const why = this.closedBecause ?? this.#down
    if (why !== undefined || this.#db === undefined) throw closedError(where, why)
    return this.#db
  }

  close(): void {
    this.closedBecause ??= 'the store was closed'
    clearTimeout(this.#timer)
    this.#db?.close()
    this.#db = undefined
  }

  #attach(db: IDBPDatabase<PeersetDatabase>): void {
    this.#db = db
    // Let another tab upgrade or delete the database instead of blocking it.
    db.addEventListener('versionchange', () => {
      db.close()
      this.#lost(db, 'versionchange', 'the store was closed because another connection upgrades or deletes its database (versionchange)')
    })
    // The browser closed the connection itself (storage cleared, disk error...).
    db.addEventListener('close', () => this.#lost(db, 'terminated', 'the database connection was closed by the browser'))
  }

  #lost(db: IDBPDatabase<PeersetDatabase>, reason: string, why: string): void {
    if (this.#db !== db || this.closedBecause !== undefined) return
    this.#db = undefined
    this.#down = why
    this.#emit({ state: 'closed', reason })
    this.#schedule()
  }

  #schedule(): void {
    const timer = setTimeout(() => void this.#tryReopen(), this.#delayMs * 2 ** this.#attempts)
    ;(timer as { unref?: () => void }).unref?.()
    this.#timer = timer
  }

  async #tryReopen(): Promise<void> {
    if (this.closedBecause !== undefined) return
    this.#attempts++
    let db: IDBPDatabase<PeersetDatabase>
    try {
      db = await this.#reopen()
    } catch (error) {
      if (this.closedBecause !== undefined) return
      // A newer schema (another tab upgraded): this build cannot use it, however often it tries.
      const hopeless = (error as { reason?: unknown } | null)?.reason === 'VersionError' || this.#attempts >= MAX_REOPEN_ATTEMPTS
      if (!hopeless) return this.#schedule()
      this.closedBecause = `${this.#down ?? 'the connection was lost'}; reopening failed: ${String(error)}`
      this.#emit({ state: 'closed', reason: 'reopen-failed', error })
      return
    }
    if (this.closedBecause !== undefined) return db.close()
    this.#attempts = 0
    this.#down = undefined
    this.#attach(db)
    this.#emit({ state: 'ok', reason: 'reopened' })
  }

  #emit(change: StoreHealthChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change)
      } catch {
        // a listener's failure is its own
      }
    }
  }
}

function openIndexedDbStore(conn: DbConnection, name: string): RecordStore {
  const label = `indexedDb store ${JSON.stringify(name)}`
  const open = (where: string): IDBPDatabase<PeersetDatabase> => conn.db(`${label} ${where}`)
  return {
    persistent: true,
    async loadRecords(onBatch?: (records: PeersetRecord[]) => void): Promise<PeersetRecord[]> {
      const db = open('loadRecords')
      try {
        // Batches of LOAD_BATCH in one readonly transaction (a consistent snapshot): bounded result
        // messages in browsers whatever the record sizes; as fast as one getAll under fake-indexeddb.
        // With `onBatch`, each batch goes there as it comes (synchronously: the transaction stays active).
        const tx = db.transaction('records')
        tx.done.catch(() => undefined) // awaited below; a failed request rejects the loop first
        const records: PeersetRecord[] = []
        for (let after: string | undefined; ; ) {
          const chunk = await tx.store.getAll(after === undefined ? null : IDBKeyRange.lowerBound(after, true), onBatch ? STREAM_BATCH : LOAD_BATCH)
          const last = chunk.length < (onBatch ? STREAM_BATCH : LOAD_BATCH)
          if (!last) after = (chunk[chunk.length - 1] as PeersetRecord).id
          if (onBatch) onBatch(chunk)
          else for (const record of chunk) records.push(record)
          if (last) break
        }
        await tx.done
        return records
      } catch (err) {
        throw storageFailed(`${label} loadRecords`, err)
      }
    },
    async write(batch: WriteBatch): Promise<void> {
      const { puts, deletes, meta } = checkBatch(batch, `${label} write`)
      const db = open('write')
      if (puts.length === 0 && deletes.length === 0 && meta.length === 0) return
      let tx
      try {
        tx = db.transaction(['records', 'meta'], 'readwrite')
      } catch (err) {
        throw storageFailed(`${label} write`, err)
      }
      // Requests go on the plain store: idb would make a promise per request, and every one of
      // them would reject (unhandled) when the transaction aborts.
      const store = unwrap(tx.objectStore('records'))
      const metaStore = unwrap(tx.objectStore('meta'))
      try {
        for (const record of puts) store.put(record)
        for (const id of deletes) store.delete(id)
        for (const [key, value] of meta) {
          if (value === undefined) metaStore.delete(key)
          else metaStore.put(value, key)
        }
      } catch (err) {
        // A synchronous failure (DataCloneError, DataError...) does not abort the transaction by itself:
        // abort it so the requests already made are rolled back.
        try {
          tx.abort()
        } catch {
          // already finished or aborted
        }
        await tx.done.catch(() => undefined)
        throw storageFailed(`${label} write`, err)
      }
      try {
        // Resolves on `complete`; rejects on `abort` or `error` (e.g. QuotaExceededError).
        await tx.done
      } catch (err) {
        throw storageFailed(`${label} write`, err)
      }
    },
    async getMeta<T = unknown>(key: string): Promise<T | undefined> {
      assertMetaKey(key, `${label} getMeta`)
      const db = open('getMeta')
      try {
        return (await db.get('meta', key)) as T | undefined
      } catch (err) {
        throw storageFailed(`${label} getMeta`, err)
      }
    },
    async setMeta(key: string, value: unknown): Promise<void> {
      assertMetaKey(key, `${label} setMeta`)
      const db = open('setMeta')
      try {
        if (value === undefined) await db.delete('meta', key)
        else await db.put('meta', value, key)
      } catch (err) {
        throw storageFailed(`${label} setMeta`, err)
      }
    },
    requestPersistence,
    async close(): Promise<void> {
      conn.close()
    },
    onHealthChange(listener) {
      conn.listeners.add(listener)
      return () => void conn.listeners.delete(listener)
    },
  }
}
