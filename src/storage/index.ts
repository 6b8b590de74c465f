export type { RecordStore, StorageStrategy, StoreHealthChange, StoreHealthState, WriteBatch } from './types.js'
export { memoryStorage } from './memory.js'
export { indexedDbStorage, type IndexedDbStorageOptions } from './indexeddb.js'
