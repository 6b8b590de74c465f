/**
 * Judge: decides what one ingest batch does, over the committed state plus the batch itself, and
 * changes nothing but its {@link Stage}. Cheap checks come first (format, size, room, duplicate,
 * proof of work, time window, superseded), then the signature, then moderation. The ingestor writes the
 * stage's net effect in one transaction and reports only after it commits.
 */
import type { Granularity } from '../buckets/types.js'
import { applyVerdictToLedger, banVerdict, type StrikeLedger } from '../moderation/index.js'
import type { ModerationStrategy, ModerationVerdict } from '../moderation/types.js'
import type { PeersetError } from '../errors.js'
import { hasProofOfWork, verifyRecord } from '../record/index.js'
import type { PeersetRecord, RecordLimits } from '../record/types.js'
import type { IngestOutcome, RecordOrigin, Rejection, RemoveReason } from './ingest-types.js'
import { type RecordIndex, supersedes } from './record-index.js'
import type { EvidenceSet } from './evidence.js'
import { Stage } from './stage.js'
import { isLowerHex } from '../identity/key-format.js'
import { checkTimeWindow } from './time-window.js'
import type { VersionMemory } from './version-memory.js'
import { SignatureBook } from '../verify/batch.js'
import { yieldToEventLoop } from '../verify/yield.js'
import type { SignatureCheck, VerifierStrategy } from '../verify/types.js'
import { applyWithdrawalHorizon, judgeTombstone, withdrawalBlocks } from './withdrawals.js'

/** A record submitted for ingest. */
export type RecordSubmission =
  /** `evidence`: sent by a peer as moderation evidence; only ever struck, never stored as a record. */
  | { type: 'remote'; event: unknown; origin: RecordOrigin; resolve: (o: IngestOutcome) => void; evidence?: boolean }
  | { type: 'local'; record: PeersetRecord; origin: RecordOrigin; resolve: (o: IngestOutcome) => void }

/** Anything the ingest queue runs, in order. */
export type Submission =
  | RecordSubmission
  /** Remove records (policy garbage collection). */
  | { type: 'remove'; ids: readonly string[]; reason: RemoveReason; resolve: (removed: number) => void }
  /** Prune: expired buckets, banned authors' records, strikes and bans that are over, forgotten versions. */
  | { type: 'maintain'; resolve: () => void }

/** What the judge decided for one submission. */
export type Decision =
  /** Refused. `stateless` when the verdict did not look at the store (format, proof of work, time, signature). */
  | { type: 'refuse'; item: RecordSubmission; outcome: Rejection; stateless: boolean }
  /** Accepted into the stage (it may still be displaced by a later record of the batch). */
  | { type: 'accept'; item: RecordSubmission; record: PeersetRecord }
  /** A copy of a record already committed, or accepted earlier in this batch (`ofBatch`). */
  | { type: 'copy'; item: RecordSubmission; id: string; ofBatch: boolean }
  | { type: 'remove'; item: Extract<Submission, { type: 'remove' }>; committed: number }
  | { type: 'maintain'; item: Extract<Submission, { type: 'maintain' }> }

/** What the judge reads. */
export interface JudgeContext {
  index: RecordIndex
  /** Ids per bucket, for pruning whole buckets. */
  buckets: { idsBefore(bucket: number): string[] }
  ledger: StrikeLedger
  versions: VersionMemory
  /** The signed records that earned strikes here (moderation evidence). */
  evidence: EvidenceSet
  granularity: Granularity
  moderation: ModerationStrategy
  limits: RecordLimits
  /** `roomHash` of this peerset's room: a record must carry it in its `h` tag. */
  roomHash: string
  /** NIP-13 leading zero bits required of every record's id (0 = none). */
  recordProofOfWork: number
  clockSkewMs: number
  now: () => number
  /** Checks the signatures of the records that pass the cheap checks, one call per batch. */
  verifier: VerifierStrategy
  /** A verifier failed (the batch was verified on the main thread instead). */
  verifierFailed?: (error: PeersetError) => void
}

