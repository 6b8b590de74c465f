/**
 * The single path every record takes into the store: judge (a pure decision over the committed
 * state plus the batch), commit (the batch's net effect, and the strike ledger it changed, in one
 * storage transaction), then report (the index, the ledger and every event, only after the write
 * commits, and only for what was written). Submissions are processed one batch at a time, in
 * order, so decisions always see the committed state and the store and the index never disagree.
 */
import { PeersetError } from '../errors.js'
import type { PeersetRecord } from '../record/types.js'
import type { RecordStore } from '../storage/types.js'
import type { IngestListener, IngestOutcome, RecordOrigin, RemoveReason } from './ingest-types.js'
import { claimedId, foreseeSignatures, judgeBatch, signatureRead, type JudgeContext, type Lookahead, type RecordSubmission, type Submission } from './judge.js'
import { SignatureBook } from '../verify/batch.js'
import type { SignatureCheck } from '../verify/types.js'
import { toNostrEvent } from '../record/index.js'
import { EVIDENCE_META_KEY, EVIDENCE_META_PREFIX } from './evidence.js'
import { LEDGER_META_KEY, VERSIONS_META_KEY } from './meta-keys.js'
import { reportCommitted, reportFailed } from './report.js'
import type { NetWrite, Stage } from './stage.js'

export type { IngestListener, IngestOutcome, RecordOrigin, RejectReason, Rejection, RemoveReason } from './ingest-types.js'

export interface IngestorOptions extends JudgeContext {
  store: RecordStore
  listener: IngestListener
  /** Records per storage transaction (about 100 is fastest in IndexedDB). */
  maxBatch?: number
}

export class Ingestor {
  readonly #o: IngestorOptions
  readonly #queue: Submission[] = []
  /** Submissions taken off the queue into a batch (then the judge asks for their signatures itself). */
  readonly #taken = new WeakSet<Submission>()
  readonly #maxBatch: number
  #running: Promise<void> = Promise.resolve()
  #draining = false
  #closed = false
  /**
   * Signatures checked ahead of the judge. With a verifier that runs off this thread (`concurrent`):
   * those of records queued while a batch is judged and written, so the verifier never waits for
   * the judge, the store and the network in turn. With one on this thread: only those of the next
   * batch, while a write is in flight (then this thread only waits for the store; checking any
   * earlier would delay the batch before it). Nothing is decided or reported early: the judge still
   * runs batch after batch over the committed state.
   */
  readonly #ahead: Lookahead
  /** Whether the verifier runs off this thread (then every queued record is foreseen at once). */
  readonly #concurrent: boolean
  /** Queued remote submissions whose signatures are not asked for yet. */
  #unforeseen: RecordSubmission[] = []
  /**
   * While a batch's write is in flight: the ids it puts. This thread is idle meanwhile, so the
   * next batch's signatures are checked then (see {@link #foreseeNext}); a copy of a record being
   * written is not verified again (it is judged a copy once the write commits).
   */
  #writing: ReadonlySet<string> | undefined

  constructor(options: IngestorOptions) {
    this.#o = options
    this.#maxBatch = options.maxBatch ?? 100
    const signatures = new SignatureBook(options.verifier, (error) => options.verifierFailed?.(error))
    this.#ahead = { signatures, reads: new Map() }
    this.#concurrent = options.verifier.concurrent === true
  }

