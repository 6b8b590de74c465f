/**
 * End-to-end catch-up over real WebRTC on 127.0.0.1: one node-peer holding 10,000 signed records (in
 * its LevelDB store), one empty node-peer joining through a local tracker. Measures seconds from the
 * empty peer's process start to connected, and from connected to all records stored, next to the raw
 * `schnorr.verify` rate measured in the same run (verification is the physical limit of ingest).
 * Two scenarios, each with fresh peers: the joining peer verifying on its main thread (the default),
 * and verifying in two worker threads (`--workers 2`: `workerVerifier({ size: 2 })`).
 *
 *   npx tsx bench/e2e.ts [--json] [--records 10000] [--only default|workers]
 *
 * The signed fixtures are generated once (about 25 s) into .cache/bench-e2e/ and reused for 30 days;
 * they are signed for the room ROOM, whose hash is in the file name (a cache of another room or of
 * records without a room, which the peers would refuse as `wrong-room`, is never reused).
 * Bytes on the wire per record: the bytes of every protocol frame the joining peer sent and received
 * through its transport (its `status` lines count them), over the records it stored. trystero's own
 * framing and the SCTP/DTLS/UDP headers below it are not included. `joiningLoopBusyShare`: the share
 * of the catch-up the joining peer's event loop was working (from its status lines); well below 1
 * means it waited (for frames, the disk, ...) instead of verifying.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startPeer, type PeerProcess } from '../examples/node-peer/spawn.js'
import { levelStorage } from '../src/node/index.js'
import { startTracker } from '../src/testing/index.js'
import { type Row, cachedFixtures, combineRaw, jsonMode, rawVerifyRate, report, round } from './lib.js'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const N = arg('--records', 10_000)
/** `--only default` or `--only workers`: run one scenario (the raw rate is still measured around it). */
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined
const BUDGET_MS = 600_000
const say = (line: string): void => void (jsonMode || console.error(line))
/** The room of the run (fixed: the cached records are signed for it). */
const ROOM = 'bench-e2e'

const records = await cachedFixtures('bench-e2e', N, ROOM, 'Bench record', say)
// Measured before and after the scenarios (5 rounds of 1 s each time); the median of all rounds is
// the reference (see rawVerifyRate), so one busy second of a shared machine does not move it much.
const rawBefore = await rawVerifyRate(records)

/** One catch-up: a fresh full peer and an empty peer (with `joinArgs`), in their own folders. */
async function catchUp(scenario: string, joinArgs: string[]): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'peerset-bench-e2e-'))
  const room = ROOM
  const tracker = await startTracker({ intervalMs: 10_000 })
  const peers: PeerProcess[] = []
  try {
    // The full peer's store, written directly (stores trust their records): 1,000 records per batch.
    const store = await levelStorage({ path: join(dir, 'full') }).open(room)
    for (let i = 0; i < records.length; i += 1_000) await store.write({ put: records.slice(i, i + 1_000) })
    await store.close()

    const common = ['--room', room, '--tracker', tracker.url, '--accept-all', '--status-ms', '250']
    const full = startPeer('full', [...common, '--store', join(dir, 'full')])
    peers.push(full)
    await full.waitFor((e) => e.event === 'ready', 120_000, 'ready')
    say(`${scenario}: full peer ready with ${String(full.last('ready')!['records'])} records`)

    const empty = startPeer('empty', [...common, '--store', join(dir, 'empty'), ...joinArgs])
    peers.push(empty)
    let stored = 0
    let lastAdded = 0
    empty.onEvent((e) => {
      if (e.event === 'record:added') {
        stored++
        lastAdded = e.t
      }
    })
    const connected = await empty.waitFor((e) => e.event === 'peer:joined', 120_000, 'connected')
    // The joining peer's event loop from its first status line after connecting to the one after the catch-up.
    const loopFrom = await empty.waitFor((e) => e.event === 'status' && e.t >= connected.t, 10_000, 'a status line after connecting')
    await empty.waitFor(() => stored >= N, BUDGET_MS, `${N} records stored`)
    const seconds = (lastAdded - connected.t) / 1000
    // The first status line that counts every record also counts the frames that brought them.
    const after = await empty.waitFor((e) => e.event === 'status' && Number(e['records']) >= N && e.t > lastAdded, 10_000, 'a status line after the catch-up')
    const wireBytes = Number(after['bytesSent']) + Number(after['bytesReceived'])
    say(`${scenario}: joining peer: ${String(after['bytesSent'])} bytes sent, ${String(after['bytesReceived'])} received`)
    return {
      scenario,
      records: N,
      startToConnectedSeconds: round(connected.t / 1000),
      seconds: round(seconds),
      recordsPerSec: Math.round(N / seconds),
      bytesPerRecord: Math.round(wireBytes / N),
      // Share of the catch-up the joining peer's event loop was working (not waiting for frames or the disk).
      joiningLoopBusyShare: round(busyShare(loopFrom, after), 2),
    }
  } finally {
    await Promise.all(peers.map((p) => p.stop(5_000)))
    await tracker.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The share of the time between two status lines that the peer's event loop was working. */
function busyShare(from: Record<string, unknown>, to: Record<string, unknown>): number {
  const active = Number(to['loopActiveMs']) - Number(from['loopActiveMs'])
  const idle = Number(to['loopIdleMs']) - Number(from['loopIdleMs'])
  return active / (active + idle)
}

const rows: Row[] = []
if (ONLY !== 'workers') rows.push(await catchUp(`catch-up of ${N} records over WebRTC (loopback, torrent strategy)`, []))
// The joining peer verifies in two worker threads (workerVerifier({ size: 2 })).
if (ONLY !== 'default') rows.push(await catchUp(`catch-up of ${N} records over WebRTC, joining peer with workerVerifier({ size: 2 })`, ['--workers', '2']))
const raw = combineRaw(rawBefore, await rawVerifyRate(records))
for (const row of rows) {
  row['rawVerifyPerSec'] = Math.round(raw.perSec)
  row['rawVerifyMinMaxPerSec'] = `${Math.round(raw.min)}-${Math.round(raw.max)}`
  row['ratioToVerifyLimit'] = round(Number(row['seconds']) / (N / raw.perSec), 2)
}
report(`End-to-end catch-up (${N.toLocaleString('en')} records; target ratioToVerifyLimit <= 1.2)`, rows)