/** Longest a moderation verdict may take before the record is refused for now (`rule-error`, transient). */
export const REVIEW_TIMEOUT_MS = 10_000

/**
 * What the ingestor keeps between batches so that a verifier off the calling thread can check the
 * signatures of queued batches early (see {@link foreseeSignatures}): the answers, and each queued
 * submission's read (so it is read once). The ingestor forgets a batch's entries once it is judged.
 */
export interface Lookahead {
  signatures: SignatureBook
  reads: Map<RecordSubmission, CachedRead>
}

/** A submission read, with the limits it was read under (read again if they changed meanwhile). */
export interface CachedRead {
  limits: RecordLimits
  read: Read
}

/**
 * Judge a batch: the decisions, in submission order, and the staged changes. The records are read
 * first, and the signatures of those that pass the cheap checks over the state at the start of the
 * batch go to the verifier in one call; then every record is judged in order exactly as if alone
 * (a signature the first pass did not foresee, e.g. of a record whose copy an earlier record of the
 * batch replaced, is verified when it is reached). With `ahead`, reads and answers asked for while
 * the batch was queued are used (and the rest are asked through the same book).
 */
export async function judgeBatch(batch: readonly Submission[], ctx: JudgeContext, ahead?: Lookahead): Promise<{ stage: Stage; decisions: Decision[] }> {
  const stage = new Stage(ctx.index, ctx.ledger, ctx.versions, ctx.evidence)
  const decisions: Decision[] = []
  const read = new Map<RecordSubmission, Read>()
  for (const item of batch) if (item.type === 'remote' || item.type === 'local') read.set(item, readOnce(item, ctx, ahead?.reads))
  const signatures = ahead?.signatures ?? new SignatureBook(ctx.verifier, (error) => ctx.verifierFailed?.(error))
  await signatures.prefetch(signaturesToCheck(read, stage, ctx))
  let lastYield = performance.now()
  for (const item of batch) {
    if (item.type === 'remove') {
      let committed = 0
      for (const id of item.ids) if (evict(stage, id, item.reason)) committed++
      decisions.push({ type: 'remove', item, committed })
    } else if (item.type === 'maintain') {
      maintain(stage, ctx)
      decisions.push({ type: 'maintain', item })
    } else {
      decisions.push(await judgeRecord(item, read.get(item)!, stage, ctx, signatures))
      // Moderation may take a while: let timers and I/O run now and then.
      if (performance.now() - lastYield > 20) {
        await yieldToEventLoop()
        lastYield = performance.now()
      }
    }
  }
  return { stage, decisions }
}

/**
 * Start checking the signatures of queued submissions that pass the cheap checks over the
 * committed state now (the judge checks again over the state its batch starts from): only what a
 * peer sent us when asked reaches here, as for the judge's own first pass. Their reads are kept in
 * `ahead.reads` for the judge. `writing`: the ids of a batch whose write is in flight (a copy of one
 * is judged a copy once it commits, so its signature is not asked for; if the write fails, the judge
 * asks for it then).
 */
export function foreseeSignatures(items: readonly RecordSubmission[], ctx: JudgeContext, ahead: Lookahead, writing?: ReadonlySet<string>): void {
  const read = new Map<RecordSubmission, Read>()
  for (const item of items) if (item.type === 'remote') read.set(item, readOnce(item, ctx, ahead.reads))
  ahead.signatures.ask(signaturesToCheck(read, new Stage(ctx.index, ctx.ledger, ctx.versions, ctx.evidence), ctx, writing))
}

/** The signature a submission's record carries, if it was read (for forgetting it). */
export function signatureRead(cached: CachedRead | undefined): SignatureCheck | undefined {
  return cached && 'record' in cached.read ? signatureOf(cached.read.record) : undefined
}

