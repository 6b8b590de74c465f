/**
 * The sending peer of `bench/ingest.ts`, in a worker thread (its own core and heap, as a remote peer
 * would be): a peerset holding the bench's fixtures (its memory store written directly) that serves
 * them over `workerData.port` to the peerset being measured. Posts `{ ready: true }` once it joined,
 * `{ busyMs }` (its thread's busy time since it started serving) when asked with `'busy'`, and
 * closes on `'close'` (answering `{ closed: true }`).
 */
import { performance } from 'node:perf_hooks'
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { createIdentity } from '../src/identity/index.js'
import { acceptAll } from '../src/moderation/index.js'
import { createPeerset } from '../src/peerset.js'
import { memoryStorage } from '../src/storage/index.js'
import { cachedFixtures } from './lib.js'
import { portTransport } from './port-transport.js'

const { records: n, room, port, clockSkewMs } = workerData as { records: number; room: string; port: MessagePort; clockSkewMs: number }
const records = await cachedFixtures('bench-ingest', n, room, 'Ingest record', () => undefined)
const storage = memoryStorage()
const store = await storage.open(room)
for (let i = 0; i < records.length; i += 1_000) await store.write({ put: records.slice(i, i + 1_000) })
await store.close()
const elu0 = performance.eventLoopUtilization()
const peerset = await createPeerset({ room, moderation: acceptAll(), clockSkewMs, identity: createIdentity(), storage, transport: portTransport(port, 'sender', 'receiver') })
parentPort!.on('message', (message: string) => {
  if (message === 'busy') parentPort!.postMessage({ busyMs: performance.eventLoopUtilization(elu0).active })
  if (message === 'close') void peerset.close().then(() => parentPort!.postMessage({ closed: true }))
})
parentPort!.postMessage({ ready: true })
