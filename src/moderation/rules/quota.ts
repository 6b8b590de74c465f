/** The `quota` rule: each author keeps at most N live records, the same N on every peer. */
import { compareRecords, otherRecordsOf } from '../normalize.js'
import { integerIn, optionsObject } from '../options.js'
import type { ModerationRule, RuleVerdict } from '../rule.js'

/** Options of {@link createQuotaRule}. */
export interface QuotaRuleOptions {
  /** Most live records per author. Default 5. */
  maxRecords?: number
}

/**
 * The `quota` rule (reason `over-quota`, never a strike). It keeps each author's `maxRecords`
 * EARLIEST live records by (createdAt, id), whatever order they arrive in, by displacement:
 * - fewer than `maxRecords` others: accept;
 * - the new record sorts before the latest kept one: accept and evict the records pushed out
 *   (eviction reason `over-quota`);
 * - otherwise: reject `over-quota`.
 *
 * The rejection is `transient`: when one of the kept records expires or is replaced, the refused
 * record becomes keepable, and a peer that first sees it then accepts it. A permanent rejection
 * would leave that peer and this one disagreeing forever. Versions of the reviewed record's
 * (author, uuid) do not count: the engine replaces them.
 * @example
 * ```ts
 * const moderation = createModeration({ quota: { maxRecords: 3 } })
 * ```
 */
export function createQuotaRule(options?: QuotaRuleOptions): ModerationRule {
  const o = optionsObject<QuotaRuleOptions>('quota:', options, ['maxRecords'])
  const maxRecords = integerIn('quota.maxRecords', o.maxRecords, 1, 1_000_000, 5)

  return Object.freeze<ModerationRule>({
    name: 'quota',
    version: '1',
    options: { maxRecords },
    check(record, context): RuleVerdict {
      const others = otherRecordsOf(record, context)
      if (others.length < maxRecords) return { accept: true }
      // The kept set is the maxRecords smallest of others + record; others is sorted.
      const latestKept = others[maxRecords - 1]!
      if (compareRecords(record, latestKept) > 0) {
        return {
          accept: false,
          reason: 'over-quota',
          message: `the author already has ${maxRecords} earlier records (the most per author)`,
          strike: false,
          transient: true,
        }
      }
      return { accept: true, evict: others.slice(maxRecords - 1).map((r) => ({ id: r.id, reason: 'over-quota' })) }
    },
  })
}