function readOnce(item: RecordSubmission, ctx: JudgeContext, reads: Map<RecordSubmission, CachedRead> | undefined): Read {
  const cached = reads?.get(item)
  if (cached && cached.limits === ctx.limits) return cached.read
  const read = readSubmission(item, ctx)
  reads?.set(item, { limits: ctx.limits, read })
  return read
}

/** A submission read: its record, or the refusal of an unreadable event. */
export type Read = { record: PeersetRecord } | { refusal: Decision }

/** What the cheap checks leave to decide about a record, after its signature. */
interface Screened {
  record: PeersetRecord
  evidence: boolean
  current: PeersetRecord | undefined
  newest: { id: string } | undefined
  stale: boolean
}

function refused(item: RecordSubmission, outcome: Omit<Rejection, 'status'>, stateless: boolean): Decision {
  return { type: 'refuse', item, outcome: { status: 'rejected', ...outcome }, stateless }
}

/** Read a submission's record: a remote event is checked for format, limits and id (not yet its signature). */
function readSubmission(item: RecordSubmission, ctx: JudgeContext): Read {
  if (item.type === 'local') return { record: item.record }
  const verdict = verifyRecord(item.event, { limits: ctx.limits, checkSignature: false })
  // Over our size limits: not a peer fault here (an import has no sender); the sync layer holds it
  // against the peer that announced and sent it, as limits are agreed in the hello (announce-fault.ts).
  if (!verdict.ok) return { refusal: refused(item, { id: claimedId(item.event), reason: verdict.reason, message: verdict.message, permanent: true, peerFault: verdict.reason !== 'too-large' }, true) }
  return { record: verdict.record }
}

/**
 * The signatures the batch will need, foreseen over the state at its start: each remote record
 * that passes the cheap checks, once per id (a later copy of the same id is usually a copy of the
 * first). Only what reaches the verifier costs a verify.
 */
function signaturesToCheck(read: ReadonlyMap<RecordSubmission, Read>, stage: Stage, ctx: JudgeContext, writing?: ReadonlySet<string>): SignatureCheck[] {
  const nowMs = ctx.now()
  const checks = new Map<string, SignatureCheck>()
  for (const [item, r] of read) {
    if (item.type !== 'remote' || !('record' in r) || checks.has(r.record.id) || writing?.has(r.record.id)) continue
    if ('record' in screen(item, r.record, stage, ctx, nowMs)) checks.set(r.record.id, signatureOf(r.record))
  }
  return [...checks.values()]
}

function signatureOf(record: PeersetRecord): SignatureCheck {
  return { id: record.id, pubkey: record.author, sig: record.sig }
}

/**
 * The cheap checks after reading, in order: room, copies, evidence age, proof of work, time window,
 * NIP-40 expiration; then whether a newer version of the address is kept (stale). Reads the stage only.
 */
