import { bytesToHex } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { SyncMessage } from '../../src/protocol/messages.js'
import { computeEventId } from '../../src/record/serialize.js'
import { createSyncCore, type Outbound, type SyncCore, type SyncCoreOptions } from '../../src/sync/core.js'
import { BucketIndex } from '../../src/sync/bucket-index.js'
import { createRangeReconciler } from '../../src/sync/range-reconciler.js'
import { createRatelessReconciler } from '../../src/sync/riblt-reconciler.js'
import { fixedIntervalBuckets } from '../../src/buckets/index.js'
import { LAST_SOURCE_RETRIES } from '../../src/sync/requests.js'
import { DAY_MS, granularity, hid, NOW, Pump, TestPeer, timeIn, type FakeRecord, type LoggedMessage } from './harness.js'

const idArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(bytesToHex)
/** Records over 6 daily buckets, so buckets hold dozens of ids and get split into ranges. */
const recordArb = fc.record({ id: idArb, day: fc.integer({ min: 0, max: 5 }), second: fc.integer({ min: 0, max: 86_399 }) })
type Side = 'a' | 'b' | 'both'
type Scenario = { records: FakeRecord[]; sides: Side[] }

const toRecords = (rs: { id: string; day: number; second: number }[]): FakeRecord[] => rs.map((r) => ({ id: r.id, createdAt: timeIn(r.day, r.second) }))
const poolArb = (max: number) => fc.uniqueArray(recordArb, { selector: (r) => r.id, maxLength: max }).map(toRecords)
const withSides = (sideArb: fc.Arbitrary<Side>, max = 250): fc.Arbitrary<Scenario> =>
  poolArb(max).chain((records) => fc.record({ records: fc.constant(records), sides: fc.array(sideArb, { minLength: records.length, maxLength: records.length }) }))

const scenarios = {
  empty: withSides(fc.constant<Side>('a')),
  identical: withSides(fc.constant<Side>('both')),
  disjoint: withSides(fc.constantFrom<Side>('a', 'b')),
  subset: withSides(fc.constantFrom<Side>('both', 'b')),
  'few differences': withSides(fc.constantFrom<Side>('both', 'both', 'both', 'both', 'both', 'both', 'both', 'both', 'both', 'a', 'b')),
  random: withSides(fc.constantFrom<Side>('a', 'b', 'both')),
  // Every bucket: as many ids only on A as only on B, so the counts are equal and only the digests differ.
  'equal counts, different contents': poolArb(250).map((records) => {
    const sides: Side[] = []
    const seen = new Map<number, number>()
    for (const r of records) {
      const bucket = Math.floor(r.createdAt / 86_400)
      const k = seen.get(bucket) ?? 0
      seen.set(bucket, k + 1)
      sides.push(k % 3 === 2 ? 'both' : k % 3 === 0 ? 'a' : 'b')
    }
    // An unmatched 'a' (the last record of its bucket) becomes 'both'.
    for (let i = records.length - 1; i >= 0; i--) {
      const bucket = Math.floor(records[i]!.createdAt / 86_400)
      if (seen.get(bucket)! % 3 === 1) {
        sides[i] = 'both'
        seen.set(bucket, 0)
      }
    }
    return { records, sides }
  }),
}

function setUp({ records, sides }: Scenario, ids: [string, string] = ['peer-a', 'peer-b'], options: Partial<SyncCoreOptions> = {}) {
  const a = new TestPeer(ids[0], records.filter((_, i) => sides[i] !== 'b'), options)
  const b = new TestPeer(ids[1], records.filter((_, i) => sides[i] !== 'a'), options)
  const pump = new Pump([a, b])
  const union = [...new Set(records.map((r) => r.id))].sort()
  return { a, b, pump, union }
}

