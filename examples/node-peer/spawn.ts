/**
 * Run examples/node-peer/peer.ts as a child process and follow its JSON lines: used by the demo
 * (examples/node-peer/demo.ts) and the end-to-end tests (test/e2e/).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const PEER = fileURLToPath(new URL('./peer.ts', import.meta.url))

/** One JSON line of a peer: `t` ms since it started, `name`, `event`, and the event's fields. */
export interface PeerEvent {
  t: number
  name: string
  event: string
  [field: string]: unknown
}

/** A running peer process. */
export interface PeerProcess {
  readonly name: string
  readonly child: ChildProcess
  /** Every event so far, in order (this run of the process only). */
  readonly events: PeerEvent[]
  /** Calls `listener` for every event from now on. */
  onEvent(listener: (event: PeerEvent) => void): void
  /** The latest event of this kind, if any. */
  last(event: string): PeerEvent | undefined
  /** Resolves with the first event (past or future) that matches, or rejects after `budgetMs`. */
  waitFor(match: (event: PeerEvent) => boolean, budgetMs: number, what: string): Promise<PeerEvent>
  /** Whether the process has exited. */
  exited(): boolean
  /** SIGTERM (a clean leave), then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>
  /** SIGKILL at once (a crash); resolves when the process is gone. */
  kill(): Promise<void>
}

/** Start a peer: `args` are peer.ts's command line options (see its usage). */
export function startPeer(name: string, args: string[], options: { stderr?: 'inherit' | 'ignore' } = {}): PeerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', PEER, '--name', name, ...args], {
    stdio: ['ignore', 'pipe', options.stderr ?? 'inherit'],
  })
  const events: PeerEvent[] = []
  const listeners: Array<(event: PeerEvent) => void> = []
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let event: PeerEvent
    try {
      event = JSON.parse(line) as PeerEvent
    } catch {
      return // not one of ours (a library printing to stdout)
    }
    events.push(event)
    for (const listener of [...listeners]) listener(event)
  })
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null
  return {
    name,
    child,
    events,
    onEvent: (listener) => void listeners.push(listener),
    last: (kind) => [...events].reverse().find((e) => e.event === kind),
    waitFor(match, budgetMs, what) {
      const found = events.find(match)
      if (found) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`${name}: timed out after ${budgetMs} ms waiting for ${what}`))
        }, budgetMs)
        const onExit = (): void => {
          cleanup()
          reject(new Error(`${name}: exited (code ${child.exitCode}, signal ${child.signalCode}) while waiting for ${what}`))
        }
        const listener = (event: PeerEvent): void => {
          if (!match(event)) return
          cleanup()
          resolve(event)
        }
        const cleanup = (): void => {
          clearTimeout(timer)
          child.off('exit', onExit)
          const i = listeners.indexOf(listener)
          if (i >= 0) listeners.splice(i, 1)
        }
        listeners.push(listener)
        child.once('exit', onExit)
      })
    },
    exited,
    async stop(graceMs = 5_000) {
      if (exited()) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await gone
      clearTimeout(timer)
    },
    async kill() {
      if (exited()) return
      child.kill('SIGKILL')
      await gone
    },
  }
}