function screen(item: RecordSubmission, record: PeersetRecord, stage: Stage, ctx: JudgeContext, nowMs: number): { decision: Decision } | Screened {
  const { id } = record
  const refuse = (outcome: Omit<Rejection, 'status'>, stateless: boolean): { decision: Decision } => ({ decision: refused(item, outcome, stateless) })
  // Permanent (the room tag is covered by the id). A peer that announced and served it in this room's
  // session is struck (an honest peer never holds one: imports refuse them, a store drops them on
  // open); a local import is not: see docs/protocol.md, Room.
  if (record.roomHash !== ctx.roomHash) {
    const message = record.roomHash === undefined ? 'it has no room tag ("h"): it was signed for no room' : 'it was signed for another room (its "h" tag is not this room\'s hash)'
    return refuse({ id, reason: 'wrong-room', message, permanent: true, peerFault: item.origin.origin === 'remote' || item.origin.origin === 'relay' }, true)
  }
  const evidence = item.type === 'remote' && item.evidence === true
  if (stage.addedInBatch(id)) return { decision: { type: 'copy', item, id, ofBatch: true } }
  if (stage.has(id) || (evidence && stage.evidence.has(id))) return { decision: { type: 'copy', item, id, ofBatch: false } }
  if (evidence && (record.createdAt + stage.ledger.view.strikeSeconds) * 1000 <= nowMs) {
    return refuse({ id, reason: 'not-evidence', message: 'its strike would already have expired', permanent: true, peerFault: false }, true)
  }
  const pow = ctx.recordProofOfWork
  if (pow > 0 && !hasProofOfWork(record, pow)) {
    return refuse({ id, reason: 'insufficient-pow', message: `the record's id lacks ${pow} bits of proof of work (NIP-13)`, permanent: true, peerFault: false }, true)
  }
  const window = checkTimeWindow(record.createdAt, nowMs, ctx.granularity, ctx.clockSkewMs)
  if (!window.ok) return refuse({ id, reason: window.reason, message: window.message, permanent: window.permanent, peerFault: false }, true)
  // Evidence is judged whatever its NIP-40 expiration: its strike has its own lifetime
  // (`strikeSeconds`), so whether a peer strikes never depends on when the record reached it.
  if (!evidence && isExpired(record, nowMs)) {
    return refuse({ id, reason: 'expired', message: `its NIP-40 expiration (${record.expiresAt}) has passed`, permanent: true, peerFault: false }, true)
  }
  // A newer version of this (author, uuid) is kept, or was kept and then evicted: this one is stale.
  // It is still verified and moderated (see judgeRecord): a stale version earns its own strike.
  const current = stage.currentAt(record.author, record.uuid)
  const newest = current ?? stage.versions.get(record.author, record.uuid)
  const stale = newest !== undefined && newest.id !== id && !supersedes(record, newest)
  return { record, evidence, current, newest, stale }
}

async function judgeRecord(item: RecordSubmission, read: Read, stage: Stage, ctx: JudgeContext, signatures: SignatureBook): Promise<Decision> {
  if ('refusal' in read) return read.refusal
  const nowMs = ctx.now()
  const screened = screen(item, read.record, stage, ctx, nowMs)
  if ('decision' in screened) return screened.decision
  const { record, evidence, current, newest, stale } = screened
  const { id } = record
  const refuse = (outcome: Omit<Rejection, 'status'>, stateless: boolean): Decision => refused(item, outcome, stateless)
  // Not permanent: the signature is not part of the id, so the same id with its real signature may
  // still come from an honest peer. The forwarding peer is struck.
  if (item.type === 'remote' && !(await signatures.valid(signatureOf(record)))) {
    return refuse({ id, reason: 'bad-signature', message: 'the signature does not verify', permanent: false, peerFault: true }, true)
  }
  // A withdrawal is not content: it is judged here, before moderation (its empty text is no reason
  // to refuse it), and never reviewed, struck or kept as evidence.
  if (record.withdrawn) {
    if (evidence) return refuse({ id, reason: 'not-evidence', message: 'a withdrawal is never moderation evidence', permanent: true, peerFault: false }, true)
    return judgeWithdrawal(item, record, current, stage)
  }
  // Older than the held version (or a remembered one), or kept out by a withdrawal (withdrawals.ts).
  const blocked = stale ? { reason: 'superseded' as const, message: `a newer version of ${record.uuid} (${newest!.id}) exists`, permanent: true, peerFault: false } : withdrawalBlocks(stage, record, current)

  // Moderation runs even while the author is banned, and for stale versions, so every peer strikes
  // the same records whatever order they arrived in (a version struck on arrival stays struck
  // after it is replaced, so one that arrives after its replacement must be struck too).
  const verdict = await review(ctx.moderation, record, nowMs, stage)
  const ledger = stage.ledger.writable()
  // A stale version earns only its own strike: it displaces nothing. Evidence only ever strikes itself.
  const strikes =
    blocked || evidence
      ? verdict.accept
        ? { banChanged: false }
        : applyVerdictToLedger(ledger, record, verdict)
      : applyVerdictToLedger(ledger, record, verdict, (evictedId) => stage.get(evictedId))
  keepEvidence(stage, record, verdict, blocked !== undefined || evidence)
  if (strikes.banChanged && ledger.isBanned(record.author, nowMs)) {
    for (const kept of stage.recordsOfAuthor(record.author)) evict(stage, kept.id, 'author-banned', 'ban')
  }
  if (blocked) return refuse({ id, ...blocked }, false)
  if (!evidence) rememberSetRuleRefusal(stage, record, verdict)
  const refusal = banVerdict(ledger, record.author, nowMs) ?? (verdict.accept ? undefined : verdict)
  if (refusal) {
    return refuse(
      {
        id,
        reason: 'moderation',
        rule: ruleLabel(refusal.rule, refusal.reason),
        message: refusal.message ?? `refused by moderation (${refusal.reason})`,
        permanent: refusal.transient !== true,
        authorStrike: refusal.strike ?? false,
        peerFault: false,
      },
      false,
    )
  }

  // Evidence our moderation does not strike (a lying sender, or a rule that depends on other
  // records): no strike, and it is not stored as a record either.
  if (evidence) return refuse({ id, reason: 'not-evidence', message: 'sent as moderation evidence, but our moderation does not strike it', permanent: false, peerFault: false }, false)

  // Accepted: stage it with what it displaces (the version it supersedes, moderation evictions).
  stage.add(record, item.origin)
  stage.versions.kept(record)
  if (current) stage.remove(current.id, 'replaced', record)
  for (const eviction of (verdict as Extract<ModerationVerdict, { accept: true }>).evict ?? []) evict(stage, eviction.id, eviction.reason, eviction.rule)
  return { type: 'accept', item, record }
}

