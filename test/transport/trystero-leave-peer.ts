/**
 * A child process for test/transport/trystero.test.ts: joins two rooms over trystero, leaves one, then
 * the other, joins a third and leaves it, printing one JSON line per step with the state of its
 * signalling socket. It never calls process.exit: it must end by itself once its rooms have left.
 * Args: trackerUrl strategy [peerRoom]: with peerRoom, it only joins that room, waits for a peer
 * (the test process), leaves, and must end by itself all the same.
 */
import { trysteroTransport } from '../../src/transport/trystero.js'
import { nodeRtc } from '../../src/node/index.js'
import type { TransportRoom } from '../../src/transport/index.js'

const [url, strategy = 'torrent', peerRoom] = process.argv.slice(2)
const say = (event: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(event)}\n`)
const transport = trysteroTransport({ strategy: strategy as 'torrent' | 'nostr', appId: 'peerset-test', relayUrls: [url!], ...nodeRtc({ bindAddress: '127.0.0.1' }) })
const handlers = { onPeerJoin: () => undefined, onPeerLeave: () => undefined, onMessage: () => undefined }
const signalling = (room: TransportRoom): string => room.state!().signalling.map((s) => s.state).join(',')

async function openSignalling(room: TransportRoom): Promise<void> {
  while (signalling(room) !== 'open') await new Promise((r) => setTimeout(r, 50))
}

if (peerRoom !== undefined) {
  let met = false
  const room = await transport.join(peerRoom, { ...handlers, onPeerJoin: () => void (met = true) })
  while (!met) await new Promise((r) => setTimeout(r, 50))
  say({ event: 'met' })
  await room.leave()
  say({ event: 'left-peer' })
} else {
  await aroundTheRooms()
}

async function aroundTheRooms(): Promise<void> {
const a = await transport.join('leave-a', handlers)
const b = await transport.join('leave-b', handlers)
await openSignalling(b)
await a.leave()
say({ event: 'left-a', b: signalling(b) })
await b.leave()
say({ event: 'left-b' })
// A room joined after every room left: its socket opens again.
const c = await transport.join('leave-c', handlers)
await openSignalling(c)
say({ event: 'c-open' })
await c.leave()
say({ event: 'left-c' })
}