describe('two peers converge to the union (every message through the codec)', () => {
  for (const [name, arb] of Object.entries(scenarios)) {
    it(name, () => {
      fc.assert(
        fc.property(arb, fc.boolean(), (scenario, swap) => {
          const { a, b, pump, union } = setUp(scenario, swap ? ['peer-b', 'peer-a'] : ['peer-a', 'peer-b'])
          if (name === 'equal counts, different contents') {
            for (const bucket of a.index.buckets()) expect(a.index.bucketIds(bucket).size).toBe(b.index.bucketIds(bucket).size)
          }
          pump.connect(a, b)
          pump.run()
          // One round is enough: no tick, no retry.
          expect(a.ids()).toEqual(union)
          expect(b.ids()).toEqual(union)
          // Each record crossed the link once.
          for (const p of [a, b]) for (const n of p.arrivals.values()) expect(n).toBe(1)
          expect(a.core.stats().wanted + b.core.stats().wanted).toBe(0)
        }),
        { numRuns: 40 },
      )
    })
  }

  it('finds a single difference among 5,000 ids in one bucket with a few hundred bytes of ranges', () => {
    const shared = Array.from({ length: 5_000 }, (_, i) => ({ id: bytesToHex(Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j * 7 + ((i * j) >> 3)) & 255)), createdAt: timeIn(1, i) }))
    const extra = { id: 'ee'.repeat(32), createdAt: timeIn(1, 7) }
    const { a, b, pump } = setUp({ records: [...shared, extra], sides: [...shared.map(() => 'both' as const), 'a'] })
    pump.connect(a, b)
    pump.run()
    expect(b.index.has(extra.id)).toBe(true)
    const rangeBytes = pump.log.filter((m) => m.type === 'ranges').reduce((s, m) => s + m.bytes, 0)
    expect(rangeBytes).toBeLessThan(1_500)
  })

  it('reconciles with a summary split over several frames (minute buckets, 3 days)', () => {
    const minutes = fixedIntervalBuckets(60_000, { retentionMs: 3 * DAY_MS })
    const records = Array.from({ length: 4_000 }, (_, i) => ({ id: hid(`min${i}`), createdAt: Math.floor(NOW / 1000) - 60 * (i % 4_000) - 7 }))
    const sides = records.map((_, i) => (i % 397 === 0 ? 'a' : i % 401 === 0 ? 'b' : 'both') as Side)
    const a = new TestPeer('a', records.filter((_, i) => sides[i] !== 'b'), {}, minutes)
    const b = new TestPeer('b', records.filter((_, i) => sides[i] !== 'a'), {}, minutes)
    const pump = new Pump([a, b])
    pump.connect(a, b)
    pump.run()
    expect(pump.count('summary')).toBeGreaterThan(1)
    expect(a.ids()).toEqual(records.map((r) => r.id).sort())
    expect(b.ids()).toEqual(a.ids())
  })

  it('an empty peer fetches everything right after the roots: no summary, no id announced nor wanted', () => {
    const records = Array.from({ length: 300 }, (_, i) => ({ id: hid(i), createdAt: timeIn(i % 90, i) }))
    const { a, b, pump, union } = setUp({ records, sides: records.map(() => 'a' as const) })
    pump.connect(a, b)
    pump.run()
    expect(b.ids()).toEqual(union)
    for (const n of b.arrivals.values()) expect(n).toBe(1)
    for (const type of ['summary', 'ranges', 'have', 'want'] as const) expect(pump.count(type)).toBe(0)
    // Roots both ways, then b's fetch (the first message b sends after a's root).
    expect(pump.log.findIndex((m) => m.type === 'fetch')).toBeLessThanOrEqual(3)
    expect(pump.count('pushed', a.id)).toBeGreaterThan(0)
  })

  it('an empty peer fetches in batches it paces: one fetch at a time, for what it has room to check', () => {
    const records = Array.from({ length: 3_000 }, (_, i) => ({ id: hid(`p${i}`), createdAt: timeIn(i % 5, i) }))
    const a = new TestPeer('a', records)
    const b = new TestPeer('b')
    const only = (outs: readonly Outbound[], type: SyncMessage['type']) => outs.filter((o) => o.message.type === type).map((o) => o.message)
    const aRoot = a.core.peerReady('b', NOW)
    b.core.peerReady('a', NOW)
    // Records are delivered but not checked yet: fetches grow (64, then 4-fold) until 1,024 are being checked.
    let fetches = only(b.core.receive('a', aRoot[0]!.message, NOW).send, 'fetch')
    const got: Array<{ id: string; created_at: number }> = []
    const sizes: number[] = []
    while (fetches.length > 0) {
      expect(fetches).toHaveLength(1)
      const fetch = fetches[0]!
      if (fetch.type !== 'fetch') throw new Error('expected a fetch')
      sizes.push(fetch.max)
      const [pushed] = only(a.core.receive('b', fetch, NOW).send, 'pushed')
      const r = b.core.receive('a', pushed!, NOW)
      expect(r.unrequested).toEqual([])
      got.push(...r.records)
      fetches = only(r.send, 'fetch')
    }
    expect(sizes).toEqual([64, 192, 768])
    expect(got).toHaveLength(1_024)
    // Nothing more is asked while the records are being checked...
    expect(only(b.core.tick(NOW + 1_000), 'fetch')).toEqual([])
    // ...and once most are done, a fetch for as many as there is room for, after the last one received.
    let resolved = 0
    for (const e of got) {
      b.addLocal({ id: e.id, createdAt: e.created_at })
      resolved++
      fetches = only(b.core.recordResolved(e.id, 'accepted', NOW + 1_000, { fromPeerId: 'a' }), 'fetch')
      if (fetches.length > 0) break
    }
    // Half the batch checked: the next fetch asks for that much.
    expect(resolved).toBe(512)
    expect(fetches).toHaveLength(1)
    if (fetches[0]?.type !== 'fetch') throw new Error('expected a fetch')
    expect(fetches[0].max).toBe(512)
    const last = got[got.length - 1]!
    expect(fetches[0].after).toEqual({ bucket: b.index.bucketOfTime(last.created_at), id: last.id.slice(0, 12) })
  })

  it('a fetch whose answer was lost is asked again from its cursor after the request time-out: an honest peer is not barred for a lost frame', () => {
    const records = Array.from({ length: 300 }, (_, i) => ({ id: hid(`refetch${i}`), createdAt: timeIn(i % 6, i) }))
    const a = new TestPeer('a', records)
    const b = new TestPeer('b')
    const pump = new Pump([a, b])
    let lost = 0
    pump.drop = (_from, _to, m) => m.type === 'pushed' && m.last && lost++ === 1 // the end of the second answer
    pump.connect(a, b)
    pump.run()
    expect(lost).toBeGreaterThan(1)
    expect(b.ids().length).toBeLessThan(records.length)
    const fetchesBefore = pump.count('fetch', 'b')
    pump.advance(11_000)
    expect(pump.count('fetch', 'b')).toBeGreaterThan(fetchesBefore)
    expect(b.ids()).toEqual(a.ids())
  })

  it('a pushed record outside what was fetched is unrequested; an unasked pushed frame is only ignored', () => {
    const records = Array.from({ length: 10 }, (_, i) => ({ id: hid(`q${i}`), createdAt: timeIn(3, i) }))
    const a = new TestPeer('a', records)
    const b = new TestPeer('b')
    const event = { pubkey: '00'.repeat(32), created_at: timeIn(3, 1), kind: 37_515, tags: [], content: hid('q1'), sig: '00'.repeat(64) }
    b.core.peerReady('a', NOW)
    expect(b.core.receive('a', { type: 'pushed', events: [event], last: true, exhausted: true }, NOW)).toMatchObject({ records: [], unrequested: [], ignored: 1 })
    // b fetches a's window; a "pushes" one record of another day (outside the window) and one right.
    b.core.receive('a', a.core.peerReady('b', NOW)[0]!.message, NOW)
    const stray = { ...event, created_at: timeIn(200), content: hid('stray') }
    const r = b.core.receive('a', { type: 'pushed', events: [stray, event], last: false, exhausted: false }, NOW)
    expect(r.unrequested).toEqual([hid('stray')])
    expect(r.records.map((e) => e.id)).toEqual([hid('q1')])
    // A repeated frame (not after the cursor): only ignored, never the sender's fault (networks duplicate frames).
    const again = b.core.receive('a', { type: 'pushed', events: [{ ...event, content: hid('q1') }], last: true, exhausted: true }, NOW)
    expect(again).toMatchObject({ records: [], unrequested: [], ignored: 1 })
    expect(a.index.size).toBe(10)
  })

  it('a late or repeated answer to a span fetched before is only ignored, never struck (networks delay and duplicate frames)', () => {
    // b holds day 5; a holds days 3, 5 and 7: b fetches days 3 and 7 whole, as two spans, one after the other.
    const days = [3, 5, 7]
    const records = days.flatMap((d) => Array.from({ length: 4 }, (_, i) => ({ id: hid(`day${d}-${i}`), createdAt: timeIn(d, i) })))
    const a = new TestPeer('a', records)
    const b = new TestPeer('b', records.slice(4, 8)) // day 5
    expect(b.index.size).toBe(4)
    const pump = new Pump([a, b])
    const spansFetched: number[] = []
    let firstAnswer: SyncMessage | undefined
    let late: ReturnType<SyncCore['receive']> | undefined
    pump.drop = (from, _to, message) => {
      if (from === 'a' && message.type === 'pushed') firstAnswer ??= message
      if (from === 'b' && message.type === 'fetch') {
        if (!spansFetched.includes(message.from)) spansFetched.push(message.from)
        // The second span's fetch is out: the first span's answer comes again (delayed, or duplicated).
        if (spansFetched.length === 2 && late === undefined) late = b.core.receive('a', firstAnswer!, pump.now)
      }
      return false
    }
    pump.connect(a, b)
    pump.run()
    expect(spansFetched).toHaveLength(2)
    expect(late).toBeDefined()
    expect(late!.unrequested).toEqual([])
    expect(late!.records).toEqual([])
    expect(late!.ignored).toBeGreaterThan(0)
    // And its end flags (last, exhausted) did not end the second span's fetch: b got every record.
    expect(b.ids()).toEqual(records.map((r) => r.id).sort())
  })

  it('works with real event ids (computeEventId) too', () => {
    const events = Array.from({ length: 20 }, (_, i) => {
      const e = { pubkey: 'ab'.repeat(32), created_at: timeIn(i % 3, i), kind: 37_515, tags: [['d', `u${i}`]], content: `record ${i}`, sig: 'cd'.repeat(64) }
      return { ...e, id: computeEventId(e) }
    })
    const make = (selfId: string, mine: typeof events) => {
      const index = new BucketIndex(granularity)
      const store = new Map(mine.map((e) => [e.id, e]))
      for (const e of mine) index.add(e.id, e.created_at)
      return { index, store, core: createSyncCore({ selfId, index, lookup: (id) => store.get(id) }) }
    }
    const a = make('a', events.slice(0, 12))
    const b = make('b', events.slice(8))
    const queue: Array<[string, SyncMessage, string]> = []
    const push = (from: string, outs: { to: string; message: SyncMessage }[]) => outs.forEach((o) => queue.push([from, o.message, o.to]))
    push('a', a.core.peerReady('b', NOW))
    push('b', b.core.peerReady('a', NOW))
    const nodes = { a, b }
    while (queue.length > 0) {
      const [from, message, to] = queue.shift()!
      const node = nodes[to as 'a' | 'b']
      const r = node.core.receive(from, message, NOW)
      push(to, r.send)
      for (const e of r.records) {
        node.store.set(e.id, e)
        node.index.add(e.id, e.created_at)
        push(to, node.core.recordResolved(e.id, 'accepted', NOW, { fromPeerId: from }))
      }
    }
    expect([...a.store.keys()].sort()).toEqual(events.map((e) => e.id).sort())
    expect([...b.store.keys()].sort()).toEqual(events.map((e) => e.id).sort())
  })
})

