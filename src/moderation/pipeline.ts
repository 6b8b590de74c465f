/** `createModeration`: the built-in rules and the host app's rules as one deterministic pipeline. */
import type { PeersetRecord } from '../record/types.js'
import { canonicalJson, sha256Hex } from './canonical.js'
import { otherRecordsOf } from './normalize.js'
import { integerIn, invalid, optionalFunction, optionsObject, shortString } from './options.js'
import { checkRule, type ModerationRule, type RuleVerdict } from './rule.js'
import { createBadWordsRule, type BadWordsRuleOptions } from './rules/bad-words.js'
import { createContentRule, type ContentRuleOptions } from './rules/content.js'
import { createDuplicateRule, type DuplicateRuleOptions } from './rules/duplicates.js'
import { createLinkCheckRule, type LinkCheck } from './rules/link-check.js'
import { createLinkRule, type LinkRuleOptions } from './rules/links.js'
import { createQuotaRule, type QuotaRuleOptions } from './rules/quota.js'
import type { Eviction, ModerationContext, ModerationStrategy, ModerationVerdict } from './types.js'

/** Options of {@link createModeration}. Each built-in takes its options, or `false` to turn it off. */
export interface ModerationOptions {
  /** A short name for `status()`. Default `'peerset-rules'`. Does not feed the digest. */
  name?: string
  /** The `content` rule (text and geolocation). */
  content?: ContentRuleOptions | false
  /** The `bad-words` rule (obscenity's English dataset and verdicts). */
  badWords?: BadWordsRuleOptions | false
  /** The `link` rule (URL shape, scheme, hosts). */
  links?: LinkRuleOptions | false
  /** The `duplicate` rule (same text posted twice by one author). */
  duplicates?: DuplicateRuleOptions | false
  /** The `quota` rule (records per author). */
  quota?: QuotaRuleOptions | false
  /** Your rules (see `defineRule`); they run after the per-record built-ins, before `duplicate` and `quota`. */
  rules?: readonly ModerationRule[]
  /** A local, asynchronous link check run last; its refusals are transient and never strike. */
  linkCheck?: LinkCheck
  /** How long `linkCheck` may take before the record is refused (transiently). Default 5000 ms. */
  linkCheckTimeoutMs?: number
}

/** What {@link createModeration} returns: a {@link ModerationStrategy} that also shows its policy. */
export interface ModerationPipeline extends ModerationStrategy {
  /** The rules in the order they run. */
  readonly rules: readonly ModerationRule[]
  /** The canonical JSON description the `digest` (its SHA-256, hex) is computed from. */
  readonly policy: string
}

const OPTION_KEYS = ['name', 'content', 'badWords', 'links', 'duplicates', 'quota', 'rules', 'linkCheck', 'linkCheckTimeoutMs'] as const

/**
 * Builds the moderation pipeline. Rules run in this order, and the first refusal wins:
 * `content`, `bad-words`, `link`, your `rules`, `duplicate`, `quota`, then `link-check` (only
 * when `linkCheck` is given). Per-record rules come first so that a record's strike never depends
 * on which other records a peer holds; `duplicate` comes before `quota` so a duplicate does not
 * take a quota slot. Evictions of accepting rules are merged, and later rules no longer see the
 * records earlier rules evicted. A rule that throws or returns a malformed verdict refuses the
 * record with reason `rule-error` (transient, no strike) instead of breaking the ingest.
 *
 * `digest` is the SHA-256 (hex) of `policy`: the rules' names, versions and options in canonical
 * JSON (word lists included), so peers with equal configs have equal digests. `link-check` is
 * local and left out.
 * @example
 * ```ts
 * const moderation = createModeration({
 *   content: { maxLength: 500 },
 *   badWords: { extraWords: ['|casino|'] },
 *   quota: { maxRecords: 3 },
 *   rules: [noShouting],
 * })
 * const peerset = await createPeerset({ room: 'board', identity, moderation })
 * ```
 */
