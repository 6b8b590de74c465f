/**
 * One pass over a string that both measures its UTF-8 size and refuses characters that would make
 * a Nostr id ambiguous (internal).
 *
 * - A lone surrogate has no UTF-8 encoding: TextEncoder turns it into U+FFFD, JSON.stringify into
 *   `\udXXX`, so two implementations would hash different bytes.
 * - Control characters (C0, DEL, C1) are escaped differently by JSON.stringify (`\u0001`) and by
 *   NIP-01's serialization rules (verbatim), so they are refused except the whitespace allowed per field.
 */
import { isWellFormedText } from '../protocol/bytes.js'

/** `scanText` result: the string contains a lone (unpaired) UTF-16 surrogate. */
export const LONE_SURROGATE = -1
/** `scanText` result: the string contains a control character that its field does not allow. */
export const CONTROL_CHARACTER = -2

/** Bit masks of the C0 control characters a field allows (bit `c` set allows U+00`c`). */
export const ALLOW_NO_CONTROLS = 0
/** `\t` and `\n`: what a draft's text may contain. */
export const ALLOW_TAB_NEWLINE = (1 << 0x09) | (1 << 0x0a)
/** `\t`, `\n` and `\r`: what a record's content may contain (other Nostr clients write `\r\n`). */
export const ALLOW_TAB_NEWLINE_CR = ALLOW_TAB_NEWLINE | (1 << 0x0d)
/** Sentinel: every control character is allowed; only lone surrogates are refused. */
export const ALLOW_ALL_CONTROLS = -1

/**
 * Returns the UTF-8 byte length of `text`, or {@link LONE_SURROGATE} / {@link CONTROL_CHARACTER}.
 * `allowedControls` is one of the `ALLOW_*` masks.
 */
export function scanText(text: string, allowedControls: number): number {
  let bytes = 0
  const n = text.length
  const wellFormed = isWellFormedText(text)
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) {
      if ((c < 0x20 || c === 0x7f) && allowedControls !== ALLOW_ALL_CONTROLS) {
        if (c === 0x7f || (allowedControls & (1 << c)) === 0) return CONTROL_CHARACTER
      }
      bytes += 1
    } else if (c < 0x800) {
      if (c < 0xa0 && allowedControls !== ALLOW_ALL_CONTROLS) return CONTROL_CHARACTER
      bytes += 2
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // The first half of a pair (4 bytes for both), unless it is lone: reported where it is, so a
      // control character before it is reported first.
      if (!wellFormed && !isWellFormedText(text.slice(i, i + 2))) return LONE_SURROGATE
      bytes += 4
      i++
    } else {
      bytes += 3
    }
  }
  return bytes
}

/** Human words for a negative {@link scanText} result. */
export function describeScanFailure(result: number): string {
  return result === LONE_SURROGATE ? 'a lone UTF-16 surrogate' : 'a control character'
}
