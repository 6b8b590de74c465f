/**
 * Writes src/moderation/rules/bad-words-list.ts, the data of the `bad-words` rule's own matcher, from
 * obscenity 0.4 (a devDependency here; MIT, © 2025 Joseph Liu; its look-alike table is from
 * https://github.com/gc/confusables, MIT, © 2019 gc):
 * - the English dataset, phrase by phrase: its patterns (obscenity's pattern syntax) and its
 *   whitelisted terms (the words themselves are `ENGLISH_WORDS` in bad-words-data.ts, in the same order);
 * - what obscenity's first three blacklist transformers (look-alikes, leetspeak, ASCII lower case)
 *   make of each character, for every character that changes and that NFKC leaves alone (the rule
 *   normalizes a text with NFKC before matching, so no other character ever reaches the matcher).
 * Run: `npx tsx scripts/make-bad-words-list.ts`; test/moderation/bad-words-list.test.ts checks the
 * file against obscenity.
 */
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { DataSet, englishDataset, englishRecommendedBlacklistMatcherTransformers, SyntaxKind } from 'obscenity'

type Node = { kind: SyntaxKind; chars?: number[]; childNode?: Node }
type ParsedPattern = { requireWordBoundaryAtStart: boolean; requireWordBoundaryAtEnd: boolean; nodes: Node[] }

/** A parsed obscenity pattern written back in its raw syntax. */
function rawPattern(pattern: ParsedPattern): string {
  const node = (n: Node): string => {
    if (n.kind === SyntaxKind.Wildcard) return '?'
    if (n.kind === SyntaxKind.Optional) return `[${node(n.childNode!)}]`
    return String.fromCodePoint(...n.chars!).replace(/[\\[\]?|]/g, (c) => `\\${c}`)
  }
  return `${pattern.requireWordBoundaryAtStart ? '|' : ''}${pattern.nodes.map(node).join('')}${pattern.requireWordBoundaryAtEnd ? '|' : ''}`
}

/** The English dataset as [word, patterns, whitelisted terms], in dataset order. */
export function englishPhrases(): [string, string[], string[]][] {
  const phrases: [string, string[], string[]][] = []
  new DataSet<{ originalWord: string }>().addAll(englishDataset as DataSet<{ originalWord: string }>).removePhrasesIf((phrase) => {
    phrases.push([phrase.metadata!.originalWord, phrase.patterns.map((p) => rawPattern(p as ParsedPattern)), [...phrase.whitelistedTerms]])
    return false
  })
  return phrases
}

/** What obscenity's look-alike, leetspeak and lower-case transformers make of code point `c`. */
export function obscenityFold(c: number): number {
  let out = c
  for (const t of englishRecommendedBlacklistMatcherTransformers.slice(0, 3)) out = (t as { transform(c: number): number }).transform(out)
  return out
}

/** Every NFKC-stable character the three transformers change, grouped by what it becomes. */
export function lookalikes(): Record<string, string> {
  const byTarget: Record<string, string> = {}
  for (let c = 0; c <= 0x10ffff; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue
    const char = String.fromCodePoint(c)
    const to = obscenityFold(c)
    if (to === c || char.normalize('NFKC') !== char) continue
    const target = String.fromCodePoint(to)
    byTarget[target] = (byTarget[target] ?? '') + char
  }
  return byTarget
}

/**
 * {@link lookalikes} as runs, for a smaller file (it gzips to less than half of a list of absolute
 * code points): the runs in increasing code point order, written one after the other, each as
 * `gap[.count][+]target` where
 * - `gap` is how many code points lie between the end of the previous run (0 at first) and the
 *   run's first source, in base 36, left out when 0;
 * - `.count` (base 36) maps `count` consecutive characters, and with `+` to consecutive targets
 *   (`Ⓐ`..`Ⓩ` to `a`..`z`), else all to one target; left out for one character;
 * - `target` is what the (first) source becomes: an upper-case letter for its lower case, any
 *   other character after a `~`.
 */
export function foldRuns(): string {
  const pairs: [number, number][] = []
  for (const [to, from] of Object.entries(lookalikes())) for (const c of from) pairs.push([c.codePointAt(0)!, to.codePointAt(0)!])
  pairs.sort((a, b) => a[0] - b[0])
  const runs: { source: number; count: number; target: number; step: number }[] = []
  for (const [source, target] of pairs) {
    const run = runs[runs.length - 1]
    if (run && source === run.source + run.count) {
      const step = run.count === 1 ? target - run.target : run.step
      if ((step === 0 || step === 1) && target === run.target + step * run.count) {
        run.count++
        run.step = step
        continue
      }
    }
    runs.push({ source, count: 1, target, step: 0 })
  }
  let end = 0
  return runs
    .map((r) => {
      const gap = r.source - end
      end = r.source + r.count
      const target = String.fromCodePoint(r.target)
      return `${gap === 0 ? '' : gap.toString(36)}${r.count > 1 ? `.${r.count.toString(36)}${r.step === 1 ? '+' : ''}` : ''}${/^[a-z]$/.test(target) ? target.toUpperCase() : `~${target}`}`
    })
    .join('')
}

if (process.argv[1] !== undefined && resolve(process.argv[1]).endsWith('make-bad-words-list.ts')) {
  const out = `/**
 * Data of the \`bad-words\` rule's matcher (bad-words-matcher.ts), generated by
 * scripts/make-bad-words-list.ts from obscenity 0.4 (MIT, © 2025 Joseph Liu), whose look-alike table
 * comes from https://github.com/gc/confusables (MIT, © 2019 gc). Do not edit by hand: run the script.
 */

/** The English dataset: [patterns in obscenity's syntax, whitelisted terms] of each word of \`ENGLISH_WORDS\` (bad-words-data.ts), in dataset order. */
export const ENGLISH_PHRASES: readonly (readonly [readonly string[], readonly string[]])[] = ${JSON.stringify(englishPhrases().map(([, patterns, whitelisted]) => [patterns, whitelisted]))}

/**
 * What a character becomes before matching (look-alikes, leetspeak and ASCII upper case; characters
 * NFKC changes are left out), as runs of code points one after the other, each \`gap[.count][+]target\`:
 * \`gap\` (base 36, left out when 0) code points after the previous run's end, \`.count\` (base 36)
 * characters mapped to one target, or with \`+\` to consecutive targets, and the (first) target as an
 * upper-case letter for its lower case or any other character after a \`~\` (see scripts/make-bad-words-list.ts).
 */
export const FOLD_RUNS = ${JSON.stringify(foldRuns())}
`
  writeFileSync(resolve(import.meta.dirname, '../src/moderation/rules/bad-words-list.ts'), out)
  console.log('wrote src/moderation/rules/bad-words-list.ts')
}