describe('new records', () => {
  it('are announced with `have` and pulled once by every peer, and not announced back to their source', () => {
    const a = new TestPeer('a')
    const b = new TestPeer('b')
    const c = new TestPeer('c')
    const pump = new Pump([a, b, c])
    pump.connect(a, b)
    pump.connect(b, c)
    pump.connect(a, c)
    pump.run()
    const r = { id: '12'.repeat(32), createdAt: timeIn(0) }
    a.addLocal(r)
    pump.send('a', a.core.localRecordsAdded([r.id], pump.now))
    pump.run()
    expect(b.index.has(r.id) && c.index.has(r.id)).toBe(true)
    expect(pump.count('records')).toBe(2)
    expect(b.arrivals.get(r.id)).toBe(1)
    expect(c.arrivals.get(r.id)).toBe(1)
    // b and c learnt of it from a and from each other, but nobody announced it back to a.
    expect(pump.log.filter((m) => m.type === 'have' && m.to === 'a')).toHaveLength(0)
  })

  it('are repaired by the next idle root exchange when an announcement is lost', () => {
    const a = new TestPeer('a', [{ id: hid('old'), createdAt: timeIn(3) }])
    const b = new TestPeer('b', [{ id: hid('old'), createdAt: timeIn(3) }])
    const pump = new Pump([a, b])
    pump.connect(a, b)
    pump.run()
    const r = { id: hid('lost'), createdAt: timeIn(0) }
    b.addLocal(r)
    pump.drop = (_from, _to, m) => m.type === 'gossip' && m.op === 'have'
    pump.send('b', b.core.localRecordsAdded([r.id], pump.now))
    pump.run()
    expect(a.index.has(r.id)).toBe(false)
    pump.drop = () => false
    pump.advance(31_000)
    expect(a.index.has(r.id)).toBe(true)
    expect(pump.count('summary')).toBe(1)
  })

  it('are not requested outside the window (past retention)', () => {
    const a = new TestPeer('a')
    const b = new TestPeer('b')
    const pump = new Pump([a, b])
    pump.connect(a, b)
    pump.run()
    const old = { id: '34'.repeat(32), createdAt: timeIn(200) }
    a.addLocal(old)
    pump.send('a', a.core.localRecordsAdded([old.id], pump.now))
    pump.run()
    expect(pump.log.filter((m) => m.message.type === 'gossip' && m.message.op === 'have')).toHaveLength(1)
    expect(pump.log.filter((m) => m.type === 'want' || (m.message.type === 'gossip' && m.message.op === 'want'))).toHaveLength(0)
  })
})

