import { describe, expect, it } from 'vitest'
import { isPeersetError } from '../../src/errors.js'
import { applyVerdictToLedger, banVerdict, createStrikeLedger, strikeLedgerFromJSON } from '../../src/moderation/index.js'
import { ALICE, BOB, fakeRecord, hexId, T0 } from './helpers.js'

const DAY = 86_400
const WEEK = 7 * DAY
const ms = (seconds: number) => seconds * 1000

describe('strike ledger', () => {
  it('counts strikes per author, once per record id', () => {
    const ledger = createStrikeLedger()
    expect(ledger.strike(ALICE, hexId(1), T0, 'bad-words')).toEqual({ added: true, strikes: 1, ban: undefined, banChanged: false })
    expect(ledger.strike(ALICE, hexId(1), T0, 'bad-words')).toEqual({ added: false, strikes: 1, ban: undefined, banChanged: false })
    ledger.strike(BOB, hexId(2), T0, 'link-scheme')
    expect(ledger.strikesOf(ALICE)).toEqual([{ author: ALICE, recordId: hexId(1), createdAt: T0, reason: 'bad-words' }])
    expect(ledger.strikesOf(BOB)).toHaveLength(1)
  })

  it('bans at the threshold until the completing record createdAt + banSeconds', () => {
    const ledger = createStrikeLedger({ threshold: 3, banSeconds: WEEK })
    ledger.strike(ALICE, hexId(1), T0, 'bad-words')
    ledger.strike(ALICE, hexId(2), T0 + 100, 'bad-words')
    expect(ledger.banOf(ALICE)).toBeUndefined()
    expect(ledger.strike(ALICE, hexId(3), T0 + 200, 'bad-words')).toMatchObject({ strikes: 3, ban: { until: T0 + 200 + WEEK }, banChanged: true })
    expect(ledger.isBanned(ALICE, ms(T0 + 300))).toBe(true)
    expect(ledger.isBanned(ALICE, ms(T0 + 200 + WEEK))).toBe(false)
    expect(ledger.isBanned(BOB, ms(T0 + 300))).toBe(false)
  })

  it('reaches the same ban whatever order the strikes arrive in', () => {
    const strikes = [
      [hexId(1), T0 + 500],
      [hexId(2), T0],
      [hexId(3), T0 + 40 * DAY],
      [hexId(4), T0 + 200],
      [hexId(5), T0 + 41 * DAY],
    ] as const
    const orders = [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3]]
    const snapshots = orders.map((order) => {
      const ledger = createStrikeLedger({ threshold: 3, strikeSeconds: 30 * DAY })
      for (const i of order) ledger.strike(ALICE, strikes[i]![0], strikes[i]![1], 'bad-words')
      return ledger.toJSON()
    })
    expect(snapshots[1]).toEqual(snapshots[0])
    expect(snapshots[2]).toEqual(snapshots[0])
    // Windows of 3 within 30 days: {T0, +200, +500} -> until +500 + week; {+500..+41d} spans > 30 days.
    expect(snapshots[0]!.bans).toEqual([{ author: ALICE, until: T0 + 500 + WEEK }])
  })

  it('needs threshold strikes within strikeSeconds of each other', () => {
    const ledger = createStrikeLedger({ threshold: 2, strikeSeconds: DAY })
    ledger.strike(ALICE, hexId(1), T0, 'x')
    expect(ledger.strike(ALICE, hexId(2), T0 + DAY + 1, 'x').ban).toBeUndefined()
    expect(ledger.strike(ALICE, hexId(3), T0 + 2 * DAY, 'x').ban).toEqual({ until: T0 + 2 * DAY + WEEK })
  })

  it('extends a ban with later strikes and reports when it changed', () => {
    const ledger = createStrikeLedger({ threshold: 1 })
    expect(ledger.strike(ALICE, hexId(2), T0 + 10, 'x')).toMatchObject({ banChanged: true, ban: { until: T0 + 10 + WEEK } })
    expect(ledger.strike(ALICE, hexId(1), T0, 'x')).toMatchObject({ banChanged: false, ban: { until: T0 + 10 + WEEK } })
    expect(ledger.strike(ALICE, hexId(3), T0 + 20, 'x')).toMatchObject({ banChanged: true, ban: { until: T0 + 20 + WEEK } })
  })

  it('expires old strikes and finished bans', () => {
    const ledger = createStrikeLedger({ threshold: 2, strikeSeconds: 30 * DAY })
    ledger.strike(ALICE, hexId(1), T0, 'x')
    ledger.strike(ALICE, hexId(2), T0 + 10 * DAY, 'x')
    ledger.strike(BOB, hexId(3), T0, 'x')
    expect(ledger.expire(ms(T0 + 20 * DAY))).toEqual({ strikes: 0, bans: 1 }) // Alice's ban ended at +17 d
    expect(ledger.banOf(ALICE)).toBeUndefined()
    expect(ledger.expire(ms(T0 + 30 * DAY + 1))).toEqual({ strikes: 2, bans: 0 })
    expect(ledger.strikesOf(ALICE).map((s) => s.recordId)).toEqual([hexId(2)])
    expect(ledger.strikesOf(BOB)).toEqual([])
  })

  it('round-trips through JSON, also as a string', () => {
    const ledger = createStrikeLedger({ threshold: 2 })
    ledger.strike(ALICE, hexId(1), T0, 'bad-words')
    ledger.strike(ALICE, hexId(2), T0 + 1, 'link-scheme')
    ledger.strike(BOB, hexId(3), T0, 'bad-words')
    const json = ledger.toJSON()
    for (const stored of [json, JSON.parse(JSON.stringify(json)), JSON.stringify(json)]) {
      const { ledger: restored, problem } = strikeLedgerFromJSON(stored, { threshold: 2 })
      expect(problem).toBeUndefined()
      expect(restored.toJSON()).toEqual(json)
      expect(restored.isBanned(ALICE, ms(T0 + 10))).toBe(true)
      expect(restored.strike(ALICE, hexId(1), T0, 'bad-words').added).toBe(false) // still idempotent
    }
  })

  it('gives an empty ledger for a missing value and an empty ledger plus a problem for a corrupt one', () => {
    expect(strikeLedgerFromJSON(undefined)).toEqual({ ledger: expect.anything() })
    const good = { format: 'peerset-strike-ledger', version: 1, strikes: [], bans: [] }
    const corrupt: unknown[] = [
      42,
      '{not json',
      { ...good, version: 2 },
      { ...good, strikes: 'none' },
      { ...good, strikes: [{ author: 'ALICE', recordId: hexId(1), createdAt: T0, reason: 'x' }] },
      { ...good, strikes: [{ author: ALICE, recordId: hexId(1), createdAt: -5, reason: 'x' }] },
      { ...good, strikes: [null] },
      { ...good, bans: [{ author: ALICE, until: 'soon' }] },
    ]
    for (const value of corrupt) {
      const { ledger, problem } = strikeLedgerFromJSON(value)
      expect(problem, JSON.stringify(value)).toMatch(/^peerset: the stored strike ledger is corrupt/)
      expect(ledger.toJSON()).toEqual(good)
    }
  })

  it('validates its options and arguments', () => {
    expect(() => createStrikeLedger({ threshold: 0 })).toThrowError(/threshold must be an integer/)
    expect(() => createStrikeLedger({ banDays: 7 } as never)).toThrowError(/unknown option "banDays"/)
    const ledger = createStrikeLedger()
    const bad = [
      () => ledger.strike('alice', hexId(1), T0, 'x'),
      () => ledger.strike(ALICE, 'id', T0, 'x'),
      () => ledger.strike(ALICE, hexId(1), T0 + 0.5, 'x'),
      () => ledger.strike(ALICE, hexId(1), T0, ''),
      () => ledger.isBanned(ALICE, Number.NaN),
    ]
    for (const call of bad) {
      let error: unknown
      try {
        call()
      } catch (e) {
        error = e
      }
      expect(isPeersetError(error, 'INVALID_ARGUMENT')).toBe(true)
    }
  })
})

