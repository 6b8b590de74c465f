import { describe, expect, it } from 'vitest'
import { isPeersetError } from '../../src/errors.js'
import { createModeration, defineRule, type ModerationOptions, type ModerationRule } from '../../src/moderation/index.js'
import { contextOf, fakeRecord, sync, T0 } from './helpers.js'

const refuseAll = (name: string, reason = name): ModerationRule =>
  defineRule({ name, version: '1', check: () => ({ accept: false, reason, message: `${name} says no` }) })

describe('createModeration pipeline', () => {
  it('runs content, bad-words, link, custom rules, duplicate, quota, link-check in that order', () => {
    const custom = defineRule({ name: 'custom', version: '1', check: () => ({ accept: true }) })
    const moderation = createModeration({ rules: [custom], linkCheck: async () => true })
    expect(moderation.rules.map((r) => r.name)).toEqual(['content', 'bad-words', 'link', 'custom', 'duplicate', 'quota', 'link-check'])
  })

  it('lets the first refusal win and names its rule', () => {
    const moderation = createModeration({ rules: [refuseAll('first', 'nope'), refuseAll('second')] })
    expect(sync(moderation.review(fakeRecord({ text: 'shit' }), contextOf()))).toMatchObject({ reason: 'bad-words', rule: 'bad-words' })
    expect(sync(moderation.review(fakeRecord(), contextOf()))).toEqual({
      accept: false,
      reason: 'nope',
      rule: 'first',
      message: 'first says no',
      strike: false,
      transient: false,
    })
  })

  it('turns built-ins off with false', () => {
    const off: ModerationOptions = { content: false, badWords: false, links: false, duplicates: false, quota: false }
    const moderation = createModeration(off)
    expect(moderation.rules).toEqual([])
    expect(sync(moderation.review(fakeRecord({ text: '', link: 'ftp://x' }), contextOf()))).toEqual({ accept: true })
  })

  it('merges evictions, and later rules no longer see evicted records', () => {
    // A later duplicate (T0+50) fills the fifth quota slot; an earlier copy evicts it as a
    // duplicate, so the quota rule sees four records and evicts nothing.
    const kept = [10, 20, 30, 40].map((s) => fakeRecord({ createdAt: T0 + s }))
    const later = fakeRecord({ text: 'lost cat', createdAt: T0 + 50 })
    const verdict = sync(createModeration().review(fakeRecord({ text: 'Lost cat', createdAt: T0 + 5 }), contextOf([...kept, later])))
    expect(verdict).toEqual({ accept: true, evict: [{ id: later.id, reason: 'duplicate', rule: 'duplicate' }] })
  })

  it('merges evictions of several rules, first reason first, and drops foreign or repeated ids', () => {
    const mine = fakeRecord({ createdAt: T0 })
    const evictMine = (name: string, reason: string): ModerationRule =>
      defineRule({ name, version: '1', check: () => ({ accept: true, evict: [{ id: mine.id, reason }, { id: 'f'.repeat(64), reason }] }) })
    const moderation = createModeration({ rules: [evictMine('one', 'first'), evictMine('two', 'second')] })
    expect(sync(moderation.review(fakeRecord({ createdAt: T0 + 1 }), contextOf([mine])))).toEqual({ accept: true, evict: [{ id: mine.id, reason: 'first', rule: 'one' }] })
  })

  it('cancels evictions when a later rule refuses', () => {
    const kept = [10, 20, 30, 40, 50].map((s) => fakeRecord({ createdAt: T0 + s }))
    const moderation = createModeration({ quota: {}, linkCheck: async () => false })
    return expect(moderation.review(fakeRecord({ createdAt: T0, link: 'https://example.org' }), contextOf(kept))).resolves.toMatchObject({
      accept: false,
      reason: 'link-check',
    })
  })

  it('turns a throwing or malformed rule into a transient rule-error, not a crash', async () => {
    const broken = [
      defineRule({ name: 'throws', version: '1', check: () => { throw new Error('boom') } }),
      defineRule({ name: 'rejects', version: '1', check: () => Promise.reject(new Error('async boom')) }),
      defineRule({ name: 'empty', version: '1', check: () => undefined as never }),
      defineRule({ name: 'no-reason', version: '1', check: () => ({ accept: false }) as never }),
      defineRule({ name: 'bad-evict', version: '1', check: () => ({ accept: true, evict: [{ id: 3 }] }) as never }),
    ]
    for (const rule of broken) {
      const verdict = await createModeration({ rules: [rule] }).review(fakeRecord(), contextOf())
      expect(verdict, rule.name).toMatchObject({ accept: false, reason: 'rule-error', rule: rule.name, strike: false, transient: true })
    }
  })

  it('answers synchronously when every rule does, asynchronously otherwise', async () => {
    expect(createModeration().review(fakeRecord(), contextOf())).not.toBeInstanceOf(Promise)
    const slow = defineRule({ name: 'slow', version: '1', check: async () => ({ accept: true }) })
    const pending = createModeration({ rules: [slow] }).review(fakeRecord({ text: 'shit' }), contextOf())
    expect(pending).not.toBeInstanceOf(Promise) // refused by bad-words before the async rule
    const later = createModeration({ rules: [slow] }).review(fakeRecord(), contextOf())
    expect(later).toBeInstanceOf(Promise)
    expect(await later).toEqual({ accept: true })
  })

  it('refuses two rules with one name and unknown options', () => {
    expect(() => createModeration({ rules: [refuseAll('content')] })).toThrowError(/two rules named "content"/)
    expect(() => createModeration({ rules: [refuseAll('x'), refuseAll('x')] })).toThrowError(/two rules named "x"/)
    expect(() => createModeration({ badword: {} } as never)).toThrowError(/unknown option "badword"/)
    expect(() => createModeration({ rules: [{ name: 'x', check: () => ({ accept: true }) }] as never })).toThrowError(/rules\[0\]\.version/)
    expect(() => createModeration({ linkCheckTimeoutMs: 100 })).toThrowError(/needs linkCheck/)
  })
})

