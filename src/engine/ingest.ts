import type { Granularity } from '../buckets/types.js'
import { PeersetError } from '../errors.js'
import { applyVerdictToLedger, banVerdict, type StrikeLedger } from '../moderation/index.js'
import type { ModerationStrategy, ModerationVerdict } from '../moderation/types.js'
import { hasProofOfWork, toNostrEvent, verifyEventSignature, verifyRecord } from '../record/index.js'
import type { PeersetRecord, RecordLimits, RecordRejectReason } from '../record/types.js'
import type { RecordStore } from '../storage/types.js'
import { type RecordIndex, supersedes } from './record-index.js'
import { checkTimeWindow } from './time-window.js'

/** Why the engine refused a record. */
export type RejectReason =
  | RecordRejectReason
  /** Older than the retention window. */
  | 'expired'
  /** Too far in the future (beyond the clock-skew tolerance); may be accepted later. */
  | 'future'
  /** A newer version of the same (author, uuid) is already kept. */
  | 'superseded'
  /** Refused by the moderation strategy (see `rule`). */
  | 'moderation'
  /** Without the NIP-13 proof of work this peerset requires of records. */
  | 'insufficient-pow'

/** Why a record left the store: expired, replaced by a newer version, evicted by moderation (over quota, duplicate), or its author was banned. */
export type RemoveReason = 'expired' | 'replaced' | 'over-quota' | 'duplicate' | 'author-banned' | (string & {})

/** Where a record came from. */
/** Where a record came from: published here, received from a peer, or imported by the host app (`importRecord`). */
export type RecordOrigin = { origin: 'local' } | { origin: 'import' } | { origin: 'remote'; peerId: string }

/** What happened to one submitted record. */
export type IngestOutcome =
  | { status: 'added'; record: PeersetRecord }
  | { status: 'duplicate'; id: string }
  | {
      status: 'rejected'
      id: string | undefined
      reason: RejectReason
      message: string
      /** Whether the verdict can never change (a future record is not permanent). */
      permanent: boolean
      /** The moderation rule that refused it, if any. */
      rule?: string
      /** Whether the record's author earns a strike (moderation) . */
      authorStrike?: boolean
      /** Whether the forwarding peer is at fault (cryptographic or format violation). */
      peerFault: boolean
    }
  | { status: 'failed'; id: string; error: PeersetError }

/** Callbacks of the ingestor, called after a write has committed. */
export interface IngestListener {
  added(record: PeersetRecord, origin: RecordOrigin): void
  removed(record: PeersetRecord, reason: RemoveReason, replacedBy?: PeersetRecord): void
  batchAdded(records: PeersetRecord[], origins: RecordOrigin[]): void
  rejected(outcome: Extract<IngestOutcome, { status: 'rejected' }>, origin: RecordOrigin): void
  writeFailed(error: PeersetError): void
  /** The strike ledger changed (persist it). */
  ledgerChanged(): void
  /** A moderation verdict struck an author (`strikes` is their total now). */
  authorStruck(info: { author: string; recordId: string; reason: string; strikes: number }): void
  /** An author reached the strike threshold and is banned until `until` (Unix seconds). */
  authorBanned(info: { author: string; until: number }): void
}

export interface IngestorOptions {
  index: RecordIndex
  store: RecordStore
  granularity: Granularity
  moderation: ModerationStrategy
  /** Author strikes and bans; the engine persists it after a batch that changed it. */
  ledger: StrikeLedger
  limits: RecordLimits
  /** NIP-13 leading zero bits required of every record's id (0 = none). */
  recordProofOfWork?: number
  clockSkewMs: number
  now: () => number
  listener: IngestListener
  /** Records per storage transaction (about 100 is fastest in IndexedDB). */
  maxBatch?: number
}

type Submission =
  | { type: 'remote'; event: unknown; origin: RecordOrigin; resolve: (o: IngestOutcome) => void }
  | { type: 'local'; record: PeersetRecord; origin: RecordOrigin; resolve: (o: IngestOutcome) => void }
  | { type: 'remove'; ids: readonly string[]; reason: RemoveReason; resolve: (removed: number) => void }

/** One change to apply to memory after the write commits, in order. */
type Op =
  | { type: 'add'; record: PeersetRecord; origin: RecordOrigin; done: (o: IngestOutcome) => void }
  | { type: 'remove'; record: PeersetRecord; reason: RemoveReason; replacedBy?: PeersetRecord }

