/**
 * Relays as always-on peers, in one process: Alice publishes to a Nostr relay and goes offline; Bob
 * comes later, with nobody else online, and gets her records from the relay; a record signed by
 * Alice but altered by the relay is refused. Run: `npm run demo:relays`.
 *
 * The relay is the embedded one from `peerset/testing` (on 127.0.0.1). With a public relay, pass its
 * `wss://` url instead; in a browser, leave out `WebSocket`.
 */
import { WebSocket } from 'ws'
import { createIdentity, createPeerset, createRecord, memoryStorage, nostrRelays, toNostrEvent } from '../../src/index.js'
import { startNostrRelay } from '../../src/testing/index.js'

const relay = await startNostrRelay({ negentropy: true })
const room = 'allotment-swaps'
const relays = () => nostrRelays({ urls: [relay.url], WebSocket: WebSocket as never })
const say = (who: string, what: string): void => console.log(`${who.padEnd(6)} ${what}`)

const aliceKey = createIdentity()
const alice = await createPeerset({ room, identity: aliceKey, storage: memoryStorage(), relays: relays() })
for (const text of ['Spare courgette seedlings, plot 12', 'Looking for a wheelbarrow on Saturday']) {
  await alice.publish({ text })
  say('alice', `published "${text}"`)
}
// A record Alice signed but never published, altered: its id and signature no longer match its content.
const altered = { ...toNostrEvent(await createRecord({ text: 'Free plot' }, aliceKey.signer, { room })), content: 'Free plot, call this number' }
await alice.close() // waits for the relay to confirm what she published
say('alice', 'went offline')

relay.inject(altered) // the relay serves it as if Alice had published it
const bob = await createPeerset({ room, identity: createIdentity(), storage: memoryStorage(), relays: relays() })
bob.on('record:added', (record, info) => say('bob', `got "${record.text}" from ${info.origin === 'relay' ? 'the relay' : info.origin}`))
bob.on('record:rejected', (info) => say('bob', `refused a record from ${info.relay ?? info.origin}: ${info.reason} (${info.message})`))
await new Promise<void>((resolve) => {
  const check = (): void => (bob.status().relays[0]?.state === 'live' ? resolve() : void setTimeout(check, 20))
  check()
})
const status = bob.status().relays[0]!
say('bob', `in sync with the relay (NIP-77: ${String(status.negentropy)}): ${bob.records().length} records, ${status.faults} invalid event(s) from it`)
await bob.close()
await relay.close()
