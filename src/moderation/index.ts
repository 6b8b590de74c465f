export type { Eviction, ModerationContext, ModerationStrategy, ModerationVerdict } from './types.js'
export type { JsonValue } from './canonical.js'
export { defineRule, type ModerationRule, type RuleDefinition, type RuleVerdict } from './rule.js'
export { createModeration, type ModerationOptions, type ModerationPipeline } from './pipeline.js'
export { createContentRule, type ContentReason, type ContentRuleOptions } from './rules/content.js'
export { createBadWordsRule, type BadWordsRuleOptions } from './rules/bad-words.js'
export type { EnglishProfaneWord } from './rules/bad-words-data.js'
export { createLinkRule, type LinkReason, type LinkRuleOptions } from './rules/links.js'
export { createLinkCheckRule, type LinkCheck } from './rules/link-check.js'
export { createDuplicateRule, type DuplicateRuleOptions } from './rules/duplicates.js'
export { createQuotaRule, type QuotaRuleOptions } from './rules/quota.js'
export { compareRecords, duplicateKey, normalizeText, otherRecordsOf } from './normalize.js'
export {
  createStrikeLedger,
  strikeLedgerFromJSON,
  type Ban,
  type Strike,
  type StrikeLedger,
  type StrikeLedgerJSON,
  type StrikeLedgerOptions,
  type StrikeResult,
  DEFAULT_STRIKE_LEDGER_OPTIONS,
} from './ledger.js'
export { applyVerdictToLedger, banVerdict, type VerdictStrikes } from './bans.js'
import { assertKnownOptions } from '../errors.js'
import type { ModerationStrategy } from './types.js'

/**
 * A moderation strategy that accepts every valid record. The signature, size limits and the time
 * window are still enforced by the engine.
 * @param options None: it takes no options, and refuses any key with `INVALID_ARGUMENT`.
 * @example
 * const peerset = await createPeerset({ room: 'demo', identity, moderation: acceptAll() })
 */
export function acceptAll(options?: Record<string, never>): ModerationStrategy {
  assertKnownOptions('acceptAll', options, [])
  return { name: 'accept-all', digest: 'accept-all/1', review: () => ({ accept: true }) }
}
