/**
 * The IndexedDB schema of one room's database, and its upgrade from any older version.
 *
 * Version 1 (0.0.x): `records` keyed by `id`, with a `createdAt` index.
 * Version 2 (current): adds the `author` and `authorUuid` ([author, uuid]) indexes and the `meta` store.
 */
import type { DBSchema } from 'idb'
import type { PeersetRecord } from '../record/types.js'

/** The schema version this library opens databases at. */
export const SCHEMA_VERSION = 2

/** The idb schema type of a room database. */
export interface PeersetDatabase extends DBSchema {
  records: {
    key: string
    value: PeersetRecord
    indexes: { createdAt: number; author: string; authorUuid: [string, string] }
  }
  meta: { key: string; value: unknown }
}

const RECORD_INDEXES: readonly (readonly [name: string, keyPath: string | string[]])[] = [
  ['createdAt', 'createdAt'],
  ['author', 'author'],
  ['authorUuid', ['author', 'uuid']],
]

/**
 * Bring a database from `oldVersion` to {@link SCHEMA_VERSION} inside its `versionchange` transaction.
 * Idempotent: it creates only what is missing, so it handles 0 -> 2 and 1 -> 2 alike and keeps every
 * existing record (new indexes are filled from the stored records by the upgrade transaction).
 */
export function upgradeSchema(db: IDBDatabase, tx: IDBTransaction): void {
  const records = db.objectStoreNames.contains('records')
    ? tx.objectStore('records')
    : db.createObjectStore('records', { keyPath: 'id' })
  for (const [name, keyPath] of RECORD_INDEXES) {
    if (!records.indexNames.contains(name)) records.createIndex(name, keyPath)
  }
  // Out-of-line keys: meta values are any structured-cloneable value.
  if (!db.objectStoreNames.contains('meta')) db.createObjectStore('meta')
}