describe('refusals', () => {
  it('a peer that refuses records for good converges without looping, and each refused record crosses once', () => {
    const records = Array.from({ length: 120 }, (_, i) => ({ id: hid(`r${i}`), createdAt: timeIn(i % 4, i) }))
    const a = new TestPeer('a', records)
    const b = new TestPeer('b', records.slice(0, 60))
    const refused = records.slice(100).map((r) => r.id)
    for (const id of refused) b.refuses.add(id)
    const pump = new Pump([a, b])
    pump.connect(a, b)
    pump.run()
    expect(b.ids()).toEqual(records.slice(0, 100).map((r) => r.id).sort())
    const afterFirstRound = pump.log.length
    // One simulated hour of ticks every second.
    pump.advance(3_600_000)
    for (const id of refused) expect(b.arrivals.get(id)).toBe(1)
    expect(a.core.peerRejected('b', refused[0]!)).toBe(true)
    const later = pump.log.slice(afterFirstRound)
    // Roots every 30 s each way (and once each way when b has taken in the first round's records),
    // one round for b's new root, then a re-check of the unchanged pair every 5 minutes at most.
    expect(later.filter((m) => m.type === 'root').length).toBeLessThanOrEqual(2 * 122)
    expect(later.filter((m) => m.type === 'summary').length).toBeLessThanOrEqual(1 + 12)
    expect(later.filter((m) => m.type === 'records')).toHaveLength(0)
    expect(later.length).toBeLessThan(500)
  })

  it('forgets non-permanent refusals: the record may be offered again later', () => {
    const r = { id: '56'.repeat(32), createdAt: timeIn(1) }
    const a = new TestPeer('a', [r])
    const b = new TestPeer('b')
    const pump = new Pump([a, b])
    pump.connect(a, b)
    pump.drop = (from, _to, m) => m.type === 'records' && from === 'a' && pump.now === NOW
    pump.run()
    // b never got it (lost); the request times out and nobody else has it: it is forgotten.
    pump.advance(15_000)
    expect(b.core.isWanted(r.id)).toBe(false)
    // b rejects it non-permanently when it comes later: a may offer it again.
    pump.send('b', b.core.recordResolved(r.id, 'rejected', pump.now, { fromPeerId: 'a', reject: { reason: 'future', permanent: false } }))
    pump.run()
    expect(a.core.peerRejected('b', r.id)).toBe(false)
  })
})

describe('requests', () => {
  it('requests each missing id from one peer at a time when two peers have it, and retries the other on time-out', () => {
    const records = Array.from({ length: 200 }, (_, i) => ({ id: hid(`q${i}`), createdAt: timeIn(i % 5, i) }))
    const a = new TestPeer('a', records)
    const b = new TestPeer('b', records)
    const c = new TestPeer('c', [], { maxInFlight: 16 })
    const pump = new Pump([a, b, c])
    pump.connect(a, b)
    pump.connect(c, a)
    pump.connect(c, b)
    // a never answers.
    pump.drop = (from, _to, m) => m.type === 'records' && from === 'a'
    pump.run()
    const requested = new Map<string, number>()
    for (const m of pump.log) if (m.type === 'want' && m.message.type === 'want') for (const id of m.message.ids) requested.set(id, (requested.get(id) ?? 0) + 1)
    // Before any time-out, no id was asked of both peers.
    for (const n of requested.values()) expect(n).toBe(1)
    // In flight per peer stays within the limit.
    for (const m of pump.log) if (m.message.type === 'want') expect(m.message.ids.length).toBeLessThanOrEqual(16)
    pump.advance(60_000)
    expect(c.ids()).toEqual(records.map((r) => r.id).sort())
    for (const n of c.arrivals.values()) expect(n).toBe(1)
  })

  it('cancels outstanding requests when the record arrives by other means', () => {
    const r = { id: '78'.repeat(32), createdAt: timeIn(2) }
    const a = new TestPeer('a', [r])
    // b holds another record of that bucket: not empty there, so the id is announced and pulled.
    const b = new TestPeer('b', [{ id: '79'.repeat(32), createdAt: timeIn(2, 5) }])
    const pump = new Pump([a, b])
    pump.drop = (_from, _to, m) => m.type === 'records'
    pump.connect(a, b)
    pump.run()
    expect(b.core.isWanted(r.id)).toBe(true)
    b.addLocal(r)
    b.core.localRecordsAdded([r.id], pump.now)
    expect(b.core.isWanted(r.id)).toBe(false)
    expect(b.core.stats().inFlight).toBe(0)
  })

  it('moves the requests of a peer that leaves to another peer that has the ids', () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ id: hid(`m${i}`), createdAt: timeIn(3, i) }))
    const a = new TestPeer('a', records)
    const b = new TestPeer('b', records)
    const c = new TestPeer('c')
    const pump = new Pump([a, b, c])
    pump.drop = (from, _to, m) => m.type === 'records' && from === 'a'
    pump.connect(c, a)
    pump.connect(c, b)
    pump.run()
    pump.send('c', c.core.peerGone('a', pump.now))
    pump.run()
    expect(c.ids()).toEqual(records.map((r) => r.id).sort())
  })
})

describe('forged ids', () => {
  it('sharing the deepest prefix (8 hex digits) still reconcile: the deepest ranges are sent as id lists', () => {
    const forged = (i: number) => `deadbeef${hid(i).slice(8)}`
    const records = Array.from({ length: 300 }, (_, i) => ({ id: forged(i), createdAt: timeIn(2, i) }))
    const sides = records.map((_, i) => (i % 50 === 0 ? 'a' : i % 50 === 1 ? 'b' : 'both') as Side)
    const { a, b, pump, union } = setUp({ records, sides }, undefined, { reconciler: createRangeReconciler() })
    pump.connect(a, b)
    pump.run()
    expect(a.ids()).toEqual(union)
    expect(b.ids()).toEqual(union)
    const deepest = pump.log.flatMap((m) => (m.message.type === 'ranges' ? m.message.entries : [])).filter((e) => e.prefix.length === 8)
    expect(deepest.some((e) => e.kind === 'ids')).toBe(true)
  })
})

