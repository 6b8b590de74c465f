/**
 * Moderation determinism on the real engine: one pool of signed records, imported through the
 * public API in random arrival orders and random batchings (the imports of one group are issued
 * without awaiting, so they share an ingest batch), always ends with the same kept records and the
 * same stored strike ledger. Uses only the public API, so it holds whatever the engine's internals.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  createIdentity,
  createModeration,
  createPeerset,
  createRecord,
  memoryStorage,
  type Identity,
  type IngestOutcome,
  type PeersetRecord,
  type RecordDraft,
} from '../../src/index.js'
import { FIXTURE_NOW } from '../helpers.js'

const ROOM = 'determinism'
/** The peerset's fixed clock (ms). */
const NOW_MS = FIXTURE_NOW * 1000
const HOUR = 3_600
/** The store key of the strike ledger (LEDGER_META_KEY in src/peerset.ts). */
const LEDGER_KEY = 'moderation:ledger'
const THRESHOLD = 2
const QUOTA = 5

/** Default rules (content, bad words, links, duplicates, quota of 5) with striking bad links. */
const moderation = createModeration({ links: { strike: true } })

/** One run's result: what is kept, the stored ledger, and what happened on the way. */
interface RunResult {
  kept: string[]
  ledger: unknown
  outcomes: IngestOutcome[]
  removed: Array<{ id: string; reason: string }>
}

let identity: Identity
/** Every record of the scenario, signed, in creation order. */
let pool: PeersetRecord[] = []
/** Per author, for the assertions on the reference run. */
const authors: Record<'quota' | 'banned' | 'struck' | 'links', Identity> = {} as never
let replaced: { v1: PeersetRecord; v2: PeersetRecord }

/** Imports `records` in groups of `sizes` (one group: all imports issued, then awaited together). */
async function run(records: readonly PeersetRecord[], sizes: readonly number[]): Promise<RunResult> {
  const storage = memoryStorage()
  const peerset = await createPeerset({
    room: ROOM,
    identity,
    storage,
    transport: false,
    moderation,
    strikes: { threshold: THRESHOLD },
    clock: () => NOW_MS,
  })
  const removed: RunResult['removed'] = []
  peerset.on('record:removed', (record, info) => removed.push({ id: record.id, reason: info.reason }))
  const outcomes: IngestOutcome[] = []
  let at = 0
  for (const size of sizes) {
    const group = records.slice(at, at + size)
    at += size
    outcomes.push(...(await Promise.all(group.map((r) => peerset.importRecord(r)))))
  }
  expect(at).toBe(records.length)
  const kept = peerset.records().map((r) => r.id).sort()
  await peerset.close()
  const store = await storage.open(ROOM)
  const ledger = await store.getMeta(LEDGER_KEY)
  await store.close()
  return { kept, ledger, outcomes, removed }
}

/** Group sizes from cut points: `cuts[i]` ends a group after record i. */
function groupSizes(n: number, cuts: readonly boolean[]): number[] {
  const sizes: number[] = []
  let size = 0
  for (let i = 0; i < n; i++) {
    size++
    if (i === n - 1 || cuts[i]) {
      sizes.push(size)
      size = 0
    }
  }
  return sizes
}

beforeAll(async () => {
  identity = createIdentity()
  authors.quota = createIdentity()
  authors.banned = createIdentity()
  authors.struck = createIdentity()
  authors.links = createIdentity()
  let t = FIXTURE_NOW - 4 * 24 * HOUR // every record within the retention window and the ban period
  const make = (author: Identity, draft: RecordDraft): Promise<PeersetRecord> =>
    createRecord(draft, author.signer, { now: (t += HOUR), retentionSeconds: 90 * 24 * HOUR, room: ROOM })
  const q = authors.quota
  const b = authors.banned
  const s = authors.struck
  const l = authors.links
  // Interleaved in time, so the quota and duplicate minima are not simply the first records made.
  pool.push(await make(q, { text: 'lost cat' }))
  pool.push(await make(b, { text: 'garden sale' }))
  pool.push(await make(q, { text: 'found keys' }))
  pool.push(await make(s, { text: 'bike for sale' }))
  pool.push(await make(q, { text: 'Lost  CAT ' })) // a near-duplicate of 'lost cat'
  pool.push(await make(b, { text: 'sh1t happens' })) // bad words: strike
  pool.push(await make(l, { text: 'see this', link: 'https://example.org/a' }))
  pool.push(await make(q, { text: 'free bikes', link: 'https://example.org/bikes' }))
  pool.push(await make(s, { text: 'oh S H I T' })) // bad words: one strike, under the threshold
  pool.push(await make(q, { text: 'garden sale' }))
  pool.push(await make(b, { text: 'free bikes' }))
  pool.push(await make(l, { text: 'old link', link: 'http://example.org/b' })) // scheme: strike
  pool.push(await make(q, { text: 'sofa to give away' }))
  pool.push(await make(b, { text: 'oh S H I T' })) // second strike: banned
  pool.push(await make(q, { text: 'piano lessons' }))
  const v1 = await make(s, { text: 'lamp, 10 euros' })
  pool.push(v1)
  pool.push(await make(q, { text: 'plants' }))
  pool.push(await make(s, { text: 'bike  for SALE' })) // a near-duplicate of 'bike for sale'
  pool.push(await make(l, { text: 'creds', link: 'https://user:pw@example.org' })) // credentials: second strike, banned
  pool.push(await make(q, { text: 'chairs' }))
  const v2 = await make(s, { text: 'lamp, now 5 euros', uuid: v1.uuid }) // a new version of v1
  pool.push(v2)
  pool.push(await make(s, { text: 'books' }))
  replaced = { v1, v2 }
}, 60_000)

