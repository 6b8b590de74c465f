/**
 * The `bad-words` rule before obscenity has loaded (a fresh module graph, as on a page that has just
 * started): verdicts come as promises and equal the ones given once the list is there, and the
 * English-dataset constants used before the load match obscenity.
 */
import fc from 'fast-check'
import { DataSet, englishDataset, parseRawPattern, type EnglishProfaneWord as ObscenityWord } from 'obscenity'
import { describe, expect, it, vi } from 'vitest'
import { ENGLISH_DATASET_SHA256, ENGLISH_WORDS, isValidPattern, type EnglishProfaneWord } from '../../src/moderation/rules/bad-words-data.js'
import { canonicalJson, sha256Hex } from '../../src/moderation/canonical.js'
import { contextOf, fakeRecord } from './helpers.js'

/** SHA-256 (hex) of obscenity's compiled English dataset in canonical JSON: what `ENGLISH_DATASET_SHA256` must be. */
function englishDatasetSha256(): string {
  const built = englishDataset.build()
  const compiled = { blacklistedTerms: built.blacklistedTerms, whitelistedTerms: built.whitelistedTerms ?? [] }
  return sha256Hex(canonicalJson(compiled) ?? JSON.stringify(compiled))
}

/** The `originalWord` of every phrase of obscenity's English dataset, in dataset order. */
function englishWords(): string[] {
  const words: string[] = []
  new DataSet<{ originalWord: string }>().addAll(englishDataset as DataSet<{ originalWord: string }>).removePhrasesIf((phrase) => {
    words.push(phrase.metadata?.originalWord ?? '')
    return false
  })
  return words
}

type BadWordsModule = typeof import('../../src/moderation/rules/bad-words.js')

describe('bad-words before its word list has loaded', () => {
  it('answers with a promise of the same verdict, so no record is judged without the list', async () => {
    vi.resetModules()
    const fresh = (await import('../../src/moderation/rules/bad-words.js')) as BadWordsModule
    const texts = ['this is shit', 'oh S H I T', 'Scunthorpe United won', 'best c4sino in town', 'hello']
    const early = fresh.createBadWordsRule({ extraWords: ['|casino|'] })
    const pending = texts.map((text) => early.check(fakeRecord({ text }), contextOf()))
    expect(pending.every((v) => v instanceof Promise)).toBe(true)
    const earlyVerdicts = await Promise.all(pending)
    const late = fresh.createBadWordsRule({ extraWords: ['|casino|'] })
    const lateVerdicts = texts.map((text) => late.check(fakeRecord({ text }), contextOf()))
    expect(lateVerdicts.some((v) => v instanceof Promise)).toBe(false)
    expect(earlyVerdicts).toEqual(lateVerdicts)
    expect(earlyVerdicts.map((v) => v.accept)).toEqual([false, false, true, false, true])
  })

  it('a peerset opened before the list has loaded refuses a bad word in its first publish', async () => {
    vi.resetModules()
    const fresh = (await import('../../src/index.js')) as typeof import('../../src/index.js')
    const peerset = await fresh.createPeerset({ room: 'lazy', identity: fresh.createIdentity(), storage: fresh.memoryStorage(), transport: false })
    try {
      const refused = peerset.publish({ text: 'what a load of sh1t' })
      await expect(refused).rejects.toMatchObject({ code: 'INVALID_RECORD', reason: 'moderation' })
      await peerset.publish({ text: 'a kind word' })
      expect(peerset.records().map((r) => r.text)).toEqual(['a kind word'])
    } finally {
      await peerset.close()
    }
  })
})

describe('what bad-words knows without obscenity', () => {
  it("has obscenity's English word list and dataset fingerprint", () => {
    // The public type excludeWords takes is obscenity's, word for word (`npm run typecheck` fails otherwise).
    type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
    const sameType: Same<EnglishProfaneWord, ObscenityWord> = true
    expect(sameType).toBe(true)
    expect([...ENGLISH_WORDS]).toEqual(englishWords())
    expect(ENGLISH_DATASET_SHA256).toBe(englishDatasetSha256())
  })

  it("accepts exactly the patterns obscenity's parser accepts", () => {
    const parses = (pattern: string): boolean => {
      try {
        parseRawPattern(pattern)
        return true
      } catch {
        return false
      }
    }
    const examples = ['spam', '|spam|', 's?am', 'sp[a]m', '[?]x', '\\[x\\]', '|', '||', '[', ']', 'a[b', '[[a]]', '[]', '[|]', 'a|b', '\\', '\\a', '[a?]', 'a\\|']
    for (const pattern of examples) expect(isValidPattern(pattern), pattern).toBe(parses(pattern))
    const pattern = fc.array(fc.constantFrom('a', 'b', 'é', '\\', '[', ']', '?', '|', ' '), { maxLength: 10 }).map((chars) => chars.join(''))
    fc.assert(fc.property(pattern, (p) => isValidPattern(p) === parses(p)), { numRuns: 3000 })
  })
})
