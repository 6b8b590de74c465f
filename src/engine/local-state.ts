/**
 * Opening a peerset's local state: the store (with the default's fallback to memory), the record
 * index rebuilt from it (one version per (author, uuid), nothing expired), the strike ledger, the
 * peer registry, the evicted-version memory, the ingest path, the policy re-check, and the
 * pruning timer. No network here: see `connection.ts`.
 */
import { PeersetError } from '../errors.js'
import type { StrikeLedger } from '../moderation/index.js'
import { strikeLedgerFromJSON } from '../moderation/index.js'
import type { PeersetRecord } from '../record/types.js'
import { PeerRegistry } from '../session/index.js'
import { indexedDbStorage, memoryStorage } from '../storage/index.js'
import type { RecordStore, StorageStrategy } from '../storage/types.js'
import { storageFailed } from '../storage/checks.js'
import { OPEN_STEP_TIMEOUT_MS, withinDeadline } from './deadline.js'
import { BucketIndex } from '../sync/index.js'
import { Ingestor } from './ingest.js'
import type { IngestListener, RecordOrigin } from './ingest-types.js'
import { LEDGER_META_KEY, POLICY_META_KEY, REGISTRY_META_KEY, VERSIONS_META_KEY } from './meta-keys.js'
import type { ResolvedOptions } from './options.js'
import { isExpired } from './judge.js'
import { recollectUnderPolicy } from './policy-gc.js'
import { RecordIndex } from './record-index.js'
import { StorageHealth } from './storage-health.js'
import { unref, type Reporter } from './reporter.js'
import { VersionMemory } from './version-memory.js'
import { EVIDENCE_META_KEY, EVIDENCE_META_PREFIX, EvidenceSet, evidencePerAuthor } from './evidence.js'
import { verifyRecord } from '../record/index.js'
import { isLowerHex } from '../identity/key-format.js'
import { persistenceGranted } from '../storage/persistence.js'

/** A peerset's local state, open. */
export interface LocalState {
  readonly store: RecordStore
  readonly storageName: string
  readonly index: RecordIndex
  readonly buckets: BucketIndex
  readonly ledger: StrikeLedger
  /** The signed records that earned strikes here, sent to peers as moderation evidence. */
  readonly evidence: EvidenceSet
  readonly registry: PeerRegistry
  readonly ingestor: Ingestor
  /** Whether the store works (`status().storage.state`); gates pulling records while it fails. */
  readonly health: StorageHealth
  /** Whether the browser keeps this origin's data under storage pressure (`undefined`: unknown, or not applicable). */
  persisted(): boolean | undefined
  /** Ask the browser to keep the data (see `Peerset.requestPersistence`); a `persistence-denied` warning when refused. */
  requestPersistence(): Promise<boolean | undefined>
  /** Called after each committed batch that added records (the connection announces them). */
  onRecordsAdded?: (records: PeersetRecord[], origins: RecordOrigin[]) => void
  /** Called for each record removed (any reason; tombstones too): the connection asks again for records refused for now. */
  onRecordRemoved?: (record: PeersetRecord) => void
  /** Called after each committed batch that added moderation evidence (the connection sends it to peers). */
  onEvidenceAdded?: (records: PeersetRecord[]) => void
  /**
   * Start the work that may emit events (the policy re-check), on the next macrotask, once the host
   * app has been given the peerset and could subscribe. Resolves when the re-check is over; never rejects.
   */
  start(): Promise<void>
  /** Stop pruning, finish queued ingest work, close the verifier and the store. Never throws. */
  close(): Promise<void>
}

