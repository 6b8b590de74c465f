/**
 * The `bad-words` rule, on top of its own matcher (bad-words-matcher.ts), which gives the verdicts of
 * obscenity 0.4's `RegExpMatcher` with obscenity's English dataset. The matcher and its word list load
 * with a dynamic `import()` when the first rule is made, so a browser bundle keeps them in a chunk of
 * their own; until it has loaded, `check` answers with a promise (the engine waits for it), so no
 * record is judged without the list.
 */
import { canonicalJson, sha256Hex } from '../canonical.js'
import { booleanOr, invalid, optionsObject, stringList } from '../options.js'
import type { ModerationRule, RuleVerdict } from '../rule.js'
import type { BadWordsLists } from './bad-words-matcher.js'
import { ENGLISH_DATASET_SHA256, ENGLISH_WORDS, isValidPattern, type EnglishProfaneWord } from './bad-words-data.js'

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
 * The `bad-words` rule (reason `bad-words`, strike by default). Matching gives the verdicts of
 * obscenity's `RegExpMatcher` with its English dataset (or your list) and `englishRecommendedTransformers`,
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

  if (words === undefined) {
    excludeWords.forEach((word, i) => {
      if (!(ENGLISH_WORDS as readonly string[]).includes(word)) invalid(`badWords.excludeWords[${i}]`, `is not a word of the English dataset: ${JSON.stringify(word)}`)
    })
  }
  const lists: BadWordsLists = { words, extraWords, excludeWords, allowedTerms }
  const firstMatch = lazyMatcher(lists)
  const verdictOf = (match: (text: string) => string | undefined, text: string): RuleVerdict => {
    const joined = text.replace(SPACED_LETTERS, (run) => run.replace(/[\s.\-_*·,]+/gu, ''))
    const word = match(text) ?? (joined === text ? undefined : match(joined))
    if (word === undefined) return { accept: true }
    return { accept: false, reason: 'bad-words', message: `the text contains a blocked word ("${word}")`, strike }
  }

  return Object.freeze<ModerationRule>({
    name: 'bad-words',
    version: '1',
    options: {
      // Unchanged since the rule has its own matcher: the verdicts are the same (test/moderation/bad-words-list.test.ts).
      matcher: 'obscenity/RegExpMatcher+englishRecommendedTransformers',
      words: words ?? 'obscenity/englishDataset',
      extraWords: [...extraWords],
      excludeWords: [...excludeWords],
      allowedTerms: [...allowedTerms],
      strike,
      datasetSha256: datasetSha256(lists),
    },
    check(record): RuleVerdict | Promise<RuleVerdict> {
      const text = record.text.normalize('NFKC').replace(FORMAT_CHARACTERS, '')
      const match = firstMatch()
      return typeof match === 'function' ? verdictOf(match, text) : match.then((m) => verdictOf(m, text))
    },
  })
}

type Matcher = (text: string) => string | undefined
let matcherModule: typeof import('./bad-words-matcher.js') | undefined
let loading: Promise<typeof import('./bad-words-matcher.js')> | undefined

/** Loads the matcher and its word list (once per page or process); a failed load is retried by the next call. */
export function loadBadWordsMatcher(): Promise<typeof import('./bad-words-matcher.js')> {
  loading ??= import('./bad-words-matcher.js').then(
    (module) => (matcherModule = module),
    (cause: unknown) => {
      loading = undefined
      throw cause
    },
  )
  return loading
}

/**
 * The rule's matcher: compiled now if the matcher module is loaded, else a function that returns the
 * promise of it (starting the load at once, so it is usually there by the first record).
 */
function lazyMatcher(lists: BadWordsLists): () => Matcher | Promise<Matcher> {
  let matcher = matcherModule?.compileMatcher(lists, ENGLISH_WORDS)
  let pending: Promise<Matcher> | undefined
  const load = (): Promise<Matcher> =>
    (pending ??= loadBadWordsMatcher().then(
      (module) => (matcher ??= module.compileMatcher(lists, ENGLISH_WORDS)),
      (cause: unknown) => {
        pending = undefined
        throw cause
      },
    ))
  if (matcher === undefined) load().catch(() => undefined) // retried by the first check
  return () => matcher ?? load()
}

/**
 * A fingerprint of the rule's word lists for the policy digest, computed without loading the list:
 * the English dataset's own fingerprint when the lists are the default ones, else the SHA-256 of
 * the lists together with it.
 */
function datasetSha256(lists: BadWordsLists): string {
  const { words, extraWords, excludeWords, allowedTerms } = lists
  if (words === undefined && extraWords.length + excludeWords.length + allowedTerms.length === 0) return ENGLISH_DATASET_SHA256
  const english = words === undefined ? ENGLISH_DATASET_SHA256 : null
  return sha256Hex(canonicalJson({ english, words: words ?? null, extraWords, excludeWords, allowedTerms })!)
}

function checkPattern(entry: string, label: string): string {
  if (entry.trim().length === 0 || entry.length > 256) invalid(label, 'must be a non-empty pattern of at most 256 characters')
  if (!isValidPattern(entry)) invalid(label, `is not a valid obscenity pattern (see BadWordsRuleOptions.words): ${JSON.stringify(entry)}`)
  return entry
}
