/**
 * The worker of `workerVerifier()`: a Web Worker in browsers, a `worker_threads` worker in Node. It
 * answers each request (see `pack.ts`) with one byte per check. Emitted as its own file
 * (`dist/verify-worker.js`) so that Node and bundlers (Vite) can load it by URL.
 */
import { CHECK_BYTES, type VerifyAnswer, type VerifyRequest } from './pack.js'
import { schnorrVerifies } from './schnorr.js'

interface Port {
  postMessage(message: VerifyAnswer, transfer: Transferable[]): void
}

function answer(request: VerifyRequest): VerifyAnswer {
  const { packed } = request
  const count = packed.length / CHECK_BYTES
  const valid = new Uint8Array(count)
  for (let i = 0; i < count; i++) {
    const at = i * CHECK_BYTES
    valid[i] = schnorrVerifies(packed.subarray(at, at + 64), packed.subarray(at + 64, at + 96), packed.subarray(at + 96, at + 128)) ? 1 : 0
  }
  return { job: request.job, valid }
}

const threads = typeof process === 'object' && typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule('node:worker_threads') : undefined
if (threads?.parentPort) {
  const port = threads.parentPort
  port.on('message', (request: VerifyRequest) => {
    const reply = answer(request)
    port.postMessage(reply, [reply.valid.buffer as ArrayBuffer])
  })
} else {
  const scope = globalThis as unknown as Port & { onmessage: ((event: MessageEvent<VerifyRequest>) => void) | null }
  scope.onmessage = (event) => {
    const reply = answer(event.data)
    scope.postMessage(reply, [reply.valid.buffer as ArrayBuffer])
  }
}
