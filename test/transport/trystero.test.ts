/**
 * trysteroTransport over real WebRTC (node-datachannel) on 127.0.0.1, through a local tracker. trystero
 * has one peer id per process, so the other peer is a child process (trystero-echo-peer.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { isPeersetError } from '../../src/errors.js'
import { nodeRtc } from '../../src/node/index.js'
import { startNostrRelay, startTracker, type Tracker } from '../../src/testing/index.js'
import { MAX_FRAME_BYTES, type TransportRoom } from '../../src/transport/index.js'
import { trysteroTransport } from '../../src/transport/trystero.js'

const ECHO = fileURLToPath(new URL('./trystero-echo-peer.ts', import.meta.url))
const LEAVE = fileURLToPath(new URL('./trystero-leave-peer.ts', import.meta.url))
const noHandlers = { onPeerJoin: () => undefined, onPeerLeave: () => undefined, onMessage: () => undefined }

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await Promise.resolve(clean()).catch(() => undefined)
})

async function tracker(): Promise<Tracker> {
  const t = await startTracker({ intervalMs: 10_000 })
  cleanups.push(() => t.close())
  return t
}

function track(room: TransportRoom): TransportRoom {
  cleanups.push(() => room.leave())
  return room
}

/** Poll until `check()` holds, or fail after `budgetMs`. */
async function until(check: () => boolean, budgetMs: number, what: string): Promise<void> {
  const end = Date.now() + budgetMs
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${budgetMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function signalling(strategy: 'torrent' | 'nostr'): Promise<{ url: string }> {
  if (strategy === 'torrent') return tracker()
  const relay = await startNostrRelay()
  cleanups.push(() => relay.close())
  return relay
}

function startEcho(url: string, room: string, strategy: string): { child: ChildProcess; lines: Array<Record<string, string>> } {
  const child = spawn(process.execPath, ['--import', 'tsx', ECHO, url, room, strategy], { stdio: ['ignore', 'pipe', 'inherit'] })
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const lines: Array<Record<string, string>> = []
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(JSON.parse(line) as Record<string, string>))
  return { child, lines }
}

describe('trysteroTransport', () => {
  it('names the bad option', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ strategy: 'mqtt' }, /options\.strategy/],
      [{ appId: '' }, /options\.appId/],
      [{ password: 3 }, /options\.password/],
      [{ relayUrls: [] }, /options\.relayUrls/],
      [{ relayUrls: ['http://x'] }, /options\.relayUrls\[0\]/],
      [{ relayRedundancy: 0 }, /options\.relayRedundancy/],
      [{ rtcConfig: 'x' }, /options\.rtcConfig/],
      [{ rtcPolyfill: {} }, /options\.rtcPolyfill/],
      [null, /options must be an object/],
    ]
    for (const [options, message] of bad) {
      let error: unknown
      try {
        trysteroTransport(options as never)
      } catch (e) {
        error = e
      }
      expect(isPeersetError(error, 'INVALID_ARGUMENT'), String(options)).toBe(true)
      expect((error as Error).message).toMatch(message)
    }
    expect(trysteroTransport().name).toBe('trystero-torrent')
    expect(trysteroTransport({ strategy: 'nostr' }).name).toBe('trystero-nostr')
  })

  it('refuses a second join of the same room in one process, says why, and allows other rooms', async () => {
    const { url } = await tracker()
    const options = { appId: 'peerset-test', relayUrls: [url], ...nodeRtc({ bindAddress: '127.0.0.1' }) }
    const first = track(await trysteroTransport(options).join('room-a', noHandlers))
    const error = await trysteroTransport(options).join('room-a', noHandlers).catch((e: unknown) => e)
    expect(isPeersetError(error, 'TRANSPORT_FAILED')).toBe(true)
    expect((error as Error).message).toMatch(/already in room "room-a".*selfId.*one per process/)
    // Another room, or the same room after leaving, is fine.
    track(await trysteroTransport(options).join('room-b', noHandlers))
    await first.leave()
    await first.leave() // idempotent
    track(await trysteroTransport(options).join('room-a', noHandlers))
  })

  it.each(['torrent', 'nostr'] as const)('%s: once its last room has left, a Node process ends by itself; a room joined afterwards signals again', async (strategy) => {
    const { url } = await signalling(strategy)
    const { lines, exitCode } = spawnLeaveChild(url, strategy)
    await until(() => lines.some((l) => l['event'] === 'left-c'), 60_000, 'the child to join and leave its rooms')
    // Leaving one of two rooms leaves the other's signalling alone.
    expect(lines).toEqual([{ event: 'left-a', b: 'open' }, { event: 'left-b' }, { event: 'c-open' }, { event: 'left-c' }])
    // trystero's sockets are process-wide: open, they would keep the child alive for ever.
    await until(() => exitCode() !== undefined, 20_000, 'the child to exit by itself after its last room left')
    expect(exitCode()).toBe(0)
  }, 120_000)

  it('a Node process that was connected to a peer ends by itself once both have left the room', async () => {
    const { url } = await tracker()
    const room = `leave-peer-${Date.now()}`
    const me = track(await trysteroTransport({ appId: 'peerset-test', relayUrls: [url], ...nodeRtc({ bindAddress: '127.0.0.1' }) }).join(room, noHandlers))
    const { lines, exitCode } = spawnLeaveChild(url, 'torrent', room)
    await until(() => lines.some((l) => l['event'] === 'left-peer'), 60_000, 'the child to meet us and leave')
    expect(lines.map((l) => l['event'])).toEqual(['met', 'left-peer'])
    await me.leave()
    // trystero keeps a peer's connection for reuse after the room left; open, it would keep the child alive.
    await until(() => exitCode() !== undefined, 20_000, 'the child to exit by itself after its room left')
    expect(exitCode()).toBe(0)
  }, 120_000)

  it.each(['torrent', 'nostr'] as const)('%s: connects to a peer in another process and carries whole binary frames both ways', async (strategy) => {
    const { url } = await signalling(strategy)
    const room = `echo-${Date.now()}`
    const echo = startEcho(url, room, strategy)
    await until(() => echo.lines.some((l) => l['event'] === 'ready'), 30_000, 'the echo peer to start')
    const echoId = echo.lines.find((l) => l['event'] === 'ready')!['selfId']!

    const joined: string[] = []
    const left: string[] = []
    const received: Uint8Array[] = []
    const transport = trysteroTransport({ strategy, appId: 'peerset-test', relayUrls: [url], ...nodeRtc({ bindAddress: '127.0.0.1' }) })
    expect(transport.isSupported()).toBe(true)
    const me = track(await transport.join(room, {
      onPeerJoin: (id) => joined.push(id),
      onPeerLeave: (id) => left.push(id),
      onMessage: (_id, data) => received.push(data),
    }))
    // Usually about a second. If the first exchange of offers is missed, the next announce comes
    // after 10 s (torrent, our tracker's interval) or 60 s (nostr, trystero's steady interval); on a
    // loaded CI machine nostr once missed two (a clean-clone run timed out at 75 s), so the budget
    // covers two more announces, as the e2e tests' nostr budget does.
    await until(() => joined.includes(echoId), 150_000, 'the echo peer to join')
    await until(() => echo.lines.some((l) => l['event'] === 'join' && l['peerId'] === me.selfId), 15_000, 'the echo peer to see us')

    const small = Uint8Array.from([1, 2, 3])
    const big = Uint8Array.from({ length: MAX_FRAME_BYTES }, (_, i) => i % 251)
    me.send(echoId, small)
    me.send(echoId, big)
    await until(() => received.length >= 2, 15_000, 'two echoed frames')
    expect(received[0]).toEqual(small.slice().reverse())
    expect(received[1]).toEqual(big.slice().reverse())
    expect(() => me.send(echoId, new Uint8Array(MAX_FRAME_BYTES + 1))).toThrow(/over/)

    // A clean exit of the other process is a leave.
    echo.child.kill('SIGTERM')
    await until(() => left.includes(echoId), 30_000, 'the echo peer to leave')
  }, 240_000)

  it('torrent: resetPeer drops a link; the peer is reported gone, then met again over a new link that carries frames', async () => {
    const { url } = await tracker()
    const room = `reset-${Date.now()}`
    const echo = startEcho(url, room, 'torrent')
    await until(() => echo.lines.some((l) => l['event'] === 'ready'), 30_000, 'the echo peer to start')
    const echoId = echo.lines.find((l) => l['event'] === 'ready')!['selfId']!
    const events: string[] = []
    const received: Uint8Array[] = []
    const me = track(await trysteroTransport({ appId: 'peerset-test', relayUrls: [url], ...nodeRtc({ bindAddress: '127.0.0.1' }) }).join(room, {
      onPeerJoin: (id) => events.push(`join ${id}`),
      onPeerLeave: (id) => events.push(`leave ${id}`),
      onMessage: (_id, data) => received.push(data),
    }))
    await until(() => events.includes(`join ${echoId}`), 150_000, 'the echo peer to join')
    me.resetPeer!(echoId)
    // Gone at once if the data channel reports the close, else at the peer's next offer (10 s here); then a new link.
    await until(() => events.filter((e) => e === `join ${echoId}`).length === 2, 90_000, 'the echo peer to be met again')
    expect(events).toEqual([`join ${echoId}`, `leave ${echoId}`, `join ${echoId}`])
    me.send(echoId, Uint8Array.from([4, 5, 6]))
    await until(() => received.length >= 1, 15_000, 'a frame echoed over the new link')
    expect(received[0]).toEqual(Uint8Array.from([6, 5, 4]))
  }, 240_000)
})

/** Starts the leave-test child (trystero-leave-peer.ts) with `args`: the JSON lines it prints, and its exit code once it exits. */
function spawnLeaveChild(...args: string[]): { lines: Array<Record<string, string>>; exitCode: () => number | null | undefined } {
  const child = spawn(process.execPath, ['--import', 'tsx', LEAVE, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  let exitCode: number | null | undefined
  child.on('exit', (code) => (exitCode = code))
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const lines: Array<Record<string, string>> = []
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(JSON.parse(line) as Record<string, string>))
  return { lines, exitCode: () => exitCode }
}