describe('hostile or confused peers cost bounded work', () => {
  const mine = Array.from({ length: 400 }, (_, i) => ({ id: hid(`mine${i}`), createdAt: timeIn(i % 10, i) }))

  it('a lying summary (buckets it does not have) gets one bounded answer, and repeating it gets nothing within a second (one more bounded answer per second after)', () => {
    const me = new TestPeer('z', mine, { reconciler: createRangeReconciler() }) // the liar ('a') leads
    me.core.peerReady('a', NOW)
    const window = granularity.windowAt(NOW)
    const lie: SyncMessage = {
      type: 'summary',
      window,
      count: 9_000,
      digest: 'ab'.repeat(16),
      from: window.oldest,
      to: window.newest,
      salt: '5a'.repeat(8),
      buckets: Array.from({ length: 90 }, (_, i) => ({ bucket: window.oldest + i, count: 100, digest: (i + 16).toString(16).repeat(3) })),
    }
    const first = me.core.receive('a', lie, NOW)
    // One entry per bucket at most (a split, or an id list, or "I have nothing there").
    const entries = first.send.flatMap((o) => (o.message.type === 'ranges' ? o.message.entries : [])).length
    expect(entries).toBeGreaterThan(0)
    expect(entries).toBeLessThanOrEqual(90)
    let answers = 0
    for (let i = 1; i < 1_000; i++) answers += me.core.receive('a', lie, NOW + i).send.length
    expect(answers).toBe(0)
    // A second on, the same summary is the leader starting the round again (something of the first
    // may have been lost): answered once more, as boundedly, and again not repeated within that second.
    let later = 0
    for (let i = 1_000; i < 2_000; i++) later += me.core.receive('a', lie, NOW + i).send.length
    expect(later).toBeGreaterThan(0)
    expect(later).toBeLessThanOrEqual(first.send.length)
    // Garbage ranges about ranges never asked for are ignored.
    const garbage = me.core.receive('a', { type: 'ranges', entries: [{ bucket: window.oldest, prefix: 'abc', kind: 'ids', shortIds: ['00'.repeat(8)] }] }, NOW + 2_500)
    expect(garbage.send).toHaveLength(0)
    expect(garbage.ignored).toBe(1)
  })

  it('announcing ids that it never delivers costs at most 1 + LAST_SOURCE_RETRIES requests per id, and fewer and fewer in flight', () => {
    const me = new TestPeer('z', mine, { maxInFlight: 32 })
    me.core.peerReady('a', NOW)
    const window = granularity.windowAt(NOW)
    const fake = Array.from({ length: 2_000 }, (_, i) => hid(`fake${i}`))
    const requested = new Map<string, number>()
    let maxInFlight = 0
    let maxInFlightLate = 0
    const count = (outs: { message: SyncMessage }[], t: number) => {
      for (const o of outs) if (o.message.type === 'want') {
        for (const id of o.message.ids) requested.set(id, (requested.get(id) ?? 0) + 1)
        maxInFlight = Math.max(maxInFlight, me.core.stats().inFlight)
        if (t > 30) maxInFlightLate = Math.max(maxInFlightLate, me.core.stats().inFlight)
      }
    }
    count(me.core.receive('a', { type: 'have', groups: [{ bucket: window.newest, ids: fake }] }, NOW).send, 0)
    for (let t = 1; t <= 2_000; t++) count(me.core.tick(NOW + t * 1_000), t)
    for (const n of requested.values()) expect(n).toBeLessThanOrEqual(1 + LAST_SOURCE_RETRIES)
    expect(maxInFlight).toBeLessThanOrEqual(32)
    // Each request that timed out took one slot away from the silent peer: a few in flight remain.
    expect(maxInFlightLate).toBeLessThanOrEqual(2)
    expect(requested.size).toBeLessThan(500)
  })

  it('asks the only peer that has a record again when a request of it timed out (a lost frame), then gives up', () => {
    const me = new TestPeer('z', mine)
    me.core.peerReady('a', NOW)
    const window = granularity.windowAt(NOW)
    const ids = [hid('lost-1'), hid('lost-2')]
    const wants: number[] = []
    const count = (outs: { message: SyncMessage }[], t: number) => {
      for (const o of outs) if (o.message.type === 'want' && o.message.ids.includes(ids[0]!)) wants.push(t)
    }
    count(me.core.receive('a', { type: 'have', groups: [{ bucket: window.newest, ids }] }, NOW).send, 0)
    // Nothing ever comes back: asked once, then again after each request time-out, LAST_SOURCE_RETRIES times.
    for (let t = 1; t <= 300; t++) count(me.core.tick(NOW + t * 1_000), t)
    expect(wants.length).toBe(3) // 1 + LAST_SOURCE_RETRIES
    expect(wants[1]! - wants[0]!).toBeGreaterThanOrEqual(10) // the request time-out
    expect(me.core.stats().wanted).toBe(0) // given up at last
  })

  it('a leader that hears no root from the peer asks again after the request time-out, not at the idle rebroadcast', () => {
    const onlyA = Array.from({ length: 30 }, (_, i) => ({ id: hid(`root-a-${i}`), createdAt: timeIn(i % 9, i) }))
    const onlyB = Array.from({ length: 30 }, (_, i) => ({ id: hid(`root-b-${i}`), createdAt: timeIn(i % 7, 100 + i) }))
    const a = new TestPeer('a', onlyA) // leads ('a' < 'b')
    const b = new TestPeer('b', onlyB)
    const pump = new Pump([a, b])
    // b's first root and its answer to a's first root are lost: a has no root of b to start a round from.
    let dropped = 0
    pump.drop = (from, _to, m) => from === 'b' && m.type === 'root' && dropped < 2 && ++dropped > 0
    pump.connect(a, b)
    pump.run()
    expect(dropped).toBe(2)
    expect(pump.count('summary')).toBe(0)
    // Within 15 s (the request time-out, 10 s, plus the round), not at the 30 s rebroadcast.
    pump.advance(15_000)
    const union = [...onlyA, ...onlyB].map((r) => r.id).sort()
    expect(a.ids()).toEqual(union)
    expect(b.ids()).toEqual(union)
    expect(pump.log.filter((m) => m.from === 'a' && m.type === 'root').length).toBeGreaterThanOrEqual(2) // asked again
  })

  it('a leader whose round stalled (every answer of the follower lost) starts another before the idle rebroadcast', () => {
    const shared = Array.from({ length: 20 }, (_, i) => ({ id: hid(`stall-shared-${i}`), createdAt: timeIn(i % 9, i) }))
    const onlyB = Array.from({ length: 30 }, (_, i) => ({ id: hid(`stall-b-${i}`), createdAt: timeIn(i % 7, 100 + i) }))
    const a = new TestPeer('a', shared) // leads, and lacks what only b holds (b lacks nothing: it pulls nothing)
    const b = new TestPeer('b', [...shared, ...onlyB])
    const pump = new Pump([a, b])
    // For the first 2 s everything b sends a but its first root is lost: the first round's answers
    // (and b's answer to a's root, so that a has not put off a second round already).
    let lost = 0
    let roots = 0
    pump.drop = (from, _to, m) => from === 'b' && (m.type !== 'root' || roots++ > 0) && pump.now < NOW + 2_000 && ++lost > 0
    pump.connect(a, b)
    pump.run()
    expect(lost).toBeGreaterThan(0)
    expect(pump.count('summary', 'a')).toBe(1)
    expect(a.ids()).toEqual(shared.map((r) => r.id).sort())
    // The round stalls after 10 s; a asks for a fresh root and starts another, before the 30 s rebroadcast.
    for (let i = 0; i < 25; i++) { pump.advance(1_000); console.log('DBG', i + 1, pump.count('summary', 'a'), pump.log.slice(-6).map((m) => `${m.from}>${m.type}`).join(' ')) }
    expect(pump.count('summary', 'a')).toBeGreaterThanOrEqual(2)
    expect(a.ids()).toEqual(b.ids())
  })

  it('lists records never asked of the sender as unrequested, but not a late answer to a request made of it', () => {
    const r = { id: hid('late'), createdAt: timeIn(1) }
    const a = new TestPeer('a', [r])
    const b = new TestPeer('b', [r])
    const own = { id: hid('late-own'), createdAt: timeIn(1, 9) }
    const c = new TestPeer('c', [own])
    a.addLocal(own)
    b.addLocal(own)
    const pump = new Pump([a, b, c])
    // a answers, but its answer is held back until after the request timed out and b delivered.
    const held: SyncMessage[] = []
    pump.drop = (from, _to, m) => m.type === 'records' && from === 'a' && held.push(m) > 0
    pump.connect(c, a)
    pump.run()
    pump.connect(c, b)
    pump.advance(30_000)
    expect(c.ids()).toEqual([r.id, own.id].sort())
    const late = held.find((m) => m.type === 'records')
    expect(late).toBeDefined()
    // The late answer from a: asked of a, so only ignored.
    const answer = c.core.receive('a', late!, pump.now)
    expect(answer.records).toEqual([])
    expect(answer.ignored).toBe(1)
    expect(answer.unrequested).toEqual([])
    // A tampered copy (the bytes hash to another id) and a record b was never asked for.
    if (late!.type !== 'records') throw new Error('unreachable')
    const forged = c.core.receive('a', { type: 'records', events: [{ ...late!.events[0]!, content: hid('edited') }] }, pump.now)
    expect(forged.unrequested).toEqual([hid('edited')])
    const pushed = c.core.receive('b', { type: 'records', events: [{ ...late!.events[0]!, content: hid('never') }] }, pump.now)
    expect(pushed.unrequested).toEqual([hid('never')])
  })

  it('unsolicited records are not handed to the engine', () => {
    const me = new TestPeer('z')
    me.core.peerReady('a', NOW)
    const r = me.core.receive('a', { type: 'records', events: [{ pubkey: '00'.repeat(32), created_at: 1, kind: 1, tags: [], content: '9'.repeat(64), sig: '00'.repeat(64) }] }, NOW)
    expect(r.records).toHaveLength(0)
    expect(r.ignored).toBe(1)
    expect(r.unrequested).toEqual(['9'.repeat(64)])
    expect(me.core.receive('stranger', { type: 'want', ids: [] }, NOW).ignored).toBe(1)
  })
})

