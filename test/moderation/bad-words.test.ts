import { describe, expect, it } from 'vitest'
import { isPeersetError } from '../../src/errors.js'
import { createBadWordsRule, type BadWordsRuleOptions } from '../../src/moderation/index.js'
import { contextOf, fakeRecord, reasonOf, sync } from './helpers.js'

const verdictFor = (text: string, options?: BadWordsRuleOptions) => sync(createBadWordsRule(options).check(fakeRecord({ text }), contextOf()))

describe('bad-words rule', () => {
  it.each([
    ['plain', 'this is shit'],
    ['mixed case', 'ShIt happens'],
    ['leetspeak', 'sh1t happens'],
    ['symbols', 'what $h!t'],
    ['repeated letters', 'shiiiiit'],
    ['spaced out', 'oh S H I T'],
    ['dotted', 's.h.i.t'],
    ['zero-width space inside', 'sh\u200bit'],
    ['full-width letters', 'ｓｈｉｔ'],
  ])('refuses %s ("%s") as bad-words with a strike', (_, text) => {
    expect(verdictFor(text)).toMatchObject({ accept: false, reason: 'bad-words', strike: true })
  })

  it.each(['Scunthorpe United won', 'a thorough assessment', 'the class passed', 'shitake mushrooms', 'therapist', 'a b c d e', 'I am a cat'])(
    'accepts the innocent "%s"',
    (text) => {
      expect(verdictFor(text)).toEqual({ accept: true })
    },
  )

  it('names the matched word in the message', () => {
    const verdict = verdictFor('sh1t')
    expect(verdict.accept === false && verdict.message).toContain('"shit"')
  })

  it('adds extra words in obscenity pattern syntax, obfuscations included', () => {
    const options = { extraWords: ['|casino|'] }
    expect(reasonOf(verdictFor('best c4sino in town', options))).toBe('bad-words')
    expect(reasonOf(verdictFor('C A S I N O', options))).toBe('bad-words')
    expect(reasonOf(verdictFor('casinos', options))).toBe('accept') // word boundary
  })

  it('replaces the English list with `words`', () => {
    const options = { words: ['|casino|'] }
    expect(reasonOf(verdictFor('shit', options))).toBe('accept')
    expect(reasonOf(verdictFor('casino', options))).toBe('bad-words')
  })

  it('drops English words with excludeWords and whitelists allowedTerms', () => {
    expect(reasonOf(verdictFor('sex education'))).toBe('bad-words')
    expect(reasonOf(verdictFor('sex education', { excludeWords: ['sex'] }))).toBe('accept')
    expect(reasonOf(verdictFor('the Dick Whittington pub'))).toBe('bad-words')
    expect(reasonOf(verdictFor('the Dick Whittington pub', { allowedTerms: ['dick whittington'] }))).toBe('accept')
  })

  it('can refuse without a strike', () => {
    expect(verdictFor('shit', { strike: false })).toMatchObject({ accept: false, reason: 'bad-words', strike: false })
  })

  it('puts its word lists and a fingerprint of the compiled dataset in its options', () => {
    const rule = createBadWordsRule({ extraWords: ['|casino|'] })
    expect(rule.options).toMatchObject({ words: 'obscenity/englishDataset', extraWords: ['|casino|'], strike: true })
    expect((rule.options as { datasetSha256: string }).datasetSha256).toMatch(/^[0-9a-f]{64}$/)
    expect((createBadWordsRule().options as { datasetSha256: string }).datasetSha256).not.toBe(
      (rule.options as { datasetSha256: string }).datasetSha256,
    )
  })

  it('validates its options with labelled errors', () => {
    const bad: unknown[] = [{ extraWords: ['[unclosed'] }, { extraWords: 'casino' }, { excludeWords: ['notaword'] }, { words: ['x'], excludeWords: ['sex'] }, { allowedTerms: [3] }, { strik: true }]
    for (const options of bad) {
      let error: unknown
      try {
        createBadWordsRule(options as never)
      } catch (e) {
        error = e
      }
      expect(isPeersetError(error, 'INVALID_ARGUMENT'), JSON.stringify(options)).toBe(true)
      expect((error as Error).message).toMatch(/^peerset: badWords/)
    }
  })
})
