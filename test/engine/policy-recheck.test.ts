/**
 * The re-check of kept records under a changed moderation policy (issue 10): a review that never
 * answers cannot hang `createPeerset` (each review has a time limit, and the re-check runs after
 * `createPeerset` resolved), and its removals are observable (`record:removed` reaches a listener
 * added right after `createPeerset` resolved). On virtual time.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ModerationStrategy } from '../../src/moderation/types.js'
import type { PeersetWarning } from '../../src/peerset.js'
import { createRecord, toNostrEvent } from '../../src/record/index.js'
import type { PeersetRecord } from '../../src/record/types.js'
import { memoryStorage } from '../../src/storage/index.js'
import { createIdentity } from '../../src/identity/index.js'
import { FIXTURE_ROOM, collect, openPeerset } from '../helpers.js'
import { drive, realTime, sleep, virtualClock, virtualTime, waitFor } from '../virtual-time.js'

afterEach(() => realTime())

/** A changed policy: refuses texts saying "drop", never answers for "hang", keeps the rest. */
function changedPolicy(): ModerationStrategy & { reviews: number } {
  const policy = {
    name: 'changed',
    digest: 'changed/1',
    reviews: 0,
    review(record: PeersetRecord) {
      policy.reviews++
      if (record.text === 'hang') return new Promise<never>(() => {})
      if (record.text === 'drop') return { accept: false as const, reason: 'bad-words', message: 'dropped by the new policy' }
      return { accept: true as const }
    },
  }
  return policy
}

describe('the policy re-check on open', () => {
  it('cannot hang createPeerset, gives each review a time limit, and emits its removals to a listener added after open', async () => {
    virtualTime()
    const storage = memoryStorage()
    const author = createIdentity()
    const before = await drive(openPeerset({ storage, clock: virtualClock }))
    const now = Math.floor(Date.now() / 1000)
    const texts = ['keep', 'hang', 'drop']
    const records = await Promise.all(texts.map((text, i) => createRecord({ text }, author.signer, { now: now - 10 + i, room: FIXTURE_ROOM })))
    for (const r of records) await drive(before.importRecord(toNostrEvent(r)))
    await drive(before.close())

    const policy = changedPolicy()
    // Resolves within a second of virtual time, although one review never answers.
    const { after, removed, warnings } = await drive(
      openPeerset({ storage, clock: virtualClock, moderation: policy }).then((after) => {
        const warnings: PeersetWarning[] = []
        after.on('warning', (w) => warnings.push(w))
        return { after, removed: collect(after, 'record:removed'), warnings }
      }),
      1_000,
      'createPeerset',
    )
    // The silent review (of the record before "drop") gives up after its 10 s limit, then "drop" goes.
    await waitFor(() => removed.length === 1, 15_000, 'the removal by the new policy')
    expect(removed[0]![1]).toMatchObject({ text: 'drop' })
    expect(removed[0]![2]).toEqual({ reason: 'bad-words' })
    // The record whose review gave up is kept, with a warning.
    await waitFor(() => warnings.some((w) => w.code === 'policy-recheck'), 1_000, 'the warning about the silent review')
    await drive(after.settled())
    expect(after.records().map((r) => r.text).sort()).toEqual(['hang', 'keep'])
    await drive(after.close())

    // Not marked done: the next open re-checks again.
    const reviewsSoFar = policy.reviews
    const again = await drive(openPeerset({ storage, clock: virtualClock, moderation: policy }), 1_000, 'createPeerset')
    await sleep(100)
    expect(policy.reviews).toBeGreaterThan(reviewsSoFar)
    await drive(again.close())
  })
  it('emits the removals after createPeerset resolved, so a listener added then sees them', async () => {
    virtualTime()
    const storage = memoryStorage()
    const author = createIdentity()
    const before = await drive(openPeerset({ storage, clock: virtualClock }))
    const now = Math.floor(Date.now() / 1000)
    for (const text of ['keep', 'drop']) await drive(before.importRecord(toNostrEvent(await createRecord({ text }, author.signer, { now, room: FIXTURE_ROOM }))))
    await drive(before.close())
    // The host app subscribes as soon as `await createPeerset()` returns (a microtask after it
    // resolved, before any timer: `drive` keeps running timers, so the listener is added in `then`).
    const { after, removed } = await drive(
      openPeerset({ storage, clock: virtualClock, moderation: changedPolicy() }).then((after) => ({ after, removed: collect(after, 'record:removed') })),
      1_000,
      'createPeerset',
    )
    await drive(after.settled())
    expect(removed.map(([, record, info]) => [(record as PeersetRecord).text, info])).toEqual([['drop', { reason: 'bad-words' }]])
    expect(after.records().map((r) => r.text)).toEqual(['keep'])
    await drive(after.close())
  })
})
