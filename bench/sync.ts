/**
 * Sync cost: two peers with 100,000 ids over 90 daily buckets, d differences.
 *
 *   npx tsx bench/sync.ts          a table
 *   npx tsx bench/sync.ts --json   one JSON line per scenario
 *   npx tsx bench/sync.ts --range  with the range reconciler instead of the default (rateless IBLT)
 *   npx tsx bench/sync.ts --no-gossip  without the gossip scenarios
 *   npx tsx bench/sync.ts --only d=10000  one reconciliation scenario (d=0, d=1, d=100, d=10000, empty)
 *   SYNC_BENCH_BY_TYPE=1 ...  also prints (stderr) the bytes of each scenario by message type
 *
 * Both cores run in one process; every message goes through the codec. Messages travel in
 * "flights": everything sent in one flight arrives in the next (one one-way latency), so
 * round trips = flights / 2. Figures:
 * - bytes: every frame both sides send except `records` and `pushed` (roots, summary, symbols or
 *   ranges, announcements and requests: `have`/`want`, `gossip` `found`/`want`, `fetch`...);
 * - roundTrips: from the first message until every missing id is known to the side lacking it;
 * - cpuMsPerSide: the busier side's CPU time (process.cpuUsage: user + system, so garbage
 *   collection counts too) in the sync core and the codec (record frames excluded);
 * - framingBytesPerRecord: bytes of the frames carrying records (`records`, `pushed`) beyond the
 *   records' own encoded size (`wireEventSize`), per record;
 * - an id in a bucket being fetched whole (empty on the lacking side) counts as known;
 * - naive*: the seed's scheme, simulated: both sides send 90 x 32-byte bucket hashes, then the
 *   16-byte uuids of every record of every differing bucket (requests not counted).
 */
import { randomBytes } from 'node:crypto'
import { dailyBuckets } from '../src/buckets/index.js'
import { decodeMessage, encodeMessage, wireEventSize } from '../src/protocol/index.js'
import type { NostrEvent } from '../src/record/types.js'
import { BucketIndex } from '../src/sync/bucket-index.js'
import { createSyncCore, type Outbound, type SyncCore } from '../src/sync/core.js'
import { createRangeReconciler } from '../src/sync/range-reconciler.js'
import { acceptAll, createIdentity, createMemoryNetwork, createPeerset, memoryStorage, type Peerset, type TransportHandlers, type TransportRoom, type TransportStrategy } from '../src/index.js'
import { jsonMode, report, round, type Row } from './lib.js'

const N = 100_000
const BUCKETS = 90
const DAY_MS = 86_400_000
const NOW = Date.UTC(2026, 10, 20, 12)
const granularity = dailyBuckets()
const window = granularity.windowAt(NOW)

interface Item {
  id: string
  createdAt: number
}

interface Side {
  name: string
  index: BucketIndex
  store: Map<string, Item>
  core: SyncCore
  cpuMs: number
}

function makeItems(): Item[] {
  const startSeconds = (window.oldest * DAY_MS) / 1000
  const spanSeconds = (NOW - window.oldest * DAY_MS) / 1000
  return Array.from({ length: N }, () => ({
    id: randomBytes(32).toString('hex'),
    createdAt: startSeconds + Math.floor(Math.random() * spanSeconds),
  }))
}

function makeSide(name: string, items: readonly Item[]): Side {
  const index = new BucketIndex(granularity)
  const store = new Map<string, Item>()
  for (const it of items) {
    index.add(it.id, it.createdAt)
    store.set(it.id, it)
  }
  const lookup = (id: string): NostrEvent | undefined => {
    const it = store.get(id)
    return it && { id, pubkey: '00'.repeat(32), created_at: it.createdAt, kind: 37_515, tags: [], content: id, sig: '00'.repeat(64) }
  }
  const reconciler = process.argv.includes('--range') ? createRangeReconciler() : undefined
  const core = createSyncCore({ selfId: name, index, lookup, computeId: (e) => e.content, ...(reconciler ? { reconciler } : {}) })
  return { name, index, store, core, cpuMs: 0 }
}

/** Runs `fn` and adds the process's CPU time meanwhile (user + system, in ms) to the side's. */
function timed<T>(side: Side, fn: () => T): T {
  const t0 = process.cpuUsage()
  const result = fn()
  const t = process.cpuUsage(t0)
  side.cpuMs += (t.user + t.system) / 1000
  return result
}

interface Result {
  bytes: number
  wantBytes: number
  roundTrips: number
  cpuA: number
  cpuB: number
  /** Bytes of record frames beyond the records' own encoded size, per record. */
  framing: number
}