/** Open the store of `config.room` and everything kept in it. */
export async function openLocalState(config: ResolvedOptions, reporter: Reporter): Promise<LocalState> {
  const { store, name: storageName } = await openStore(config, reporter)
  // Persistence is never requested here: without a user gesture Chromium refuses it and Firefox may
  // prompt at an odd moment. The host app asks (`peerset.requestPersistence()`); this only reads the state.
  let persisted: boolean | undefined
  if (store.persistent) void persistenceGranted().then((answer) => (persisted ??= answer))
  const health = new StorageHealth(store, reporter, config.clock)
  // The record index holds each record's creation time: the bucket index asks it instead of keeping its own map.
  const buckets: BucketIndex = new BucketIndex(config.granularity, { createdAtOf: (id: string): number | undefined => index.createdAtOf(id) })
  const index: RecordIndex = new RecordIndex(buckets)
  await loadRecords(store, index, config, reporter).catch(async (error: unknown) => {
    await store.close().catch(() => undefined)
    throw error
  })

  const { ledger, problem } = strikeLedgerFromJSON(await store.getMeta(LEDGER_META_KEY), config.given.strikes)
  if (problem) reporter.warn({ code: 'storage-fallback', message: `the stored strike ledger was unreadable and was reset: ${problem}` })
  const registry = loadRegistry(await store.getMeta(REGISTRY_META_KEY), config.given.reconnectCooldownMs, reporter)
  const versions = VersionMemory.fromJSON(await store.getMeta(VERSIONS_META_KEY))
  const evidence = await loadEvidence(store, ledger, config)

  let open = true
  const state: LocalState = {
    store,
    storageName,
    index,
    buckets,
    ledger,
    evidence,
    registry,
    ingestor: new Ingestor({ ...config, now: config.clock, index, buckets, ledger, versions, evidence, store, listener: listenerFor(reporter, () => state, health), verifierFailed: (e) => reporter.error(e) }),
    health,
    persisted: () => persisted,
    async requestPersistence() {
      const answer = await store.requestPersistence().catch(() => undefined)
      if (answer === undefined) return undefined
      persisted = answer
      if (!answer) reporter.warn({ code: 'persistence-denied', message: 'the browser did not grant persistent storage; records may be evicted under storage pressure' })
      return answer
    },
    start: () =>
      new Promise<void>((resolve) => setTimeout(resolve, 0))
        .then(() => (open ? recheckPolicy(state, config, reporter, () => open) : undefined))
        .catch((error: unknown) => {
          if (open) reporter.error(error)
        }),
    async close() {
      open = false
      clearInterval(timer)
      state.ingestor.close()
      await state.ingestor.idle()
      await Promise.resolve()
        .then(() => config.verifier.close())
        .catch((e: unknown) => reporter.error(e))
      health.close()
      await store.close().catch((e) => reporter.error(e))
    },
  }
  // Pruning: whole buckets leave the window at bucket boundaries; banned authors' records go; strikes and bans that are over are forgotten.
  const prune = (): void => {
    if (open) void state.ingestor.maintain().catch((error) => reporter.error(error))
  }
  const timer = setInterval(prune, config.tickIntervalMs)
  unref(timer)
  prune()
  return state
}

async function openStore(config: ResolvedOptions, reporter: Reporter): Promise<{ store: RecordStore; name: string }> {
  const chosen = config.given.storage
  // An explicit strategy must work; the default falls back to memory, with a warning.
  if (chosen) {
    if (!chosen.isSupported()) throw new PeersetError('INVALID_ARGUMENT', `createPeerset: storage "${chosen.name}" is not supported here`)
    return { store: await openChosen(chosen, config.room), name: chosen.name }
  }
  const idb = indexedDbStorage()
  if (idb.isSupported()) {
    try {
      return { store: await withinDeadline(idb.open(config.room), () => openTimedOut(idb.name, 'open()'), (late) => void late.close().catch(() => undefined)), name: idb.name }
    } catch (error) {
      reporter.warn({ code: 'storage-fallback', message: `IndexedDB failed to open (${String(error)}); records are kept in memory only` })
    }
  } else {
    reporter.warn({ code: 'no-persistence', message: 'IndexedDB is not available here; records are kept in memory only and will not persist' })
  }
  const memory = memoryStorage()
  return { store: await memory.open(config.room), name: memory.name }
}

