/**
 * The set rules (quota, duplicate) meet edits: two peers that receive one author's records in
 * different orders keep the same records. An address counts by its newest version seen (an edit
 * sorts at its own creation time), so a newer version that a set rule keeps out also keeps the
 * older versions of its address out, on the peer that refused it as on the peer that evicted it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createIdentity } from '../../src/identity/index.js'
import { createModeration } from '../../src/moderation/index.js'
import type { Peerset } from '../../src/peerset.js'
import { createRecord, toNostrEvent } from '../../src/record/index.js'
import type { NostrEvent, PeersetRecord } from '../../src/record/types.js'
import { FIXTURE_NOW, FIXTURE_ROOM, openPeerset } from '../helpers.js'

let open: Peerset[] = []
afterEach(async () => {
  await Promise.all(open.map((p) => p.close()))
  open = []
})

async function peer(): Promise<Peerset> {
  const peerset = await openPeerset({ identity: createIdentity(), moderation: createModeration() })
  open.push(peerset)
  return peerset
}

const ids = (peerset: Peerset): string => peerset.records().map((r) => r.id).sort().join(',')

describe('quota and edits, in any arrival order', () => {
  it('a newer version evicted over quota on one peer and refused over quota on another keeps the older version out on both', async () => {
    const author = createIdentity()
    const base = FIXTURE_NOW - 3_600
    const post = (at: number, text: string, uuid?: string): Promise<PeersetRecord> => createRecord({ text, ...(uuid ? { uuid } : {}) }, author.signer, { now: at, room: FIXTURE_ROOM })
    const v1 = await post(base, 'address u, first version')
    const r = [] as PeersetRecord[]
    for (let i = 0; i < 5; i++) r.push(await post(base + 10 + i, `record ${i}`))
    const v2 = await post(base + 100, 'address u, edited', v1.uuid)
    const event = (record: PeersetRecord): NostrEvent => toNostrEvent(record)
    const [a, b] = [await peer(), await peer()]

    // A: v2 first, then r0..r4 (v2 is evicted over quota), then v1.
    expect((await a.importRecord(event(v2))).status).toBe('added')
    for (const record of r) expect((await a.importRecord(event(record))).status).toBe('added')
    expect(a.get(v2.id)).toBeUndefined()
    const aOnV1 = await a.importRecord(event(v1))

    // B: r0..r4 first, then v2 (refused over quota), then v1.
    for (const record of r) expect((await b.importRecord(event(record))).status).toBe('added')
    expect(await b.importRecord(event(v2))).toMatchObject({ status: 'rejected', reason: 'moderation', rule: 'quota:over-quota' })
    const bOnV1 = await b.importRecord(event(v1))

    // They exchange what they hold, twice over.
    for (let round = 0; round < 2; round++) {
      for (const record of a.records()) await b.importRecord(event(record))
      for (const record of b.records()) await a.importRecord(event(record))
    }
    // One set on both, r0..r4: the address's newest version (v2) ranks it after them; v1 is older than v2.
    expect(ids(b)).toBe(ids(a))
    expect(ids(a)).toBe(r.map((x) => x.id).sort().join(','))
    for (const outcome of [aOnV1, bOnV1]) expect(outcome).toMatchObject({ status: 'rejected', reason: 'superseded' })
  })

  it('a newer version that copies an earlier record takes its address out, whether it is refused or evicted as a duplicate', async () => {
    const author = createIdentity()
    const base = FIXTURE_NOW - 3_600
    const post = (at: number, text: string, uuid?: string): Promise<PeersetRecord> => createRecord({ text, ...(uuid ? { uuid } : {}) }, author.signer, { now: at, room: FIXTURE_ROOM })
    const v1 = await post(base, 'address u, first version')
    const earlier = await post(base + 10, 'the same words')
    const v2 = await post(base + 20, 'the same words', v1.uuid)
    const [a, b] = [await peer(), await peer()]
    // A: v1 and the earlier record, then v2 (refused as a duplicate of the earlier one).
    for (const record of [v1, earlier, v2]) await a.importRecord(toNostrEvent(record))
    // B: v2 first, then the earlier record (it evicts v2 as a duplicate), then v1.
    for (const record of [v2, earlier, v1]) await b.importRecord(toNostrEvent(record))
    for (let round = 0; round < 2; round++) {
      for (const record of a.records()) await b.importRecord(toNostrEvent(record))
      for (const record of b.records()) await a.importRecord(toNostrEvent(record))
    }
    expect(ids(b)).toBe(ids(a))
    expect(ids(a)).toBe(earlier.id)
  })
})