function simulate(aItems: Item[], bItems: Item[]): Result {
  const a = makeSide('a', aItems)
  const b = makeSide('b', bItems)
  const sides = { a, b }
  const missingAtA = bItems.filter((it) => !a.store.has(it.id)).map((it) => it.id)
  const missingAtB = aItems.filter((it) => !b.store.has(it.id)).map((it) => it.id)
  const bucketOf = new Map([...aItems, ...bItems].map((it) => [it.id, granularity.bucketOf(it.createdAt * 1000)]))
  // Known: held, wanted, or in a bucket being fetched whole (an empty part of the window).
  const knows = (s: Side, ids: string[]) => ids.every((id) => s.index.has(id) || s.core.isWanted(id) || s.core.isFetching(bucketOf.get(id)!))

  let flight: Array<{ from: Side; out: Outbound }> = []
  const queue = (from: Side, outs: Outbound[]) => {
    for (const out of outs) flight.push({ from, out })
  }
  queue(a, timed(a, () => a.core.peerReady('b', NOW)))
  queue(b, timed(b, () => b.core.peerReady('a', NOW)))

  let bytes = 0
  let wantBytes = 0
  const byType = new Map<string, number>()
  let recordFrameBytes = 0
  let recordOwnBytes = 0
  let recordCount = 0
  let flights = 0
  let knownAt = -1
  while (flight.length > 0) {
    const current = flight
    flight = []
    flights++
    for (const { from, out } of current) {
      const to = sides[out.to as 'a' | 'b']
      const isRecords = out.message.type === 'records' || out.message.type === 'pushed'
      const frames = isRecords ? encodeMessage(out.message) : timed(from, () => encodeMessage(out.message))
      for (const frame of frames) {
        if (!isRecords) bytes += frame.length
        const kind = out.message.type === 'gossip' ? `gossip-${out.message.op}` : out.message.type
        if (!isRecords) byType.set(kind, (byType.get(kind) ?? 0) + frame.length)
        if (out.message.type === 'want' || (out.message.type === 'gossip' && out.message.op === 'want')) wantBytes += frame.length
        const message = isRecords ? decodeMessage(frame) : timed(to, () => decodeMessage(frame))
        if (message.type === 'records' || message.type === 'pushed') {
          recordFrameBytes += frame.length
          recordCount += message.events.length
          for (const e of message.events) recordOwnBytes += wireEventSize(e)
        }
        const result = timed(to, () => to.core.receive(from.name, message, NOW))
        queue(to, result.send)
        for (const e of result.records) {
          to.index.add(e.id, e.created_at)
          to.store.set(e.id, { id: e.id, createdAt: e.created_at })
          queue(to, timed(to, () => to.core.recordResolved(e.id, 'accepted', NOW, { fromPeerId: from.name })))
        }
      }
    }
    if (knownAt < 0 && knows(a, missingAtA) && knows(b, missingAtB)) knownAt = flights
  }
  if (a.store.size !== b.store.size) throw new Error(`did not converge: ${a.store.size} vs ${b.store.size}`)
  const framing = recordCount > 0 ? (recordFrameBytes - recordOwnBytes) / recordCount : 0
  if (process.env.SYNC_BENCH_BY_TYPE) console.error(Object.fromEntries(byType))
  return { bytes, wantBytes, roundTrips: knownAt / 2, cpuA: a.cpuMs, cpuB: b.cpuMs, framing }
}

/** The seed's scheme: both sides send every bucket hash, then the uuids of every differing bucket. */
function naive(aItems: Item[], bItems: Item[]): { bytes: number; roundTrips: number } {
  const bucketsOf = (items: Item[]) => {
    const m = new Map<number, Set<string>>()
    for (const it of items) {
      const bucket = granularity.bucketOf(it.createdAt * 1000)
      let s = m.get(bucket)
      if (!s) m.set(bucket, (s = new Set()))
      s.add(it.id)
    }
    return m
  }
  const ba = bucketsOf(aItems)
  const bb = bucketsOf(bItems)
  let bytes = 2 * BUCKETS * 32
  let differing = 0
  for (let bucket = window.oldest; bucket <= window.newest; bucket++) {
    const sa = ba.get(bucket) ?? new Set()
    const sb = bb.get(bucket) ?? new Set()
    if (sa.size === sb.size && [...sa].every((id) => sb.has(id))) continue
    differing++
    bytes += (sa.size + sb.size) * 16
  }
  return { bytes, roundTrips: differing > 0 ? 1 : 0.5 }
}

function scenario(name: string, items: Item[], d: number): { aItems: Item[]; bItems: Item[] } {
  if (name === 'empty') return { aItems: items, bItems: [] }
  const picked = new Set<number>()
  while (picked.size < d) picked.add(Math.floor(Math.random() * items.length))
  const order = [...picked]
  const missingA = new Set(d === 1 ? [] : order.slice(0, d / 2).map((i) => items[i]!.id))
  const missingB = new Set(d === 1 ? order.map((i) => items[i]!.id) : order.slice(d / 2).map((i) => items[i]!.id))
  return { aItems: items.filter((it) => !missingA.has(it.id)), bItems: items.filter((it) => !missingB.has(it.id)) }
}

