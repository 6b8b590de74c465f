/**
 * The in-memory storage strategy: nothing survives the process, but it behaves like the IndexedDB
 * store (atomic batches, structured clones in and out, records in id order, `CLOSED` after close).
 */
import { assertKnownOptions } from '../errors.js'
import type { PeersetRecord } from '../record/types.js'
import { assertMetaKey, assertRoom, checkBatch, closedError, storageFailed } from './checks.js'
import type { RecordStore, StorageStrategy, WriteBatch } from './types.js'

interface RoomData {
  records: Map<string, PeersetRecord>
  meta: Map<string, unknown>
}

/**
 * A storage strategy that keeps every room in memory. Closing a store keeps its data inside this
 * strategy, so reopening the same room of the same `memoryStorage()` finds it again (a fresh
 * `memoryStorage()` starts empty). Values are structured-cloned on the way in and out, exactly as
 * IndexedDB does, so a value IndexedDB would refuse is refused here too.
 *
 * @example
 * ```ts
 * const storage = memoryStorage()
 * const store = await storage.open('my-room')
 * await store.write({ put: [record] })
 * await store.close()
 * const again = await storage.open('my-room')
 * ;(await again.loadRecords()).length // 1
 * ```
 * @param options None: it takes no options, and refuses any key with `INVALID_ARGUMENT`.
 */
export function memoryStorage(options?: Record<string, never>): StorageStrategy {
  assertKnownOptions('memoryStorage', options, [])
  const rooms = new Map<string, RoomData>()
  return {
    name: 'memory',
    isSupported: () => true,
    async open(room: string): Promise<RecordStore> {
      assertRoom(room, 'memoryStorage.open')
      let data = rooms.get(room)
      if (data === undefined) {
        data = { records: new Map(), meta: new Map() }
        rooms.set(room, data)
      }
      return openMemoryStore(data)
    },
  }
}

/** How many records `loadRecords(onBatch)` hands over at a time. */
const LOAD_BATCH = 1_000

function openMemoryStore(data: RoomData): RecordStore {
  let closed = false
  const assertOpen = (where: string): void => {
    if (closed) throw closedError(`memory store ${where}`)
  }
  return {
    persistent: false,
    async loadRecords(onBatch?: (records: PeersetRecord[]) => void) {
      assertOpen('loadRecords')
      // Key order, like IndexedDB's getAll on the `id` key path.
      const ids = [...data.records.keys()].sort()
      const copy = (id: string): PeersetRecord => structuredClone(data.records.get(id) as PeersetRecord)
      if (onBatch === undefined) return ids.map(copy)
      for (let i = 0; i < ids.length; i += LOAD_BATCH) onBatch(ids.slice(i, i + LOAD_BATCH).map(copy))
      return []
    },
    async write(batch: WriteBatch) {
      const { puts, deletes, meta } = checkBatch(batch, 'memory store write')
      assertOpen('write')
      let copies: PeersetRecord[]
      let metaCopies: Array<[string, unknown]>
      try {
        // Clone everything before touching the maps: a value that cannot be cloned fails the whole batch.
        copies = puts.map((r) => structuredClone(r))
        metaCopies = meta.map(([key, value]) => [key, structuredClone(value)])
      } catch (err) {
        throw storageFailed('memory store write', err)
      }
      // Puts first, then deletes (the order IndexedDB requests are issued in): an id in both ends deleted.
      for (const r of copies) data.records.set(r.id, r)
      for (const id of deletes) data.records.delete(id)
      for (const [key, value] of metaCopies) {
        if (value === undefined) data.meta.delete(key)
        else data.meta.set(key, value)
      }
    },
    async getMeta<T = unknown>(key: string): Promise<T | undefined> {
      assertMetaKey(key, 'memory store getMeta')
      assertOpen('getMeta')
      return data.meta.has(key) ? (structuredClone(data.meta.get(key)) as T) : undefined
    },
    async setMeta(key: string, value: unknown) {
      assertMetaKey(key, 'memory store setMeta')
      assertOpen('setMeta')
      if (value === undefined) {
        data.meta.delete(key)
        return
      }
      try {
        data.meta.set(key, structuredClone(value))
      } catch (err) {
        throw storageFailed('memory store setMeta', err)
      }
    },
    async requestPersistence() {
      return undefined
    },
    async close() {
      closed = true
    },
  }
}
