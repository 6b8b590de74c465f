/** The `duplicate` rule: one author does not post the same text twice. */
import { compareRecords, duplicateKey, otherRecordsOf } from '../normalize.js'
import { booleanOr, optionsObject } from '../options.js'
import type { ModerationRule, RuleVerdict } from '../rule.js'

/** Options of {@link createDuplicateRule}. */
export interface DuplicateRuleOptions {
  /**
   * Whether the later copy strikes its author (whether it is refused or evicted). Default false:
   * strikes stay exact only while the earlier copy is kept, see docs/moderation.md.
   */
  strike?: boolean
}

/**
 * The `duplicate` rule (reason `duplicate`). Two records of one author in different uuids are
 * duplicates when their texts have the same {@link duplicateKey} (NFC, trimmed, case-folded,
 * whitespace collapsed); an empty text is never a duplicate. The EARLIER by (createdAt, id) stays,
 * whatever the arrival order: a new record earlier than its copies is accepted and evicts them
 * (eviction reason `duplicate`); a later one is refused. The refusal is `transient`: if the earlier
 * copy expires or is edited away, the later one becomes keepable.
 * @example
 * ```ts
 * const moderation = createModeration({ duplicates: { strike: true } })
 * ```
 */
export function createDuplicateRule(options?: DuplicateRuleOptions): ModerationRule {
  const o = optionsObject<DuplicateRuleOptions>('duplicates:', options, ['strike'])
  const strike = booleanOr('duplicates.strike', o.strike, false)

  return Object.freeze<ModerationRule>({
    name: 'duplicate',
    version: '1',
    options: { key: 'nfc-trim-casefold-collapse-whitespace', strike },
    check(record, context): RuleVerdict {
      const key = duplicateKey(record.text)
      if (key === '') return { accept: true }
      const copies = otherRecordsOf(record, context).filter((r) => duplicateKey(r.text) === key)
      const earliest = copies[0]
      if (earliest === undefined) return { accept: true }
      if (compareRecords(earliest, record) < 0) {
        return {
          accept: false,
          reason: 'duplicate',
          message: `the author already posted the same text earlier (${earliest.id})`,
          strike,
          transient: true,
        }
      }
      return { accept: true, evict: copies.map((r) => ({ id: r.id, reason: 'duplicate', strike })) }
    },
  })
}