const items = makeItems()
const jsonRows: Row[] = []
const tableRows: Row[] = []
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined
for (const [name, d] of [['d=0', 0], ['d=1', 1], ['d=100', 100], ['d=10000', 10_000], ['empty', N]] as const) {
  if (only !== undefined && name !== only) continue
  const { aItems, bItems } = scenario(name, items, d)
  const r = simulate(aItems, bItems)
  const nv = naive(aItems, bItems)
  const row = {
    scenario: name,
    n: N,
    d,
    bytes: r.bytes,
    roundTrips: r.roundTrips,
    cpuMsPerSide: round(Math.max(r.cpuA, r.cpuB)),
    framingBytesPerRecord: round(r.framing, 2),
    naiveBytes: nv.bytes,
    naiveRoundTrips: nv.roundTrips,
  }
  jsonRows.push(row)
  tableRows.push({ ...row, wantBytes: r.wantBytes, cpuMsA: round(r.cpuA), cpuMsB: round(r.cpuB), vsNaive: `${round(nv.bytes / Math.max(1, r.bytes), 1)}x` })
}
report(`sync (${process.argv.includes('--range') ? 'range' : 'rateless, the default'} reconciler): ${N} ids over ${BUCKETS} daily buckets, two peers (bytes exclude records; want bytes included)`, jsonMode ? jsonRows : tableRows)

// ---------------------------------------------------------------------------------------------
// gossip: N peers on the memory network through the public API; 300 records published at one
// peer; every byte on the network (every frame of every type, from the first publish until every
// peer holds every record), per record per receiving peer.
// ---------------------------------------------------------------------------------------------

const GOSSIP_RECORDS = 300

/** A transport strategy that adds the length of every frame its peer sends to `bytes.total`. */
function countingTransport(inner: TransportStrategy, bytes: { total: number; lastAt: number }): TransportStrategy {
  return {
    name: inner.name,
    isSupported: () => inner.isSupported(),
    async join(room: string, handlers: TransportHandlers): Promise<TransportRoom> {
      const joined = await inner.join(room, handlers)
      return {
        selfId: joined.selfId,
        send: (peerId, data) => {
          bytes.total += data.length
          bytes.lastAt = performance.now()
          joined.send(peerId, data)
        },
        leave: () => joined.leave(),
      }
    },
  }
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`gossip bench: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function gossip(peersCount: number): Promise<Row> {
  const network = createMemoryNetwork({ latencyMs: 5, seed: peersCount })
  const bytes = { total: 0, lastAt: performance.now() }
  const joined = new Map<Peerset, number>()
  const peers = await Promise.all(
    Array.from({ length: peersCount }, (_, i) =>
      createPeerset({
        room: 'bench-gossip',
        identity: createIdentity(),
        storage: memoryStorage(),
        transport: countingTransport(network.transport({ peerId: `peer-${String(i).padStart(2, '0')}` }), bytes),
        moderation: acceptAll(),
        tickIntervalMs: 200,
      }),
    ),
  )
  for (const p of peers) p.on('peer:joined', () => joined.set(p, (joined.get(p) ?? 0) + 1))
  try {
    // Every pair authenticated (handshakes done), then the network quiet: only gossip is measured.
    await until(() => peers.every((p) => joined.get(p) === peersCount - 1), 60_000, 'every peer to authenticate every other')
    await until(() => performance.now() - bytes.lastAt > 1_000, 60_000, 'the network to be quiet')
    bytes.total = 0
    const publisher = peers[0]!
    for (let i = 0; i < GOSSIP_RECORDS; i++) await publisher.publish({ text: `gossip record ${i}` })
    await until(() => peers.every((p) => p.status().records === GOSSIP_RECORDS), 120_000, 'every peer to hold every record')
    return { scenario: `gossip-n${peersCount}`, peers: peersCount, records: GOSSIP_RECORDS, bytesPerRecordPerPeer: round(bytes.total / (GOSSIP_RECORDS * (peersCount - 1))) }
  } finally {
    await Promise.all(peers.map((p) => p.close()))
    network.close()
  }
}

const gossipRows: Row[] = []
if (!process.argv.includes('--no-gossip')) {
  for (const n of [4, 8, 16]) gossipRows.push(await gossip(n))
  report(`gossip: ${GOSSIP_RECORDS} records published at one of N peers (memory network, public API; every byte on the network until every peer holds them)`, gossipRows)
}
