import { describe, expect, it } from 'vitest'
import { createDuplicateRule, duplicateKey } from '../../src/moderation/index.js'
import { BOB, contextOf, fakeRecord, hexId, T0, sync } from './helpers.js'

describe('duplicate rule (the earlier copy stays)', () => {
  const rule = createDuplicateRule()

  it('compares texts after NFC, trimming, case folding and collapsing whitespace', () => {
    expect(duplicateKey('  Lost   CAT\n\tnear the park ')).toBe('lost cat near the park')
    expect(duplicateKey('Cafe\u0301')).toBe(duplicateKey('CAFÉ'))
    expect(duplicateKey('STRASSE')).toBe(duplicateKey('straße'))
    expect(duplicateKey('lost cat')).not.toBe(duplicateKey('lost cats'))
  })

  it('refuses a later copy as duplicate: transient, no strike by default', () => {
    const earlier = fakeRecord({ text: 'Lost cat', createdAt: T0 })
    const verdict = sync(rule.check(fakeRecord({ text: ' lost  CAT ', createdAt: T0 + 5 }), contextOf([earlier])))
    expect(verdict).toMatchObject({ accept: false, reason: 'duplicate', strike: false, transient: true })
  })

  it('accepts an earlier copy and evicts the later ones', () => {
    const later = [fakeRecord({ text: 'lost cat', createdAt: T0 + 5 }), fakeRecord({ text: 'LOST CAT', createdAt: T0 + 9 })]
    const verdict = sync(rule.check(fakeRecord({ text: 'Lost cat', createdAt: T0 }), contextOf(later)))
    expect(verdict).toEqual({
      accept: true,
      evict: later.map((r) => ({ id: r.id, reason: 'duplicate', strike: false })),
    })
  })

  it('breaks createdAt ties by the lower id', () => {
    const kept = fakeRecord({ text: 'same', createdAt: T0, id: hexId(2) })
    expect(sync(rule.check(fakeRecord({ text: 'same', createdAt: T0, id: hexId(3) }), contextOf([kept])))).toMatchObject({ reason: 'duplicate' })
    expect(sync(rule.check(fakeRecord({ text: 'same', createdAt: T0, id: hexId(1) }), contextOf([kept])))).toMatchObject({ accept: true })
  })

  it('strikes the later copy, refused or evicted, when configured', () => {
    const striking = createDuplicateRule({ strike: true })
    const first = fakeRecord({ text: 'same', createdAt: T0 })
    const second = fakeRecord({ text: 'same', createdAt: T0 + 1 })
    expect(sync(striking.check(second, contextOf([first])))).toMatchObject({ accept: false, strike: true })
    expect(sync(striking.check(first, contextOf([second])))).toEqual({ accept: true, evict: [{ id: second.id, reason: 'duplicate', strike: true }] })
  })

  it('ignores versions of the same uuid, other authors and empty texts', () => {
    const kept = fakeRecord({ text: 'same', createdAt: T0 })
    expect(sync(rule.check(fakeRecord({ text: 'same', uuid: kept.uuid, createdAt: T0 + 1 }), contextOf([kept])))).toEqual({ accept: true })
    expect(sync(rule.check(fakeRecord({ text: 'same', author: BOB, createdAt: T0 + 1 }), contextOf([kept])))).toEqual({ accept: true })
    const empty = fakeRecord({ text: '', createdAt: T0 })
    expect(sync(rule.check(fakeRecord({ text: '  ', createdAt: T0 + 1 }), contextOf([empty])))).toEqual({ accept: true })
  })

  it('validates its options', () => {
    expect(() => createDuplicateRule({ strike: 1 } as never)).toThrowError(/^peerset: duplicates.strike must be a boolean/)
    expect(() => createDuplicateRule({ key: 'x' } as never)).toThrowError(/unknown option "key"/)
  })
})