describe('defineRule', () => {
  it('returns a frozen rule with its options as plain JSON', () => {
    const rule = defineRule({ name: 'no-shouting', version: '2', options: { min: 12, words: ['A'] }, check: () => ({ accept: true }) })
    expect(rule).toMatchObject({ name: 'no-shouting', version: '2', options: { min: 12, words: ['A'] } })
    expect(Object.isFrozen(rule)).toBe(true)
  })

  it.each([
    [{ name: 'Bad Name', version: '1', check: () => ({ accept: true }) }, /name must be lowercase kebab-case/],
    [{ name: 'ok', version: '', check: () => ({ accept: true }) }, /version must be a non-empty string/],
    [{ name: 'ok', check: () => ({ accept: true }) }, /version must be a non-empty string/],
    [{ name: 'ok', version: '1' }, /check must be a function/],
    [{ name: 'ok', version: '1', options: { f: () => 1 }, check: () => ({ accept: true }) }, /options must be plain JSON/],
    [{ name: 'ok', version: '1', options: { n: Number.NaN }, check: () => ({ accept: true }) }, /options must be plain JSON/],
    [{ name: 'ok', version: '1', options: new Date(0), check: () => ({ accept: true }) }, /options must be plain JSON/],
  ])('refuses %o', (definition, message) => {
    let error: unknown
    try {
      defineRule(definition as never)
    } catch (e) {
      error = e
    }
    expect(isPeersetError(error, 'INVALID_ARGUMENT')).toBe(true)
    expect((error as Error).message).toMatch(message)
  })
})

describe('policy digest', () => {
  const digestOf = (options?: ModerationOptions) => createModeration(options).digest

  it('is a sha256 hex string, equal for equal configs whatever the key order', () => {
    expect(digestOf()).toMatch(/^[0-9a-f]{64}$/)
    expect(digestOf()).toBe(digestOf())
    expect(digestOf({ links: { strike: true, maxLength: 100 } })).toBe(digestOf({ links: { maxLength: 100, strike: true } }))
    expect(digestOf({ quota: { maxRecords: 5 } })).toBe(digestOf()) // explicit default = default
    expect(digestOf({ links: { allowedSchemes: ['https'] } })).toBe(digestOf()) // normalized scheme
  })

  it('ignores the display name', () => {
    expect(digestOf({ name: 'board' })).toBe(digestOf())
  })

  it('changes with every option, word list, disabled rule and custom rule version', () => {
    const rule = (version: string, options?: unknown) => defineRule({ name: 'mine', version, options, check: () => ({ accept: true }) })
    const variants: ModerationOptions[] = [
      {},
      { content: { maxLength: 280 } },
      { content: { minLength: 0 } },
      { content: { strike: true } },
      { content: false },
      { badWords: { extraWords: ['|casino|'] } },
      { badWords: { extraWords: ['|casinos|'] } },
      { badWords: { allowedTerms: ['dick whittington'] } },
      { badWords: { excludeWords: ['sex'] } },
      { badWords: { words: ['|casino|'] } },
      { badWords: { strike: false } },
      { badWords: false },
      { links: { allowedSchemes: ['https:', 'http:'] } },
      { links: { allowedHosts: ['example.org'] } },
      { links: { blockedHosts: ['example.org'] } },
      { links: { maxLength: 100 } },
      { links: { strike: true } },
      { links: false },
      { duplicates: { strike: true } },
      { duplicates: false },
      { quota: { maxRecords: 6 } },
      { quota: false },
      { rules: [rule('1')] },
      { rules: [rule('2')] },
      { rules: [rule('1', { level: 2 })] },
    ]
    const digests = variants.map(digestOf)
    expect(new Set(digests).size).toBe(variants.length)
  })

  it('is the sha256 of the published canonical policy', async () => {
    const { sha256 } = await import('@noble/hashes/sha2.js')
    const { bytesToHex, utf8ToBytes } = await import('@noble/hashes/utils.js')
    const moderation = createModeration()
    expect(bytesToHex(sha256(utf8ToBytes(moderation.policy)))).toBe(moderation.digest)
    expect(JSON.parse(moderation.policy)).toMatchObject({ format: 'peerset-moderation', version: 1 })
  })
})
