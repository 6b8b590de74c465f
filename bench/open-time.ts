/**
 * `createPeerset` open time of 100k records, for comparing two trees side by side (issue 14: "open
 * time no worse than today"). The records are bench/store.ts's fakes (written straight into the
 * store, 1,000 per transaction); the script then times `createPeerset` (load + rebuild indexes and
 * fingerprints): wall ms, CPU ms of the process (all threads, GC helpers included) and heap growth.
 * Modules are loaded from the tree given, so the same script measures an older commit:
 *
 *   git archive <commit> | tar -x -C /tmp/old-tree && ln -s "$PWD/node_modules" /tmp/old-tree/node_modules
 *   for i in 1 2 3 4; do for t in /tmp/old-tree "$PWD"; do npm run bench:open-time -- --tree $t --storage idb; done; done
 *
 * One JSON line per run. Run the trees alternately, in fresh processes, on an idle machine; compare
 * medians. The old index (commit 382766c, before packed records) is the reference of issue 14.
 */
import 'fake-indexeddb/auto'
import { fakeRecords } from './lib.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IDBFactory } from 'fake-indexeddb'
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1]! : fallback
}
const root = arg('--tree', join(import.meta.dirname, '..'))
const kind = arg('--storage', 'idb')
const N = 100_000
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc (npx tsx --expose-gc bench/open-time.ts)')
// The tree may be any commit: its types are not ours.
const { createPeerset } = (await import(`${root}/src/peerset.ts`)) as any
const { indexedDbStorage } = await import(`${root}/src/storage/index.ts`)
const { levelStorage } = await import(`${root}/src/node/index.ts`)
const { createIdentity } = await import(`${root}/src/identity/index.ts`)
const { roomHash } = await import(`${root}/src/record/room.ts`)
const { acceptAll } = await import(`${root}/src/moderation/index.ts`)
const dir = mkdtempSync(join(tmpdir(), 'open-time-'))
const storage = kind === 'level' ? levelStorage({ path: dir }) : indexedDbStorage({ indexedDB: new IDBFactory() })
{
  const records = fakeRecords(N, roomHash('main'))
  const store = await storage.open('main')
  for (let i = 0; i < records.length; i += 1000) await store.write({ put: records.slice(i, i + 1000) })
  await store.close()
}
gc(); gc()
const before = process.memoryUsage().heapUsed
const cpu0 = process.cpuUsage()
const start = performance.now()
const peerset = await createPeerset({ room: 'main', identity: createIdentity(), storage, transport: false, moderation: acceptAll() })
const ms = performance.now() - start
const cpu = process.cpuUsage(cpu0)
gc()
const heapMB = (process.memoryUsage().heapUsed - before) / 2 ** 20
console.log(JSON.stringify({ tree: root, storage: kind, records: peerset.status().records, openMs: Math.round(ms), cpuMs: Math.round((cpu.user + cpu.system) / 1000), heapMB: Math.round(heapMB * 10) / 10 }))
await peerset.close()
rmSync(dir, { recursive: true, force: true })
