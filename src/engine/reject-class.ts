/** The one mapping from why this peer refused a record to the coarse class sent on the wire. */
import type { RejectClass } from '../protocol/index.js'
import type { RejectReason } from './ingest.js'

/**
 * The wire {@link RejectClass} of an ingest reject reason: broken records (malformed, bad id, bad
 * signature...) are `invalid`; time, supersession and moderation keep their own class; anything
 * else (e.g. a missing proof of work) is `other`.
 * @example
 * ```ts
 * rejectClassOf('bad-signature') // 'invalid'
 * rejectClassOf('superseded')    // 'superseded'
 * ```
 */
export function rejectClassOf(reason: RejectReason): RejectClass {
  switch (reason) {
    case 'malformed':
    case 'invalid-field':
    case 'too-large':
    case 'not-a-record':
    case 'bad-id':
    case 'bad-signature':
      return 'invalid'
    case 'expired':
    case 'future':
    case 'superseded':
    case 'moderation':
      return reason
    default:
      return 'other'
  }
}
