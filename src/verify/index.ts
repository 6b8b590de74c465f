/** Signature verification strategies: the main thread (default) or a pool of workers. */
export type { SignatureCheck, VerifierStrategy } from './types.js'
export { mainThreadVerifier, type MainThreadVerifierOptions } from './main-thread.js'
export { workerVerifier, type WorkerVerifierOptions } from './worker-pool.js'
