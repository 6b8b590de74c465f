/**
 * The connection state of a peerset on trysteroTransport (real sockets, real trystero): a tracker
 * url where nothing listens shows as `failing` with its error, in `status().transport.state` and in
 * `transport:state` events, and becomes a `no-signalling` warning, never a crash; once a tracker
 * listens on that port, our backoff brings the socket back and it shows `open`.
 * In the `network` project (real sockets and timers); every server is closed even on failure.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createIdentity, createPeerset, memoryStorage, type Peerset, type PeersetWarning, type TransportState } from '../../src/index.js'
import { nodeRtc } from '../../src/node/index.js'
import { startTracker } from '../../src/testing/index.js'
import { trysteroTransport } from '../../src/transport/trystero.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await Promise.resolve(clean()).catch(() => undefined)
})

/** Poll until `check()` holds, or fail after `budgetMs` (real time: real sockets). */
async function until(check: () => boolean, budgetMs: number, what: string): Promise<number> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > budgetMs) throw new Error(`timed out after ${budgetMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return Date.now() - start
}

/** A port where nothing listens (a tracker was there a moment ago). */
async function closedPort(): Promise<number> {
  const t = await startTracker()
  const port = t.port
  await t.close()
  return port
}

describe('the transport state of a peerset on trystero', () => {
  it('shows an unreachable tracker as failing with a no-signalling warning, then open once a tracker listens there', async () => {
    const port = await closedPort()
    const url = `ws://127.0.0.1:${port}`
    const peerset: Peerset = await createPeerset({
      room: `state-${process.pid}`,
      identity: createIdentity(),
      storage: memoryStorage(),
      transport: trysteroTransport({ appId: 'peerset-state-test', relayUrls: [url], ...nodeRtc({ bindAddress: '127.0.0.1' }) }),
    })
    cleanups.push(() => peerset.close())
    const warnings: PeersetWarning[] = []
    const states: TransportState[] = []
    const errors: unknown[] = []
    peerset.on('warning', (w) => warnings.push(w))
    peerset.on('transport:state', (s) => states.push(s))
    peerset.on('error', (e) => errors.push(e))
    const server = () => peerset.status().transport.state?.signalling[0]

    await until(() => server()?.state === 'failing', 10_000, 'the tracker to show as failing')
    expect(server()).toMatchObject({ url, state: 'failing' })
    expect(server()!.lastError).toMatch(/ECONNREFUSED|could not connect|connection error/)
    expect(states.some((s) => s.signalling[0]?.state === 'failing')).toBe(true)
    const waited = await until(() => warnings.some((w) => w.code === 'no-signalling'), 20_000, 'the no-signalling warning')
    const warning = warnings.find((w) => w.code === 'no-signalling')!
    expect(warning.message).toContain(url)
    expect(peerset.status().warnings.map((w) => w.code)).toContain('no-signalling')
    expect(peerset.status().state).toBe('open')

    // A tracker comes up on that port: the socket is retried (our backoff) and opens.
    const tracker = await startTracker({ port })
    cleanups.push(() => tracker.close())
    const reopened = await until(() => server()?.state === 'open', 70_000, 'the tracker to show as open')
    console.log(`transport state: failing, warned after ${waited} ms more; open ${reopened} ms after the tracker started; ${states.length} transport:state events`)
    expect(states.at(-1)?.signalling[0]?.state).toBe('open')
    expect(errors).toEqual([])
  }, 120_000)
})
