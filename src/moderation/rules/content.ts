/** The `content` rule: the text is present, printable and of a sensible length; the geolocation is on earth. */
import { normalizeText } from '../normalize.js'
import { booleanOr, integerIn, invalid, optionsObject } from '../options.js'
import type { ModerationRule, RuleVerdict } from '../rule.js'

/** Options of {@link createContentRule}. */
export interface ContentRuleOptions {
  /** Fewest characters (Unicode code points after normalization). Default 1: empty text is refused. */
  minLength?: number
  /** Most characters (code points after normalization). Default 2000. */
  maxLength?: number
  /** Whether a refused record strikes its author. Default false: long or empty texts are mistakes, not abuse. */
  strike?: boolean
}

/** Why the `content` rule refuses a record (the verdict's `reason`). */
export type ContentReason = 'empty-text' | 'control-character' | 'text-too-short' | 'text-too-long' | 'geo-out-of-range'

/** Text that shows nothing: whitespace and default-ignorable code points (zero-width spaces and joiners, soft hyphens, fillers, variation selectors, ...). */
const INVISIBLE_ONLY = /^[\s\p{Default_Ignorable_Code_Point}]*$/u

/** The control characters (Unicode Cc) other than `\t` and `\n`. */
const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/u

/**
 * The `content` rule. The text is judged after {@link normalizeText} (NFC, CRLF as LF, trimmed):
 * `empty-text` when nothing visible is left (only whitespace and invisible code points such as
 * U+200B zero-width space; when `minLength` is at least 1), `control-character` for a
 * control character other than `\n` and `\t`, `text-too-short` / `text-too-long` outside
 * [`minLength`, `maxLength`] code points; `geo-out-of-range` when a geolocation is not finite or
 * outside lat [-90, 90], lon [-180, 180] (the record module checks this too: defence in depth).
 * @example
 * ```ts
 * const moderation = createModeration({ content: { maxLength: 280 } })
 * ```
 */
export function createContentRule(options?: ContentRuleOptions): ModerationRule {
  const o = optionsObject<ContentRuleOptions>('content:', options, ['minLength', 'maxLength', 'strike'])
  const minLength = integerIn('content.minLength', o.minLength, 0, 1_000_000, 1)
  const maxLength = integerIn('content.maxLength', o.maxLength, 1, 1_000_000, 2000)
  if (minLength > maxLength) invalid('content.minLength', `(${minLength}) must not exceed content.maxLength (${maxLength})`)
  const strike = booleanOr('content.strike', o.strike, false)

  const refuse = (reason: ContentReason, message: string): RuleVerdict => ({ accept: false, reason, message, strike })

  return Object.freeze<ModerationRule>({
    name: 'content',
    // 2: text of only invisible characters is empty-text (version 1 accepted it).
    version: '2',
    options: { minLength, maxLength, strike },
    check(record): RuleVerdict {
      const text = normalizeText(record.text)
      if (FORBIDDEN_CONTROL.test(text)) return refuse('control-character', 'the text contains a control character other than a newline or tab')
      const length = countCodePoints(text)
      if (minLength > 0 && INVISIBLE_ONLY.test(text)) return refuse('empty-text', length === 0 ? 'the text is empty' : 'the text shows nothing (only invisible characters)')
      if (length < minLength) return refuse('text-too-short', `the text has ${length} characters, fewer than ${minLength}`)
      if (length > maxLength) return refuse('text-too-long', `the text has ${length} characters, more than ${maxLength}`)
      const geo = record.geo
      if (geo !== undefined && !isOnEarth(geo.lat, geo.lon)) {
        return refuse('geo-out-of-range', `the geolocation (${geo.lat}, ${geo.lon}) is outside lat [-90, 90], lon [-180, 180]`)
      }
      return { accept: true }
    },
  })
}

function countCodePoints(text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

function isOnEarth(lat: unknown, lon: unknown): boolean {
  return (
    typeof lat === 'number' && typeof lon === 'number' && Number.isFinite(lat) && Number.isFinite(lon) &&
    lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180
  )
}