/**
 * The single path every record takes into the store: cheap checks (format, size, duplicate, time
 * window, superseded) before the signature check, then moderation, then one storage transaction
 * per batch, and only after it commits the in-memory index and the events. Submissions are
 * processed one batch at a time, in order, so decisions always see the committed state and the
 * store and the index never disagree.
 */
export class Ingestor {
  readonly #o: IngestorOptions
  readonly #queue: Submission[] = []
  readonly #maxBatch: number
  #running: Promise<void> = Promise.resolve()
  #draining = false
  #closed = false
  /** The newest version accepted per (author, uuid), kept after it is evicted, so an older version cannot come back. */
  readonly #newestVersion = new Map<string, { id: string; createdAt: number }>()

  constructor(options: IngestorOptions) {
    this.#o = options
    this.#maxBatch = options.maxBatch ?? 100
  }

  /** Submit an untrusted event from a peer (or, without `peerId`, imported by the host app). */
  submitRemote(event: unknown, peerId?: string): Promise<IngestOutcome> {
    const origin: RecordOrigin = peerId === undefined ? { origin: 'import' } : { origin: 'remote', peerId }
    return new Promise((resolve) => this.#enqueue({ type: 'remote', event, origin, resolve }))
  }

  /** Submit a record this peer created (already signed and verified). */
  submitLocal(record: PeersetRecord): Promise<IngestOutcome> {
    return new Promise((resolve) => this.#enqueue({ type: 'local', record, origin: { origin: 'local' }, resolve }))
  }

  /** Remove records (expiry, moderation) through the same ordered queue. Resolves with how many went. */
  remove(ids: readonly string[], reason: RemoveReason): Promise<number> {
    if (ids.length === 0) return Promise.resolve(0)
    return new Promise((resolve) => this.#enqueue({ type: 'remove', ids, reason, resolve }))
  }

  /** Resolves when everything submitted so far has been processed. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#running
  }

  /** Refuse new work; work already queued still completes. */
  close(): void {
    this.#closed = true
  }

  #enqueue(submission: Submission): void {
    if (this.#closed) {
      const error = new PeersetError('CLOSED', 'the peerset is closed')
      if (submission.type === 'remove') submission.resolve(0)
      else submission.resolve({ status: 'failed', id: idOf(submission) ?? '', error })
      return
    }
    this.#queue.push(submission)
    if (!this.#draining) {
      this.#draining = true
      this.#running = this.#drain()
    }
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch)
        try {
          await this.#processBatch(batch)
        } catch (cause) {
          // A bug, not bad input: fail the batch loudly rather than leave its callers waiting.
          const error = new PeersetError('STORAGE_FAILED', `ingest failed unexpectedly: ${String(cause)}`, { cause })
          this.#o.listener.writeFailed(error)
          for (const item of batch) {
            if (item.type === 'remove') item.resolve(0)
            else item.resolve({ status: 'failed', id: idOf(item) ?? '', error })
          }
        }
      }
    } finally {
      // Cleared in the same synchronous step that found the queue empty: a submission that
      // arrives later always starts a new drain.
      this.#draining = false
    }
  }

  async #processBatch(batch: Submission[]): Promise<void> {
    const { index, limits, ledger } = this.#o
    const stage = new Stage(index)
    const removalResolvers: Array<{ resolve: (n: number) => void; count: number }> = []
    let ledgerChanged = false
    let lastYield = performance.now()

    for (const item of batch) {
      if (item.type === 'remove') {
        let count = 0
        for (const id of item.ids) if (stage.remove(id, item.reason)) count++
        removalResolvers.push({ resolve: item.resolve, count })
        continue
      }

      const nowMs = this.#o.now()
      let record: PeersetRecord
      if (item.type === 'remote') {
        const verdict = verifyRecord(item.event, { limits, checkSignature: false })
        if (!verdict.ok) {
          // Over our size limits is not the sender's fault: its limits may be larger than ours.
          const peerFault = verdict.reason !== 'too-large'
          this.#reject(item, { id: idOf(item), reason: verdict.reason, message: verdict.message, permanent: true, peerFault })
          continue
        }
        record = verdict.record
      } else {
        record = item.record
      }

      if (stage.has(record.id)) {
        item.resolve({ status: 'duplicate', id: record.id })
        continue
      }
      const pow = this.#o.recordProofOfWork ?? 0
      if (pow > 0 && !hasProofOfWork(record, pow)) {
        this.#reject(item, {
          id: record.id,
          reason: 'insufficient-pow',
          message: `the record's id lacks ${pow} bits of proof of work (NIP-13)`,
          permanent: true,
          peerFault: false,
        })
        continue
      }
      const window = checkTimeWindow(record.createdAt, nowMs, this.#o.granularity, this.#o.clockSkewMs)
      if (!window.ok) {
        this.#reject(item, { id: record.id, reason: window.reason, message: window.message, permanent: window.permanent, peerFault: false })
        continue
      }
      // A newer version of this (author, uuid) is kept, or was kept and then evicted: this one is stale.
      const current = stage.currentAt(record.author, record.uuid)
      const newest = current ?? this.#newestVersion.get(addressOf(record))
      if (newest && newest.id !== record.id && !supersedes(record, newest)) {
        this.#reject(item, {
          id: record.id,
          reason: 'superseded',
          message: `a newer version of ${record.uuid} (${newest.id}) exists`,
          permanent: true,
          peerFault: false,
        })
        continue
      }
      if (item.type === 'remote') {
        if (!verifyEventSignature(toNostrEvent(record))) {
          // Not permanent: the signature is not part of the id, so the same id with its real
          // signature may still come from an honest peer. The forwarding peer is struck.
          this.#reject(item, { id: record.id, reason: 'bad-signature', message: 'the signature does not verify', permanent: false, peerFault: true })
          continue
        }
        // Verifying costs about a millisecond: let timers and I/O run now and then.
        if (performance.now() - lastYield > 20) {
          await yieldToEventLoop()
          lastYield = performance.now()
        }
      }

      // Moderation runs even while the author is banned, so every peer strikes the same records.
      const verdict = await this.#review(record, nowMs, stage)
      const strikes = applyVerdictToLedger(ledger, record, verdict, (id) => stage.get(id))
      if (strikes.added > 0) {
        ledgerChanged = true
        const reason = verdict.accept ? (verdict.evict?.find((e) => e.strike)?.reason ?? 'evicted') : verdict.reason
        this.#o.listener.authorStruck({ author: record.author, recordId: record.id, reason, strikes: ledger.strikesOf(record.author).length })
      }
      if (strikes.banChanged && ledger.isBanned(record.author, nowMs)) {
        this.#o.listener.authorBanned({ author: record.author, until: ledger.banOf(record.author)!.until })
        for (const kept of stage.recordsOfAuthor(record.author)) stage.remove(kept.id, 'author-banned')
      }
      const refusal = banVerdict(ledger, record.author, nowMs) ?? (verdict.accept ? undefined : verdict)
      if (refusal) {
        this.#reject(item, {
          id: record.id,
          reason: 'moderation',
          rule: refusal.rule === undefined || refusal.rule === refusal.reason ? refusal.reason : `${refusal.rule}:${refusal.reason}`,
          message: refusal.message ?? `refused by moderation (${refusal.reason})`,
          permanent: refusal.transient !== true,
          authorStrike: refusal.strike ?? false,
          peerFault: false,
        })
        continue
      }

      // Accepted: stage it with what it displaces (the version it supersedes, moderation evictions).
      stage.add(record, item.origin, item.resolve)
      if (current) stage.remove(current.id, 'replaced', record)
      for (const eviction of (verdict as Extract<ModerationVerdict, { accept: true }>).evict ?? []) {
        stage.remove(eviction.id, eviction.reason)
      }
      this.#newestVersion.set(addressOf(record), { id: record.id, createdAt: record.createdAt })
    }

    if (ledgerChanged) this.#o.listener.ledgerChanged()
    const { ops } = stage
    if (ops.length === 0) {
      for (const r of removalResolvers) r.resolve(r.count)
      return
    }

    // The net effect on storage: a record added and removed within the batch is never written.
    const net = new Map<string, PeersetRecord | null>()
    for (const op of ops) net.set(op.record.id, op.type === 'add' ? op.record : null)
    const put: PeersetRecord[] = []
    const del: string[] = []
    for (const [id, value] of net) {
      if (value) put.push(value)
      else if (index.has(id)) del.push(id)
    }

    try {
      if (put.length > 0 || del.length > 0) await this.#o.store.write({ put, delete: del })
    } catch (cause) {
      const error =
        cause instanceof PeersetError ? cause : new PeersetError('STORAGE_FAILED', `write failed: ${String(cause)}`, { cause })
      this.#o.listener.writeFailed(error)
      for (const op of ops) if (op.type === 'add') op.done({ status: 'failed', id: op.record.id, error })
      for (const r of removalResolvers) r.resolve(0)
      return
    }

    const { listener } = this.#o
    const added: PeersetRecord[] = []
    const origins: RecordOrigin[] = []
    for (const op of ops) {
      if (op.type === 'add') {
        index.add(op.record)
        added.push(op.record)
        origins.push(op.origin)
      } else {
        index.remove(op.record.id)
      }
    }
    // Events after the index is consistent, so listeners see the final state.
    for (const op of ops) {
      if (op.type === 'add') {
        listener.added(op.record, op.origin)
        op.done({ status: 'added', record: op.record })
      } else {
        listener.removed(op.record, op.reason, op.replacedBy)
      }
    }
    if (added.length > 0) listener.batchAdded(added, origins)
    for (const r of removalResolvers) r.resolve(r.count)
  }

  /** The moderation verdict; a strategy that throws refuses the record for now (transient), it never breaks ingest. */
  async #review(record: PeersetRecord, nowMs: number, stage: Stage): Promise<ModerationVerdict> {
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      // A strategy that never answers must not stall the queue (and with it publish and close).
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no verdict within ${REVIEW_TIMEOUT_MS} ms`)), REVIEW_TIMEOUT_MS)
      })
      const verdict = await Promise.race([
        Promise.resolve(this.#o.moderation.review(record, { nowMs, recordsOfAuthor: (a) => stage.recordsOfAuthor(a) })),
        timeout,
      ])
      if (typeof verdict === 'object' && verdict !== null && typeof verdict.accept === 'boolean') return verdict
      return { accept: false, reason: 'rule-error', message: 'the moderation strategy returned no verdict', transient: true }
    } catch (error) {
      return { accept: false, reason: 'rule-error', message: `the moderation strategy failed: ${String(error)}`, transient: true }
    } finally {
      clearTimeout(timer)
    }
  }

  #reject(
    item: Extract<Submission, { type: 'remote' | 'local' }>,
    outcome: Omit<Extract<IngestOutcome, { status: 'rejected' }>, 'status'>,
  ): void {
    const full = { status: 'rejected' as const, ...outcome }
    this.#o.listener.rejected(full, item.origin)
    item.resolve(full)
  }
}

/**
 * The changes of one batch, staged in order over the committed index: lookups see the committed
 * state plus what the batch has added and minus what it has removed, so a batch behaves exactly
 * like the same records processed one by one.
 */
class Stage {
  readonly ops: Op[] = []
  readonly #index: RecordIndex
  readonly #added = new Map<string, PeersetRecord>()
  readonly #removed = new Set<string>()

  constructor(index: RecordIndex) {
    this.#index = index
  }

  get(id: string): PeersetRecord | undefined {
    if (this.#removed.has(id)) return undefined
    return this.#added.get(id) ?? this.#index.get(id)
  }

  has(id: string): boolean {
    return this.get(id) !== undefined
  }

  currentAt(author: string, uuid: string): PeersetRecord | undefined {
    for (const record of this.#added.values()) {
      if (record.author === author && record.uuid === uuid) return record
    }
    const committed = this.#index.atAddress(author, uuid)
    return committed && !this.#removed.has(committed.id) ? committed : undefined
  }

  /** The author's live records, ordered by creation time then id. */
  recordsOfAuthor(author: string): PeersetRecord[] {
    const out: PeersetRecord[] = []
    for (const id of this.#index.idsOfAuthor(author)) {
      if (!this.#removed.has(id)) out.push(this.#index.get(id)!)
    }
    for (const record of this.#added.values()) if (record.author === author) out.push(record)
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  add(record: PeersetRecord, origin: RecordOrigin, done: (o: IngestOutcome) => void): void {
    this.#added.set(record.id, record)
    this.#removed.delete(record.id)
    this.ops.push({ type: 'add', record, origin, done })
  }

  /** Stage a removal; false if the record is not live. */
  remove(id: string, reason: RemoveReason, replacedBy?: PeersetRecord): boolean {
    const record = this.get(id)
    if (!record) return false
    this.#added.delete(id)
    this.#removed.add(id)
    this.ops.push(replacedBy ? { type: 'remove', record, reason, replacedBy } : { type: 'remove', record, reason })
    return true
  }
}

function addressOf(record: PeersetRecord): string {
  return `${record.author}:${record.uuid}`
}

/** The id an untrusted submission claims, when it is a well-formed id (it is not trusted for anything else). */
function idOf(item: Submission): string | undefined {
  if (item.type === 'local') return item.record.id
  if (item.type === 'remote') {
    const id = (item.event as { id?: unknown } | null)?.id
    return typeof id === 'string' && /^[0-9a-f]{64}$/.test(id) ? id : undefined
  }
  return undefined
}

/** Longest a moderation verdict may take before the record is refused for now (`rule-error`, transient). */
const REVIEW_TIMEOUT_MS = 10_000

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0))
}
