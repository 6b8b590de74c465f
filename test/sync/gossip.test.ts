/**
 * Gossip of new records by 8-byte gossip id (the first 8 bytes of the event id): collisions of
 * gossip ids never lose a record, and a peer that announces gossip ids and never delivers them
 * does not stall the others. Sync cores through the codec (test/sync/harness.ts), no timers.
 */
import { describe, expect, it } from 'vitest'
import type { GossipMessage } from '../../src/protocol/messages.js'
import { BucketIndex } from '../../src/sync/bucket-index.js'
import { heldWithGossipId } from '../../src/sync/gossip-ids.js'
import { Pump, TestPeer, granularity, hid, timeIn } from './harness.js'

const gossipOf = (m: { message: unknown }, op: GossipMessage['op']): boolean => {
  const message = m.message as { type: string; op?: string }
  return message.type === 'gossip' && message.op === op
}

/** Two ids that share their first 8 bytes (their gossip id) and differ after. */
function collidingIds(label: string): [string, string] {
  const key = hid(`${label}-key`).slice(0, 16)
  return [key + hid(`${label}-x`).slice(16), key + hid(`${label}-y`).slice(16)]
}

describe('looking up gossip ids', () => {
  it('finds every held id with a gossip id, while ids come and go after the bucket was first sorted', () => {
    const index = new BucketIndex(granularity)
    const bucket = index.bucketOfTime(timeIn(0))
    const ids = Array.from({ length: 200 }, (_, i) => hid(`lookup${i}`))
    const [x, y] = collidingIds('lookup')
    for (const id of ids.slice(0, 100)) index.add(id, timeIn(0, 1))
    expect(heldWithGossipId(index, bucket, ids[150]!.slice(0, 16))).toEqual([]) // sorts the bucket once
    for (const id of [...ids.slice(100), x, y]) index.add(id, timeIn(0, 2))
    for (const id of ids.slice(0, 50)) index.remove(id)
    for (const id of ids.slice(50)) expect(heldWithGossipId(index, bucket, id.slice(0, 16))).toEqual([id])
    for (const id of ids.slice(0, 50)) expect(heldWithGossipId(index, bucket, id.slice(0, 16))).toEqual([])
    expect(heldWithGossipId(index, bucket, x.slice(0, 16))).toEqual([x, y].sort())
    expect(index.sortedBucketIds(bucket)).toEqual([...index.bucketIds(bucket)].sort())
  })
})