describe('applyVerdictToLedger and banVerdict', () => {
  it('strikes a refused record only when the verdict says strike', () => {
    const ledger = createStrikeLedger({ threshold: 1 })
    const record = fakeRecord()
    expect(applyVerdictToLedger(ledger, record, { accept: false, reason: 'over-quota', strike: false, transient: true })).toEqual({
      added: 0,
      ban: undefined,
      banChanged: false,
    })
    expect(applyVerdictToLedger(ledger, record, { accept: false, reason: 'bad-words', strike: true })).toEqual({
      added: 1,
      ban: { until: record.createdAt + WEEK },
      banChanged: true,
    })
    expect(applyVerdictToLedger(ledger, record, { accept: false, reason: 'bad-words', strike: true })).toMatchObject({ added: 0, banChanged: false })
  })

  it('strikes evicted records whose eviction says strike, looked up by id', () => {
    const ledger = createStrikeLedger()
    const later = fakeRecord({ text: 'same' })
    const earlier = fakeRecord({ text: 'same', createdAt: later.createdAt - 10 })
    const verdict = { accept: true as const, evict: [{ id: later.id, reason: 'duplicate', strike: true }, { id: hexId(9), reason: 'over-quota' }] }
    expect(applyVerdictToLedger(ledger, earlier, verdict, (id) => (id === later.id ? later : undefined))).toMatchObject({ added: 1 })
    expect(ledger.strikesOf(ALICE)).toEqual([{ author: ALICE, recordId: later.id, createdAt: later.createdAt, reason: 'duplicate' }])
  })

  it('refuses records of a banned author transiently, without a strike', () => {
    const ledger = createStrikeLedger({ threshold: 1 })
    ledger.strike(ALICE, hexId(1), T0, 'bad-words')
    expect(banVerdict(ledger, ALICE, ms(T0 + 1))).toMatchObject({ accept: false, reason: 'author-banned', strike: false, transient: true })
    expect(banVerdict(ledger, ALICE, ms(T0 + WEEK))).toBeUndefined()
    expect(banVerdict(ledger, BOB, ms(T0 + 1))).toBeUndefined()
  })
})
