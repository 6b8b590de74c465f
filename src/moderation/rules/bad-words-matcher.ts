/**
 * The `obscenity` matcher of the `bad-words` rule (internal). Loaded with a dynamic `import()` by
 * bad-words.ts, so a bundler puts obscenity and its word list in a chunk of their own that a page
 * fetches only when a peerset's moderation uses the rule.
 */
import { DataSet, englishDataset, englishRecommendedTransformers, parseRawPattern, RegExpMatcher } from 'obscenity'
import { canonicalJson, sha256Hex } from '../canonical.js'

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

/**
 * SHA-256 (hex) of obscenity's compiled English dataset in canonical JSON. It must equal
 * `ENGLISH_DATASET_SHA256` in bad-words.ts, which feeds the policy digest without loading this
 * module (test/moderation/bad-words.test.ts checks it, so an obscenity update with other data is noticed).
 */
export function englishDatasetSha256(): string {
  const built = englishDataset.build()
  const compiled = { blacklistedTerms: built.blacklistedTerms, whitelistedTerms: built.whitelistedTerms ?? [] }
  return sha256Hex(canonicalJson(compiled) ?? JSON.stringify(compiled))
}

/** The `originalWord` of every phrase of obscenity's English dataset, in dataset order. */
export function englishWords(): string[] {
  const words: string[] = []
  new DataSet<{ originalWord: string }>().addAll(englishDataset as DataSet<{ originalWord: string }>).removePhrasesIf((phrase) => {
    words.push(phrase.metadata?.originalWord ?? '')
    return false
  })
  return words
}
