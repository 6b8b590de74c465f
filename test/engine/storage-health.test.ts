/**
 * Degraded storage (issue 10): a write that fails (quota exceeded, a closed store) is a `warning`
 * and shows in `status().storage`; while it fails, records are not pulled again and again (one
 * small probe batch now and then); once a write works, pulling resumes and the warning's state
 * clears. On virtual time, with a second honest peer holding the records.
 */
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MAX_STORAGE_PROBE_MS, STORAGE_PROBE_MS } from '../../src/engine/storage-health.js'
import { createIdentity } from '../../src/identity/index.js'
import { acceptAll } from '../../src/moderation/index.js'
import { createPeerset, type Peerset, type PeersetOptions, type PeersetWarning } from '../../src/peerset.js'
import { decodeMessage } from '../../src/protocol/index.js'
import { isSessionFrame } from '../../src/session/index.js'
import { indexedDbStorage, memoryStorage } from '../../src/storage/index.js'
import type { StorageStrategy } from '../../src/storage/types.js'
import { createMemoryNetwork, type MemoryNetwork } from '../../src/transport/index.js'
import type { TransportStrategy } from '../../src/transport/types.js'
import { FIXTURE_ROOM, loadFixtures, openPeerset, wrappedMemoryStorage } from '../helpers.js'
import { rawOpen, requestResult } from '../storage/old-schema-fixture.js'
import { drive, realTime, sleep, virtualClock, virtualTime, waitFor } from '../virtual-time.js'

const { records: events } = loadFixtures()

/** A memory store whose writes throw a DOMException named QuotaExceededError while `full`. */
function quotaStorage(): { strategy: StorageStrategy; full: boolean; failed: number } {
  const control = { full: true, failed: 0, strategy: undefined as unknown as StorageStrategy }
  control.strategy = wrappedMemoryStorage('quota', (batch, store) => {
    if (control.full && (batch.put?.length ?? 0) > 0) {
      control.failed++
      return Promise.reject(new DOMException('the quota has been exceeded', 'QuotaExceededError'))
    }
    return store.write(batch)
  })
  return control
}

/** The network's transport, counting the record ids this peer asks for (`want`), with when. */
function counting(network: MemoryNetwork): TransportStrategy & { wants: Array<[atMs: number, ids: number]> } {
  const inner = network.transport()
  const wants: Array<[number, number]> = []
  return {
    name: 'counting',
    wants,
    isSupported: () => true,
    async join(room, handlers) {
      const joined = await inner.join(room, handlers)
      return {
        ...joined,
        selfId: joined.selfId,
        send(peerId, frame) {
          if (!isSessionFrame(frame)) {
            try {
              const m = decodeMessage(frame)
              if (m.type === 'want') wants.push([Date.now(), m.ids.length])
              // A peer with nothing fetches records whole: each fetch asks for up to `max` of them.
              if (m.type === 'fetch') wants.push([Date.now(), m.max])
            } catch {
              // not a whole sync message
            }
          }
          joined.send(peerId, frame)
        },
        leave: () => joined.leave(),
      }
    },
  }
}

function peer(transport: TransportStrategy, storage: StorageStrategy, options: Partial<PeersetOptions> = {}): Promise<Peerset> {
  return createPeerset({
    room: FIXTURE_ROOM,
    identity: createIdentity(),
    storage,
    transport,
    moderation: acceptAll(),
    clock: virtualClock,
    sessionTickMs: 1_000,
    ...options,
  })
}

const wantedBetween = (wants: Array<[number, number]>, from: number, to: number): number =>
  wants.filter(([t]) => t >= from && t < to).reduce((sum, [, n]) => sum + n, 0)

afterEach(() => {
  vi.restoreAllMocks()
  realTime()
})

