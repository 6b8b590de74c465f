/** Text normalization and record ordering shared by the built-in rules. */
import type { PeersetRecord } from '../record/types.js'
import type { ModerationContext } from './types.js'

/**
 * The text as the rules judge it: Unicode NFC, `\r\n` read as `\n` (other Nostr clients write
 * CRLF), trimmed. The stored record is never changed; this is only what the checks look at.
 * @example
 * ```ts
 * normalizeText('  Cafe\u0301\r\n') // 'Café'
 * ```
 */
export function normalizeText(text: string): string {
  return text.normalize('NFC').replace(/\r\n/g, '\n').trim()
}

/**
 * The key under which two texts count as the same post: {@link normalizeText}, case-folded
 * (upper then lower case, so `ß` and `SS` meet) and every run of whitespace collapsed to one space.
 * @example
 * ```ts
 * duplicateKey('Lost  CAT\n near the park ') === duplicateKey('lost cat near the park') // true
 * ```
 */
export function duplicateKey(text: string): string {
  return normalizeText(text).toUpperCase().toLowerCase().normalize('NFC').replace(/\s+/gu, ' ')
}

/**
 * The total order every set rule keeps the minimum of: `createdAt`, then `id`. Negative when `a`
 * comes first.
 * @example
 * ```ts
 * [...records].sort(compareRecords)[0] // the author's earliest record
 * ```
 */
export function compareRecords(a: Pick<PeersetRecord, 'createdAt' | 'id'>, b: Pick<PeersetRecord, 'createdAt' | 'id'>): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/**
 * The author's other live records, sorted by {@link compareRecords}: without the reviewed record
 * and without any version of its (author, uuid), which the engine replaces rather than adds to.
 * What the built-in set rules look at.
 * @example
 * ```ts
 * const earlier = otherRecordsOf(record, context).filter((r) => compareRecords(r, record) < 0)
 * ```
 */
export function otherRecordsOf(record: PeersetRecord, context: ModerationContext): PeersetRecord[] {
  return context
    .recordsOfAuthor(record.author)
    .filter((r) => r.id !== record.id && r.uuid !== record.uuid && r.author === record.author)
    .sort(compareRecords)
}
