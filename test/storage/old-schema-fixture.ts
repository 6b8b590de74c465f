/**
 * Writes a room database in the OLD schema (version 1: only a `records` store keyed by `id` with a
 * `createdAt` index, no `meta` store) with raw IndexedDB calls, independent of the library's code.
 */
import type { PeersetRecord } from '../../src/record/types.js'

/** Promisify a raw request. */
export function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
}

/** Open a database with raw calls; `upgrade` runs in `upgradeneeded`. */
export function rawOpen(
  factory: IDBFactory,
  name: string,
  version?: number,
  upgrade?: (db: IDBDatabase, oldVersion: number) => void,
): Promise<IDBDatabase> {
  const request = version === undefined ? factory.open(name) : factory.open(name, version)
  if (upgrade) request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion)
  return requestResult(request)
}

/** Create `name` at schema version 1 holding `records`, then close it. */
export async function writeV1Database(factory: IDBFactory, name: string, records: readonly PeersetRecord[]): Promise<void> {
  const db = await rawOpen(factory, name, 1, (db) => {
    const store = db.createObjectStore('records', { keyPath: 'id' })
    store.createIndex('createdAt', 'createdAt')
  })
  await new Promise<void>((resolve, reject) => {
    const tx = db.transaction('records', 'readwrite')
    const store = tx.objectStore('records')
    for (const r of records) store.put(r)
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(tx.error)
  })
  db.close()
}