describe('degraded storage', () => {
  it('a quota error is a warning and shows in status(); pulling stops (bounded probes, not every round) and resumes once writes work', async () => {
    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 1 })
    const full = quotaStorage()
    const source = await drive(peer(network.transport(), memoryStorage()))
    for (const e of events) await drive(source.importRecord(e))
    const n = source.records().length
    expect(n).toBeGreaterThan(300)
    const transport = counting(network)
    const a = await drive(peer(transport, full.strategy))
    const warnings: PeersetWarning[] = []
    a.on('warning', (w) => warnings.push(w))
    a.on('error', () => undefined) // each failed write is also an `error` event

    await waitFor(() => full.failed > 0, 60_000, 'a failed write')
    await sleep(1)
    expect(warnings.map((w) => w.code)).toEqual(['storage-quota'])
    expect(a.status().warnings.map((w) => w.code)).toContain('storage-quota')
    expect(a.status().storage.state).toBe('degraded')
    expect(a.status().storage.lastError).toMatch(/QuotaExceededError/)
    expect(a.records()).toHaveLength(0)

    // An hour of rounds (a round every 5 minutes at most, roots every 30 s): without the gate every
    // round pulls all n records again. With it: one probe batch (at most 64 ids) per back-off period.
    const start = Date.now()
    await sleep(60 * 60_000)
    const perTenMinutes = [0, 1, 2, 3, 4, 5].map((i) => wantedBetween(transport.wants, start + i * 600_000, start + (i + 1) * 600_000))
    const total = perTenMinutes.reduce((x, y) => x + y, 0)
    // Sanity: the requests did reach the wire, and the peers kept talking.
    expect(total).toBeGreaterThan(0)
    expect(total).toBeLessThanOrEqual(64 * Math.ceil((60 * 60_000) / STORAGE_PROBE_MS))
    expect(total).toBeLessThan(2 * n) // less than two full re-pulls in an hour (about 12 without the gate)
    // Not growing per round: the last half hour asks for no more than the first.
    const [first, last] = [perTenMinutes.slice(0, 3), perTenMinutes.slice(3)].map((xs) => xs.reduce((x, y) => x + y, 0))
    expect(last!).toBeLessThanOrEqual(first!)
    for (const ten of perTenMinutes) expect(ten).toBeLessThanOrEqual(64 * (600_000 / STORAGE_PROBE_MS))
    expect(a.status().storage.state).toBe('degraded')
    expect(warnings).toHaveLength(1) // one warning for the episode, not one per failed write

    // Space is freed: the next probe's write works, the state clears, and everything is pulled.
    full.full = false
    await waitFor(() => a.status().storage.state === 'ok', MAX_STORAGE_PROBE_MS + 120_000, 'the store to recover')
    expect(a.status().storage.lastError).toBeUndefined()
    await waitFor(() => a.records().length === n, 10 * 60_000, 'the catch-up after recovery')
    await drive(Promise.all([a.close(), source.close()]))
    network.close()
  }, 120_000)

  it('another tab upgrading the IndexedDB database (versionchange) is a storage-closed warning and status closed', async () => {
    const factory = new IDBFactory()
    const a = await openPeerset({ storage: indexedDbStorage({ indexedDB: factory, reopenDelayMs: 0 }) })
    const warnings: PeersetWarning[] = []
    const gaveUp = new Promise<void>((resolve) =>
      a.on('warning', (w) => {
        warnings.push(w)
        if (/could not be reopened/.test(w.message)) resolve()
      }),
    )
    expect(a.status().storage).toMatchObject({ name: 'indexeddb', state: 'ok' })
    const newer = await rawOpen(factory, 'peerset:test', 3)
    expect(a.status().storage.state).toBe('closed')
    await gaveUp
    expect(warnings.map((w) => w.code)).toEqual(['storage-closed', 'storage-closed'])
    expect(a.status().storage).toMatchObject({ state: 'closed', lastError: expect.stringMatching(/VersionError/) })
    newer.close()
    await a.close()
  })

  it('a database deleted by another tab is reopened: the state goes back to ok and records are stored again', async () => {
    const factory = new IDBFactory()
    const a = await openPeerset({ storage: indexedDbStorage({ indexedDB: factory, reopenDelayMs: 0 }) })
    const states: string[] = []
    a.on('warning', () => states.push(a.status().storage.state))
    await requestResult(factory.deleteDatabase('peerset:test'))
    expect(states).toEqual(['closed'])
    for (let i = 0; i < 100 && a.status().storage.state !== 'ok'; i++) await rawOpen(factory, `tick-${i}`).then((db) => db.close())
    expect(a.status().storage).toEqual(expect.objectContaining({ state: 'ok' }))
    expect(a.status().storage.lastError).toBeUndefined()
    await a.importRecord(events[0])
    expect(a.records()).toHaveLength(1)
    await a.close()
  })
})