describe('gossip ids that collide', () => {
  it('a holder asked for a gossip id sends every record matching it, and the asker keeps them all', () => {
    const [x, y] = collidingIds('both')
    const a = new TestPeer('a', [{ id: x, createdAt: timeIn(0, 1) }])
    const c = new TestPeer('c')
    const pump = new Pump([a, c])
    pump.connect(a, c)
    pump.run()
    expect(c.index.has(x)).toBe(true) // the first one came by reconciliation
    const d = new TestPeer('d')
    pump.peers.set('d', d)
    pump.connect(a, d)
    // d is connected after a has x; a publishes y, whose gossip id is x's too.
    pump.drop = (_from, to, m) => to === 'd' && m.type !== 'gossip' && m.type !== 'records' // gossip only: no reconciliation
    a.addLocal({ id: y, createdAt: timeIn(0, 2) })
    pump.send('a', a.core.localRecordsAdded([y], pump.now))
    pump.run()
    expect(pump.log.filter((m) => m.to === 'a' && m.from === 'd' && gossipOf(m, 'want'))).toHaveLength(1)
    expect(d.index.has(y)).toBe(true)
    expect(d.index.has(x)).toBe(true)
  })

  it('a receiver that holds another record with the announced gossip id does not pull it; the next reconciliation brings it', () => {
    const [x, y] = collidingIds('held')
    const a = new TestPeer('a', [{ id: x, createdAt: timeIn(0, 1) }], { rebroadcastMs: 5_000 })
    const c = new TestPeer('c', [{ id: x, createdAt: timeIn(0, 1) }], { rebroadcastMs: 5_000 })
    const pump = new Pump([a, c])
    pump.connect(a, c)
    pump.run()
    a.addLocal({ id: y, createdAt: timeIn(0, 2) })
    pump.send('a', a.core.localRecordsAdded([y], pump.now))
    pump.run()
    expect(pump.log.filter((m) => m.to === 'c' && gossipOf(m, 'have'))).toHaveLength(1)
    expect(pump.log.filter((m) => m.from === 'c' && gossipOf(m, 'want'))).toHaveLength(0)
    expect(c.index.has(y)).toBe(false)
    pump.advance(6_000)
    expect(c.index.has(y)).toBe(true)
  })

  it('a reconciliation finds a record whose short id collides with one both hold, whichever side holds the pair', () => {
    for (const pairAt of ['leader', 'follower'] as const) {
      const [x, y] = collidingIds(`rec-${pairAt}`)
      const common = Array.from({ length: 50 }, (_, i) => ({ id: hid(`rec-${pairAt}${i}`), createdAt: timeIn(0, 10 + i) }))
      const pair = [...common, { id: x, createdAt: timeIn(0, 1) }, { id: y, createdAt: timeIn(0, 2) }]
      const single = [...common, { id: x, createdAt: timeIn(0, 1) }]
      // 'a' leads 'c' and decodes the coded symbols c streams.
      const a = new TestPeer('a', pairAt === 'leader' ? pair : single)
      const c = new TestPeer('c', pairAt === 'leader' ? single : pair)
      const pump = new Pump([a, c])
      pump.connect(a, c)
      pump.run()
      expect(pump.count('symbols')).toBeGreaterThan(0)
      expect(a.index.has(y) && c.index.has(y)).toBe(true)
      const announced = pump.log.filter((m) => m.type === 'have' && m.message.type === 'have' && m.message.groups.some((g) => g.ids.includes(y)))
      const wantedByShortId = pump.log.filter((m) => m.from === 'a' && gossipOf(m, 'want') && m.message.type === 'gossip' && m.message.groups.some((g) => g.ids.includes(y.slice(0, 16))))
      if (pairAt === 'leader') {
        // The leader holds the pair: it announces both by full id (the follower holds one).
        expect(announced).toHaveLength(1)
      } else {
        // The leader decoded the short id it holds a record with: it asks for every record with it.
        expect(announced).toHaveLength(0)
        expect(wantedByShortId).toHaveLength(1)
      }
    }
  })
})

describe('gossip ids announced and never delivered', () => {
  it('are asked of another peer that announced them; the peer that keeps announcing and never answers is reported', () => {
    const records = Array.from({ length: 60 }, (_, i) => ({ id: hid(`gnd${i}`), createdAt: timeIn(0, i) }))
    const reports: string[] = []
    // a talks (a root every second), announces every record first and never answers; b is honest.
    const a = new TestPeer('a', [], { rebroadcastMs: 1_000 })
    const b = new TestPeer('b')
    const c = new TestPeer('c', [], { maxInFlight: 16, onUndelivered: (peerId) => void reports.push(peerId) })
    const pump = new Pump([a, b, c])
    pump.connect(c, a)
    pump.connect(c, b)
    pump.run()
    pump.drop = (from, _to, m) => from === 'a' && (m.type === 'records' || m.type === 'reject' || gossipOf({ message: m }, 'gone'))
    for (const r of records) a.addLocal(r)
    pump.send('a', a.core.localRecordsAdded(records.map((r) => r.id), pump.now))
    pump.run()
    for (const r of records) b.addLocal(r)
    pump.send('b', b.core.localRecordsAdded(records.map((r) => r.id), pump.now))
    pump.run()
    // c asked a first (it announced first) by gossip id, and pulls one record at a time from one peer.
    expect(pump.log.filter((m) => m.from === 'c' && m.to === 'a' && gossipOf(m, 'want')).length).toBeGreaterThan(0)
    for (let t = 0; t < 90 && c.index.size < records.length; t++) pump.advance(1_000)
    expect(c.ids()).toEqual(records.map((r) => r.id).sort())
    for (let t = 0; t < 40; t++) pump.advance(1_000)
    expect(reports).toContain('a')
    expect(reports.filter((p) => p !== 'a')).toEqual([])
    // Each record reached c once: one peer at a time.
    for (const r of records) expect(c.arrivals.get(r.id)).toBe(1)
  })
})
