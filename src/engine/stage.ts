/**
 * The changes of one ingest batch, staged over the committed state: lookups see the committed
 * index plus what the batch has added and minus what it has removed, so a batch is judged exactly
 * like the same records processed one by one. Nothing here touches the committed state: the
 * ingestor writes the net effect in one transaction and applies it only after the write commits.
 */
import type { StrikeLedger, StrikeResult } from '../moderation/index.js'
import { strikeLedgerFromJSON } from '../moderation/index.js'
import type { PeersetRecord } from '../record/types.js'
import type { RecordOrigin, RemoveReason } from './ingest-types.js'
import { StagedEvidence, type EvidenceSet } from './evidence.js'
import type { RecordIndex } from './record-index.js'
import { addressOf, type VersionMemory, type VersionStamp } from './version-memory.js'

/** One staged change, in the order the batch made it. */
export type StagedOp =
  | { type: 'add'; record: PeersetRecord; origin: RecordOrigin }
  | { type: 'remove'; record: PeersetRecord; reason: RemoveReason; replacedBy?: PeersetRecord; committed: boolean }

/** A batch's net effect on storage. */
export interface NetWrite {
  put: PeersetRecord[]
  delete: string[]
}

/** Why a record added in a batch was removed again in the same batch. */
export interface Displacement {
  reason: RemoveReason
  /** The newer version that replaced it. */
  replacedBy?: PeersetRecord
  /** The moderation rule that evicted it. */
  rule?: string
}

/** A ledger change to replay on the committed ledger after the write. */
export type LedgerOp =
  | { type: 'strike'; author: string; recordId: string; createdAt: number; reason: string }
  | { type: 'expire'; nowMs: number }

export class Stage {
  readonly ops: StagedOp[] = []
  readonly #index: RecordIndex
  readonly #added = new Map<string, PeersetRecord>()
  readonly #removed = new Set<string>()
  /** Why a record added in this batch was removed again in this batch (it is never written). */
  readonly #displaced = new Map<string, Displacement>()
  readonly ledger: StagedLedger
  readonly versions: StagedVersions
  /** The signed records that earned strikes, kept to send to peers (see `evidence.ts`). */
  readonly evidence: StagedEvidence

  constructor(index: RecordIndex, ledger: StrikeLedger, versions: VersionMemory, evidence: EvidenceSet) {
    this.#index = index
    this.ledger = new StagedLedger(ledger)
    this.versions = new StagedVersions(versions)
    this.evidence = new StagedEvidence(evidence)
  }

