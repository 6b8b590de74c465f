/**
 * The signalling monitor of the trystero transport, on fake sockets and a fake clock: what state it
 * reports, and how it holds and releases trystero's reconnection (our backoff on top of trystero's,
 * which gives up on a url after about six failures).
 */
import { describe, expect, it } from 'vitest'
import { MAX_SIGNALLING_RETRY_MS, SignallingMonitor, signallingRetryMs, type SocketLike } from '../../src/transport/signalling-monitor.js'

type Listener = (event: { message?: unknown; code?: unknown }) => void

class FakeSocket implements SocketLike {
  readyState = 0
  readonly listeners = new Map<string, Listener[]>()
  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener])
  }
  fire(type: string, event: { message?: unknown; code?: unknown } = {}): void {
    for (const l of this.listeners.get(type) ?? []) l(event)
  }
  open(): void {
    this.readyState = 1
    this.fire('open')
  }
  fail(message: string): void {
    this.fire('error', { message })
    this.readyState = 3
    this.fire('close', { code: 1006 })
  }
}

function world(urls: string[] = ['ws://a', 'ws://b']) {
  let now = 1_000
  const sockets: Record<string, FakeSocket | undefined> = {}
  const log: string[] = []
  const scheduled: Array<{ fn: () => void; ms: number; cancelled: boolean }> = []
  let changes = 0
  const monitor = new SignallingMonitor({
    urls,
    sockets: () => sockets,
    clock: () => now,
    random: () => 0,
    reconnect: { pause: () => log.push('pause'), resume: () => log.push('resume') },
    schedule: (fn, ms) => {
      const job = { fn, ms, cancelled: false }
      scheduled.push(job)
      return () => void (job.cancelled = true)
    },
    onChange: () => void changes++,
  })
  return {
    monitor,
    sockets,
    log,
    scheduled,
    changes: () => changes,
    advance: (ms: number) => void (now += ms),
    states: () => monitor.state(0).signalling.map((s) => s.state),
  }
}

describe('the signalling monitor', () => {
  it('reports connecting, then open, with the time of each change', () => {
    const w = world()
    expect(w.states()).toEqual(['connecting', 'connecting'])
    w.sockets['ws://a'] = new FakeSocket()
    w.monitor.poll()
    w.advance(500)
    w.sockets['ws://a']!.open()
    expect(w.monitor.state(2)).toEqual({
      signalling: [
        { url: 'ws://a', state: 'open', since: 1_500 },
        { url: 'ws://b', state: 'connecting', since: 1_000 },
      ],
      peers: 2,
    })
    expect(w.changes()).toBeGreaterThan(0)
    expect(w.log).toEqual([])
  })

  it('reports a refused server as failing with its error, holds trystero’s reconnection, and releases it with backoff', async () => {
    const w = world(['ws://a'])
    const a = new FakeSocket()
    w.sockets['ws://a'] = a
    w.monitor.poll()
    a.fail('connect ECONNREFUSED 127.0.0.1:9')
    const state = w.monitor.state(0)
    expect(state.signalling[0]).toMatchObject({ url: 'ws://a', state: 'failing', lastError: 'connect ECONNREFUSED 127.0.0.1:9' })
    expect(state.lastError).toBe('ws://a: connect ECONNREFUSED 127.0.0.1:9')
    // Held at once; released after our backoff (2 s at the first failure).
    expect(w.log).toEqual(['pause'])
    expect(w.scheduled.map((j) => j.ms)).toEqual([2_000])
    w.scheduled[0]!.fn()
    for (let i = 0; i < 20; i++) await null
    // Released, then held again before the reopened socket can fail; the next release waits twice as long.
    expect(w.log).toEqual(['pause', 'resume', 'pause'])
    expect(w.scheduled.map((j) => j.ms)).toEqual([2_000, 4_000])
    // trystero reopens it (a new socket object): still failing until it opens.
    const again = new FakeSocket()
    w.sockets['ws://a'] = again
    w.monitor.poll()
    expect(w.states()).toEqual(['failing'])
    again.open()
    expect(w.states()).toEqual(['open'])
    // Open: the pending release is cancelled and the hold let go.
    expect(w.log).toEqual(['pause', 'resume', 'pause', 'resume'])
    expect(w.scheduled[1]!.cancelled).toBe(true)
  })

  it('counts a server that never answers as failing after the connect timeout', () => {
    const w = world(['ws://a'])
    w.sockets['ws://a'] = new FakeSocket()
    w.monitor.poll()
    w.advance(9_999)
    w.monitor.poll()
    expect(w.states()).toEqual(['connecting'])
    w.advance(1)
    w.monitor.poll()
    expect(w.monitor.state(0).signalling[0]).toMatchObject({ state: 'failing', lastError: 'no connection after 10 s' })
  })

  it('watches every socket trystero opens when no urls were configured', () => {
    const w = world([])
    expect(w.states()).toEqual([])
    w.sockets['wss://tracker.example'] = new FakeSocket()
    w.monitor.poll()
    expect(w.monitor.state(0).signalling.map((s) => s.url)).toEqual(['wss://tracker.example'])
  })

  it('stop() lets go of a hold', () => {
    const w = world(['ws://a'])
    const a = new FakeSocket()
    w.sockets['ws://a'] = a
    w.monitor.poll()
    a.fail('refused')
    w.monitor.stop()
    expect(w.log).toEqual(['pause', 'resume'])
    expect(w.scheduled[0]!.cancelled).toBe(true)
  })

  it('backs off from 2 s doubling to 60 s, shortened by up to half at random', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 40].map((n) => signallingRetryMs(n, 0))).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000])
    expect(signallingRetryMs(10, 0.999_999)).toBeGreaterThanOrEqual(MAX_SIGNALLING_RETRY_MS / 2)
    expect(signallingRetryMs(0, 0.999_999)).toBe(1_000)
  })
})