/**
 * A version the quota (or the duplicate rule) refuses is the newest version seen at its address, as
 * much as one those rules evict: remember it the same way, so an older version of the address is
 * refused `superseded` here too. Otherwise what a peer keeps would depend on whether the newer
 * version arrived before or after the records that push it out (docs/moderation.md, "Edits and
 * the set rules"). Only set-rule refusals: a per-record refusal leaves the older version keepable on
 * every peer alike, and a local one (`link-check`, a failing rule) is no fact of the swarm.
 */
function rememberSetRuleRefusal(stage: Stage, record: PeersetRecord, verdict: ModerationVerdict): void {
  if (verdict.accept) return
  const setRule = (verdict.rule === 'quota' && verdict.reason === 'over-quota') || (verdict.rule === 'duplicate' && verdict.reason === 'duplicate')
  if (!setRule) return
  // The quota never refuses a version while an older one is held (the older one's place is free
  // to it); a duplicate may: the address's newest version is out, so the older one goes too.
  const current = stage.currentAt(record.author, record.uuid)
  if (current !== undefined) evict(stage, current.id, verdict.reason, verdict.rule)
  stage.versions.evicted(record)
}

/** A tombstone: the withdrawal rules decide (withdrawals.ts); accepted, it may move its author's horizon. */
function judgeWithdrawal(item: RecordSubmission, record: PeersetRecord, current: PeersetRecord | undefined, stage: Stage): Decision {
  const refusal = judgeTombstone(stage, record, current, evict)
  if (refusal) return { type: 'refuse', item, outcome: { status: 'rejected', id: record.id, ...refusal }, stateless: false }
  stage.add(record, item.origin)
  stage.versions.kept(record)
  applyWithdrawalHorizon(stage, record.author, evict)
  return { type: 'accept', item, record }
}

/**
 * Keep the signed records a verdict struck as evidence: the reviewed record if it was refused with
 * a strike, and (unless `ownOnly`) each of its author's records evicted with a strike.
 */
function keepEvidence(stage: Stage, record: PeersetRecord, verdict: ModerationVerdict, ownOnly: boolean): void {
  if (!verdict.accept) {
    if (verdict.strike === true) stage.evidence.add(record)
    return
  }
  if (ownOnly) return
  for (const eviction of verdict.evict ?? []) {
    const evicted = eviction.strike === true ? stage.get(eviction.id) : undefined
    if (evicted !== undefined && evicted.author === record.author) stage.evidence.add(evicted)
  }
}

