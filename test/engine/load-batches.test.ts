/**
 * Opening on a store that hands its rows over in batches (`loadRecords(onBatch)`, what the
 * built-in stores do): the engine indexes every batch as it comes, and the peerset it opens
 * answers `records()`, `get()` and `status()` exactly as one opened from the same rows handed over
 * at once (a host store without batches); stale versions and corrupt rows are handled alike.
 */
import { describe, expect, it } from 'vitest'
import { roomHash } from '../../src/record/room.js'
import type { PeersetRecord } from '../../src/record/types.js'
import { memoryStorage } from '../../src/storage/index.js'
import type { RecordStore, StorageStrategy } from '../../src/storage/types.js'
import { FIXTURE_NOW, FIXTURE_ROOM, openPeerset } from '../helpers.js'
import { fakeRecord } from '../storage/fake-records.js'

const ROOM_HASH = roomHash(FIXTURE_ROOM)

/** `n` records of the fixture room from 7 authors, one a minute back from the fixture time, plus an older version of every 10th. */
function storedRows(n: number): { rows: PeersetRecord[]; stale: string[] } {
  const authors = Array.from({ length: 7 }, () => fakeRecord().author)
  const rows: PeersetRecord[] = []
  const stale: string[] = []
  for (let i = 0; i < n; i++) {
    const uuid = crypto.randomUUID()
    const record = fakeRecord({ author: authors[i % 7]!, uuid, roomHash: ROOM_HASH, createdAt: FIXTURE_NOW - 60 * i, tags: [['d', uuid], ['h', ROOM_HASH]] })
    rows.push(record)
    if (i % 10 === 0) {
      const older = fakeRecord({ ...record, id: fakeRecord().id, createdAt: record.createdAt - 5 })
      rows.push(older)
      stale.push(older.id)
    }
  }
  return { rows, stale }
}

/** The store of `base`, with `loadRecords` seen (or changed) by `wrap`. */
function wrapped(base: StorageStrategy, wrap: (store: RecordStore) => RecordStore['loadRecords']): StorageStrategy {
  return {
    name: 'wrapped',
    isSupported: () => true,
    open: async (room) => {
      const store = await base.open(room)
      const loadRecords = wrap(store)
      return new Proxy(store, { get: (target, key) => (key === 'loadRecords' ? loadRecords : (target as unknown as Record<string | symbol, unknown>)[key]) })
    },
  }
}

async function seeded(rows: readonly unknown[]): Promise<StorageStrategy> {
  const storage = memoryStorage()
  const store = await storage.open(FIXTURE_ROOM)
  await store.write({ put: rows as PeersetRecord[] })
  return storage
}

describe('opening on a store that hands its rows over in batches', () => {
  it('indexes every batch, and answers records(), get() and status() like a store that hands everything over at once', async () => {
    const { rows, stale } = storedRows(2_500)
    let batched = 0
    let batches = 0
    const inBatches = wrapped(await seeded(rows), (store) => (onBatch) =>
      store.loadRecords(onBatch && ((batch) => {
        batches++
        batched += batch.length
        onBatch(batch)
      })),
    )
    const atOnce = wrapped(await seeded(rows), (store) => () => store.loadRecords())
    const a = await openPeerset({ storage: inBatches })
    const b = await openPeerset({ storage: atOnce })
    try {
      // Every row went through onBatch (none were returned at once), in more than one batch.
      expect(batched).toBe(rows.length)
      expect(batches).toBeGreaterThan(1)
      expect(a.status().records).toBe(2_500)
      expect(a.records()).toEqual(b.records())
      expect(a.records()).toHaveLength(2_500)
      const author = rows[3]!.author
      for (const query of [{ author }, { author, limit: 20, offset: 40 }, { since: FIXTURE_NOW - 60 * 1_200, until: FIXTURE_NOW - 60 * 1_100 }, { limit: 5 }]) {
        expect(a.records(query)).toEqual(b.records(query))
      }
      for (const row of rows.filter((_, i) => i % 97 === 0)) expect(a.get(row.id)).toEqual(b.get(row.id))
      // The newest version of each address is kept; the older ones are gone, from both.
      for (const id of stale) expect([a.get(id), b.get(id)]).toEqual([undefined, undefined])
      const kept = rows.find((r) => !stale.includes(r.id))!
      const { withdrawn: _, ...expected } = { ...kept, withdrawn: undefined }
      expect(a.get(kept.id)).toEqual(expected)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('rows that are not records, in a later batch, are counted across batches in one storage-corrupt warning', async () => {
    const { rows } = storedRows(1_500)
    // A memory store hands rows over in id order: ids chosen to land after the first batch of 1,000.
    const bad = [{ ...rows[0]!, id: 'f'.repeat(63) + 'g' }, { ...rows[1]!, id: 'f'.repeat(64), sig: 'nope' }]
    const peerset = await openPeerset({ storage: await seeded([...rows, ...bad]) })
    try {
      expect(peerset.status().records).toBe(1_500)
      const warnings = peerset.status().warnings.filter((w) => w.code === 'storage-corrupt')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]!.message).toContain(`2 of ${rows.length + 2} rows`)
      expect(warnings[0]!.message).toContain(`first: id "${'f'.repeat(64)}"`)
    } finally {
      await peerset.close()
    }
  })

  it('rows handed over after loadRecords() resolved are not loaded, and say so in a storage-corrupt warning', async () => {
    const { rows } = storedRows(30)
    let late: Promise<void> | undefined
    let lateIds: string[] = []
    const storage = wrapped(await seeded(rows), (store) => async (onBatch) => {
      const all = await store.loadRecords()
      lateIds = all.slice(15).map((r) => r.id)
      // Half now, half on a later task (breaking the contract: onBatch before resolving).
      late = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => onBatch?.(all.slice(15)))
      return all.slice(0, 15)
    })
    const peerset = await openPeerset({ storage })
    try {
      await late
      expect(peerset.status().records).toBeGreaterThan(0)
      for (const id of lateIds) expect(peerset.get(id)).toBeUndefined()
      const warnings = peerset.status().warnings.filter((w) => w.code === 'storage-corrupt')
      expect(warnings.map((w) => w.message)).toEqual([expect.stringContaining(`handed over ${rows.length - 15} rows through onBatch after it had settled`)])
    } finally {
      await peerset.close()
    }
  })
})