  /** Submit an untrusted event from a peer (or, without `peerId`, imported by the host app). */
  submitRemote(event: unknown, peerId?: string): Promise<IngestOutcome> {
    const origin: RecordOrigin = peerId === undefined ? { origin: 'import' } : { origin: 'remote', peerId }
    return new Promise((resolve) => this.#enqueue({ type: 'remote', event, origin, resolve }))
  }

  /** Submit an untrusted event a Nostr relay served: the same path as a peer's, with the relay as its origin. */
  submitFromRelay(event: unknown, url: string): Promise<IngestOutcome> {
    return new Promise((resolve) => this.#enqueue({ type: 'remote', event, origin: { origin: 'relay', url }, resolve }))
  }

  /** Submit a signed record a peer sent as moderation evidence: it may strike its author, and is never stored as a record. */
  submitEvidence(event: unknown, peerId: string): Promise<IngestOutcome> {
    return new Promise((resolve) => this.#enqueue({ type: 'remote', event, origin: { origin: 'remote', peerId }, resolve, evidence: true }))
  }

  /** Submit a record this peer created (already signed and verified). */
  submitLocal(record: PeersetRecord): Promise<IngestOutcome> {
    return new Promise((resolve) => this.#enqueue({ type: 'local', record, origin: { origin: 'local' }, resolve }))
  }

  /** Remove records (policy garbage collection) through the same ordered queue. Resolves with how many went. */
  remove(ids: readonly string[], reason: RemoveReason): Promise<number> {
    if (ids.length === 0) return Promise.resolve(0)
    return new Promise((resolve) => this.#enqueue({ type: 'remove', ids, reason, resolve }))
  }

  /** Prune through the same ordered queue: expired buckets, banned authors' records, strikes and bans that are over. */
  maintain(): Promise<void> {
    return new Promise((resolve) => this.#enqueue({ type: 'maintain', resolve }))
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
      failAll([submission], new PeersetError('CLOSED', 'the peerset is closed'))
      return
    }
    this.#queue.push(submission)
    // With a concurrent verifier, any queued record; otherwise one of the next batch while a write is in flight.
    const early = this.#concurrent || (this.#writing !== undefined && this.#queue.length <= this.#maxBatch)
    if (early && this.#draining && submission.type === 'remote') {
      // Records of one frame arrive together: ask for their signatures in one call, after this turn.
      if (this.#unforeseen.push(submission) === 1) queueMicrotask(() => this.#foresee())
    }
    if (!this.#draining) {
      this.#draining = true
      // Started after the current synchronous turn, so submissions made together share a batch.
      this.#running = Promise.resolve().then(() => this.#drain())
    }
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch)
        for (const item of batch) this.#taken.add(item)
        try {
          await this.#process(batch)
        } catch (cause) {
          // A bug, not bad input: fail the batch loudly rather than leave its callers waiting.
          const error = new PeersetError('STORAGE_FAILED', `ingest failed unexpectedly: ${String(cause)}`, { cause })
          this.#o.listener.writeFailed(error)
          failAll(batch, error)
        }
      }
    } finally {
      // Cleared in the same synchronous step that found the queue empty: a submission that
      // arrives later always starts a new drain.
      this.#draining = false
    }
  }

  /** Ask for the signatures of the queued records not asked for yet (with a concurrent verifier). */
  #foresee(): void {
    const items = this.#unforeseen
    this.#unforeseen = []
    try {
      foreseeSignatures(items.filter((item) => !this.#taken.has(item)), this.#o, this.#ahead, this.#writing)
    } catch (cause) {
      // A bug, reported; only an early start is lost: the judge asks for every signature it needs.
      this.#o.verifierFailed?.(new PeersetError('VERIFIER_FAILED', `checking signatures early failed unexpectedly: ${String(cause)}`, { cause }))
    }
  }

  /**
   * A write is in flight: with a verifier on this thread, ask for the signatures of the next batch
   * (the queued records not asked for yet), so they are checked while the store writes.
   */
  #foreseeNext(): void {
    if (this.#concurrent) return
    for (const item of this.#queue.slice(0, this.#maxBatch)) {
      if (item.type === 'remote' && !this.#ahead.reads.has(item) && !this.#unforeseen.includes(item)) this.#unforeseen.push(item)
    }
    if (this.#unforeseen.length > 0) this.#foresee()
  }

  /** Judge, commit, report. */
  async #process(batch: Submission[]): Promise<void> {
    let judged
    try {
      judged = await judgeBatch(batch, this.#o, this.#ahead)
    } finally {
      this.#forget(batch)
    }
    const { stage, decisions } = judged
    const net = stage.netWrite()
    try {
      if (await this.#commit(stage, net)) this.#o.listener.writeSucceeded?.()
    } catch (cause) {
      const error = cause instanceof PeersetError ? cause : new PeersetError('STORAGE_FAILED', `write failed: ${String(cause)}`, { cause })
      reportFailed(decisions, error, this.#o.listener)
      return
    }
    reportCommitted(stage, net, decisions, this.#o)
  }

  /** Forget what was kept ahead for a judged batch: its reads and its signatures' answers. */
  #forget(batch: readonly Submission[]): void {
    const ahead = this.#ahead
    const checks: SignatureCheck[] = []
    for (const item of batch) {
      if (item.type !== 'remote' && item.type !== 'local') continue
      const check = signatureRead(ahead.reads.get(item))
      if (check) checks.push(check)
      ahead.reads.delete(item)
    }
    ahead.signatures.forget(checks)
  }

  /** Write the stage's net effect, with the ledger and the version memory it changed, in one transaction. Resolves whether anything was written. */
  async #commit(stage: Stage, { put, delete: del }: NetWrite): Promise<boolean> {
    const meta: Record<string, unknown> = {}
    if (stage.ledger.changed) meta[LEDGER_META_KEY] = stage.ledger.view.toJSON()
    if (stage.evidence.changes.size > 0) {
      const ids = new Set(this.#o.evidence.ids())
      for (const [id, record] of stage.evidence.changes) {
        if (record === null) ids.delete(id)
        else ids.add(id)
        meta[EVIDENCE_META_PREFIX + id] = record === null ? undefined : toNostrEvent(record)
      }
      meta[EVIDENCE_META_KEY] = [...ids].sort()
    }
    if (stage.versions.changes.size > 0) {
      const next = this.#o.versions.clone()
      next.apply(stage.versions.changes)
      meta[VERSIONS_META_KEY] = next.toJSON()
    }
    if (put.length === 0 && del.length === 0 && Object.keys(meta).length === 0) return false
    const written = this.#o.store.write({ put, delete: del, meta })
    this.#writing = new Set(put.map((record) => record.id))
    try {
      this.#foreseeNext()
      await written
    } finally {
      this.#writing = undefined
    }
    return true
  }
}

/** Answer every submission of a batch that could not be processed. */
function failAll(batch: readonly Submission[], error: PeersetError): void {
  for (const item of batch) {
    if (item.type === 'remove') item.resolve(0)
    else if (item.type === 'maintain') item.resolve()
    else item.resolve({ status: 'failed', id: (item.type === 'local' ? item.record.id : claimedId(item.event)) ?? '', error })
  }
}
