export type { RecordStore, StorageStrategy, WriteBatch } from './types.js'
export { memoryStorage } from './memory.js'
export { indexedDbStorage, type IndexedDbStorageOptions } from './indexeddb.js'
