/**
 * A storage strategy from the host that misbehaves: open() that throws is a typed STORAGE_FAILED
 * with its cause, a store missing a method an INVALID_ARGUMENT naming it, and rows that are not
 * records are skipped with one `storage-corrupt` warning while the valid records open normally.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { isPeersetError } from '../../src/errors.js'
import { memoryStorage } from '../../src/storage/index.js'
import type { RecordStore, StorageStrategy } from '../../src/storage/types.js'
import { loadFixtures, openPeerset } from '../helpers.js'
import { realTime, sleep, virtualClock, virtualTime } from '../virtual-time.js'

const { records: events } = loadFixtures()

/** A memory storage whose opened store is changed by `patch`. */
function patched(base: StorageStrategy, patch: (store: RecordStore) => Record<string, unknown>): StorageStrategy {
  return { name: 'patched', isSupported: () => true, open: async (room) => { const store = await base.open(room); return { ...bind(store), ...patch(store) } as unknown as RecordStore } }
}
function bind(store: RecordStore): Record<string, unknown> {
  const out: Record<string, unknown> = { persistent: store.persistent }
  for (const key of ['loadRecords', 'write', 'getMeta', 'setMeta', 'requestPersistence', 'close'] as const) out[key] = (store[key] as (...a: unknown[]) => unknown).bind(store)
  return out
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => 'resolved', (e: unknown) => e)
}

describe('a host storage that misbehaves', () => {
  it('open() that throws: PeersetError STORAGE_FAILED with the cause', async () => {
    const disk = new Error('disk')
    const e = await rejection(openPeerset({ storage: { name: 'x', isSupported: () => true, open: async () => { throw disk } } }))
    expect(isPeersetError(e) && e.code).toBe('STORAGE_FAILED')
    expect((e as Error).cause).toBe(disk)
  })

  it('a store without getMeta: PeersetError INVALID_ARGUMENT naming getMeta()', async () => {
    const e = await rejection(openPeerset({ storage: patched(memoryStorage(), () => ({ getMeta: undefined })) }))
    expect(isPeersetError(e) && e.code).toBe('INVALID_ARGUMENT')
    expect((e as Error).message).toContain('getMeta()')
  })

  it('4 valid rows and junk rows: the 4 open, the junk is skipped with one storage-corrupt warning naming the first bad row', async () => {
    const base = memoryStorage()
    const first = await openPeerset({ storage: base })
    for (const event of events.slice(0, 4)) expect((await first.importRecord(event)).status).toBe('added')
    await first.close()
    const junk = [{ junk: 1 }, null, 5, { ...(await (await base.open('x')).loadRecords())[0], id: 'ZZ' }]
    const storage = patched(base, (store) => ({ loadRecords: async () => [...(await store.loadRecords()), ...junk] }))
    const peerset = await openPeerset({ storage })
    try {
      expect(peerset.status().records).toBe(4)
      const warnings = peerset.status().warnings.filter((w) => w.code === 'storage-corrupt')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]!.message).toContain('4 of 8 rows')
      expect(warnings[0]!.message).toContain('row 4 (no id)')
    } finally {
      await peerset.close()
    }
  })
})

describe('host code that never answers: createPeerset gives up after 30 s with a typed error naming the step', () => {
  afterEach(realTime)
  const never = (): Promise<never> => new Promise(() => undefined)

  async function outcome(p: Promise<unknown>): Promise<unknown> {
    let settled: unknown = 'pending'
    void rejection(p).then((e) => (settled = e))
    await sleep(29_000)
    expect(settled).toBe('pending') // still waiting just before the deadline
    await sleep(1_500)
    return settled
  }

  it('a storage open() that never settles: STORAGE_FAILED naming open()', async () => {
    virtualTime()
    const e = await outcome(openPeerset({ clock: virtualClock, storage: { name: 'x', isSupported: () => true, open: never } }))
    expect(isPeersetError(e, 'STORAGE_FAILED') && (e as Error).message).toContain('open() did not settle within 30 s')
  })

  it('a loadRecords() that never settles: STORAGE_FAILED naming loadRecords(), and the store is closed', async () => {
    virtualTime()
    let closed = 0
    const storage = patched(memoryStorage(), (store) => ({ loadRecords: never, close: () => { closed++; return store.close() } }))
    const e = await outcome(openPeerset({ clock: virtualClock, storage }))
    expect(isPeersetError(e, 'STORAGE_FAILED') && (e as Error).message).toContain('loadRecords() did not settle')
    expect(closed).toBe(1)
  })

  it('a signer whose getPublicKey() never settles: SIGNER_FAILED', async () => {
    virtualTime()
    const signer = { getPublicKey: never, signEvent: never }
    const e = await outcome(openPeerset({ clock: virtualClock, identity: signer as never }))
    expect(isPeersetError(e, 'SIGNER_FAILED') && (e as Error).message).toContain('getPublicKey() did not answer within 30 s')
  })
})
