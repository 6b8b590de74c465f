/**
 * The durable Node store, on classic-level (LevelDB): one database per room, records under `r!<id>`,
 * metadata under `m!<key>`, values in V8's structured serialization (what IndexedDB stores).
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { deserialize, serialize } from 'node:v8'
import { ClassicLevel } from 'classic-level'
import { assertKnownOptions, PeersetError } from '../errors.js'
import type { PeersetRecord } from '../record/types.js'
import { assertMetaKey, assertRoom, checkBatch, closedError, storageFailed } from '../storage/checks.js'
import { requestPersistence } from '../storage/persistence.js'
import type { RecordStore, StorageStrategy, WriteBatch } from '../storage/types.js'

/** Options of {@link levelStorage}. */
export interface LevelStorageOptions {
  /** The folder that holds the databases (created if missing); each room gets a sub-folder. */
  path: string
  /**
   * Whether every write is flushed to disk (fsync) before it resolves. Default `true`: a record
   * acknowledged by `write()` survives a power cut, not only a crash of the process.
   */
  sync?: boolean
}

type Db = ClassicLevel<string, Uint8Array>

const RECORD = 'r!'
const META = 'm!'

/**
 * A storage strategy that keeps each room in a LevelDB database under `path`. Every `write()` is one
 * atomic LevelDB batch (records and metadata together), so a process killed at any moment leaves
 * either the whole batch or none of it, and the store opens cleanly afterwards. Values are stored as
 * structured clones (node:v8 serialization), like IndexedDB's.
 *
 * A database can be open in one process at a time (LevelDB's lock): opening a room another process
 * holds rejects with `STORAGE_FAILED`.
 *
 * @throws PeersetError `INVALID_ARGUMENT` naming the bad option.
 * @example
 * ```ts
 * import { levelStorage } from 'peerset/node'
 * const peerset = await createPeerset({ room: 'board', identity, storage: levelStorage({ path: './data' }) })
 * ```
 */
export function levelStorage(options: LevelStorageOptions): StorageStrategy {
  if (typeof options !== 'object' || options === null) throw new PeersetError('INVALID_ARGUMENT', 'levelStorage: options must be an object { path }')
  assertKnownOptions('levelStorage', options, ['path', 'sync'])
  const { path, sync = true } = options
  if (typeof path !== 'string' || path.length === 0) throw new PeersetError('INVALID_ARGUMENT', 'levelStorage: options.path must be a non-empty folder path')
  if (typeof sync !== 'boolean') throw new PeersetError('INVALID_ARGUMENT', 'levelStorage: options.sync must be a boolean')
  return {
    name: 'level',
    isSupported: () => true,
    async open(room: string): Promise<RecordStore> {
      assertRoom(room, 'levelStorage.open')
      // The room name is user text: hex keeps any name a valid, distinct folder name.
      const location = join(path, Buffer.from(room, 'utf8').toString('hex').slice(0, 200) || '_')
      const db: Db = new ClassicLevel<string, Uint8Array>(location, { keyEncoding: 'utf8', valueEncoding: 'view' })
      try {
        await mkdir(path, { recursive: true })
        await db.open()
      } catch (err) {
        throw storageFailed(`levelStorage.open(${JSON.stringify(room)})`, (err as { cause?: unknown }).cause ?? err)
      }
      return openLevelStore(db, location, sync)
    },
  }
}

function encode(value: unknown): Uint8Array {
  try {
    return serialize(value)
  } catch (err) {
    // Same name as IndexedDB's error for a value that cannot be cloned.
    const clone = new Error((err as Error).message)
    clone.name = 'DataCloneError'
    throw clone
  }
}

/** How many records `loadRecords(onBatch)` decodes and hands over at a time. */
const LOAD_BATCH = 1_000

const decode = <T>(bytes: Uint8Array): T => deserialize(bytes) as T

/**
 * A record row as stored. A row that cannot be deserialized (damaged on disk, written by something
 * else) loads as `null`, which is no record: the engine skips it with the other malformed rows and
 * its one `storage-corrupt` warning, and the rest of the store opens.
 */
function decodeRow(bytes: Uint8Array): PeersetRecord {
  try {
    return decode<PeersetRecord>(bytes)
  } catch {
    return null as unknown as PeersetRecord
  }
}

function openLevelStore(db: Db, location: string, sync: boolean): RecordStore {
  let closed = false
  const label = `level store ${JSON.stringify(location)}`
  const assertOpen = (where: string): void => {
    if (closed) throw closedError(`${label} ${where}`)
  }
  return {
    persistent: true,
    async loadRecords(onBatch?: (records: PeersetRecord[]) => void): Promise<PeersetRecord[]> {
      assertOpen('loadRecords')
      try {
        if (onBatch === undefined) {
          const values = await db.values({ gte: RECORD, lt: 'r"' }).all()
          return values.map(decodeRow)
        }
        // In batches, each decoded only when the engine takes it (see RecordStore.loadRecords).
        const iterator = db.values({ gte: RECORD, lt: 'r"' })
        try {
          for (let values = await iterator.nextv(LOAD_BATCH); values.length > 0; values = await iterator.nextv(LOAD_BATCH)) {
            onBatch(values.map(decodeRow))
          }
        } finally {
          await iterator.close()
        }
        return []
      } catch (err) {
        throw storageFailed(`${label} loadRecords`, err)
      }
    },
    async write(batch: WriteBatch): Promise<void> {
      const { puts, deletes, meta } = checkBatch(batch, `${label} write`)
      assertOpen('write')
      if (puts.length === 0 && deletes.length === 0 && meta.length === 0) return
      // Encode everything first: a value that cannot be stored fails the batch before anything is written.
      // Puts before deletes, as IndexedDB issues them: an id in both ends deleted (LevelDB applies a batch in order).
      type Op = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }
      const ops: Op[] = []
      try {
        for (const record of puts) ops.push({ type: 'put', key: RECORD + record.id, value: encode(record) })
        for (const id of deletes) ops.push({ type: 'del', key: RECORD + id })
        for (const [key, value] of meta) {
          ops.push(value === undefined ? { type: 'del', key: META + key } : { type: 'put', key: META + key, value: encode(value) })
        }
        await db.batch(ops, { sync })
      } catch (err) {
        throw storageFailed(`${label} write`, err)
      }
    },
    async getMeta<T = unknown>(key: string): Promise<T | undefined> {
      assertMetaKey(key, `${label} getMeta`)
      assertOpen('getMeta')
      try {
        const bytes = await db.get(META + key)
        return bytes === undefined ? undefined : decode<T>(bytes)
      } catch (err) {
        throw storageFailed(`${label} getMeta`, err)
      }
    },
    async setMeta(key: string, value: unknown): Promise<void> {
      assertMetaKey(key, `${label} setMeta`)
      assertOpen('setMeta')
      try {
        if (value === undefined) await db.del(META + key, { sync })
        else await db.put(META + key, encode(value), { sync })
      } catch (err) {
        throw storageFailed(`${label} setMeta`, err)
      }
    },
    // The same answer as the other stores (navigator.storage.persist where it exists, else undefined).
    requestPersistence,
    async close(): Promise<void> {
      if (closed) return
      closed = true
      await db.close().catch(() => undefined)
    },
  }
}