describe('ids announced and never delivered', () => {
  /** Whether a logged message asks for `id` (a `want` of its full id, or a `gossip` `want` of its gossip id); any id if none is given. */
  const asks = (m: LoggedMessage, id?: string): boolean =>
    (m.message.type === 'want' && (id === undefined || m.message.ids.includes(id))) ||
    (m.message.type === 'gossip' && m.message.op === 'want' && (id === undefined || m.message.groups.some((g) => g.ids.includes(id.slice(0, 16)))))
  /** A sync core whose `onUndelivered` reports are kept in `reports`. */
  function watched(id: string, records: FakeRecord[] = [], options: Partial<SyncCoreOptions> = {}): { peer: TestPeer; reports: string[] } {
    const reports: string[] = []
    const peer = new TestPeer(id, records, { onUndelivered: (peerId) => void reports.push(peerId), ...options })
    return { peer, reports }
  }

  it('are asked of another peer that has them, and a peer that keeps talking and never answers is reported, a silent link is not', () => {
    const records = Array.from({ length: 60 }, (_, i) => ({ id: hid(`nd${i}`), createdAt: timeIn(i % 4, i) }))
    // a talks (a root every second) and never sends a record; b is honest; d's link is dead.
    const a = new TestPeer('a', records, { rebroadcastMs: 1_000 })
    const b = new TestPeer('b', records)
    const d = new TestPeer('d', records)
    // c holds one record of its own in each of those buckets: not empty there, so ids are announced and pulled.
    const own = Array.from({ length: 4 }, (_, i) => ({ id: hid(`nd-own${i}`), createdAt: timeIn(i, 7) }))
    const { peer: c, reports } = watched('c', own, { maxInFlight: 16 })
    const pump = new Pump([a, b, c, d])
    const window = granularity.windowAt(NOW)
    pump.drop = (from, _to, m) => (from === 'a' || from === 'd') && m.type === 'records'
    pump.connect(c, a)
    pump.connect(c, d)
    pump.run()
    pump.connect(c, b)
    // a also keeps announcing ids it does not have.
    let n = 0
    const fakes = () => pump.send('a', [{ to: 'c', message: { type: 'have', groups: [{ bucket: window.newest, ids: Array.from({ length: 5 }, () => hid(`nd-fake${n++}`)) }] } }])
    pump.drop = (from, _to, m) => from === 'd' || (from === 'a' && (m.type === 'records' || m.type === 'reject'))
    for (let t = 0; t < 90; t++) {
      fakes()
      pump.advance(1_000)
    }
    // Every record came, from b only; the wants a and d got went unanswered.
    expect(c.ids()).toEqual([...records, ...own].map((r) => r.id).sort())
    expect(pump.log.filter((m) => asks(m) && m.to === 'a').length).toBeGreaterThan(0)
    expect(pump.log.filter((m) => asks(m) && m.to === 'd').length).toBeGreaterThan(0)
    // a is reported (more than once: it keeps doing it); d (nothing came from it) and b never are.
    expect(reports.filter((p) => p === 'a').length).toBeGreaterThanOrEqual(2)
    expect(reports.filter((p) => p !== 'a')).toEqual([])
  })

  it('retry: an id refused for now is asked again at once from the ready peers given, and never when held or refused for good', () => {
    const r = { id: hid('retry-r'), createdAt: timeIn(1) }
    const held = { id: hid('retry-held'), createdAt: timeIn(1) }
    const a = new TestPeer('a', [r, held])
    const c = new TestPeer('c', [held])
    c.refusesForNow.add(r.id)
    const pump = new Pump([a, c])
    pump.connect(a, c)
    pump.run()
    const wantsOfR = () => pump.log.filter((m) => m.from === 'c' && asks(m, r.id)).length
    expect(wantsOfR()).toBe(1)
    expect(c.index.has(r.id)).toBe(false)
    pump.advance(5_000)
    expect(wantsOfR()).toBe(1) // nothing asks again by itself before the next periodic round
    c.refusesForNow.delete(r.id)
    const bucket = c.index.bucketOfTime(r.createdAt)
    pump.send('c', c.core.retry([{ id: r.id, bucket, peerIds: ['gone', 'a'] }, { id: held.id, bucket, peerIds: ['a'] }], pump.now))
    pump.run()
    expect(wantsOfR()).toBe(2)
    expect(c.index.has(r.id)).toBe(true)
    expect(pump.log.filter((m) => asks(m, held.id))).toEqual([])
    // Refused for good: never asked again.
    const bad = { id: hid('retry-bad'), createdAt: timeIn(1) }
    c.refused.add(bad.id)
    a.addLocal(bad)
    pump.send('c', c.core.retry([{ id: bad.id, bucket, peerIds: ['a'] }], pump.now))
    pump.run()
    expect(pump.log.filter((m) => asks(m, bad.id))).toEqual([])
  })

  it('a peer whose record went between its announcement and the want says so (reject), is asked no more for it and is never reported', () => {
    const { peer: c, reports } = watched('c')
    const a = new TestPeer('a')
    const b = new TestPeer('b')
    const pump = new Pump([a, b, c])
    pump.connect(c, a)
    pump.connect(c, b)
    pump.run()
    // a and b announce new records; a drops each before the want reaches it (expired, replaced…).
    const vanishing = new Set<string>()
    pump.drop = (_from, to, m) => {
      // New records are wanted by gossip id (their first 8 bytes).
      const asked = m.type === 'want' ? m.ids : m.type === 'gossip' && m.op === 'want' ? m.groups.flatMap((g) => g.ids) : []
      if (to === 'a') {
        for (const id of vanishing) {
          if (!asked.some((key) => id.startsWith(key))) continue
          a.store.delete(id)
          a.index.remove(id)
        }
      }
      return false
    }
    const gone: string[] = []
    for (let i = 0; i < 40; i++) {
      const shared = { id: hid(`vanish-shared${i}`), createdAt: timeIn(0, i) }
      const own = { id: hid(`vanish-own${i}`), createdAt: timeIn(1, i) }
      vanishing.add(shared.id).add(own.id)
      gone.push(own.id)
      a.addLocal(shared)
      a.addLocal(own)
      pump.send('a', a.core.localRecordsAdded([shared.id, own.id], pump.now))
      pump.run()
      b.addLocal(shared)
      pump.send('b', b.core.localRecordsAdded([shared.id], pump.now))
      pump.run()
      // No time-out needed: the shared record came from b at once.
      expect(c.index.has(shared.id)).toBe(true)
      pump.advance(2_000)
    }
    // It says so: a `gone` for records asked by gossip id (a `reject` notice for those asked by full id).
    const rejects = pump.log.filter((m) => (m.type === 'reject' || (m.message.type === 'gossip' && m.message.op === 'gone')) && m.from === 'a')
    expect(rejects.length).toBeGreaterThan(0)
    for (const id of gone) expect(c.core.isWanted(id)).toBe(false)
    expect(reports).toEqual([])
  })

  it('ids a third peer announced and does not deliver do not hold up a round between two peers', () => {
    const shared = Array.from({ length: 20 }, (_, i) => ({ id: hid(`rs${i}`), createdAt: timeIn(2, i) }))
    const onlyB = { id: hid('rs-b'), createdAt: timeIn(1) }
    const a = new TestPeer('a', shared)
    const b = new TestPeer('b', [...shared, onlyB])
    // m is not on the pump: what is sent to it is lost, it never answers.
    const pump = new Pump([a, b])
    const window = granularity.windowAt(NOW)
    a.core.peerReady('m', NOW)
    b.core.peerReady('m', NOW)
    // m announces ids it will never deliver to both; then a and b meet.
    const fake = Array.from({ length: 50 }, (_, i) => hid(`rs-fake${i}`))
    for (const p of [a, b]) pump.send(p.id, p.core.receive('m', { type: 'have', groups: [{ bucket: window.newest, ids: fake }] }, NOW).send)
    pump.run()
    expect(a.core.stats().wanted).toBe(50)
    expect(b.core.stats().wanted).toBe(50)
    pump.connect(a, b)
    pump.run()
    expect(pump.count('summary')).toBeGreaterThan(0)
    expect(a.index.has(onlyB.id)).toBe(true)
  })
})

