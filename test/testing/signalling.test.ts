/** peerset/testing: the local tracker and Nostr relay start on 127.0.0.1, validate options and close cleanly. */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { isPeersetError } from '../../src/errors.js'
import { startNostrRelay, startTracker } from '../../src/testing/index.js'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean().catch(() => undefined)
})

function connect(url: string): Promise<{ socket: WebSocket; messages: unknown[][] }> {
  const socket = new WebSocket(url)
  cleanups.push(async () => socket.terminate())
  const messages: unknown[][] = []
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as unknown[]))
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, messages }))
    socket.once('error', reject)
  })
}

async function until(check: () => boolean, budgetMs: number, what: string): Promise<void> {
  const end = Date.now() + budgetMs
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${budgetMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const event = (kind: number, topic: string) => ({ id: `${kind}-${topic}`, pubkey: 'p', kind, created_at: 1_800_000_000, tags: [['x', topic]], content: '{}', sig: 's' })

describe('startTracker', () => {
  it('listens on 127.0.0.1 on a free port and closes even with a client connected', async () => {
    const tracker = await startTracker()
    cleanups.push(() => tracker.close())
    expect(tracker.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
    await connect(tracker.url)
    await tracker.close()
    await tracker.close() // idempotent
  }, 30_000)

  it('names the bad option', async () => {
    for (const [options, name] of [[{ port: -1 }, 'port'], [{ intervalMs: 5 }, 'intervalMs'], [{ host: '' }, 'host']] as const) {
      const error = await startTracker(options as never).catch((e: unknown) => e)
      expect(isPeersetError(error, 'INVALID_ARGUMENT')).toBe(true)
      expect((error as Error).message).toContain(`options.${name}`)
    }
  })
})

describe('startNostrRelay', () => {
  it('forwards events to matching subscriptions only, acknowledges them, and replays recent ones to a late REQ', async () => {
    const relay = await startNostrRelay()
    cleanups.push(() => relay.close())
    const a = await connect(relay.url)
    const b = await connect(relay.url)
    a.socket.send(JSON.stringify(['REQ', 'sub', { kinds: [20001], '#x': ['t1'] }]))
    await until(() => a.messages.some((m) => m[0] === 'EOSE'), 10_000, 'EOSE')
    b.socket.send(JSON.stringify(['EVENT', event(20001, 't2')])) // other topic
    b.socket.send(JSON.stringify(['EVENT', event(20002, 't1')])) // other kind
    b.socket.send(JSON.stringify(['EVENT', event(20001, 't1')])) // match
    await until(() => a.messages.some((m) => m[0] === 'EVENT'), 10_000, 'the matching event')
    await until(() => b.messages.filter((m) => m[0] === 'OK').length === 3, 10_000, 'three OKs')
    expect(a.messages.filter((m) => m[0] === 'EVENT').map((m) => (m[2] as { id: string }).id)).toEqual(['20001-t1'])
    // A subscription that arrives after the event still gets it (kept for retainMs).
    b.socket.send(JSON.stringify(['REQ', 'late', { '#x': ['t2'] }]))
    await until(() => b.messages.some((m) => m[0] === 'EVENT' && m[1] === 'late'), 10_000, 'the replayed event')
    await relay.close()
  }, 30_000)
})
