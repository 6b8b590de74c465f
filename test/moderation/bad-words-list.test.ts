/**
 * The `bad-words` rule's own matcher against obscenity 0.4 (a devDependency, the oracle): its data
 * is what scripts/make-bad-words-list.ts makes from obscenity, its patterns compile to obscenity's
 * regular expressions, and on NFKC-normalized texts (all the rule ever matches) it names the same
 * word as obscenity's `RegExpMatcher` with `englishRecommendedTransformers`, for the default lists
 * and for lists of one's own.
 */
import fc from 'fast-check'
import { DataSet, englishDataset, englishRecommendedTransformers, parseRawPattern, RegExpMatcher } from 'obscenity'
import { describe, expect, it } from 'vitest'
import { englishPhrases, foldRuns, obscenityFold } from '../../scripts/make-bad-words-list.js'
import { ENGLISH_WORDS } from '../../src/moderation/rules/bad-words-data.js'
import { ENGLISH_PHRASES, FOLD_RUNS } from '../../src/moderation/rules/bad-words-list.js'
import { compileMatcher, foldOf, patternRegExp, type BadWordsLists } from '../../src/moderation/rules/bad-words-matcher.js'

/** What obscenity says of `text` for `lists`: the matcher bad-words used before it had its own. */
function obscenityMatcher(lists: BadWordsLists): (text: string) => string | undefined {
  const dataset = new DataSet<{ originalWord: string }>()
  if (lists.words === undefined) {
    dataset.addAll(englishDataset as DataSet<{ originalWord: string }>)
    dataset.removePhrasesIf((phrase) => lists.excludeWords.includes(phrase.metadata?.originalWord ?? ''))
  }
  for (const word of [...(lists.words ?? []), ...lists.extraWords]) {
    dataset.addPhrase((phrase) => phrase.setMetadata({ originalWord: word }).addPattern(parseRawPattern(word)))
  }
  const built = dataset.build()
  const matcher = new RegExpMatcher({ ...built, whitelistedTerms: [...(built.whitelistedTerms ?? []), ...lists.allowedTerms], ...englishRecommendedTransformers })
  return (text) => {
    const match = matcher.getAllMatches(text, true)[0]
    return match === undefined ? undefined : (dataset.getPayloadWithPhraseMetadata(match).phraseMetadata?.originalWord ?? '?')
  }
}

const obscenityRegExp = (pattern: string): RegExp =>
  (new RegExpMatcher({ blacklistedTerms: [{ id: 0, pattern: parseRawPattern(pattern) }] }) as unknown as { blacklistedTerms: { regExp: RegExp }[] }).blacklistedTerms[0]!.regExp

const DEFAULT_LISTS: BadWordsLists = { words: undefined, extraWords: [], excludeWords: [], allowedTerms: [] }
const OWN_LISTS: BadWordsLists[] = [
  { words: undefined, extraWords: ['|casino|', 'c?sh', 'sp[a]m', '\\[x\\]'], excludeWords: ['sex', 'ass'], allowedTerms: ['scunthorpe united', 'cash  back'] },
  { words: ['|spam|', 'scam[s]', 'b?t', 'hello'], extraWords: ['|x|'], excludeWords: [], allowedTerms: ['hello world'] },
]

/** Pieces texts are made of: words and whitelisted terms of the dataset, look-alikes, leetspeak, separators, astral and odd characters. */
function pieces(): string[] {
  const words = ENGLISH_PHRASES.flatMap(([, allowed], i) => [ENGLISH_WORDS[i]!, ...allowed.slice(0, 3)])
  const folding: string[] = []
  for (let c = 0; c <= 0x10ffff; c++) if (foldOf(c) !== c) folding.push(String.fromCodePoint(c))
  const folded = folding.filter((_, i) => i % 7 === 0)
  return [...words, ...folded, 'S', 'H', 'I', 'T', 'sh', '1', '!', '|', '$', '@', '4', '0', '3', '(', '/', ' ', '  ', '.', '-', 'ss', 'ooo', 'gg', 'é', '\u{1d552}', '\u{1f600}', '\ud800', 'x', 'casino', 'c4sino', 'spam', 'hello world', 'CASH back']
}

describe('bad-words matcher against obscenity', () => {
  it('has the data the script makes from obscenity', () => {
    expect(ENGLISH_PHRASES).toEqual(englishPhrases().map(([, patterns, whitelisted]) => [patterns, whitelisted]))
    expect(englishPhrases().map(([word]) => word)).toEqual([...ENGLISH_WORDS])
    expect(FOLD_RUNS).toBe(foldRuns())
  })

  it('folds every character NFKC keeps as obscenity does', () => {
    for (let c = 0; c <= 0x10ffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue
      const char = String.fromCodePoint(c)
      if (char.normalize('NFKC') !== char) continue
      if (foldOf(c) !== obscenityFold(c)) expect.fail(`U+${c.toString(16)}`)
    }
  })

  it("compiles every pattern to obscenity's regular expression", () => {
    for (const [patterns] of ENGLISH_PHRASES) for (const p of patterns) expect(patternRegExp(p).source, p).toBe(obscenityRegExp(p).source)
    const examples = ['a.b', '|a+b|', 'x[?]y', '\\?\\|\\\\', '[a.]b', 'a*(b)', '^$', '{1}', '\u{1f600}x', 'é[é]']
    for (const p of examples) expect(patternRegExp(p).source, p).toBe(obscenityRegExp(p).source)
    expect(() => patternRegExp('[a]')).toThrow()
    expect(() => obscenityRegExp('[a]')).toThrow()
  })

  it('names the same word as obscenity on texts built from the dataset, look-alikes and separators', () => {
    const ours = [DEFAULT_LISTS, ...OWN_LISTS].map((lists) => compileMatcher(lists, ENGLISH_WORDS))
    const theirs = [DEFAULT_LISTS, ...OWN_LISTS].map((lists) => obscenityMatcher(lists))
    const text = fc.array(fc.constantFrom(...pieces()), { maxLength: 8 }).map((parts) => parts.join('').normalize('NFKC'))
    let blocked = 0
    fc.assert(
      fc.property(text, (t) => {
        for (let i = 0; i < ours.length; i++) expect(ours[i]!(t), `${i}: ${JSON.stringify(t)}`).toBe(theirs[i]!(t))
        if (theirs[0]!(t) !== undefined) blocked++
      }),
      { numRuns: 3000 },
    )
    expect(blocked).toBeGreaterThan(500) // the texts reach the blocking path, not only the clean one
  })

  it('names the same word as obscenity for each whitelisted term and word, alone and in a sentence', () => {
    const ours = compileMatcher(DEFAULT_LISTS, ENGLISH_WORDS)
    const theirs = obscenityMatcher(DEFAULT_LISTS)
    for (const [i, [patterns, allowed]] of ENGLISH_PHRASES.entries()) {
      for (const t of [ENGLISH_WORDS[i]!, ...allowed, ...patterns.map((p) => p.replace(/[|[\]\\]/g, ''))]) {
        for (const text of [t, `so ${t} there`, t.toUpperCase(), `${t}s`, `x${t}`]) expect(ours(text), text).toBe(theirs(text))
      }
    }
  })
})