/** The error for a store step that did not settle within {@link OPEN_STEP_TIMEOUT_MS}. */
function openTimedOut(name: string, step: string): PeersetError {
  const store = name === 'the' ? 'the store' : `storage "${name}"`
  const idb = name === 'indexeddb' ? ' (IndexedDB open() waits while another tab keeps an older version of the database open: close the other tabs of this app)' : ''
  return new PeersetError('STORAGE_FAILED', `createPeerset: ${store} ${step} did not settle within ${OPEN_STEP_TIMEOUT_MS / 1000} s${idb}`, { reason: 'timeout' })
}

/** The methods every store must have (checked at open: a missing one is the host's mistake, named at once). */
const STORE_METHODS = ['loadRecords', 'write', 'getMeta', 'setMeta', 'requestPersistence', 'close'] as const

/** Open a storage strategy the host passed: a failure is a `STORAGE_FAILED` (with its cause), a store missing methods an `INVALID_ARGUMENT`. */
async function openChosen(chosen: StorageStrategy, room: string): Promise<RecordStore> {
  let store: unknown
  try {
    store = await withinDeadline(Promise.resolve().then(() => chosen.open(room)), () => openTimedOut(chosen.name, 'open()'), (late) => void (late as Partial<RecordStore> | undefined)?.close?.().catch(() => undefined))
  } catch (error) {
    throw storageFailed(`storage "${chosen.name}" open()`, error)
  }
  if (typeof store !== 'object' || store === null) throw new PeersetError('INVALID_ARGUMENT', `createPeerset: storage "${chosen.name}" open() returned ${store === null ? 'null' : typeof store}, not a store`)
  const missing = STORE_METHODS.filter((method) => typeof (store as Record<string, unknown>)[method] !== 'function')
  if (missing.length > 0) throw new PeersetError('INVALID_ARGUMENT', `createPeerset: the store opened by storage "${chosen.name}" has no ${missing.map((m) => `${m}()`).join(', ')} method`)
  return store as RecordStore
}

/**
 * Rebuild the index from the trusted store (no signature checks). Records that left the window,
 * records whose NIP-40 expiration passed, records not of this room (no `h` tag or another room's:
 * written by an older build, or by another program), and all but the newest version of an
 * (author, uuid) (likewise) are deleted from the store. A store that hands its rows over in
 * batches (`loadRecords(onBatch)`) has each batch indexed as it comes, so its rows are garbage at
 * once (a young-generation collection) instead of all 100k being alive until the last is indexed.
 */
async function loadRecords(store: RecordStore, index: RecordIndex, config: ResolvedOptions, reporter: Reporter): Promise<void> {
  const loader = new RowLoader(index, config, (count) =>
    reporter.warn({ code: 'storage-corrupt', message: `the store's loadRecords() handed over ${count} rows through onBatch after it had settled: they were not loaded (a store must call onBatch before it resolves)` }),
  )
  const rows = await withinDeadline(
    Promise.resolve().then(() => store.loadRecords((batch) => loader.take(batch))),
    () => openTimedOut('the', 'loadRecords()'),
  ).finally(() => loader.stop())
  if (Array.isArray(rows)) loader.take(rows, true)
  else loader.notAnArray(rows)
  loader.warnCorrupt(reporter)
  if (loader.stale.length === 0) return
  // Never indexed, so nobody has seen them: deleted quietly. A failure leaves them for the next open.
  await store.write({ delete: loader.stale }).catch((error) => reporter.error(error))
}

/** Indexes the rows of a store as they come (see `loadRecords`), counting those that are not records. */
class RowLoader {
  readonly stale: string[] = []
  #rows = 0
  #bad = 0
  #first: string | undefined
  #notArray: string | undefined
  #stopped = false
  readonly #oldest: number
  readonly #nowMs: number

  constructor(
    readonly index: RecordIndex,
    readonly config: ResolvedOptions,
    /** Rows handed over after `loadRecords()` settled (or timed out): not loaded, reported. */
    readonly late: (count: number) => void,
  ) {
    this.#nowMs = config.clock()
    this.#oldest = config.granularity.windowAt(this.#nowMs).oldest
  }

