/**
 * A child process for test/transport/trystero.test.ts: joins a room over trystero and echoes every
 * frame back to its sender, reversed. Prints one JSON line per event. Args: trackerUrl room strategy.
 */
import { trysteroTransport } from '../../src/transport/trystero.js'
import { nodeRtc } from '../../src/node/index.js'

const [url, room, strategy = 'torrent'] = process.argv.slice(2)
const say = (event: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(event)}\n`)
const transport = trysteroTransport({
  strategy: strategy as 'torrent' | 'nostr',
  appId: 'peerset-test',
  relayUrls: [url!],
  ...nodeRtc({ bindAddress: '127.0.0.1' }),
})
const joined = await transport.join(room!, {
  onPeerJoin: (peerId) => say({ event: 'join', peerId }),
  onPeerLeave: (peerId) => say({ event: 'leave', peerId }),
  onMessage: (peerId, data) => joined.send(peerId, data.slice().reverse()),
})
say({ event: 'ready', selfId: joined.selfId })
process.on('SIGTERM', () => void joined.leave().finally(() => process.exit(0)))
