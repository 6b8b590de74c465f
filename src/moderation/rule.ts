/** The rule interface of the moderation pipeline and `defineRule`. */
import type { PeersetRecord } from '../record/types.js'
import { canonicalJson, type JsonValue } from './canonical.js'
import { invalid, optionsObject, shortString } from './options.js'
import type { ModerationContext, ModerationVerdict } from './types.js'

/**
 * What a rule returns: accept (optionally evicting already-kept records of the same author) or
 * reject with a short machine `reason` word. The pipeline adds the rule's name as `rule`.
 */
export type RuleVerdict = ModerationVerdict

/** One step of the moderation pipeline. Make rules with {@link defineRule}. */
export interface ModerationRule {
  /** A lowercase kebab-case name, unique within a pipeline, e.g. `no-shouting`. */
  readonly name: string
  /** Bump it whenever the rule's behaviour changes: it feeds the policy digest. */
  readonly version: string
  /** The rule's settings as plain JSON; they feed the policy digest, so peers can tell configs apart. */
  readonly options: JsonValue
  /**
   * Judges one record. Must be a pure function of the record (and, for set rules, of the author's
   * other records in `context`) so every peer reaches the same verdict; see docs/moderation.md.
   */
  check(record: PeersetRecord, context: ModerationContext): RuleVerdict | Promise<RuleVerdict>
}

/** What {@link defineRule} takes. */
export interface RuleDefinition {
  /** Lowercase kebab-case, 1-64 characters, starting with a letter. */
  name: string
  /** Any non-empty string up to 64 characters, e.g. `'1'` or `'2026-11-03'`. */
  version: string
  /** Settings that feed the digest (plain JSON: objects, arrays, strings, finite numbers, booleans, null). */
  options?: unknown
  /** The judgement; see {@link ModerationRule.check}. */
  check: ModerationRule['check']
}

const RULE_NAME = /^[a-z][a-z0-9-]{0,63}$/

/**
 * Checks a rule definition and returns a frozen {@link ModerationRule}. Throws `INVALID_ARGUMENT`
 * for a bad name, a missing version, options JSON cannot carry exactly, or a missing `check`.
 * @example
 * ```ts
 * const noShouting = defineRule({
 *   name: 'no-shouting',
 *   version: '1',
 *   options: { minLetters: 12 },
 *   check: (record) => {
 *     const letters = record.text.replace(/[^\p{L}]/gu, '')
 *     return letters.length >= 12 && letters === letters.toUpperCase()
 *       ? { accept: false, reason: 'shouting', message: 'the text is all capitals' }
 *       : { accept: true }
 *   },
 * })
 * const moderation = createModeration({ rules: [noShouting] })
 * ```
 */
export function defineRule(definition: RuleDefinition): ModerationRule {
  const d = optionsObject<RuleDefinition>('defineRule:', definition, ['name', 'version', 'options', 'check'])
  if (typeof d.name !== 'string' || !RULE_NAME.test(d.name)) {
    invalid('defineRule: name', `must be lowercase kebab-case (a letter, then letters, digits or "-", at most 64), got ${JSON.stringify(d.name)}`)
  }
  const label = `defineRule("${d.name}"):`
  const version = shortString(`${label} version`, d.version, 64)
  const options = d.options === undefined ? null : d.options
  const json = canonicalJson(options)
  if (json === undefined) {
    invalid(`${label} options`, 'must be plain JSON (objects, arrays, strings, finite numbers, booleans, null)')
  }
  if (typeof d.check !== 'function') invalid(`${label} check`, `must be a function, got ${typeof d.check}`)
  return Object.freeze({ name: d.name, version, options: JSON.parse(json) as JsonValue, check: d.check })
}

/** Checks something that claims to be a rule (for `createModeration({ rules })`). */
export function checkRule(value: unknown, label: string): ModerationRule {
  if (typeof value !== 'object' || value === null) invalid(label, 'must be a rule made by defineRule()')
  const r = value as Partial<ModerationRule>
  if (typeof r.name !== 'string' || !RULE_NAME.test(r.name)) invalid(`${label}.name`, `must be lowercase kebab-case, got ${JSON.stringify(r.name)}`)
  shortString(`${label}.version`, r.version, 64)
  if (canonicalJson(r.options ?? null) === undefined) invalid(`${label}.options`, 'must be plain JSON')
  if (typeof r.check !== 'function') invalid(`${label}.check`, 'must be a function')
  return r as ModerationRule
}