  /** Index a batch of rows (ignored once loading is over: a store still calling back after its deadline). */
  take(rows: unknown, returned = false): void {
    if (!Array.isArray(rows)) return
    if (this.#stopped && !returned) {
      this.late(rows.length)
      return
    }
    for (let i = 0; i < rows.length; i++) {
      const row: unknown = rows[i]
      if (isStoredRecord(row)) this.#add(row)
      else {
        this.#bad++
        this.#first ??= firstBad(row, this.#rows + i)
      }
    }
    this.#rows += rows.length
  }

  stop(): void {
    this.#stopped = true
  }

  notAnArray(rows: unknown): void {
    this.#notArray = rows === null ? 'null' : typeof rows
  }

  #add(record: PeersetRecord): void {
    const { index, config } = this
    if (config.granularity.bucketOf(record.createdAt * 1000) < this.#oldest || isExpired(record, this.#nowMs) || record.roomHash !== config.roomHash) {
      this.stale.push(record.id)
      return
    }
    const leftOut = index.addNewest(record)
    if (leftOut !== undefined) this.stale.push(leftOut)
  }

  /** One warning for the rows of the store that are not records (skipped: neither loaded nor served), naming the first. */
  warnCorrupt(reporter: Reporter): void {
    if (this.#notArray !== undefined) {
      reporter.warn({ code: 'storage-corrupt', message: `the store's loadRecords() returned ${this.#notArray}, not an array: no records were loaded` })
    } else if (this.#bad > 0) {
      reporter.warn({ code: 'storage-corrupt', message: `${this.#bad} of ${this.#rows} rows in storage are not well-formed records and were skipped (first: ${this.#first})` })
    }
  }
}

function firstBad(row: unknown, i: number): string {
  const id = (row as { id?: unknown } | null)?.id
  return typeof id === 'string' ? `id ${JSON.stringify(id.slice(0, 64))}` : `row ${i} (no id)`
}


/** Whether a row read from storage has the shape of a record (no hash or signature check: the store is trusted). */
function isStoredRecord(row: unknown): row is PeersetRecord {
  if (typeof row !== 'object' || row === null) return false
  // Plain property reads and loops, no closures: this runs for every row on open.
  const r = row as Partial<Record<keyof PeersetRecord, unknown>>
  const { roomHash, link, expiresAt, createdAt } = r
  return (
    isLowerHex(r.id, 64) && isLowerHex(r.author, 64) && isLowerHex(r.sig, 128) &&
    typeof r.uuid === 'string' && typeof r.text === 'string' && Number.isSafeInteger(createdAt) && (createdAt as number) >= 0 &&
    areTags(r.tags) && (roomHash === undefined || typeof roomHash === 'string') && (link === undefined || typeof link === 'string') &&
    (expiresAt === undefined || Number.isFinite(expiresAt))
  )
}

/** Whether `tags` is an array of arrays of strings. */
function areTags(tags: unknown): boolean {
  if (!Array.isArray(tags)) return false
  for (const tag of tags as unknown[]) {
    if (!Array.isArray(tag)) return false
    for (const value of tag as unknown[]) if (typeof value !== 'string') return false
  }
  return true
}

/**
 * A changed moderation policy: re-moderate what is kept, once (e.g. a lowered quota). Runs after
 * `createPeerset` resolved (see `start`), so it cannot hold it up and its `record:removed` events
 * reach the app; each review has a time limit. Stops when the peerset closes (`keepGoing`).
 */
