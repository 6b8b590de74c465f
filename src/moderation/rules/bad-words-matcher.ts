/**
 * The `obscenity` matcher of the `bad-words` rule (internal). Loaded with a dynamic `import()` by
 * bad-words.ts, so a bundler puts obscenity and its word list in a chunk of their own that a page
 * fetches only when a peerset's moderation uses the rule. It exports the matcher only (a dynamic
 * import keeps every export): the checks of bad-words-data.ts against obscenity live in the tests.
 */
import { DataSet, englishDataset, englishRecommendedTransformers, parseRawPattern, RegExpMatcher } from 'obscenity'

/** The word lists of one `bad-words` rule, already checked. */
export interface BadWordsLists {
  /** Replaces the English dataset when set. */
  words: readonly string[] | undefined
  extraWords: readonly string[]
  excludeWords: readonly string[]
  allowedTerms: readonly string[]
}

/** Compiles `lists` into a function that returns the first blocked word in a text, or undefined. */
export function compileMatcher(lists: BadWordsLists): (text: string) => string | undefined {
  const dataset = new DataSet<{ originalWord: string }>()
  if (lists.words === undefined) {
    dataset.addAll(englishDataset as DataSet<{ originalWord: string }>)
    dataset.removePhrasesIf((phrase) => lists.excludeWords.includes(phrase.metadata?.originalWord ?? ''))
  }
  for (const word of [...(lists.words ?? []), ...lists.extraWords]) {
    dataset.addPhrase((phrase) => phrase.setMetadata({ originalWord: word }).addPattern(parseRawPattern(word)))
  }
  const built = dataset.build()
  const whitelistedTerms = [...(built.whitelistedTerms ?? []), ...lists.allowedTerms]
  const matcher = new RegExpMatcher({ ...built, whitelistedTerms, ...englishRecommendedTransformers })
  return (text) => {
    const match = matcher.getAllMatches(text, true)[0]
    return match === undefined ? undefined : (dataset.getPayloadWithPhraseMetadata(match).phraseMetadata?.originalWord ?? '?')
  }
}
