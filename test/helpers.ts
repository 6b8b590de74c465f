/** Shared helpers for engine-level tests. */
import { acceptAll } from '../src/moderation/index.js'
import { createPeerset, type Peerset, type PeersetEvents, type PeersetOptions } from '../src/peerset.js'
import { PeersetError } from '../src/errors.js'
import { memoryStorage } from '../src/storage/index.js'
import type { RecordStore, StorageStrategy, WriteBatch } from '../src/storage/types.js'
import { FIXTURE_NOW, FIXTURE_ROOM, loadFixtures } from './fixtures/index.js'
import type { NostrEvent } from '../src/record/types.js'

export { FIXTURE_NOW, FIXTURE_ROOM, loadFixtures }

/** A controllable clock starting at the fixture time. */
export function createClock(startMs = FIXTURE_NOW * 1000): { now: () => number; set(ms: number): void; advance(ms: number): void } {
  let t = startMs
  return { now: () => t, set: (ms) => void (t = ms), advance: (ms) => void (t += ms) }
}

/** A local-only peerset of the fixture room, on the fixture clock, that keeps every valid record, unless told otherwise. */
export function openPeerset(options: Partial<PeersetOptions> = {}): Promise<Peerset> {
  const fixtures = loadFixtures()
  return createPeerset({
    room: FIXTURE_ROOM,
    identity: fixtures.authors[0]!.nsec,
    storage: memoryStorage(),
    transport: false,
    moderation: acceptAll(),
    clock: () => FIXTURE_NOW * 1000,
    ...options,
  })
}

/** Collect every emission of some events, for assertions. */
export function collect<K extends keyof PeersetEvents>(peerset: Peerset, ...names: K[]): Array<[K, ...unknown[]]> {
  const log: Array<[K, ...unknown[]]> = []
  for (const name of names) peerset.on(name, ((...args: unknown[]) => log.push([name, ...args])) as never)
  return log
}

/** The uuid of a fixture event. */
export function uuidOf(event: NostrEvent): string {
  return event.tags.find((t) => t[0] === 'd')![1]!
}

/** Wait until `predicate` holds, polling; fails after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** A memory storage strategy named `name` whose stores send every `write` through `write(batch, inner)`. */
export function wrappedMemoryStorage(name: string, write: (batch: WriteBatch, inner: RecordStore) => Promise<void>): StorageStrategy {
  const inner = memoryStorage()
  return {
    name,
    isSupported: () => true,
    async open(room) {
      const store = await inner.open(room)
      const wrapped: RecordStore = {
        persistent: store.persistent,
        loadRecords: () => store.loadRecords(),
        getMeta: (k) => store.getMeta(k),
        setMeta: (k, v) => store.setMeta(k, v),
        requestPersistence: () => store.requestPersistence(),
        close: () => store.close(),
        write: (batch) => write(batch, store),
      }
      return wrapped
    },
  }
}

/** A memory store whose next `failWrites(n)` writes fail (as a full disk would), and that logs every write. */
export function flakyStorage(): { strategy: StorageStrategy; failWrites(n: number): void; writes: WriteBatch[] } {
  let failures = 0
  const writes: WriteBatch[] = []
  const strategy = wrappedMemoryStorage('flaky', (batch, store) => {
    writes.push(batch)
    if (failures > 0) {
      failures--
      return Promise.reject(new PeersetError('STORAGE_FAILED', 'QuotaExceededError: simulated'))
    }
    return store.write(batch)
  })
  return { strategy, failWrites: (n) => void (failures = n), writes }
}
