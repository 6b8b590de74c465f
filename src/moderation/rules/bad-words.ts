/** The `bad-words` rule, on top of the `obscenity` matcher. */
import {
  DataSet,
  englishDataset,
  englishRecommendedTransformers,
  parseRawPattern,
  RegExpMatcher,
  type EnglishProfaneWord,
} from 'obscenity'
import { canonicalJson, sha256Hex } from '../canonical.js'
import { booleanOr, invalid, optionsObject, stringList } from '../options.js'
import type { ModerationRule, RuleVerdict } from '../rule.js'

/** Options of {@link createBadWordsRule}. Word entries use obscenity's pattern syntax (see below). */
export interface BadWordsRuleOptions {
  /**
   * Replaces obscenity's English dataset with this list. Each entry is an obscenity pattern:
   * a plain word matches anywhere (`'spam'` also matches in `'spammer'`), `|` anchors at a word
   * boundary (`'|spam|'`), `?` is any one character, `[x]` an optional part, `\` escapes.
   * Default: the English dataset.
   */
  words?: readonly string[]
  /** Patterns added to the list (same syntax as `words`). */
  extraWords?: readonly string[]
  /** Words of the English dataset to drop, e.g. `['sex']` for a health board. */
  excludeWords?: readonly EnglishProfaneWord[]
  /** Phrases that never count, even if a pattern matches inside them (e.g. a place name). */
  allowedTerms?: readonly string[]
  /** Whether a refused record strikes its author. Default true. */
  strike?: boolean
}

/** Separators a spaced-out word may use: `S H I T`, `s.h.i.t`, `s-h-i-t`. */
const SPACED_LETTERS = /(?<![\p{L}\p{N}])[\p{L}\p{N}$@!](?:[\s.\-_*·,]+[\p{L}\p{N}$@!](?![\p{L}\p{N}])){2,}/gu
/** Zero-width and other format characters (Unicode Cf) that split a word invisibly. */
const FORMAT_CHARACTERS = /\p{Cf}/gu

/**
 * The `bad-words` rule (reason `bad-words`, strike by default). Matching is obscenity's
 * `RegExpMatcher` with the English dataset (or your list) and `englishRecommendedTransformers`,
 * which see through case, leetspeak (`sh1t`, `$h!t`), look-alike characters and repeated letters
 * (`shiiiit`), and whitelist false positives (`Scunthorpe`, `assessment`). Before matching, the
 * text is NFKC-normalized (full-width letters), format characters (zero-width spaces) are removed,
 * and a run of single characters split by spaces or dots (`S H I T`) is also read joined.
 * @example
 * ```ts
 * const moderation = createModeration({
 *   badWords: { extraWords: ['|crypto scam|'], allowedTerms: ['Scunthorpe United'], excludeWords: ['sex'] },
 * })
 * ```
 */
export function createBadWordsRule(options?: BadWordsRuleOptions): ModerationRule {
  const o = optionsObject<BadWordsRuleOptions>('badWords:', options, ['words', 'extraWords', 'excludeWords', 'allowedTerms', 'strike'])
  const words = o.words === undefined ? undefined : stringList('badWords.words', o.words, [], checkPattern)
  const extraWords = stringList('badWords.extraWords', o.extraWords, [], checkPattern)
  const excludeWords = stringList('badWords.excludeWords', o.excludeWords, [])
  const allowedTerms = stringList('badWords.allowedTerms', o.allowedTerms, [])
  const strike = booleanOr('badWords.strike', o.strike, true)
  if (words !== undefined && excludeWords.length > 0) {
    invalid('badWords.excludeWords', 'only applies to the English dataset; leave it out when `words` replaces the list')
  }

  const dataset = new DataSet<{ originalWord: string }>()
  if (words === undefined) {
    dataset.addAll(englishDataset as DataSet<{ originalWord: string }>)
    const known = new Set<string>()
    dataset.removePhrasesIf((phrase) => {
      const word = phrase.metadata?.originalWord ?? ''
      known.add(word)
      return excludeWords.includes(word)
    })
    excludeWords.forEach((word, i) => {
      if (!known.has(word)) invalid(`badWords.excludeWords[${i}]`, `is not a word of the English dataset: ${JSON.stringify(word)}`)
    })
  }
  for (const word of [...(words ?? []), ...extraWords]) {
    dataset.addPhrase((phrase) => phrase.setMetadata({ originalWord: word }).addPattern(parseRawPattern(word)))
  }
  const built = dataset.build()
  const whitelistedTerms = [...(built.whitelistedTerms ?? []), ...allowedTerms]
  const matcher = new RegExpMatcher({ ...built, whitelistedTerms, ...englishRecommendedTransformers })
  // The compiled list feeds the digest, so two obscenity versions with different data differ too.
  const compiled = { blacklistedTerms: built.blacklistedTerms, whitelistedTerms }
  const datasetSha256 = sha256Hex(canonicalJson(compiled) ?? JSON.stringify(compiled))

  const firstMatch = (text: string): string | undefined => {
    const match = matcher.getAllMatches(text, true)[0]
    return match === undefined ? undefined : (dataset.getPayloadWithPhraseMetadata(match).phraseMetadata?.originalWord ?? '?')
  }

  return Object.freeze<ModerationRule>({
    name: 'bad-words',
    version: '1',
    options: {
      matcher: 'obscenity/RegExpMatcher+englishRecommendedTransformers',
      words: words ?? 'obscenity/englishDataset',
      extraWords: [...extraWords],
      excludeWords: [...excludeWords],
      allowedTerms: [...allowedTerms],
      strike,
      datasetSha256,
    },
    check(record): RuleVerdict {
      const text = record.text.normalize('NFKC').replace(FORMAT_CHARACTERS, '')
      const joined = text.replace(SPACED_LETTERS, (run) => run.replace(/[\s.\-_*·,]+/gu, ''))
      const word = firstMatch(text) ?? (joined === text ? undefined : firstMatch(joined))
      if (word === undefined) return { accept: true }
      return { accept: false, reason: 'bad-words', message: `the text contains a blocked word ("${word}")`, strike }
    },
  })
}

function checkPattern(entry: string, label: string): string {
  if (entry.trim().length === 0 || entry.length > 256) invalid(label, 'must be a non-empty pattern of at most 256 characters')
  try {
    parseRawPattern(entry)
  } catch (cause) {
    invalid(label, `is not a valid obscenity pattern (${cause instanceof Error ? cause.message : String(cause)}): ${JSON.stringify(entry)}`)
  }
  return entry
}