async function recheckPolicy(state: LocalState, config: ResolvedOptions, reporter: Reporter, keepGoing: () => boolean): Promise<void> {
  const { store, index, ingestor } = state
  if ((await store.getMeta(POLICY_META_KEY)) === config.moderation.digest) return
  const { removals, complete } = index.size > 0 ? await recollectUnderPolicy(index, config.moderation, config.clock(), { keepGoing }) : { removals: new Map<string, string[]>(), complete: true }
  let stored = complete
  for (const [reason, ids] of removals) if ((await ingestor.remove(ids, reason)) !== ids.length) stored = false
  if (!keepGoing()) return
  if (!complete) {
    reporter.warn({
      code: 'policy-recheck',
      message: 'the moderation strategy failed or gave no verdict in time for some kept records while re-checking them under the changed policy: they are kept, and the re-check runs again on the next open',
    })
  }
  // Marked done only when every record got a verdict and every removal was stored, so it is retried on the next open otherwise.
  if (stored) await store.setMeta(POLICY_META_KEY, config.moderation.digest)
}

/**
 * The moderation evidence kept in the store (written by us: no signature checks). Evidence whose
 * strike the ledger no longer holds is left for the first prune; unreadable entries are skipped.
 */
async function loadEvidence(store: RecordStore, ledger: StrikeLedger, config: ResolvedOptions): Promise<EvidenceSet> {
  const evidence = new EvidenceSet(evidencePerAuthor(ledger.threshold))
  const ids = await store.getMeta(EVIDENCE_META_KEY)
  if (!Array.isArray(ids)) return evidence
  const loaded = new Map<string, PeersetRecord>()
  for (const id of ids.slice(0, evidence.max)) {
    if (typeof id !== 'string') continue
    const verdict = verifyRecord(await store.getMeta(EVIDENCE_META_PREFIX + id), { limits: config.limits, checkSignature: false })
    if (verdict.ok && verdict.record.id === id) loaded.set(id, verdict.record)
  }
  evidence.apply(loaded)
  return evidence
}

function loadRegistry(stored: unknown, reconnectCooldownMs: number | undefined, reporter: Reporter): PeerRegistry {
  const options = reconnectCooldownMs === undefined ? {} : { cooldownMs: reconnectCooldownMs }
  if (stored === undefined) return new PeerRegistry(options)
  try {
    return PeerRegistry.fromJSON(stored, options)
  } catch (error) {
    reporter.warn({ code: 'storage-fallback', message: `the stored peer bans were unreadable and were reset: ${String(error)}` })
    return new PeerRegistry(options)
  }
}

/** The ingest path's reports, as the peerset's events. */
function listenerFor(reporter: Reporter, state: () => LocalState, health: StorageHealth): IngestListener {
  const { events } = reporter
  return {
    // Tombstones (withdrawals) are stored and synced, but the app never sees them: no record
    // events for them; a record they withdraw is removed with reason `withdrawn`.
    added: (record, origin) => {
      if (!record.withdrawn) events.emit('record:added', record, origin)
    },
    batchAdded: (records, origins) => {
      const visible = records.filter((r) => !r.withdrawn)
      if (visible.length > 0) events.emit('records:added', visible)
      state().onRecordsAdded?.(records, origins)
    },
    removed: (record, reason, replacedBy) => {
      if (!record.withdrawn) events.emit('record:removed', record, replacedBy && !replacedBy.withdrawn ? { reason, replacedBy } : { reason })
      state().onRecordRemoved?.(record)
    },
    rejected: (outcome, origin) => {
      events.emit('record:rejected', {
        id: outcome.id,
        reason: outcome.reason,
        message: outcome.message,
        origin: origin.origin,
        permanent: outcome.permanent,
        ...(outcome.rule !== undefined ? { rule: outcome.rule } : {}),
        ...(origin.origin === 'remote' ? { peerId: origin.peerId } : {}),
        ...(origin.origin === 'relay' ? { relay: origin.url } : {}),
      })
    },
    writeFailed: (error) => {
      health.writeFailed(error)
      reporter.error(error)
    },
    writeSucceeded: () => health.writeSucceeded(),
    authorStruck: (info) => events.emit('author:strike', info),
    authorBanned: (info) => events.emit('author:banned', info),
    evidenceAdded: (records) => state().onEvidenceAdded?.(records),
  }
}