describe('coded symbols (the rateless reconciler)', () => {
  for (const [name, arb] of Object.entries(scenarios)) {
    it(`two peers converge to the union in one run: ${name}`, () => {
      fc.assert(
        fc.property(arb, fc.boolean(), (scenario, swap) => {
          const { a, b, pump, union } = setUp(scenario, swap ? ['peer-b', 'peer-a'] : ['peer-a', 'peer-b'], { reconciler: createRatelessReconciler() })
          pump.connect(a, b)
          pump.run()
          expect(a.ids()).toEqual(union)
          expect(b.ids()).toEqual(union)
          for (const p of [a, b]) for (const n of p.arrivals.values()) expect(n).toBe(1)
        }),
        { numRuns: 25 },
      )
    })
  }

  it('decode across a lost frame: the gap is asked for again at once, and the peers converge in one run', () => {
    const records = Array.from({ length: 6_000 }, (_, i) => ({ id: hid(`loss${i}`), createdAt: timeIn(i % 5, i) }))
    const sides = records.map((_, i) => (i % 4 === 0 ? 'a' : i % 4 === 1 ? 'b' : 'both') as Side)
    const { a, b, pump, union } = setUp({ records, sides }, undefined, { reconciler: createRatelessReconciler() })
    let lost: { from: number; end: number } | undefined
    pump.drop = (_from, _to, m) => {
      if (lost || m.type !== 'symbols' || m.from === 0 || m.from + m.symbols.length >= m.end) return false
      lost = { from: m.from, end: m.end }
      return true
    }
    pump.connect(a, b)
    pump.run()
    expect(lost).toBeDefined()
    // The leader asked again from the start of the lost frame.
    const again = pump.log.filter((m) => m.type === 'more').map((m) => m.message)
    expect(again.some((m) => m.type === 'more' && m.from === lost!.from)).toBe(true)
    expect(a.ids()).toEqual(union)
    expect(b.ids()).toEqual(union)
  })

  it('decoded differences travel by 8-byte short id: the leader announces what the follower lacks with `gossip` `found` and wants what it lacks at once; never `have`/`want`', () => {
    const records = Array.from({ length: 2_000 }, (_, i) => ({ id: hid(`short${i}`), createdAt: timeIn(i % 5, i) }))
    const sides = records.map((_, i) => (i % 40 === 0 ? 'a' : i % 40 === 1 ? 'b' : 'both') as Side)
    const { a, b, pump, union } = setUp({ records, sides }, undefined, { reconciler: createRatelessReconciler() })
    pump.connect(a, b)
    pump.run()
    expect(a.ids()).toEqual(union)
    expect(b.ids()).toEqual(union)
    const shortIds = (op: string, from: string) =>
      pump.log.filter((m) => m.from === from && m.message.type === 'gossip' && m.message.op === op).flatMap((m) => (m.message.type === 'gossip' ? m.message.groups.flatMap((g) => g.ids) : [])).sort()
    const held = (side: number) => records.filter((_, i) => i % 40 === side).map((r) => r.id.slice(0, 16)).sort()
    // 50 differences each way: the leader (a) announces its 50 once each by 8-byte gossip id, and
    // wants the follower's 50 straight after decoding, with no announcement (the follower announces nothing).
    expect(shortIds('found', 'peer-a')).toEqual(held(0))
    expect(shortIds('found', 'peer-b')).toEqual([])
    expect(shortIds('want', 'peer-a')).toEqual(held(1))
    expect(shortIds('want', 'peer-b')).toEqual(held(0))
    expect(pump.count('have') + pump.count('want')).toBe(0)
  })

  it('a lost frame that ends a decoded round (`found`, or the leader\'s `want` of what it decoded) is repeated by a round after the request time-out, not after roundRetryMs', () => {
    const records = Array.from({ length: 300 }, (_, i) => ({ id: hid(`tail${i}`), createdAt: timeIn(i % 3, i) }))
    const sides = records.map((_, i) => (i === 0 ? 'a' : i === 1 ? 'b' : 'both') as Side)
    const { a, b, pump, union } = setUp({ records, sides }, undefined, { reconciler: createRatelessReconciler() })
    let dropped = 0
    // The leader's `found` (what the follower lacks) and its `want` (what it decoded it lacks).
    pump.drop = (_from, _to, m) => m.type === 'gossip' && (m.op === 'found' || m.op === 'want') && ++dropped > 0
    pump.connect(a, b)
    pump.run()
    // Both announcements were lost: neither side learnt of the other's record.
    expect(dropped).toBe(2)
    expect(a.ids()).not.toEqual(union)
    expect(pump.count('summary')).toBe(1)
    pump.drop = () => false
    // The next idle root exchange (30 s) starts a round for the same pair of roots again.
    pump.advance(31_000)
    expect(pump.count('summary')).toBe(2)
    expect(a.ids()).toEqual(union)
    expect(b.ids()).toEqual(union)
  })

  it('symbols that never decode cost the leader bounded work: a few requests for more, then the stream is dropped', () => {
    const mine = Array.from({ length: 400 }, (_, i) => ({ id: hid(`nd-mine${i}`), createdAt: timeIn(i % 10, i) }))
    const me = new TestPeer('a', mine, { reconciler: createRatelessReconciler() }) // 'a' leads 'z'
    const window = granularity.windowAt(NOW)
    me.core.peerReady('z', NOW)
    const opened = me.core.receive('z', { type: 'root', window, count: 999, digest: hid('z-root').slice(0, 32), wanting: 0 }, NOW)
    expect(opened.send.map((o) => o.message.type)).toContain('summary')
    let state = 7
    const word = () => (state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0)
    const garbage = (from: number, n: number) => Array.from({ length: n }, (_, k) => ({ count: Math.round(1_000 / (1 + (from + k) / 2)), hi: word(), lo: word(), check: word() }))
    const bucket = window.newest - 1
    let next: { from: number; count: number } | undefined = { from: 0, count: 64 }
    let requests = 0
    let taken = 0
    let ignored = 0
    for (let round = 0; round < 100 && next; round++) {
      const symbols = garbage(next.from, Math.min(next.count, 4_000))
      const r = me.core.receive('z', { type: 'symbols', salt: '11'.repeat(8), buckets: [bucket], total: 1_000, from: next.from, end: next.from + symbols.length, symbols }, NOW + round)
      taken += symbols.length
      ignored += r.ignored
      const more = r.send.map((o) => o.message).find((m) => m.type === 'more')
      next = more?.type === 'more' ? { from: more.from, count: more.count } : undefined
      if (more) requests++
    }
    // The garbage reached the reconciler; it asked for more a few times, then gave up (one ignored stream).
    expect(me.core.stats().received.symbols).toBeGreaterThan(1)
    expect(requests).toBeGreaterThan(0)
    expect(requests).toBeLessThanOrEqual(12)
    expect(next).toBeUndefined()
    expect(ignored).toBe(1)
    // Bounded by the cap: three symbols per element of both sides, plus a few.
    expect(taken).toBeLessThanOrEqual(3 * (40 + 1_000) + 64)
    // Further symbols of that stream are ignored.
    const after = me.core.receive('z', { type: 'symbols', salt: '11'.repeat(8), buckets: [bucket], total: 1_000, from: 0, end: 8, symbols: garbage(0, 8) }, NOW + 200)
    expect(after.ignored).toBe(1)
    expect(after.send).toEqual([])
  })
})
