/**
 * Storage figures: write throughput by batch size, open + loadRecords() time and heap cost for 100k
 * records, on fake-indexeddb (Node), LevelDB (`levelStorage` from peerset/node, fsync on every write,
 * in a temporary folder) and the memory store.
 *
 *   npx tsx --expose-gc bench/store.ts [--json]
 *
 * Records are shape-correct fakes (random hex ids and signatures): stores trust their records, so
 * nothing is verified here.
 */
import 'fake-indexeddb/auto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { levelStorage } from '../src/node/index.js'
import { IDBFactory } from 'fake-indexeddb'
import type { PeersetRecord } from '../src/record/types.js'
import { indexedDbStorage, memoryStorage, type StorageStrategy } from '../src/storage/index.js'
import { createIdentity } from '../src/identity/index.js'
import { roomHash } from '../src/record/room.js'
import { acceptAll } from '../src/moderation/index.js'
import { createPeerset } from '../src/peerset.js'
import { type Row, fakeRecords, jsonMode, report, round } from './lib.js'

const N = 100_000
const gc = (globalThis as { gc?: () => void }).gc

async function writeRate(storage: StorageStrategy, room: string, records: PeersetRecord[], batch: number): Promise<Row> {
  const store = await storage.open(room)
  const start = performance.now()
  for (let i = 0; i < records.length; i += batch) await store.write({ put: records.slice(i, i + batch) })
  const ms = performance.now() - start
  await store.close()
  return { scenario: `${storage.name}: write, ${batch} per transaction`, n: records.length, recordsPerSecond: Math.round(records.length / (ms / 1000)), ms: round(ms), heapMB: null }
}

async function openAndLoad(storage: StorageStrategy, room: string): Promise<Row> {
  const times: number[] = []
  let n = 0
  for (let rep = 0; rep < 3; rep++) {
    const start = performance.now()
    const store = await storage.open(room)
    n = (await store.loadRecords()).length
    times.push(performance.now() - start)
    await store.close()
  }
  const ms = times.sort((a, b) => a - b)[1] as number
  return { scenario: `${storage.name}: open + loadRecords (median of 3)`, n, recordsPerSecond: Math.round(n / (ms / 1000)), ms: round(ms), heapMB: null }
}

async function heapOfLoaded(storage: StorageStrategy, room: string): Promise<Row> {
  const scenario = `${storage.name}: heap of loaded records`
  if (gc === undefined) return { scenario, n: N, recordsPerSecond: null, ms: null, heapMB: null, note: 'global.gc missing: run node with --expose-gc' }
  const store = await storage.open(room)
  gc()
  const before = process.memoryUsage().heapUsed
  const loaded = await store.loadRecords()
  gc()
  const heapMB = (process.memoryUsage().heapUsed - before) / 2 ** 20
  const n = loaded.length
  await store.close()
  return { scenario, n, recordsPerSecond: null, ms: null, heapMB: round(heapMB * (N / n)) }
}

/** The engine's open: load from storage and rebuild the in-memory indexes and bucket fingerprints. */
async function openPeersetRow(storage: StorageStrategy, room: string): Promise<Row[]> {
  gc?.()
  const before = process.memoryUsage().heapUsed
  const start = performance.now()
  const peerset = await createPeerset({ room, identity: createIdentity(), storage, transport: false, moderation: acceptAll() })
  const ms = performance.now() - start
  const n = peerset.status().records
  gc?.()
  const heapMB = gc ? round((process.memoryUsage().heapUsed - before) / 2 ** 20) : null
  const buckets = peerset.status().buckets.nonEmpty
  // Records are held packed and built on read: a page costs little, listing everything costs a copy of each.
  const pageStart = performance.now()
  const page = peerset.records({ limit: 50 }).length
  const pageMs = performance.now() - pageStart
  const allStart = performance.now()
  const all = peerset.records().length
  const allMs = performance.now() - allStart
  await peerset.close()
  return [
    { scenario: `${storage.name}: createPeerset, ${buckets} buckets (load + rebuild indexes and fingerprints)`, n, recordsPerSecond: Math.round(n / (ms / 1000)), ms: round(ms), heapMB },
    { scenario: `${storage.name}: records({ limit: 50 }) of the open peerset (first call: sorts)`, n: page, recordsPerSecond: null, ms: round(pageMs), heapMB: null },
    { scenario: `${storage.name}: records() of the open peerset, all of them`, n: all, recordsPerSecond: Math.round(all / (allMs / 1000)), ms: round(allMs), heapMB: null },
  ]
}

const records = fakeRecords(N, roomHash('main'))
const rows: Row[] = []
const idb = indexedDbStorage({ indexedDB: new IDBFactory() })
rows.push(await writeRate(idb, 'batch1', records.slice(0, 2_000), 1))
rows.push(await writeRate(idb, 'main', records, 100))
rows.push(await writeRate(idb, 'batch1000', records, 1_000))
rows.push(await openAndLoad(idb, 'main'))
rows.push(await heapOfLoaded(idb, 'main'))
rows.push(...(await openPeersetRow(idb, 'main')))
const levelDir = mkdtempSync(join(tmpdir(), 'peerset-bench-store-'))
try {
  const level = levelStorage({ path: levelDir })
  rows.push(await writeRate(level, 'batch1', records.slice(0, 2_000), 1))
  rows.push(await writeRate(level, 'main', records, 100))
  rows.push(await writeRate(level, 'batch1000', records, 1_000))
  rows.push(await openAndLoad(level, 'main'))
  rows.push(await heapOfLoaded(level, 'main'))
  rows.push(...(await openPeersetRow(level, 'main')))
} finally {
  rmSync(levelDir, { recursive: true, force: true })
}
const memory = memoryStorage()
rows.push(await writeRate(memory, 'main', records, 100))
rows.push(await openAndLoad(memory, 'main'))
rows.push(await heapOfLoaded(memory, 'main'))
if (!jsonMode && gc === undefined) console.warn('note: global.gc is missing, heap figures skipped (run with --expose-gc)')
report(`Storage (${N.toLocaleString('en')} fake records, fake-indexeddb ${'v6'}, classic-level)`, rows)
