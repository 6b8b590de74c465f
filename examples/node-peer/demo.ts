/**
 * `npm run demo`: three Peerset peers as three Node processes, on real WebRTC over 127.0.0.1, found
 * through a tracker started here (no internet needed). Each has its own key and its own LevelDB
 * store in a temporary folder; each publishes records; one record is refused by moderation, one is
 * edited; the log shows it all live, until the three hold the same set. Then everything stops.
 * (The in-process, in-memory demo is `npm run demo:memory`.)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTracker, type Tracker } from '../../src/testing/index.js'
import { startPeer, type PeerEvent, type PeerProcess } from './spawn.js'

/** Give up (exit 1) if the peers have not converged by then. */
const BUDGET_MS = 90_000
const started = performance.now()
const elapsed = (): number => (performance.now() - started) / 1000
const log = (line: string): void => console.log(`[${elapsed().toFixed(1).padStart(5)} s] ${line}`)

const plan: Array<{ name: string; args: string[] }> = [
  {
    name: 'alice',
    args: ['--publish', 'Grey cat seen near the harbour', '--publish', 'Free apples at the corner of Elm St', '--publish', 'This board is shit'],
  },
  {
    name: 'bob',
    args: ['--publish', 'Lost keys, blue keyring', '--publish', 'Bike repair café on Saturday', '--edit', 'Lost keys, blue keyring: FOUND, thanks!', '--edit-after-ms', '4000'],
  },
  { name: 'carol', args: ['--publish', 'Road closed on Main St until noon', '--publish', 'Choir rehearsal moved to 7 pm'] },
]
/** What the three must end with: 6 records (alice's third is refused; bob's edit replaces his first). */
const EXPECTED_RECORDS = 6

const names = new Map<string, string>() // npub or hex key or peer id -> name
const who = (key: unknown): string => names.get(String(key)) ?? `${String(key).slice(0, 12)}…`
const quote = (text: unknown): string => `"${String(text)}"`

let tracker: Tracker | undefined
const peers: PeerProcess[] = []
const dir = mkdtempSync(join(tmpdir(), 'peerset-demo-'))
const timings: Record<string, number> = {}
let editedId: string | undefined
let stopping = false

/** One readable line per interesting event of a peer. */
function narrate(peer: PeerProcess, e: PeerEvent): void {
  const me = peer.name
  switch (e.event) {
    case 'ready':
      names.set(String(e['npub']), me)
      names.set(String(e['publicKey']), me)
      names.set(String(e['selfId']), me)
      log(`${me} started: key ${String(e['npub']).slice(0, 20)}…, store ${String(e['records'])} records, joining the room`)
      break
    case 'peer:joined':
      timings['first connection'] ??= elapsed()
      log(`${me} ⇄ ${who(e['npub'])}: WebRTC connected, keys proved (nonce challenge), syncing`)
      break
    case 'peer:left':
      if (!stopping) log(`${me} ⇹ ${who(e['npub'] ?? e['peerId'])}: session ended (${String(e['reason'])})`)
      break
    case 'published':
      log(`${me} published ${quote(e['text'])}`)
      break
    case 'refused':
      log(`${me}'s own moderation REFUSED ${quote(e['text'])}: ${String(e['message']).replace(/^publish: /, '')}`)
      break
    case 'edited':
      editedId = String(e['id'])
      timings['edit'] = elapsed()
      log(`${me} EDITED a record (same uuid, newer version): ${quote(e['text'])}`)
      break
    case 'record:added':
      if (e['origin'] === 'remote') {
        log(`  ${me} got ${who(e['author'])}'s ${quote(e['text'])} from ${who(e['from'])}: signature verified, moderated, stored`)
      }
      break
    case 'record:removed':
      if (e['reason'] === 'replaced') log(`  ${me} replaced the old version ${quote(e['text'])}`)
      else log(`  ${me} removed ${quote(e['text'])} (${String(e['reason'])})`)
      break
    case 'record:rejected':
      if (e['origin'] !== 'local') log(`  ${me} refused a record from a peer (${String(e['rule'] ?? e['reason'])}): ${String(e['message'])}`)
      break
    case 'peer:banned':
      log(`  ${me} banned ${who(e['peerId'])} (${String(e['reason'])})`)
      break
    case 'warning':
    case 'error':
      log(`  ${me} ${e.event}: ${String(e['message'])}`)
      break
  }
}

const latest = (peer: PeerProcess): PeerEvent | undefined => peer.last('status')
/** Whether the peer's latest status was taken after it stored the edited version. */
const sawEdit = (peer: PeerProcess): boolean => {
  const stored = peer.events.findIndex((e) => e.event === 'record:added' && e['id'] === editedId)
  const status = latest(peer)
  return stored >= 0 && status !== undefined && peer.events.indexOf(status) > stored
}
function converged(): boolean {
  const statuses = peers.map(latest)
  if (editedId === undefined || !peers.every(sawEdit) || statuses.some((s) => s === undefined)) return false
  return statuses.every((s) => s!['peers'] === peers.length - 1 && s!['records'] === EXPECTED_RECORDS && s!['digest'] === statuses[0]!['digest'])
}

async function stopAll(): Promise<void> {
  stopping = true
  await Promise.all(peers.map((p) => p.stop(5_000)))
  await tracker?.close()
  rmSync(dir, { recursive: true, force: true })
}

// Ctrl-C: stop the children and clean up too.
process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)))

let exitCode = 0
try {
  tracker = await startTracker({ intervalMs: 10_000 })
  log(`tracker (signalling only: it never sees a record) listening on ${tracker.url}`)
  log(`temporary stores in ${dir}`)
  for (const { name, args } of plan) {
    const peer = startPeer(name, ['--room', 'demo-board', '--tracker', tracker.url, '--store', join(dir, name), '--status-ms', '500', ...args])
    peer.onEvent((e) => narrate(peer, e))
    peers.push(peer)
  }
  const end = Date.now() + BUDGET_MS
  while (!converged()) {
    const dead = peers.find((p) => p.exited())
    if (dead) throw new Error(`${dead.name} exited early (code ${dead.child.exitCode})`)
    if (Date.now() > end) throw new Error(`the peers did not converge within ${BUDGET_MS / 1000} s`)
    await new Promise((r) => setTimeout(r, 100))
  }
  timings['converged'] = elapsed()
  console.log('')
  console.log('  peer    records  peers  set digest')
  for (const p of peers) {
    const s = latest(p)!
    console.log(`  ${p.name.padEnd(7)}${String(s['records']).padStart(8)}${String(s['peers']).padStart(7)}  ${String(s['digest'])}`)
  }
  console.log(`\n  all three hold the same ${EXPECTED_RECORDS} records (one refused by moderation, one edited).`)
  console.log(`  first connection after ${timings['first connection']?.toFixed(1)} s, edit at ${timings['edit']?.toFixed(1)} s, converged after ${timings['converged'].toFixed(1)} s\n`)
} catch (error) {
  exitCode = 1
  console.error(`\ndemo FAILED: ${error instanceof Error ? error.message : String(error)}`)
  for (const p of peers) console.error(`  ${p.name}: last status ${JSON.stringify(latest(p) ?? null)}`)
} finally {
  log('stopping the peers and the tracker, removing the temporary stores')
  await stopAll()
  log(exitCode === 0 ? 'done' : 'done (failed)')
}
process.exit(exitCode)
