/**
 * The matcher of the `bad-words` rule (internal). Loaded with a dynamic `import()` by bad-words.ts,
 * so a bundler puts it and its word list (bad-words-list.ts) in a chunk of their own that a page
 * fetches only when a peerset's moderation uses the rule.
 *
 * It gives the verdicts of obscenity 0.4's `RegExpMatcher` with `englishRecommendedTransformers`
 * (test/moderation/bad-words-list.test.ts compares the two) on the rule's NFKC-normalized texts:
 * - before matching a pattern, each character is folded (look-alikes, leetspeak, ASCII lower case:
 *   `FOLD_RUNS`) and runs of one character are cut to one (two for b, e, o, l, s and g);
 * - each pattern becomes a regular expression (`?` any one character, `[x]` optional, `|` an ASCII
 *   word boundary) run over the folded text;
 * - a match inside a whitelisted term is ignored, whitelisted terms being found in the text lower
 *   cased (ASCII) with runs of spaces cut to one;
 * - the first match (by start, then end, then pattern order) names the word.
 */
import { ENGLISH_PHRASES, FOLD_RUNS } from './bad-words-list.js'

/** The word lists of one `bad-words` rule, already checked. */
export interface BadWordsLists {
  /** Replaces the English dataset when set. */
  words: readonly string[] | undefined
  extraWords: readonly string[]
  excludeWords: readonly string[]
  allowedTerms: readonly string[]
}

/** One pattern to look for, and the word a match of it names. */
interface Term {
  regExp: RegExp
  word: string
}

/** A text after folding: the folded string, and for each of its code units the index in the text of the character it came from. */
interface Folded {
  text: string
  origin: number[]
}

/** Characters a regular expression needs escaped when a pattern has them as literals. */
const REGEXP_SPECIAL = /[[.*+?^${}()|\\\]]/

/** How many of one character in a row a folded text keeps before matching patterns (1 for the rest). */
const KEEP_IN_A_ROW: Readonly<Record<string, number>> = { b: 2, e: 2, o: 2, l: 2, s: 2, g: 2 }

let folds: Map<number, number> | undefined

/** `FOLD_RUNS` (runs of `gap[.count][+]target`, see bad-words-list.ts) as a map of code points, built on first use. */
function foldMap(): Map<number, number> {
  if (folds) return folds
  folds = new Map()
  let from = 0
  for (const [, gap, count, step, letter, other] of FOLD_RUNS.matchAll(/([0-9a-z]*)(?:\.([0-9a-z]+))?(\+?)(?:([A-Z])|~(.))/gsu)) {
    from += gap ? parseInt(gap, 36) : 0
    const to = letter ? letter.toLowerCase().codePointAt(0)! : other!.codePointAt(0)!
    const n = count ? parseInt(count, 36) : 1
    for (let i = 0; i < n; i++) folds.set(from + i, step ? to + i : to)
    from += n
  }
  return folds
}

/** What character `c` (a code point) becomes before patterns are matched, case and repeats aside. */
export function foldOf(c: number): number {
  return foldMap().get(c) ?? c
}

/**
 * A pattern (obscenity's syntax, already checked by `isValidPattern`) as a regular expression.
 * Throws if the pattern could match the empty string (only optional parts), as obscenity does.
 */
export function patternRegExp(pattern: string): RegExp {
  let source = ''
  let required = false
  let i = 0
  const start = pattern.startsWith('|')
  if (start) i = 1
  const literal = (): string => {
    let char = pattern[i++]!
    if (char === '\\') char = pattern[i++]!
    return REGEXP_SPECIAL.test(char) ? `\\${char}` : char
  }
  let end = false
  while (i < pattern.length) {
    const char = pattern[i]!
    if (char === '|') {
      end = true
      i++
    } else if (char === '[') {
      i++
      let inner = ''
      if (pattern[i] === '?') {
        inner = '.'
        i++
      } else while (pattern[i] !== ']') inner += literal()
      i++ // ']'
      source += `(?:${inner})?`
    } else {
      source += char === '?' ? (i++, '.') : literal()
      required = true
    }
  }
  if (!required) throw new Error(`bad-words: the pattern ${JSON.stringify(pattern)} could match an empty string`)
  return new RegExp(`${start ? '\\b' : ''}${source}${end ? '\\b' : ''}`, 'gs')
}