  get(id: string): PeersetRecord | undefined {
    if (this.#removed.has(id)) return undefined
    return this.#added.get(id) ?? this.#index.get(id)
  }

  has(id: string): boolean {
    return this.get(id) !== undefined
  }

  /** Whether `id` was added earlier in this batch (live or displaced since). */
  addedInBatch(id: string): boolean {
    return this.#added.has(id) || this.#displaced.has(id)
  }

  /** Why a record added in this batch was displaced again, if it was. */
  displacement(id: string): Displacement | undefined {
    return this.#displaced.get(id)
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
    for (const record of this.#added.values()) if (record.author === author && !record.withdrawn) out.push(record)
    return out.sort(compareOldestFirst)
  }

  /** The author's tombstones (withdrawals), ordered by creation time then id. */
  withdrawalsOfAuthor(author: string): PeersetRecord[] {
    const out: PeersetRecord[] = []
    for (const id of this.#index.withdrawalsOfAuthor(author)) {
      if (!this.#removed.has(id)) out.push(this.#index.get(id)!)
    }
    for (const record of this.#added.values()) if (record.author === author && record.withdrawn) out.push(record)
    return out.sort(compareOldestFirst)
  }

  add(record: PeersetRecord, origin: RecordOrigin): void {
    this.#added.set(record.id, record)
    this.#removed.delete(record.id)
    this.#displaced.delete(record.id)
    this.ops.push({ type: 'add', record, origin })
  }

  /**
   * Stage a removal (`rule`: the moderation rule behind it, if any). Returns whether a committed
   * record goes (true), a staged one (false), or nothing was live (undefined).
   */
  remove(id: string, reason: RemoveReason, replacedBy?: PeersetRecord, rule?: string): boolean | undefined {
    const record = this.get(id)
    if (!record) return undefined
    const committed = !this.#added.has(id)
    if (!committed) this.#displaced.set(id, { reason, ...(replacedBy ? { replacedBy } : {}), ...(rule ? { rule } : {}) })
    this.#added.delete(id)
    this.#removed.add(id)
    this.ops.push(replacedBy ? { type: 'remove', record, reason, replacedBy, committed } : { type: 'remove', record, reason, committed })
    return committed
  }

  /** The net effect on storage: records added and not displaced, and committed records removed. */
  netWrite(): NetWrite {
    const put = [...this.#added.values()]
    const del = [...this.#removed].filter((id) => this.#index.has(id))
    return { put, delete: del }
  }
}

function compareOldestFirst(a: PeersetRecord, b: PeersetRecord): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

/**
 * The strike ledger as the batch sees it. Reads go to the committed ledger until the batch first
 * changes it; then to a private copy. The changes are logged, and replayed on the committed
 * ledger only after the write commits (the ledger is deterministic, so the replay reaches exactly
 * the copy's state).
 */
export class StagedLedger {
  readonly log: LedgerOp[] = []
  readonly #base: StrikeLedger
  #copy: StrikeLedger | undefined

  constructor(base: StrikeLedger) {
    this.#base = base
  }

  /** The ledger to read (and, through {@link writable}, to change). */
  get view(): StrikeLedger {
    return this.#copy ?? this.#base
  }

  get changed(): boolean {
    return this.log.length > 0
  }

  /** A ledger whose `strike` and `expire` change the batch's copy and are logged (one object per batch: the judge asks for it per record). */
  writable(): StrikeLedger {
    return (this.#writable ??= this.#makeWritable())
  }

  #writable: StrikeLedger | undefined

  #makeWritable(): StrikeLedger {
    const staged = this
    const own = (): StrikeLedger => (this.#copy ??= copyOf(this.#base))
    return Object.freeze<StrikeLedger>({
      get threshold() {
        return staged.view.threshold
      },
      get banSeconds() {
        return staged.view.banSeconds
      },
      get strikeSeconds() {
        return staged.view.strikeSeconds
      },
      strike(author, recordId, createdAt, reason): StrikeResult {
        const result = own().strike(author, recordId, createdAt, reason)
        if (result.added) staged.log.push({ type: 'strike', author, recordId, createdAt, reason })
        return result
      },
      expire(nowMs) {
        const dropped = own().expire(nowMs)
        if (dropped.strikes > 0 || dropped.bans > 0) staged.log.push({ type: 'expire', nowMs })
        return dropped
      },
      strikesOf: (author) => staged.view.strikesOf(author),
      banOf: (author) => staged.view.banOf(author),
      isBanned: (author, nowMs) => staged.view.isBanned(author, nowMs),
      toJSON: () => staged.view.toJSON(),
    })
  }
}

function copyOf(ledger: StrikeLedger): StrikeLedger {
  const options = { threshold: ledger.threshold, banSeconds: ledger.banSeconds, strikeSeconds: ledger.strikeSeconds }
  return strikeLedgerFromJSON(ledger.toJSON(), options).ledger
}

/** The memory of evicted newest versions as the batch sees it; changes are applied after the write. */
export class StagedVersions {
  readonly #base: VersionMemory
  readonly #changes = new Map<string, VersionStamp | null>()

  constructor(base: VersionMemory) {
    this.#base = base
  }

  get(author: string, uuid: string): VersionStamp | undefined {
    const key = addressOf(author, uuid)
    const staged = this.#changes.get(key)
    return staged === null ? undefined : (staged ?? this.#base.get(key))
  }

  /** Remember that `record`, the newest version of its address, left the store (not replaced, not expired). */
  evicted(record: PeersetRecord): void {
    this.#changes.set(addressOf(record.author, record.uuid), { id: record.id, createdAt: record.createdAt })
  }

  /** A version of the address is kept again: it needs no memory. */
  kept(record: PeersetRecord): void {
    const key = addressOf(record.author, record.uuid)
    if (this.#changes.has(key) || this.#base.get(key)) this.#changes.set(key, null)
  }

  /** Forget an address (its version left the retention window). */
  forget(address: string): void {
    this.#changes.set(address, null)
  }

  get changes(): ReadonlyMap<string, VersionStamp | null> {
    return this.#changes
  }
}
