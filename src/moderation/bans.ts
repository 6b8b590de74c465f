/** Glue between moderation verdicts and the strike ledger, for the engine. */
import type { PeersetRecord } from '../record/types.js'
import type { Ban, StrikeLedger } from './ledger.js'
import type { ModerationVerdict } from './types.js'

/** What {@link applyVerdictToLedger} did to the author of the reviewed record. */
export interface VerdictStrikes {
  /** New strikes recorded (0 when none, or when these records had struck before). */
  readonly added: number
  /** The author's ban after the strikes, if any (it may already be over). */
  readonly ban: Ban | undefined
  /** Whether a ban started or got longer: if `ledger.isBanned(author, now)`, remove the author's records. */
  readonly banChanged: boolean
}

/**
 * Records the strikes a verdict earns: the reviewed record's if it was refused with `strike`, and
 * each evicted record's whose eviction says `strike` (a later duplicate struck whether it came
 * first or second). `recordOf` finds an evicted record (the engine's index). Call it for every
 * verified record the moderation reviewed, also while its author is banned, so that every peer
 * strikes the same records whatever it saw first.
 * @example
 * ```ts
 * const verdict = await moderation.review(record, context)
 * const { banChanged } = applyVerdictToLedger(ledger, record, verdict, (id) => index.get(id))
 * if (banChanged && ledger.isBanned(record.author, now)) await ingestor.remove(idsOf(record.author), 'author-banned')
 * ```
 */
export function applyVerdictToLedger(
  ledger: StrikeLedger,
  record: PeersetRecord,
  verdict: ModerationVerdict,
  recordOf: (id: string) => PeersetRecord | undefined = () => undefined,
): VerdictStrikes {
  let added = 0
  let banChanged = false
  const strike = (r: PeersetRecord, reason: string): void => {
    const result = ledger.strike(r.author, r.id, r.createdAt, reason)
    if (result.added) added++
    if (result.banChanged) banChanged = true
  }
  if (!verdict.accept) {
    if (verdict.strike === true) strike(record, verdict.reason)
  } else {
    for (const eviction of verdict.evict ?? []) {
      if (eviction.strike !== true) continue
      const evicted = recordOf(eviction.id)
      if (evicted !== undefined && evicted.author === record.author) strike(evicted, eviction.reason)
    }
  }
  return { added, ban: ledger.banOf(record.author), banChanged }
}

/**
 * The refusal for a record whose author is banned at `nowMs`, or `undefined` if not banned.
 * Reason `author-banned`, transient (the ban ends), no strike.
 * @example
 * ```ts
 * const banned = banVerdict(ledger, record.author, Date.now())
 * if (banned) return reject(banned)
 * ```
 */
export function banVerdict(ledger: StrikeLedger, author: string, nowMs: number): Extract<ModerationVerdict, { accept: false }> | undefined {
  if (!ledger.isBanned(author, nowMs)) return undefined
  const until = ledger.banOf(author)!.until
  return {
    accept: false,
    reason: 'author-banned',
    rule: 'ban',
    message: `the author is banned until ${new Date(until * 1000).toISOString()}`,
    strike: false,
    transient: true,
  }
}