/** Prune: whole buckets that left the window, banned authors' records, and what the ledger and the version memory may forget. */
function maintain(stage: Stage, ctx: JudgeContext): void {
  const nowMs = ctx.now()
  const { oldest } = ctx.granularity.windowAt(nowMs)
  for (const id of ctx.buckets.idsBefore(oldest)) evict(stage, id, 'expired')
  // NIP-40: a record leaves when its own expiration passes, even inside the window. Its version is
  // remembered, so an older version of its address cannot come back in its place.
  for (const id of ctx.index.expiredBy(Math.floor(nowMs / 1000))) {
    const record = stage.get(id)
    if (record) stage.versions.evicted(record)
    evict(stage, id, 'expired')
  }
  const ledger = stage.ledger.writable()
  for (const author of [...ctx.index.authors()]) if (ledger.isBanned(author, nowMs)) for (const id of [...ctx.index.idsOfAuthor(author)]) evict(stage, id, 'author-banned')
  ledger.expire(nowMs)
  // Evidence goes with its strike, or with its bucket.
  for (const record of stage.evidence.values()) {
    if ((record.createdAt + ledger.strikeSeconds) * 1000 <= nowMs || ctx.granularity.bucketOf(record.createdAt * 1000) < oldest) stage.evidence.remove(record.id)
  }
  const windowStart = Math.floor(ctx.granularity.rangeOf(oldest).startMs / 1000)
  for (const address of ctx.versions.olderThan(windowStart)) stage.versions.forget(address)
}

/**
 * Remove a live record from the stage; remember its version if it left without being replaced or
 * expiring (so an older version cannot come back). Returns whether a committed record went.
 */
function evict(stage: Stage, id: string, reason: RemoveReason, rule?: string): boolean {
  const record = stage.get(id)
  if (!record) return false
  if (reason !== 'expired' && reason !== 'replaced') stage.versions.evicted(record)
  return stage.remove(id, reason, undefined, rule) === true
}

/** The moderation verdict; a strategy that throws, answers garbage or never answers refuses the record for now (transient). */
async function review(moderation: ModerationStrategy, record: PeersetRecord, nowMs: number, stage: Stage): Promise<ModerationVerdict> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no verdict within ${REVIEW_TIMEOUT_MS} ms`)), REVIEW_TIMEOUT_MS)
    })
    const verdict = await Promise.race([Promise.resolve(moderation.review(record, { nowMs, recordsOfAuthor: (a) => stage.recordsOfAuthor(a) })), timeout])
    if (typeof verdict === 'object' && verdict !== null && typeof verdict.accept === 'boolean') return verdict
    return { accept: false, reason: 'rule-error', message: 'the moderation strategy returned no verdict', transient: true }
  } catch (error) {
    return { accept: false, reason: 'rule-error', message: `the moderation strategy failed: ${String(error)}`, transient: true }
  } finally {
    clearTimeout(timer)
  }
}

/** Whether a record's NIP-40 `expiration` is at or before `nowMs` (a record without one never expires by itself). */
export function isExpired(record: { expiresAt?: number | undefined }, nowMs: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt * 1000 <= nowMs
}

/** `reason`, or `rule:reason` when the rule's name says more. */
export function ruleLabel(rule: string | undefined, reason: string): string {
  return rule === undefined || rule === reason ? reason : `${rule}:${reason}`
}

/** The id an untrusted event claims, when it is well-formed (it is not trusted for anything else). */
export function claimedId(event: unknown): string | undefined {
  try {
    const id = (event as { id?: unknown } | null)?.id
    return isLowerHex(id, 64) ? id : undefined
  } catch {
    return undefined // a getter or proxy that throws: the event is malformed, and has no id to name
  }
}
