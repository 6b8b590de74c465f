/**
 * Starting one verify worker: `worker_threads` in Node, a module Web Worker elsewhere. The browser
 * line keeps the literal `new Worker(new URL('./verify-worker.js', import.meta.url), { type: 'module' })`
 * that bundlers (Vite, webpack 5, Rollup plugins) recognise and emit as a separate chunk.
 */
import type { VerifyAnswer, VerifyRequest } from './pack.js'

/** A started worker, whichever kind. */
export interface VerifyWorker {
  post(request: VerifyRequest): void
  /** Whether it has pending work: an idle Node worker does not keep the process alive. */
  busy(busy: boolean): void
  terminate(): Promise<void>
}

/** What the worker reports. `fail` is called at most once (crash, exit, unreadable message). */
export interface VerifyWorkerEvents {
  answer(message: VerifyAnswer): void
  fail(cause: unknown): void
}

/** Start a worker running `verify-worker` (or the script at `url`). */
export function spawnVerifyWorker(url: URL | string | undefined, on: VerifyWorkerEvents): VerifyWorker {
  const threads = typeof process === 'object' && typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule('node:worker_threads') : undefined
  if (threads) return spawnNodeWorker(threads, url, on)
  const worker = url === undefined ? new Worker(new URL('./verify-worker.js', import.meta.url), { type: 'module' }) : new Worker(url, { type: 'module' })
  let failed = false
  const fail = (cause: unknown): void => {
    if (failed) return
    failed = true
    on.fail(cause)
  }
  worker.onmessage = (event: MessageEvent<VerifyAnswer>) => on.answer(event.data)
  worker.onerror = (event) => {
    event.preventDefault()
    fail(new Error(event.message || 'the worker failed to load or threw'))
  }
  worker.onmessageerror = () => fail(new Error('a message from the worker could not be read'))
  return {
    post: (request) => worker.postMessage(request, [request.packed.buffer as ArrayBuffer]),
    busy: () => undefined,
    terminate: () => {
      failed = true
      worker.terminate()
      return Promise.resolve()
    },
  }
}

function spawnNodeWorker(threads: typeof import('node:worker_threads'), url: URL | string | undefined, on: VerifyWorkerEvents): VerifyWorker {
  const script = nodeWorkerScript(url)
  const worker = typeof script === 'string' ? new threads.Worker(script, { eval: true }) : new threads.Worker(script)
  worker.unref()
  let failed = false
  const fail = (cause: unknown): void => {
    if (failed) return
    failed = true
    on.fail(cause)
  }
  worker.on('message', (message: VerifyAnswer) => on.answer(message))
  worker.on('error', fail)
  worker.on('messageerror', () => fail(new Error('a message from the worker could not be read')))
  worker.on('exit', (code) => fail(new Error(`the worker exited (code ${code})`)))
  return {
    post: (request) => worker.postMessage(request, [request.packed.buffer as ArrayBuffer]),
    busy: (busy) => (busy ? worker.ref() : worker.unref()),
    terminate: async () => {
      failed = true
      await worker.terminate()
    },
  }
}

/**
 * The script a Node worker runs: `url`, or `verify-worker.js` beside this module in the package.
 * Run from the TypeScript sources (tests, `tsx` scripts), this module is a `.ts` file: the worker is
 * then a two-line bootstrap (code, not a URL) that registers tsx (a development dependency) and
 * imports `verify-worker.ts`. That never happens from `dist/`.
 */
function nodeWorkerScript(url: URL | string | undefined): URL | string {
  if (url !== undefined) return new URL(url)
  const here = import.meta.url
  if (!here.endsWith('.ts')) return new URL('./verify-worker.js', here)
  const source = new URL('./verify-worker.ts', here).href
  return `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}) })`
}