/**
 * `text` character by character through `map`, keeping at most `keep(c)` of one character in a
 * row, with where each code unit of the result came from.
 */
function fold(text: string, map: (c: number) => number, keep: (c: number) => number): Folded {
  let out = ''
  const origin: number[] = []
  let last = -1
  let left = 0
  for (let i = 0; i < text.length; ) {
    const at = i
    const code = text.codePointAt(i)!
    i += code > 0xffff ? 2 : 1
    const c = map(code)
    if (c === last) {
      if (left-- <= 0) continue
    } else {
      last = c
      left = keep(c) - 1
      if (left < 0) continue
    }
    out += String.fromCodePoint(c)
    while (origin.length < out.length) origin.push(at)
  }
  return { text: out, origin }
}

/** The index in `text` of the last code unit of the character at `index` (a surrogate pair ends one later). */
function endOf(text: string, index: number): number {
  const c = text.charCodeAt(index)
  const next = text.charCodeAt(index + 1)
  return c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? index + 1 : index
}

const asciiLower = (c: number): number => (c >= 65 && c <= 90 ? c | 0x20 : c)

/** Where in `text` the whitelisted terms are, as [first, last] index pairs. */
function allowedSpans(text: string, terms: readonly string[]): [number, number][] {
  const { text: folded, origin } = fold(text, asciiLower, (c) => (c === 32 ? 1 : Infinity))
  const spans: [number, number][] = []
  for (const term of terms) {
    for (let at = folded.indexOf(term); at !== -1; at = folded.indexOf(term, at + term.length)) {
      spans.push([origin[at]!, endOf(text, origin[at + term.length - 1]!)])
    }
  }
  return spans
}

/**
 * Compiles `lists` into a function that returns the first blocked word in a text, or undefined.
 * `englishWords` names the phrases of the English dataset (`ENGLISH_WORDS`, passed in by the rule:
 * imported here it would pull bad-words-data.ts into a chunk shared with the page's main one).
 */
export function compileMatcher(lists: BadWordsLists, englishWords: readonly string[]): (text: string) => string | undefined {
  const terms: Term[] = []
  const allowed: string[] = []
  if (lists.words === undefined) {
    for (const [i, [patterns, whitelisted]] of ENGLISH_PHRASES.entries()) {
      const word = englishWords[i]!
      if (lists.excludeWords.includes(word)) continue
      for (const pattern of patterns) terms.push({ regExp: patternRegExp(pattern), word })
      allowed.push(...whitelisted)
    }
  }
  for (const word of [...(lists.words ?? []), ...lists.extraWords]) terms.push({ regExp: patternRegExp(word), word })
  allowed.push(...lists.allowedTerms)
  if (allowed.some((term) => term.length === 0)) throw new Error('bad-words: an allowed term is empty')
  const map = foldMap()
  const mapChar = (c: number): number => map.get(c) ?? c
  const keep = (c: number): number => KEEP_IN_A_ROW[String.fromCodePoint(c)] ?? 1
  return (text) => {
    const spans = allowedSpans(text, allowed)
    const { text: folded, origin } = fold(text, mapChar, keep)
    let first: { start: number; end: number; word: string } | undefined
    for (const { regExp, word } of terms) {
      for (const match of folded.matchAll(regExp)) {
        const start = origin[match.index]!
        const end = endOf(text, origin[match.index + match[0].length - 1]!)
        if (spans.some(([from, to]) => from <= start && end <= to)) continue
        if (first === undefined || start < first.start || (start === first.start && end < first.end)) first = { start, end, word }
      }
    }
    return first?.word
  }
}
