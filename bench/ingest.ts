/**
 * Ingest throughput: 20,000 signed records fed to a peerset as a peer sends them. One peerset
 * holds them (its memory store written directly: stores trust their records), an empty one joins
 * it over the in-memory network (one process, no latency), and the joining peer decodes, checks,
 * verifies, moderates (`acceptAll`) and stores every record. Measured from the moment the joining
 * peer authenticates the other until it holds all of them; once with the default verifier
 * (`mainThreadVerifier()`), once with `workerVerifier({ size: 2 })`, next to the raw
 * `schnorr.verify` rate of this thread in the same run (verification is the physical limit),
 * measured around each catch-up (see below).
 *
 *   npx tsx bench/ingest.ts [--json] [--records 20000] [--only default|pool] [--repeat 3]
 *
 * Targets (issue 14): default >= 0.9 x raw verify; pool >= 1.7 x default on 2 cores. The sending
 * peer runs in the same process, so its encoding shares the core(s) with the receiver's work.
 * Fixtures are signed once (about a minute) into .cache/bench-ingest/ and reused for 30 days.
 */
import { acceptAll } from '../src/moderation/index.js'
import { createPeerset, type Peerset } from '../src/peerset.js'
import { createIdentity } from '../src/identity/index.js'
import type { PeersetRecord } from '../src/record/types.js'
import { memoryStorage } from '../src/storage/index.js'
import { createMemoryNetwork } from '../src/transport/index.js'
import { mainThreadVerifier, workerVerifier, type VerifierStrategy } from '../src/verify/index.js'
import { type RawVerify, type Row, cachedFixtures, combineRaw, cpuAccounted, jsonMode, median, rawVerifyRate, report, round } from './lib.js'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const N = arg('--records', 20_000)
const ROOM = 'bench-ingest'
/** `--only default` or `--only pool`: run one scenario (the raw rate is still measured around it). */
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined
const say = (line: string): void => void (jsonMode || console.error(line))

/** Seconds for an empty peerset with `verifier` to take in every record from one that holds them. */
async function catchUp(records: readonly PeersetRecord[], verifier: VerifierStrategy): Promise<number> {
  const storage = memoryStorage()
  const store = await storage.open(ROOM)
  for (let i = 0; i < records.length; i += 1_000) await store.write({ put: records.slice(i, i + 1_000) })
  await store.close()
  const network = createMemoryNetwork()
  const common = { room: ROOM, moderation: acceptAll(), clockSkewMs: 300_000 }
  const peers: Peerset[] = []
  try {
    peers.push(await createPeerset({ ...common, identity: createIdentity(), storage, transport: network.transport() }))
    const joining = await createPeerset({ ...common, identity: createIdentity(), storage: memoryStorage(), transport: network.transport(), verifier })
    peers.push(joining)
    const started = await new Promise<number>((resolve) => joining.on('peer:joined', () => resolve(performance.now())))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${joining.status().records} of ${records.length} records after 10 minutes`)), 600_000)
      const check = (): void => {
        if (joining.status().records < records.length) return
        clearTimeout(timer)
        resolve()
      }
      joining.on('record:added', check)
      check()
    })
    return (performance.now() - started) / 1000
  } finally {
    await Promise.all(peers.map((p) => p.close()))
    network.close()
  }
}

const records = await cachedFixtures('bench-ingest', N, ROOM, 'Ingest record', say)
/** Catch-ups per scenario (`--repeat R`, default 3), each between two raw verify measurements. */
const REPEAT = arg('--repeat', 3)

/**
 * The raw rate is measured before the first catch-up and after each one (3 rounds of 1 s): each
 * catch-up is compared with the two measurements around it (the mean of their medians), so a
 * machine whose speed drifts over the run (a shared host) moves both sides of the ratio alike.
 * A scenario's figures are the medians over its catch-ups.
 */
const raws: RawVerify[] = [await rawVerifyRate(records, 3)]
const rows: Row[] = []
const ratios = new Map<string, number>()
for (const [scenario, make] of [
  ['default', () => mainThreadVerifier()],
  ['pool', () => workerVerifier({ size: 2 })],
] as const) {
  if (ONLY !== undefined && ONLY !== scenario) continue
  const runs: Array<{ perSec: number; ratio: number; cpuMsPerRecord: number; seconds: number }> = []
  for (let r = 0; r < REPEAT; r++) {
    say(`${scenario}: catching up ${N} records (${r + 1} of ${REPEAT})...`)
    // Start the verifier's workers before the clock runs (a one-time cost: tens of ms from the
    // package, seconds from these sources, where each worker first loads tsx).
    const verifier = make()
    await verifier.verify(records.slice(0, 64).map((x) => ({ id: x.id, pubkey: x.author, sig: x.sig })))
    // CPU time of the whole process (both peers, every thread) over the run, per record.
    const { value: seconds, cpuMs } = await cpuAccounted(() => catchUp(records, verifier))
    await verifier.close?.()
    const before = raws[raws.length - 1]!
    const after = await rawVerifyRate(records, 3)
    raws.push(after)
    const perSec = N / seconds
    runs.push({ perSec, ratio: perSec / ((before.perSec + after.perSec) / 2), cpuMsPerRecord: cpuMs / N, seconds })
  }
  const ratio = median(runs.map((x) => x.ratio))
  ratios.set(scenario, ratio)
  rows.push({
    scenario,
    records: N,
    seconds: round(median(runs.map((x) => x.seconds)), 2),
    recordsPerSec: Math.round(median(runs.map((x) => x.perSec))),
    cpuMsPerRecord: round(median(runs.map((x) => x.cpuMsPerRecord)), 3),
    ratioToRawVerify: round(ratio, 2),
    ratioMin: round(Math.min(...runs.map((x) => x.ratio)), 2),
    ratioMax: round(Math.max(...runs.map((x) => x.ratio)), 2),
    runs: runs.length,
  })
}
const raw = raws.reduce(combineRaw)
for (const row of rows) {
  // What the wall-clock ratio would be if CPU were the only limit: raw CPU per verify over the
  // scenario's CPU per record (for the pool, its CPU is spread over 2 workers and the main thread).
  row['cpuRatioToRawVerify'] = round(raw.cpuMsPerVerify / Number(row['cpuMsPerRecord']), 2)
}
const pool = rows.find((r) => r['scenario'] === 'pool')
// Pool over default, each taken relative to the raw rate around it (so drift between them cancels).
if (pool && ratios.has('default')) pool['ratioToDefault'] = round(ratios.get('pool')! / ratios.get('default')!, 2)
rows.unshift({
  scenario: 'raw-verify',
  records: raw.sample,
  recordsPerSec: Math.round(raw.perSec),
  ratioToRawVerify: 1,
  cpuMsPerRecord: round(raw.cpuMsPerVerify, 3),
  minPerSec: Math.round(raw.min),
  maxPerSec: Math.round(raw.max),
})
report(`Ingest of ${N.toLocaleString('en')} records from one peer, ${REPEAT} catch-ups per scenario (targets: default >= 0.9 x raw verify, pool >= 1.7 x default)`, rows)
