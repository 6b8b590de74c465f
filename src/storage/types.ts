import type { PeersetRecord } from '../record/types.js'

/** One atomic write: all of it is stored, or (on failure) none of it. */
export interface WriteBatch {
  put?: readonly PeersetRecord[]
  delete?: readonly string[]
  /**
   * Metadata values written in the same transaction as the records (`undefined` deletes a key).
   * The engine stores its strike ledger here, so that records and the strikes they caused are
   * committed together or not at all. A custom store must apply these atomically with the records.
   */
  meta?: Readonly<Record<string, unknown>>
}

/** An open store of one room. */
export interface RecordStore {
  /** Whether records survive a reload (false for memory). */
  readonly persistent: boolean
  /**
   * Every stored record. Trusted: the engine does not re-verify them. A store may hand them over
   * in batches as it reads them, through `onBatch` (synchronously, before it resolves), and resolve
   * with the rest (`[]` when every record went through `onBatch`): the engine indexes each batch
   * at once and keeps no reference to it, so opening never holds every stored row in memory at once.
   */
  loadRecords(onBatch?: (records: PeersetRecord[]) => void): Promise<PeersetRecord[]>
  /** Apply a batch in one transaction. Must reject (and change nothing) if the transaction aborts. */
  write(batch: WriteBatch): Promise<void>
  /** Read a metadata value (strikes, bans, settings); `undefined` if absent. Values are structured-cloneable. */
  getMeta<T = unknown>(key: string): Promise<T | undefined>
  /** Write a metadata value; `undefined` deletes it. */
  setMeta(key: string, value: unknown): Promise<void>
  /** Ask the platform to keep this data (navigator.storage.persist). `undefined` where not applicable. */
  requestPersistence(): Promise<boolean | undefined>
  /** Close the store. Idempotent. */
  close(): Promise<void>
  /**
   * Optional: report changes of the store's own health (e.g. IndexedDB closed the connection
   * because another tab upgrades the database, or the browser closed it; or it reopened). The
   * engine also learns of failed writes by itself; this hook is for what happens between writes.
   * Returns a function that unsubscribes.
   */
  onHealthChange?(listener: (change: StoreHealthChange) => void): () => void
}

/** The health of a store: `ok`; `degraded` (writes fail, e.g. quota); `closed` (the connection is gone). */
export type StoreHealthState = 'ok' | 'degraded' | 'closed'

/** A change of a store's health, reported through {@link RecordStore.onHealthChange}. */
export interface StoreHealthChange {
  state: StoreHealthState
  /** A short reason: `versionchange`, `terminated`, `reopened`, `reopen-failed`... */
  reason: string
  /** What went wrong, when something did. */
  error?: unknown
}

/** A storage strategy: opens the store of a room. Made by `memoryStorage()` or `indexedDbStorage()`. */
export interface StorageStrategy {
  /** A short name for `status()`, e.g. `'indexeddb'`. */
  readonly name: string
  /** Whether this strategy can run here (e.g. IndexedDB exists). */
  isSupported(): boolean
  /** Open (creating or upgrading as needed) the store of `room`. */
  open(room: string): Promise<RecordStore>
}
