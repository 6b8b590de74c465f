/**
 * A swarm of six peers in one process, on a simulated network with latency and packet loss.
 * Run: `npm run demo:memory` (no internet needed). It shows signed records, sync, a late joiner catching up,
 * an edit replacing the old version everywhere, and moderation (quota, bad words) on every peer.
 */
import {
  createIdentity,
  createMemoryNetwork,
  createPeerset,
  createRecord,
  isPeersetError,
  memoryStorage,
  toNostrEvent,
  type Identity,
  type Peerset,
  type RecordDraft,
} from '../../src/index.js'

const room = 'demo-board'
// A simulated network: 20 ms latency, up to 10 ms jitter, 2% of frames lost.
const network = createMemoryNetwork({ latencyMs: 20, jitterMs: 10, loss: 0.02, seed: 1 })
// Peers recover lost frames by timeouts (a request is re-sent after 10 s). So that you need not wait,
// the peers share a clock that runs 10 times faster than real time (the `clock` option is for tests).
const started = performance.now()
const t0 = Date.now()
const clock = (): number => t0 + Math.floor((performance.now() - started) * 10)
const seconds = (): string => ((performance.now() - started) / 1000).toFixed(1).padStart(4)
const log = (line: string): void => console.log(`[${seconds()} s] ${line}`)

interface Peer {
  name: string
  me: Identity
  peerset: Peerset
}
const peers: Peer[] = []

/** Open a peer: its own key, memory storage, the default moderation (5 records per author, bad words...). */
async function join(name: string): Promise<Peer> {
  const me = createIdentity()
  const peerset = await createPeerset({
    room,
    identity: me,
    storage: memoryStorage(),
    transport: network.transport(),
    clock,
    sessionTickMs: 100, // drive the (fast) session and sync timers often
    reconnectCooldownMs: 2_000, // a dropped peer may come back after 2 s of demo time
  })
  peerset.on('record:removed', (record, { reason }) => {
    if (reason !== 'replaced') log(`  ${name}: removed "${record.text}" (${reason})`)
  })
  peerset.on('record:rejected', (info) => {
    if (info.origin === 'remote') log(`  ${name}: refused a record from a peer (${info.rule ?? info.reason})`)
  })
  // Every peer proves its key before syncing; a session that fails (a lost frame) is retried.
  peerset.on('peer:left', (peer, { reason }) => {
    if (reason !== 'local') log(`  ${name}: session with ${nameOf(peer.peerId)} ended (${reason})${reason === 'banned' ? '' : '; it will be retried'}`)
  })
  peerset.on('peer:banned', ({ peerId, reason }) => log(`  ${name}: banned ${nameOf(peerId)} (${reason})`))
  peerset.on('error', (error) => log(`  ${name}: error ${String(error)}`))
  const peer = { name, me, peerset }
  peers.push(peer)
  log(`${name} joined as ${me.npub.slice(0, 16)}…`)
  return peer
}

/** Publish, and say so when the peer's own moderation refuses the record. */
async function publish(peer: Peer, draft: RecordDraft): Promise<void> {
  try {
    await peer.peerset.publish(draft)
  } catch (error) {
    if (!isPeersetError(error)) throw error
    log(`  ${peer.name}: refused "${draft.text}": ${error.message.replace(/^peerset: publish: /, '')}`)
  }
}

const nameOf = (peerId: string): string => peers.find((p) => p.peerset.status().transport.selfId === peerId)?.name ?? peerId
const idsOf = (p: Peer): string => p.peerset.records().map((r) => r.id).sort().join()
const connected = (p: Peer): number => p.peerset.peers().filter((x) => x.state === 'authenticated').length
const converged = (): boolean =>
  peers.every((p) => connected(p) === peers.length - 1 && idsOf(p) === idsOf(peers[0]!))

/** Poll until every peer is connected to every other and all hold the same records (at most 4 s). */
async function waitForSync(timeoutMs = 4_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!converged() && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
}

function table(step: string): void {
  const same = peers.every((p) => idsOf(p) === idsOf(peers[0]!))
  console.log(`\n  ${step}`)
  console.log('  peer    records  peers connected')
  for (const p of peers) console.log(`  ${p.name.padEnd(8)}${String(p.peerset.records().length).padStart(7)}${String(connected(p)).padStart(17)}`)
  console.log(`  all peers hold identical sets: ${same ? 'yes' : 'NO'}\n`)
}

// 1. Five peers, each publishing a few signed records (some with a link, some with a place).
const alice = await join('alice')
const bob = await join('bob')
const carol = await join('carol')
const dave = await join('dave')
const erin = await join('erin')
await publish(alice, { text: 'Grey cat seen near the harbour', geo: { lat: 57.649, lon: 10.407 } })
await publish(alice, { text: 'Free apples at the corner of Elm St', link: 'https://example.org/apples' })
await publish(bob, { text: 'Lost keys, blue keyring', geo: { lat: 57.651, lon: 10.41 } })
await publish(bob, { text: 'Bike repair café on Saturday', link: 'https://example.org/repair' })
await publish(carol, { text: 'Road closed on Main St until noon' })
await publish(dave, { text: 'Choir rehearsal moved to 7 pm', link: 'https://example.org/choir' })
await publish(erin, { text: 'Found a child’s glove by the school', geo: { lat: 57.652, lon: 10.402 } })
// The default moderation keeps the 5 earliest records per author: one of alice's 6 goes (over-quota).
log('alice posts 4 more records, 6 in all; the default moderation keeps 5 per author:')
for (const n of [3, 4, 5, 6]) await publish(alice, { text: `Garage sale, item #${n}` })
log('waiting for the swarm to sync…')
await waitForSync()
table('Step 1: five peers published and synced')

// 2. A sixth peer joins late and catches up: it is sent everything it misses.
const frank = await join('frank')
await publish(frank, { text: 'New in town, hello board!' })
await waitForSync()
table('Step 2: frank joined late and caught up')

// 3. An edit: publishing again with the same uuid replaces the old version on every peer.
const original = bob.peerset.records({ author: bob.me.npub }).find((r) => r.text.startsWith('Lost keys'))!
await publish(bob, { text: 'Lost keys, blue keyring: FOUND, thanks!', uuid: original.uuid })
log(`bob edited record ${original.uuid.slice(0, 8)}…`)
await waitForSync()
for (const p of peers) {
  const version = p.peerset.records({ author: bob.me.publicKey }).find((r) => r.uuid === original.uuid)
  log(`  ${p.name} sees: "${version?.text}"`)
}
table('Step 3: the edit replaced the old version everywhere')

// 4. Bad words: erin's own peer refuses to publish; the same signed record, handed to the other
//    peers directly (as a modified client could), is refused by each of them too.
await publish(erin, { text: 'This board is shit' })
const bad = toNostrEvent(await createRecord({ text: 'This board is shit' }, erin.me.signer, { room }))
for (const p of peers.filter((x) => x !== erin)) {
  const outcome = await p.peerset.importRecord(bad)
  log(`  ${p.name}: ${outcome.status === 'rejected' ? `refused it too (${outcome.rule}): ${outcome.message}` : outcome.status}`)
}
await waitForSync()
table('Step 4: the bad record is refused everywhere')

await Promise.all(peers.map((p) => p.peerset.close()))
network.close()
log(`closed all peers; ${network.stats().framesSent} frames sent, ${network.stats().framesDropped} lost`)
