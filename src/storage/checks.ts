/** Argument checks and error wrapping shared by the storage strategies. */
import { PeersetError } from '../errors.js'
import type { PeersetRecord } from '../record/types.js'
import type { WriteBatch } from './types.js'

/** Check a room name (any non-empty string). */
export function assertRoom(room: unknown, where: string): asserts room is string {
  if (typeof room !== 'string' || room.length === 0) {
    throw new PeersetError('INVALID_ARGUMENT', `${where}: room must be a non-empty string, got ${describe(room)}`)
  }
}

/** Check a meta key (any non-empty string). */
export function assertMetaKey(key: unknown, where: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new PeersetError('INVALID_ARGUMENT', `${where}: key must be a non-empty string, got ${describe(key)}`)
  }
}

/**
 * Check the shape of a batch: the fields the store keys and indexes on. Records are trusted (they
 * were verified before), so this is a guard against programming errors, not a verification.
 */
export function checkBatch(
  batch: unknown,
  where: string,
): { puts: readonly PeersetRecord[]; deletes: readonly string[]; meta: ReadonlyArray<[string, unknown]> } {
  if (typeof batch !== 'object' || batch === null) {
    throw new PeersetError('INVALID_ARGUMENT', `${where}: batch must be an object { put?, delete? }, got ${describe(batch)}`)
  }
  const { put = [], delete: deletes = [], meta = {} } = batch as WriteBatch
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw new PeersetError('INVALID_ARGUMENT', `${where}: batch.meta must be an object of key -> value`)
  }
  if (!Array.isArray(put)) throw new PeersetError('INVALID_ARGUMENT', `${where}: batch.put must be an array of records`)
  if (!Array.isArray(deletes)) throw new PeersetError('INVALID_ARGUMENT', `${where}: batch.delete must be an array of ids`)
  for (let i = 0; i < put.length; i++) {
    const r = put[i] as Partial<PeersetRecord> | null
    if (
      typeof r !== 'object' || r === null ||
      typeof r.id !== 'string' || r.id.length === 0 ||
      typeof r.author !== 'string' || typeof r.uuid !== 'string' ||
      typeof r.createdAt !== 'number' || !Number.isFinite(r.createdAt)
    ) {
      throw new PeersetError('INVALID_ARGUMENT', `${where}: batch.put[${i}] is not a record (needs string id, author, uuid and a finite createdAt)`)
    }
  }
  for (let i = 0; i < deletes.length; i++) {
    if (typeof deletes[i] !== 'string' || (deletes[i] as string).length === 0) {
      throw new PeersetError('INVALID_ARGUMENT', `${where}: batch.delete[${i}] must be a non-empty id string, got ${describe(deletes[i])}`)
    }
  }
  const entries = Object.entries(meta)
  for (const [key] of entries) assertMetaKey(key, `${where}: batch.meta`)
  return { puts: put, deletes, meta: entries }
}

/** Wrap a DOM or platform error as `STORAGE_FAILED`, keeping its name (QuotaExceededError, AbortError...). */
export function storageFailed(where: string, err: unknown): PeersetError {
  if (err instanceof PeersetError) return err
  const name = (err as { name?: unknown } | null)?.name
  const message = (err as { message?: unknown } | null)?.message
  const label = typeof name === 'string' && name ? name : 'Error'
  const detail = typeof message === 'string' && message ? `: ${message}` : ''
  return new PeersetError('STORAGE_FAILED', `${where} failed: ${label}${detail}`, { reason: label, cause: err })
}

/** The error of a call on a closed store. */
export function closedError(where: string, why = 'the store was closed'): PeersetError {
  return new PeersetError('CLOSED', `${where}: ${why}`)
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (value === null) return 'null'
  return Array.isArray(value) ? 'an array' : typeof value
}
