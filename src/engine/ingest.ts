import type { Granularity } from '../buckets/types.js'
import { PeersetError } from '../errors.js'
import type { ModerationStrategy } from '../moderation/types.js'
import { toNostrEvent, verifyEventSignature, verifyRecord } from '../record/index.js'
import type { PeersetRecord, RecordLimits, RecordRejectReason } from '../record/types.js'
import type { RecordStore } from '../storage/types.js'
import { RecordIndex, supersedes } from './record-index.js'
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

/** Why a record left the store. */
export type RemoveReason = 'expired' | 'replaced' | 'over-quota' | 'author-banned'

/** Where a record came from. */
export type RecordOrigin = { origin: 'local' } | { origin: 'remote'; peerId: string }

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
}

export interface IngestorOptions {
  index: RecordIndex
  store: RecordStore
  granularity: Granularity
  moderation: ModerationStrategy
  limits: RecordLimits
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
  #running: Promise<void> | undefined
  #closed = false

  constructor(options: IngestorOptions) {
    this.#o = options
    this.#maxBatch = options.maxBatch ?? 100
  }

  /** Submit an untrusted event from a peer. */
  submitRemote(event: unknown, peerId: string): Promise<IngestOutcome> {
    return new Promise((resolve) => this.#enqueue({ type: 'remote', event, origin: { origin: 'remote', peerId }, resolve }))
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
    while (this.#running) await this.#running
  }

  /** Refuse new work; work already queued still completes. */
  close(): void {
    this.#closed = true
  }

  #enqueue(submission: Submission): void {
    if (this.#closed) {
      const error = new PeersetError('CLOSED', 'the peerset is closed')
      if (submission.type === 'remove') submission.resolve(0)
      else submission.resolve({ status: 'failed', id: idOf(submission), error })
      return
    }
    this.#queue.push(submission)
    if (!this.#running) {
      this.#running = this.#drain().finally(() => {
        this.#running = undefined
      })
    }
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch)
      await this.#processBatch(batch)
    }
  }

  async #processBatch(batch: Submission[]): Promise<void> {
    const { index, limits } = this.#o
    const ops: Op[] = []
    // Records staged in this batch by id and by address, so that one batch behaves like a sequence.
    const stagedById = new Map<string, PeersetRecord>()
    const stagedByAddress = new Map<string, PeersetRecord>()
    const stagedRemovals = new Set<string>()
    const currentAt = (author: string, uuid: string): PeersetRecord | undefined => {
      const staged = stagedByAddress.get(`${author}:${uuid}`)
      if (staged) return staged
      const committed = index.atAddress(author, uuid)
      return committed && !stagedRemovals.has(committed.id) ? committed : undefined
    }
    const removalResolvers: Array<{ resolve: (n: number) => void; count: number }> = []
    let lastYield = performance.now()

    for (const item of batch) {
      if (item.type === 'remove') {
        let count = 0
        for (const id of item.ids) {
          const record = stagedById.get(id) ?? index.get(id)
          if (!record || stagedRemovals.has(id)) continue
          stagedRemovals.add(id)
          stagedById.delete(id)
          if (stagedByAddress.get(`${record.author}:${record.uuid}`) === record) {
            stagedByAddress.delete(`${record.author}:${record.uuid}`)
          }
          ops.push({ type: 'remove', record, reason: item.reason })
          count++
        }
        removalResolvers.push({ resolve: item.resolve, count })
        continue
      }

      const nowMs = this.#o.now()
      let record: PeersetRecord
      if (item.type === 'remote') {
        const verdict = verifyRecord(item.event, { limits, checkSignature: false })
        if (!verdict.ok) {
          this.#reject(item, { id: idOf(item), reason: verdict.reason, message: verdict.message, permanent: true, peerFault: true })
          continue
        }
        record = verdict.record
      } else {
        record = item.record
      }

      if ((index.has(record.id) && !stagedRemovals.has(record.id)) || stagedById.has(record.id)) {
        item.resolve({ status: 'duplicate', id: record.id })
        continue
      }
      const window = checkTimeWindow(record.createdAt, nowMs, this.#o.granularity, this.#o.clockSkewMs)
      if (!window.ok) {
        this.#reject(item, { id: record.id, reason: window.reason, message: window.message, permanent: window.permanent, peerFault: false })
        continue
      }
      const current = currentAt(record.author, record.uuid)
      if (current && !supersedes(record, current)) {
        this.#reject(item, {
          id: record.id,
          reason: 'superseded',
          message: `a newer version of ${record.uuid} (${current.id}) is kept`,
          permanent: true,
          peerFault: false,
        })
        continue
      }
      if (item.type === 'remote') {
        if (!verifyEventSignature(toNostrEvent(record))) {
          this.#reject(item, { id: record.id, reason: 'bad-signature', message: 'the signature does not verify', permanent: true, peerFault: true })
          continue
        }
        // Verifying costs about a millisecond: let timers and I/O run now and then.
        if (performance.now() - lastYield > 20) {
          await yieldToEventLoop()
          lastYield = performance.now()
        }
      }
      const moderation = await this.#o.moderation.review(record, {
        nowMs,
        recordsOfAuthor: (author) => [...index.idsOfAuthor(author)].map((id) => index.get(id)!).filter(Boolean),
      })
      if (!moderation.accept) {
        this.#reject(item, {
          id: record.id,
          reason: 'moderation',
          rule: moderation.reason,
          message: moderation.message ?? `refused by moderation rule "${moderation.reason}"`,
          permanent: true,
          authorStrike: moderation.strike ?? false,
          peerFault: false,
        })
        continue
      }

      // Accepted: stage it, replacing the version it supersedes.
      const address = `${record.author}:${record.uuid}`
      ops.push({ type: 'add', record, origin: item.origin, done: item.resolve })
      if (current) {
        ops.push({ type: 'remove', record: current, reason: 'replaced', replacedBy: record })
        stagedById.delete(current.id)
        if (index.has(current.id)) stagedRemovals.add(current.id)
      }
      stagedById.set(record.id, record)
      stagedByAddress.set(address, record)
    }

    if (ops.length === 0) {
      for (const r of removalResolvers) r.resolve(r.count)
      return
    }

    // The net effect on storage: a record added and replaced within the batch is never written.
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

  #reject(
    item: Extract<Submission, { type: 'remote' | 'local' }>,
    outcome: Omit<Extract<IngestOutcome, { status: 'rejected' }>, 'status'>,
  ): void {
    const full = { status: 'rejected' as const, ...outcome }
    this.#o.listener.rejected(full, item.origin)
    item.resolve(full)
  }
}

function idOf(item: Submission): string {
  if (item.type === 'local') return item.record.id
  if (item.type === 'remote') {
    const id = (item.event as { id?: unknown } | null)?.id
    return typeof id === 'string' ? id.slice(0, 64) : ''
  }
  return ''
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0))
}
