import { describe, expect, it } from 'vitest'
import { isPeersetError } from '../../src/errors.js'
import { createQuotaRule } from '../../src/moderation/index.js'
import { BOB, contextOf, fakeRecord, hexId, T0, sync } from './helpers.js'

/** Five records of ALICE created at T0+10 .. T0+50. */
const five = () => [10, 20, 30, 40, 50].map((s) => fakeRecord({ createdAt: T0 + s }))

describe('quota rule (displacement, not first-come)', () => {
  const rule = createQuotaRule()

  it('accepts while the author has fewer than maxRecords others', () => {
    expect(sync(rule.check(fakeRecord(), contextOf(five().slice(0, 4))))).toEqual({ accept: true })
  })

  it('refuses a record later than all kept ones as over-quota: transient, no strike', () => {
    const verdict = sync(rule.check(fakeRecord({ createdAt: T0 + 60 }), contextOf(five())))
    expect(verdict).toMatchObject({ accept: false, reason: 'over-quota', strike: false, transient: true })
  })

  it('accepts a record earlier than the latest kept one and evicts that one', () => {
    const kept = five()
    const verdict = sync(rule.check(fakeRecord({ createdAt: T0 + 25 }), contextOf(kept)))
    expect(verdict).toEqual({ accept: true, evict: [{ id: kept[4]!.id, reason: 'over-quota' }] })
  })

  it('breaks createdAt ties by the lower id', () => {
    const kept = [1, 2, 3, 4, 6].map((n) => fakeRecord({ createdAt: T0, id: hexId(n) }))
    expect(sync(rule.check(fakeRecord({ createdAt: T0, id: hexId(5) }), contextOf(kept)))).toEqual({
      accept: true,
      evict: [{ id: hexId(6), reason: 'over-quota' }],
    })
    expect(sync(rule.check(fakeRecord({ createdAt: T0, id: hexId(7) }), contextOf(kept)))).toMatchObject({ reason: 'over-quota' })
  })

  it('evicts every record pushed out when more than maxRecords are kept (e.g. after a config change)', () => {
    const kept = five()
    const verdict = sync(createQuotaRule({ maxRecords: 3 }).check(fakeRecord({ createdAt: T0 }), contextOf(kept)))
    expect(verdict).toEqual({ accept: true, evict: kept.slice(2).map((r) => ({ id: r.id, reason: 'over-quota' })) })
  })

  it('ignores other versions of the same uuid and other authors', () => {
    const kept = five()
    const edit = fakeRecord({ uuid: kept[0]!.uuid, createdAt: T0 + 99 })
    expect(sync(rule.check(edit, contextOf(kept)))).toEqual({ accept: true })
    const bobs = fakeRecord({ author: BOB, createdAt: T0 + 99 })
    expect(sync(rule.check(bobs, contextOf(kept)))).toEqual({ accept: true })
  })

  it('validates its options', () => {
    for (const options of [{ maxRecords: 0 }, { maxRecords: 1.5 }, { max: 3 }]) {
      expect(() => createQuotaRule(options as never)).toThrowError(/^peerset: quota/)
      try {
        createQuotaRule(options as never)
      } catch (e) {
        expect(isPeersetError(e, 'INVALID_ARGUMENT')).toBe(true)
      }
    }
  })
})