export function createModeration(options?: ModerationOptions): ModerationPipeline {
  const o = optionsObject<ModerationOptions>('createModeration:', options, OPTION_KEYS)
  const name = o.name === undefined ? 'peerset-rules' : shortString('createModeration: name', o.name, 64)
  const builtIn = <T>(value: T | false | undefined, make: (opts: T | undefined) => ModerationRule): ModerationRule[] =>
    value === false ? [] : [make(value)]

  if (o.rules !== undefined && !Array.isArray(o.rules)) invalid('createModeration: rules', 'must be an array of rules made by defineRule()')
  const custom = (o.rules ?? []).map((rule, i) => checkRule(rule, `createModeration: rules[${i}]`))
  const linkCheck = optionalFunction<LinkCheck>('createModeration: linkCheck', o.linkCheck)
  const timeoutMs = integerIn('createModeration: linkCheckTimeoutMs', o.linkCheckTimeoutMs, 1, 600_000, 5000)
  if (linkCheck === undefined && o.linkCheckTimeoutMs !== undefined) invalid('createModeration: linkCheckTimeoutMs', 'needs linkCheck')

  const swarmRules = [
    ...builtIn(o.content, createContentRule),
    ...builtIn(o.badWords, createBadWordsRule),
    ...builtIn(o.links, createLinkRule),
    ...custom,
    ...builtIn(o.duplicates, createDuplicateRule),
    ...builtIn(o.quota, createQuotaRule),
  ]
  const rules = Object.freeze([...swarmRules, ...(linkCheck ? [createLinkCheckRule(linkCheck, timeoutMs)] : [])])
  const seen = new Set<string>()
  for (const rule of rules) {
    if (seen.has(rule.name)) invalid('createModeration: rules', `has two rules named "${rule.name}" (names must be unique)`)
    seen.add(rule.name)
  }

  const policy = canonicalJson({
    format: 'peerset-moderation',
    version: 1,
    rules: swarmRules.map((rule) => ({ name: rule.name, version: rule.version, options: rule.options })),
  })!
  const digest = sha256Hex(policy)

  return Object.freeze({
    name,
    digest,
    policy,
    rules,
    review: (record: PeersetRecord, context: ModerationContext) => runRules(rules, record, context),
  })
}

/** Runs `rules` in order; synchronous as long as every rule answers synchronously. */
function runRules(
  rules: readonly ModerationRule[],
  record: PeersetRecord,
  context: ModerationContext,
): ModerationVerdict | Promise<ModerationVerdict> {
  const evicted = new Map<string, Eviction>()
  const view: ModerationContext = {
    nowMs: context.nowMs,
    recordsOfAuthor: (author) => {
      const records = context.recordsOfAuthor(author)
      return evicted.size === 0 ? records : records.filter((r) => !evicted.has(r.id))
    },
  }
  const step = (from: number): ModerationVerdict | Promise<ModerationVerdict> => {
    for (let i = from; i < rules.length; i++) {
      const rule = rules[i]!
      let answer: RuleVerdict | Promise<RuleVerdict>
      try {
        answer = rule.check(record, view)
      } catch (cause) {
        return ruleError(rule, `threw: ${describeError(cause)}`)
      }
      if (isThenable(answer)) {
        return Promise.resolve(answer).then(
          (verdict) => settle(rule, verdict) ?? step(i + 1),
          (cause: unknown) => ruleError(rule, `failed: ${describeError(cause)}`),
        )
      }
      const final = settle(rule, answer)
      if (final) return final
    }
    return evicted.size === 0 ? { accept: true } : { accept: true, evict: [...evicted.values()] }
  }
  /** A refusal to return, or undefined to go on (after merging the rule's evictions). */
  const settle = (rule: ModerationRule, verdict: unknown): ModerationVerdict | undefined => {
    if (typeof verdict !== 'object' || verdict === null) return ruleError(rule, 'returned no verdict object')
    const v = verdict as Record<string, unknown>
    if (v.accept === false) {
      if (typeof v.reason !== 'string' || v.reason === '') return ruleError(rule, 'refused without a reason')
      return {
        accept: false,
        reason: v.reason,
        rule: rule.name,
        message: typeof v.message === 'string' ? v.message : `refused by moderation rule "${rule.name}"`,
        strike: v.strike === true,
        transient: v.transient === true,
      }
    }
    if (v.accept !== true) return ruleError(rule, 'returned a verdict without accept: true or false')
    if (v.evict === undefined) return undefined
    if (!Array.isArray(v.evict)) return ruleError(rule, 'returned an evict that is not an array')
    // A rule may only displace the author's other records: not the reviewed one, nor a version of it.
    const own = new Set(otherRecordsOf(record, context).map((r) => r.id))
    for (const e of v.evict as unknown[]) {
      const eviction = e as Partial<Eviction> | null
      if (typeof eviction?.id !== 'string' || typeof eviction.reason !== 'string') return ruleError(rule, 'returned a malformed eviction')
      if (eviction.id === record.id || !own.has(eviction.id) || evicted.has(eviction.id)) continue
      evicted.set(eviction.id, { id: eviction.id, reason: eviction.reason, rule: rule.name, ...(eviction.strike === true ? { strike: true } : {}) })
    }
    return undefined
  }
  return step(0)
}

function ruleError(rule: ModerationRule, problem: string): ModerationVerdict {
  return { accept: false, reason: 'rule-error', rule: rule.name, message: `moderation rule "${rule.name}" ${problem}`, strike: false, transient: true }
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

function describeError(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause)
}
