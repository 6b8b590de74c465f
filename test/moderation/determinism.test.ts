/**
 * The swarm property: every peer that saw the same records keeps the same records and reaches the
 * same strikes and bans, whatever order the records arrived in. Records are fake (unsigned): the
 * engine verifies before moderation, and moderation trusts what it is given.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  applyVerdictToLedger,
  compareRecords,
  createModeration,
  createStrikeLedger,
  duplicateKey,
  type ModerationPipeline,
  type StrikeLedgerJSON,
} from '../../src/moderation/index.js'
import type { PeersetRecord } from '../../src/record/types.js'
import { T0 } from './helpers.js'

const AUTHORS = ['1'.repeat(64), '2'.repeat(64), '3'.repeat(64)]
const TEXTS = ['lost cat', 'Lost  CAT ', 'found keys', 'free bikes', 'sh1t happens', 'oh S H I T', 'garden sale', '', 'x'.repeat(300)]
const LINKS = [undefined, undefined, 'https://example.org/a', 'http://example.org/b', 'https://user:pw@example.org']
const DAY = 86_400
const NOW_MS = (T0 + 12 * DAY) * 1000

const recordArb = fc
  .record({
    id: fc.stringMatching(/^[0-9a-f]{64}$/),
    author: fc.constantFrom(...AUTHORS),
    createdAt: fc.integer({ min: T0, max: T0 + 10 * DAY }),
    text: fc.constantFrom(...TEXTS),
    link: fc.constantFrom(...LINKS),
  })
  .map(({ link, ...r }): PeersetRecord => ({
    ...r,
    ...(link === undefined ? {} : { link }),
    uuid: `uuid-${r.id.slice(0, 32)}`,
    tags: [],
    sig: '0'.repeat(128),
  }))

/** Two arrival orders of one set of records. */
const scenarioArb = fc
  .uniqueArray(recordArb, { minLength: 1, maxLength: 40, selector: (r) => r.id })
  .chain((records) =>
    fc.tuple(
      fc.shuffledSubarray(records, { minLength: records.length, maxLength: records.length }),
      fc.shuffledSubarray(records, { minLength: records.length, maxLength: records.length }),
    ),
  )

/**
 * A tiny store that applies verdicts the way the engine does: review, record the verdict's strikes
 * (also for banned authors), remove a newly banned author's records, refuse banned authors, apply
 * evictions together with the acceptance.
 */
function runPeer(moderation: ModerationPipeline, arrivals: readonly PeersetRecord[], threshold = 2) {
  const kept = new Map<string, PeersetRecord>()
  const ledger = createStrikeLedger({ threshold, banSeconds: 7 * DAY })
  for (const record of arrivals) {
    if (kept.has(record.id)) continue
    const verdict = moderation.review(record, {
      nowMs: NOW_MS,
      recordsOfAuthor: (author) => [...kept.values()].filter((r) => r.author === author).sort(compareRecords),
    })
    if (verdict instanceof Promise) throw new Error('built-in rules answer synchronously')
    const { banChanged } = applyVerdictToLedger(ledger, record, verdict, (id) => kept.get(id))
    if (banChanged && ledger.isBanned(record.author, NOW_MS)) {
      for (const r of [...kept.values()]) if (r.author === record.author) kept.delete(r.id)
    }
    if (ledger.isBanned(record.author, NOW_MS) || !verdict.accept) continue
    for (const eviction of verdict.evict ?? []) kept.delete(eviction.id)
    kept.set(record.id, record)
  }
  return { kept: [...kept.keys()].sort(), ledger: ledger.toJSON(), isBanned: (a: string) => ledger.isBanned(a, NOW_MS) }
}

/** The specification: per author, drop refused records, keep the earliest of each text, then the earliest N. */
function expectedKept(moderation: ModerationPipeline, records: readonly PeersetRecord[], maxRecords: number, isBanned: (a: string) => boolean) {
  const empty = { nowMs: NOW_MS, recordsOfAuthor: () => [] }
  const valid = records.filter((r) => {
    const verdict = moderation.review(r, empty)
    return !(verdict instanceof Promise) && verdict.accept && !isBanned(r.author)
  })
  const kept: string[] = []
  for (const author of AUTHORS) {
    const seenTexts = new Set<string>()
    const firsts = valid
      .filter((r) => r.author === author)
      .sort(compareRecords)
      .filter((r) => {
        const key = duplicateKey(r.text)
        if (key !== '' && seenTexts.has(key)) return false
        seenTexts.add(key)
        return true
      })
    kept.push(...firsts.slice(0, maxRecords).map((r) => r.id))
  }
  return kept.sort()
}

describe('moderation is order-independent', () => {
  const moderation = createModeration({ quota: { maxRecords: 3 }, content: { maxLength: 200 }, links: { strike: true } })

  it('keeps the same records and reaches the same ledger for any two arrival orders', () => {
    fc.assert(
      fc.property(scenarioArb, ([first, second]) => {
        const a = runPeer(moderation, first)
        const b = runPeer(moderation, second)
        expect(b.kept).toEqual(a.kept)
        expect(b.ledger).toEqual<StrikeLedgerJSON>(a.ledger)
        expect(a.kept).toEqual(expectedKept(moderation, first, 3, a.isBanned))
      }),
      { numRuns: 300 },
    )
  })

  // Duplicate strikes need the earlier copy to still be kept when the later one is judged: true
  // without the quota and without bans (both remove records). Hence `duplicates.strike` is off by default.
  it('also strikes duplicates deterministically when neither quota nor bans remove the earlier copy', () => {
    const striking = createModeration({ quota: false, duplicates: { strike: true } })
    fc.assert(
      fc.property(scenarioArb, ([first, second]) => {
        const a = runPeer(striking, first, 1000)
        const b = runPeer(striking, second, 1000)
        expect(b.kept).toEqual(a.kept)
        expect(b.ledger).toEqual(a.ledger)
      }),
      { numRuns: 200 },
    )
  })

  it('would not be order-independent with a first-come quota (the property can fail)', () => {
    const firstCome = createModeration({
      quota: false,
      rules: [
        {
          name: 'first-come',
          version: '1',
          options: null,
          check: (record, context) =>
            context.recordsOfAuthor(record.author).length >= 1 ? { accept: false, reason: 'over-quota', transient: true } : { accept: true },
        },
      ],
    })
    const r1: PeersetRecord = { id: 'a'.repeat(64), author: AUTHORS[0]!, uuid: 'u1', createdAt: T0, text: 'one', tags: [], sig: '' }
    const r2: PeersetRecord = { ...r1, id: 'b'.repeat(64), uuid: 'u2', createdAt: T0 + 1, text: 'two' }
    expect(runPeer(firstCome, [r1, r2]).kept).not.toEqual(runPeer(firstCome, [r2, r1]).kept)
  })
})
