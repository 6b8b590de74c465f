/**
 * Report: after a batch's write committed, apply it to memory (the index, the strike ledger, the
 * version memory) and tell everyone, in this order: author strikes and bans, records removed and
 * added (in the order the batch made them), then each submitter's outcome. Only what was written
 * is reported: a record that a later record of the same batch displaced was never stored, so its
 * submitter hears the refusal it would have had in the other order, and nobody hears `added`.
 */
import type { PeersetError } from '../errors.js'
import type { StrikeLedger } from '../moderation/index.js'
import type { PeersetRecord } from '../record/types.js'
import type { IngestListener, IngestOutcome, RecordOrigin, Rejection } from './ingest-types.js'
import { ruleLabel, type Decision } from './judge.js'
import type { EvidenceSet } from './evidence.js'
import type { RecordIndex } from './record-index.js'
import type { Displacement, LedgerOp, NetWrite, Stage } from './stage.js'
import type { VersionMemory } from './version-memory.js'

/** What reporting changes and calls. */
export interface ReportTarget {
  index: RecordIndex
  ledger: StrikeLedger
  versions: VersionMemory
  evidence: EvidenceSet
  listener: IngestListener
  now: () => number
}

/** The batch's write committed: apply it and report it. */
export function reportCommitted(stage: Stage, { put, delete: deleted }: NetWrite, decisions: readonly Decision[], target: ReportTarget): void {
  const { index, listener } = target
  for (const id of deleted) index.remove(id)
  for (const record of put) index.add(record)
  replayLedger(stage.ledger.log, target)
  target.versions.apply(stage.versions.changes)
  target.evidence.apply(stage.evidence.changes)
  const evidence = [...stage.evidence.changes.values()].filter((r): r is PeersetRecord => r !== null)

  const added: PeersetRecord[] = []
  const origins: RecordOrigin[] = []
  for (const op of stage.ops) {
    if (op.type === 'remove') {
      if (op.committed) {
        const { reason, replacedBy } = finalRemoval(stage, op)
        listener.removed(op.record, reason, replacedBy)
      }
    } else if (stage.displacement(op.record.id) === undefined && index.has(op.record.id)) {
      listener.added(op.record, op.origin)
      added.push(op.record)
      origins.push(op.origin)
    }
  }
  // The final outcome of each record accepted into the stage, for its copies later in the batch.
  const finals = new Map<string, IngestOutcome>()
  for (const decision of decisions) {
    switch (decision.type) {
      case 'refuse':
        settle(decision.item, decision.outcome, listener)
        break
      case 'accept': {
        const displaced = stage.displacement(decision.record.id)
        const outcome: IngestOutcome = displaced ? displacedRejection(decision.record, displaced) : { status: 'added', record: decision.record }
        finals.set(decision.record.id, outcome)
        settle(decision.item, outcome, listener)
        break
      }
      case 'copy': {
        const first = decision.ofBatch ? finals.get(decision.id) : undefined
        settle(decision.item, first && first.status !== 'added' ? first : { status: 'duplicate', id: decision.id }, listener)
        break
      }
      case 'remove':
        decision.item.resolve(decision.committed)
        break
      case 'maintain':
        decision.item.resolve()
        break
    }
  }
  if (added.length > 0) listener.batchAdded(added, origins)
  if (evidence.length > 0) listener.evidenceAdded?.(evidence)
}

/**
 * The batch's write failed: nothing of it reaches memory, no strike, no ban, no record event.
 * Records refused by checks that never looked at the store (format, size, proof of work, time,
 * signature) are refused as usual; every other record fails with the write's error (transient:
 * it may be submitted again).
 */
export function reportFailed(decisions: readonly Decision[], error: PeersetError, listener: IngestListener): void {
  listener.writeFailed(error)
  for (const decision of decisions) {
    switch (decision.type) {
      case 'refuse':
        if (decision.stateless) settle(decision.item, decision.outcome, listener)
        else decision.item.resolve({ status: 'failed', id: decision.outcome.id ?? '', error })
        break
      case 'accept':
        decision.item.resolve({ status: 'failed', id: decision.record.id, error })
        break
      case 'copy':
        decision.item.resolve({ status: 'failed', id: decision.id, error })
        break
      case 'remove':
        decision.item.resolve(0)
        break
      case 'maintain':
        decision.item.resolve()
        break
    }
  }
}

function settle(item: Extract<Decision, { type: 'refuse' }>['item'], outcome: IngestOutcome, listener: IngestListener): void {
  // Evidence is not a record offered to us: its strikes and bans are reported, not its refusal.
  if (outcome.status === 'rejected' && !(item.type === 'remote' && item.evidence === true)) listener.rejected(outcome, item.origin)
  item.resolve(outcome)
}

/**
 * Why a committed record went, as far as what was written shows: a removal names the record that
 * replaced it only if that one was stored. When the replacing version was itself displaced later in
 * the batch, follow it: to the version (or tombstone) that replaced it in turn, or to the reason
 * that evicted it, which is then the older version's reason too (its address's newest version went).
 */
function finalRemoval(stage: Stage, op: Extract<Stage['ops'][number], { type: 'remove' }>): Pick<Displacement, 'reason' | 'replacedBy'> {
  let reason = op.reason
  let by = op.replacedBy
  while (by !== undefined) {
    const displaced = stage.displacement(by.id)
    if (displaced === undefined) break
    reason = displaced.reason
    by = displaced.replacedBy
  }
  if (by === undefined) return { reason }
  // A live record whose address now holds a tombstone was withdrawn, whatever came in between.
  if (by.withdrawn && !op.record.withdrawn) reason = 'withdrawn'
  return { reason, replacedBy: by }
}

/** The refusal a record displaced within its own batch would have had, had it arrived last. */
function displacedRejection(record: PeersetRecord, displaced: Displacement): Rejection {
  const base = { status: 'rejected' as const, id: record.id, peerFault: false }
  if (displaced.replacedBy) {
    return { ...base, reason: 'superseded', message: `a newer version of ${record.uuid} (${displaced.replacedBy.id}) exists`, permanent: true }
  }
  if (displaced.reason === 'author-banned') {
    return { ...base, reason: 'moderation', rule: ruleLabel('ban', 'author-banned'), message: 'the author is banned', permanent: false, authorStrike: false }
  }
  const rule = ruleLabel(displaced.rule, displaced.reason)
  return { ...base, reason: 'moderation', rule, message: `refused by moderation (${rule})`, permanent: false }
}

/** Replay the batch's ledger changes on the committed ledger, reporting strikes and bans. */
function replayLedger(log: readonly LedgerOp[], { ledger, listener, now }: ReportTarget): void {
  for (const op of log) {
    if (op.type === 'expire') {
      ledger.expire(op.nowMs)
      continue
    }
    const result = ledger.strike(op.author, op.recordId, op.createdAt, op.reason)
    if (!result.added) continue
    listener.authorStruck({ author: op.author, recordId: op.recordId, reason: op.reason, strikes: result.strikes })
    if (result.banChanged && result.ban && ledger.isBanned(op.author, now())) {
      listener.authorBanned({ author: op.author, untilMs: result.ban.until * 1000 })
    }
  }
}