describe('moderation on the real engine is deterministic', () => {
  let reference: RunResult

  beforeAll(async () => {
    // One record per batch, in creation order.
    reference = await run(pool, pool.map(() => 1))
  }, 60_000)

  it('the reference run keeps what the specification says', () => {
    const quotaRecords = pool.filter((r) => r.author === authors.quota.publicKey)
    expect(quotaRecords.length).toBeGreaterThanOrEqual(QUOTA + 2)
    const kept = new Set(reference.kept)
    // Quota author: the near-duplicate goes, then the 5 earliest distinct texts stay.
    const firsts = quotaRecords.filter((r) => r.text !== 'Lost  CAT ').slice(0, QUOTA).map((r) => r.id)
    expect(quotaRecords.filter((r) => kept.has(r.id)).map((r) => r.id)).toEqual(firsts)
    // Two bad-word strikes ban; two bad-link strikes ban: nothing of theirs is kept.
    expect(pool.filter((r) => r.author === authors.banned.publicKey && kept.has(r.id))).toEqual([])
    expect(pool.filter((r) => r.author === authors.links.publicKey && kept.has(r.id))).toEqual([])
    // One strike does not ban; the new version replaces the old; the earlier of two copies stays.
    const struck = pool.filter((r) => r.author === authors.struck.publicKey && kept.has(r.id)).map((r) => r.text)
    expect(struck.sort()).toEqual(['bike for sale', 'books', 'lamp, now 5 euros'])
    expect(kept.has(replaced.v2.id) && !kept.has(replaced.v1.id)).toBe(true)
    const ledger = reference.ledger as { strikes: Array<{ author: string }>; bans: Array<{ author: string }> }
    expect(ledger.bans.map((b) => b.author).sort()).toEqual([authors.banned.publicKey, authors.links.publicKey].sort())
    expect(ledger.strikes.filter((s) => s.author === authors.struck.publicKey)).toHaveLength(1)
  })

  it('keeps the same records and stores the same ledger for any arrival order and batching', async () => {
    const seen = { refused: 0, strikes: 0, bans: 0, quota: 0, duplicates: 0, replaced: 0, superseded: 0, multiBatches: 0, runs: 0 }
    const n = pool.length
    await fc.assert(
      fc.asyncProperty(
        // An arrival order (indices into the pool, for readable counterexamples) and where batches end.
        fc.shuffledSubarray([...pool.keys()], { minLength: n, maxLength: n }),
        fc.array(fc.boolean(), { minLength: n - 1, maxLength: n - 1 }),
        async (order, cuts) => {
          const sizes = groupSizes(n, cuts)
          const result = await run(order.map((i) => pool[i]!), sizes)
          expect(result.kept).toEqual(reference.kept)
          expect(JSON.stringify(result.ledger)).toEqual(JSON.stringify(reference.ledger))
          // What happened on the way (these differ between runs; counted to show the runs are not vacuous).
          const rejected = result.outcomes.filter((o) => o.status === 'rejected')
          const ledger = result.ledger as { strikes: unknown[]; bans: unknown[] }
          seen.runs++
          if (rejected.some((o) => o.reason === 'moderation')) seen.refused++
          if (ledger.strikes.length > 0) seen.strikes++
          if (ledger.bans.length > 0) seen.bans++
          if (result.removed.some((r) => r.reason === 'over-quota') || rejected.some((o) => o.rule?.includes('over-quota'))) seen.quota++
          if (result.removed.some((r) => r.reason === 'duplicate') || rejected.some((o) => o.rule?.includes('duplicate'))) seen.duplicates++
          if (result.removed.some((r) => r.reason === 'replaced')) seen.replaced++
          if (rejected.some((o) => o.reason === 'superseded')) seen.superseded++
          if (sizes.some((s) => s > 1)) seen.multiBatches++
          expect(result.outcomes.filter((o) => o.status === 'failed')).toEqual([])
        },
      ),
      { numRuns: 40 },
    )
    console.log(`engine determinism: runs with ${JSON.stringify(seen)}; kept ${reference.kept.length} of ${n}`)
    // Not vacuous: refusals, strikes, bans, quota and duplicate displacement, both sides of a
    // replacement, and imports sharing a batch all happened.
    for (const [what, count] of Object.entries(seen)) expect(count, what).toBeGreaterThan(0)
  }, 60_000)
})

describe('a superseded version on the real engine', () => {
  // Found by probing the property above: a version that arrived after its successor was refused as
  // `superseded` before moderation ran, so its strike depended on the arrival order. With a
  // threshold of 2 that decided a ban, and with it which records are kept. Fixed in the judge
  // (a stale version is still verified and moderated for its own strike); this guards the fix.
  it('strikes a version that was replaced whatever the arrival order', async () => {
    const author = createIdentity()
    const at = (s: number) => ({ now: FIXTURE_NOW - s, retentionSeconds: 90 * 24 * HOUR, room: ROOM })
    const v1 = await createRecord({ text: 'sh1t happens' }, author.signer, at(3 * HOUR)) // struck by bad-words
    const v2 = await createRecord({ text: 'all fine now', uuid: v1.uuid }, author.signer, at(2 * HOUR)) // its new version
    const other = await createRecord({ text: 'oh S H I T' }, author.signer, at(HOUR)) // a second strike: banned at 2
    const oldFirst = await run([v1, v2, other], [1, 1, 1])
    const newFirst = await run([v2, v1, other], [1, 1, 1])
    expect({ kept: newFirst.kept, ledger: newFirst.ledger }).toEqual({ kept: oldFirst.kept, ledger: oldFirst.ledger })
  })
})
