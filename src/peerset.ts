import { dailyBuckets } from './buckets/index.js'
import type { Granularity, GranularityDescriptor } from './buckets/types.js'
import { RecordIndex } from './engine/record-index.js'
import { Ingestor, type IngestOutcome, type RecordOrigin, type RejectReason, type RemoveReason } from './engine/ingest.js'
import { DEFAULT_CLOCK_SKEW_MS } from './engine/time-window.js'
import { createEmitter, type Subscribable } from './events.js'
import { PeersetError } from './errors.js'
import { resolveSigner } from './identity/index.js'
import type { Identity, Signer } from './identity/types.js'
import { createModeration, strikeLedgerFromJSON, type StrikeLedgerOptions } from './moderation/index.js'
import type { ModerationStrategy } from './moderation/types.js'
import { createRecord, resolveLimits, toNostrEvent } from './record/index.js'
import type { NostrEvent, PeersetRecord, RecordDraft, RecordLimits } from './record/types.js'
import { indexedDbStorage, memoryStorage } from './storage/index.js'
import type { RecordStore, StorageStrategy } from './storage/types.js'
import type { TransportRoom, TransportStrategy } from './transport/types.js'
import { SyncDriver } from './engine/sync-driver.js'
import {
  clientSessionEndsAt,
  DEFAULT_CLIENT_SESSION_MS,
  PeerRegistry,
  type CloseReason,
  type SessionLimits,
  type SessionState,
  type SessionTimeouts,
} from './session/index.js'
import { BucketIndex } from './sync/index.js'
import { npubDecode, npubEncode } from './identity/index.js'

/** Options of {@link createPeerset}. Every strategy is optional and has a default. */
export interface PeersetOptions {
  /** The room: peers of the same room sync with each other. */
  room: string
  /** Who publishes: an {@link Identity}, an `nsec1...` string, or a NIP-07-shaped {@link Signer}. */
  identity: Identity | Signer | string
  /** Where records persist. Default: `indexedDbStorage()` where IndexedDB exists, else `memoryStorage()` (with a warning). */
  storage?: StorageStrategy
  /** How peers are reached. Default: none yet (local only, with a warning); pass `network.transport()` from `createMemoryNetwork()` to sync in one process. `false` means local only, without a warning. */
  transport?: TransportStrategy | false
  /** How time is cut into buckets, and the retention window. Default: `dailyBuckets()` (90 days). */
  granularity?: Granularity
  /** Which records are kept. Default: `createModeration()` (content, bad words, links, duplicates, 5 records per author). `acceptAll()` keeps every valid record. */
  moderation?: ModerationStrategy
  /** Author strikes and bans: how many strikes ban an author, and for how long. */
  strikes?: StrikeLedgerOptions
  /** Record size limits (see `DEFAULT_RECORD_LIMITS`). */
  limits?: Partial<RecordLimits>
  /** How far in the future a record may be created (clock skew), in ms. Default 5 minutes. */
  clockSkewMs?: number
  /** The clock, in ms since the epoch. Default `Date.now`. For tests and simulations. */
  clock?: () => number
  /** How often the engine checks for expired buckets and banned authors (garbage collection), in ms. Default 60 s. */
  tickIntervalMs?: number
  /** How often peer sessions and the sync are driven (timeouts, re-requests, rebroadcasts), in ms. Default 1 s. */
  sessionTickMs?: number
  /** Peer session timeouts (handshake, challenge, idle, maximum session); see `DEFAULT_SESSION_TIMEOUTS`. */
  sessionTimeouts?: Partial<SessionTimeouts>
  /** Per-peer limits (frame size, rates, strike threshold, ban time); see `DEFAULT_SESSION_LIMITS`. */
  sessionLimits?: Partial<SessionLimits>
  /** Most concurrent peers. A quarter of the places is kept for peers that have given us records before. Default 32. */
  maxPeers?: number
  /** How long this peerset stays in the room before it leaves and rejoins (fresh sessions), in ms. Default 6 h. */
  maxClientSessionMs?: number
  /** How long a dropped peer must wait before it may reconnect, in ms. Default 30 s. */
  reconnectCooldownMs?: number
  /**
   * NIP-13 proof of work (leading zero bits), off by default, so that fresh identities are not free:
   * `session` is required of every peer's session proof, `records` of every record (this peerset
   * mines its own records to match; about 2^bits hashes each).
   */
  proofOfWork?: { session?: number; records?: number }
  /** How long `close()` waits for the transport to leave before giving up, in ms. Default 5 s. */
  closeTimeoutMs?: number
}

/** A warning: something works in a degraded way (no persistence, no sync...). Also listed in `status()`. */
export interface PeersetWarning {
  code: 'no-persistence' | 'no-transport' | 'storage-fallback' | 'transport-failed' | 'persistence-denied'
  message: string
}

/** Details of a rejected record. */
export interface RejectedRecord {
  /** The record's id, if it could be computed. */
  id: string | undefined
  reason: RejectReason
  /** The moderation rule, when `reason` is `'moderation'`. */
  rule?: string
  message: string
  /** Whether the verdict can never change (a record from the future, or over a quota, may be accepted later). */
  permanent: boolean
  origin: 'local' | 'import' | 'remote'
  /** The peer it came from, for remote records. */
  peerId?: string
}

/** A peer in the room: its session state, and once it has proved its key, who it is. */
export interface PeerInfo {
  /** The transport's id of the peer. */
  peerId: string
  /** The session state (`authenticated` peers sync). */
  state: SessionState
  /** The peer's public key (hex) and npub, once it has proved it holds the key. */
  pubkey: string | undefined
  npub: string | undefined
  /** Strikes in this session (cryptographic, protocol and rate violations). */
  strikes: number
  /** When the session started (ms). */
  connectedAt: number
  /** Records received from it and added. */
  recordsReceived: number
}

/** The events of a peerset, with their listener arguments. */
export interface PeersetEvents {
  [name: string]: unknown[]
  /** One record was added (published here or received), after it was stored. */
  'record:added': [record: PeersetRecord, info: RecordOrigin]
  /** A batch of records was added in one storage transaction (handy for large catch-ups). */
  'records:added': [records: PeersetRecord[]]
  /** A record left the store. */
  'record:removed': [record: PeersetRecord, info: { reason: RemoveReason; replacedBy?: PeersetRecord }]
  /** A record was refused. */
  'record:rejected': [info: RejectedRecord]
  /** Moderation struck an author for a record (`strikes` is their total now). */
  'author:strike': [info: { author: string; recordId: string; reason: string; strikes: number }]
  /** An author reached the strike threshold: their records are removed and new ones refused until `until` (Unix seconds). */
  'author:banned': [info: { author: string; until: number }]
  /** Catching up from peers started: records are wanted. */
  'sync:started': [info: { wanted: number }]
  /** Every wanted record has arrived or been resolved: this peer is in sync with its peers as far as it knows. */
  'sync:idle': [info: { recordsAdded: number }]
  /** A peer proved its key: it syncs from now on. */
  'peer:joined': [peer: PeerInfo]
  /** A peer's session ended; `reason` says why (e.g. `granularity` or `moderation-policy` when a setting differs). */
  'peer:left': [peer: PeerInfo, info: { reason: CloseReason; detail: string }]
  /** A peer's session changed state. */
  'peer:state': [info: { peerId: string; from: SessionState; to: SessionState }]
  /** A peer broke the protocol, sent a forged record, or went over a rate limit. */
  'peer:strike': [info: { peerId: string; reason: string; count: number; detail: string }]
  /** A peer was banned (by transport id, and by key if it had proved one) until `untilMs`. */
  'peer:banned': [info: { peerId: string; pubkey: string | undefined; untilMs: number; reason: string }]
  warning: [warning: PeersetWarning]
  /** An error that did not fail a call: a storage write, a transport failure, a throwing listener. */
  error: [error: unknown]
}

/** Query of {@link Peerset.records}. Times are Unix seconds, inclusive. */
export interface RecordQuery {
  /** Only this author's records (hex public key or npub). */
  author?: string
  since?: number
  until?: number
  limit?: number
  offset?: number
}

/** A snapshot of a peerset's state. */
export interface PeersetStatus {
  room: string
  publicKey: string
  npub: string
  state: 'open' | 'closing' | 'closed'
  records: number
  authors: number
  granularity: GranularityDescriptor
  /** The buckets inside the retention window now, and how many hold records. */
  buckets: { oldest: number; newest: number; nonEmpty: number }
  storage: { name: string; persistent: boolean; persisted: boolean | undefined }
  transport: { name: string | null; joined: boolean; selfId: string | null; peers: number }
  warnings: PeersetWarning[]
}

/** A running peerset. Made by {@link createPeerset}. */
export interface Peerset extends Subscribable<PeersetEvents> {
  /** This peer's author key (hex). */
  readonly publicKey: string
  /** This peer's npub. */
  readonly npub: string
  /** Sign, validate, store and announce a record. Resolves once it is stored. */
  publish(draft: RecordDraft): Promise<PeersetRecord>
  /**
   * Check and add a signed record from elsewhere (a backup, another app): a Nostr event or a
   * {@link PeersetRecord}. It takes the same path as a record from a peer (format, id, signature,
   * time window, moderation) and is then announced to peers. Resolves with what happened; never
   * throws for bad input.
   */
  importRecord(record: NostrEvent | PeersetRecord | unknown): Promise<IngestOutcome>
  /** Current records, newest first, optionally filtered and paged. */
  records(query?: RecordQuery): PeersetRecord[]
  /** One record by id. */
  get(id: string): PeersetRecord | undefined
  /** Connected peers. */
  peers(): PeerInfo[]
  /** Counts, buckets, storage and transport state, warnings. */
  status(): PeersetStatus
  /** Resolves when every record received or published so far has been processed. */
  settled(): Promise<void>
  /** Stop timers, leave the room, flush and close storage. Idempotent; always resolves. */
  close(): Promise<void>
}

/**
 * Create a peerset: open the room's store, rebuild the indexes, join the room, and start syncing.
 *
 * @example
 * const alice = createIdentity()
 * const peerset = await createPeerset({ room: 'demo', identity: alice })
 * peerset.on('record:added', (record) => console.log(record.text))
 * await peerset.publish({ text: 'hello' })
 * await peerset.close()
 */
export async function createPeerset(options: PeersetOptions): Promise<Peerset> {
  if (typeof options !== 'object' || options === null) {
    throw new PeersetError('INVALID_ARGUMENT', 'createPeerset(options): options must be an object')
  }
  const { room } = options
  if (typeof room !== 'string' || room.length === 0 || room.length > 256) {
    throw new PeersetError('INVALID_ARGUMENT', 'createPeerset: room must be a non-empty string of at most 256 characters')
  }
  const clock = options.clock ?? Date.now
  if (typeof clock !== 'function') throw new PeersetError('INVALID_ARGUMENT', 'createPeerset: clock must be a function')
  const clockSkewMs = nonNegative(options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS, 'clockSkewMs')
  const tickIntervalMs = positive(options.tickIntervalMs ?? 60_000, 'tickIntervalMs')
  const sessionTickMs = positive(options.sessionTickMs ?? 1_000, 'sessionTickMs')
  const maxPeers = positive(options.maxPeers ?? 32, 'maxPeers')
  const maxClientSessionMs = positive(options.maxClientSessionMs ?? DEFAULT_CLIENT_SESSION_MS, 'maxClientSessionMs')
  const closeTimeoutMs = positive(options.closeTimeoutMs ?? 5_000, 'closeTimeoutMs')
  const limits = resolveLimits(options.limits)
  const recordProofOfWork = options.proofOfWork?.records ?? 0
  const granularity = options.granularity ?? dailyBuckets()
  const moderation = options.moderation ?? createModeration()
  const signer = resolveSigner(options.identity)
  const publicKey = await signerPublicKey(signer)
  const npub = npubEncode(publicKey)
  const retentionSeconds = (granularity.descriptor.intervalMs * granularity.descriptor.retentionBuckets) / 1000

  const warnings: PeersetWarning[] = []
  const events = createEmitter<PeersetEvents>((error) => events.emit('error', error))
  const warn = (warning: PeersetWarning): void => {
    warnings.push(warning)
    events.emit('warning', warning)
  }

  // Storage: the default falls back to memory (with a warning); an explicit strategy must work.
  let storageStrategy: StorageStrategy
  let store: RecordStore
  if (options.storage) {
    storageStrategy = options.storage
    if (!storageStrategy.isSupported()) {
      throw new PeersetError('INVALID_ARGUMENT', `createPeerset: storage "${storageStrategy.name}" is not supported here`)
    }
    store = await storageStrategy.open(room)
  } else {
    const idb = indexedDbStorage()
    storageStrategy = idb
    let opened: RecordStore | undefined
    if (idb.isSupported()) {
      try {
        opened = await idb.open(room)
      } catch (error) {
        warnings.push({ code: 'storage-fallback', message: `IndexedDB failed to open (${String(error)}); records are kept in memory only` })
      }
    } else {
      warnings.push({ code: 'no-persistence', message: 'IndexedDB is not available here; records are kept in memory only and will not persist' })
    }
    if (!opened) {
      storageStrategy = memoryStorage()
      opened = await storageStrategy.open(room)
    }
    store = opened
  }
  let persisted: boolean | undefined
  void store.requestPersistence().then(
    (answer) => {
      persisted = answer
      if (answer === false) warn({ code: 'persistence-denied', message: 'the browser did not grant persistent storage; records may be evicted under storage pressure' })
    },
    () => undefined,
  )

  // Rebuild the in-memory indexes from the trusted store (no signature checks).
  const buckets = new BucketIndex(granularity)
  const index = new RecordIndex(buckets)
  const expiredOnOpen: string[] = []
  {
    const { oldest } = granularity.windowAt(clock())
    for (const record of await store.loadRecords()) {
      if (granularity.bucketOf(record.createdAt * 1000) < oldest) expiredOnOpen.push(record.id)
      else if (!index.atAddress(record.author, record.uuid)) index.add(record)
    }
  }

  // Author strikes and bans persist in the store's metadata.
  const { ledger, problem } = strikeLedgerFromJSON(await store.getMeta(LEDGER_META_KEY), options.strikes)
  if (problem) {
    warnings.push({ code: 'storage-fallback', message: `the stored strike ledger was unreadable and was reset: ${problem}` })
  }

  let state: PeersetStatus['state'] = 'open'
  const peerInfo = new Map<string, PeerInfo>()
  const registry = loadRegistry(await store.getMeta(REGISTRY_META_KEY), options.reconnectCooldownMs, warnings)

  let sync: SyncDriver | undefined
  const ingestor = new Ingestor({
    index,
    store,
    granularity,
    moderation,
    ledger,
    limits,
    recordProofOfWork,
    clockSkewMs,
    now: clock,
    listener: {
      added: (record, origin) => {
        if (origin.origin === 'remote') {
          const peer = peerInfo.get(origin.peerId)
          if (peer) peer.recordsReceived++
        }
        events.emit('record:added', record, origin)
      },
      batchAdded: (records, origins) => {
        events.emit('records:added', records)
        sync?.announce(records, origins)
      },
      removed: (record, reason, replacedBy) => {
        events.emit('record:removed', record, replacedBy ? { reason, replacedBy } : { reason })
      },
      rejected: (outcome, origin) => {
        const info: RejectedRecord = { id: outcome.id, reason: outcome.reason, message: outcome.message, origin: origin.origin, permanent: outcome.permanent }
        if (outcome.rule !== undefined) info.rule = outcome.rule
        if (origin.origin === 'remote') info.peerId = origin.peerId
        events.emit('record:rejected', info)
      },
      writeFailed: (error) => events.emit('error', error),
      authorStruck: (info) => events.emit('author:strike', info),
      authorBanned: (info) => events.emit('author:banned', info),
      ledgerChanged: () => {
        store.setMeta(LEDGER_META_KEY, ledger.toJSON()).catch((error) => events.emit('error', error))
      },
    },
  })

  // Pruning: whole buckets leave the window at bucket boundaries. Garbage collection: records of
  // banned authors go, and strikes and bans that are over are forgotten.
  const prune = async (): Promise<void> => {
    const now = clock()
    const { oldest } = granularity.windowAt(now)
    const expired = buckets.idsBefore(oldest)
    if (expired.length > 0) await ingestor.remove(expired, 'expired')
    const banned: string[] = []
    for (const record of index.values()) if (ledger.isBanned(record.author, now)) banned.push(record.id)
    if (banned.length > 0) await ingestor.remove(banned, 'author-banned')
    const forgotten = ledger.expire(now)
    if (forgotten.strikes > 0 || forgotten.bans > 0) {
      await store.setMeta(LEDGER_META_KEY, ledger.toJSON()).catch((error) => events.emit('error', error))
    }
  }
  if (expiredOnOpen.length > 0) {
    // They were never indexed; delete them from storage quietly.
    store.write({ delete: expiredOnOpen }).catch((error) => events.emit('error', error))
  }

  // Transport: optional; without one the peerset is local only.
  let transportStrategy: TransportStrategy | undefined
  let roomHandle: TransportRoom | undefined
  if (options.transport === undefined) {
    warnings.push({ code: 'no-transport', message: 'no transport configured: records are kept locally and will not sync' })
  } else if (options.transport !== false) {
    transportStrategy = options.transport
    if (!transportStrategy.isSupported()) {
      warnings.push({ code: 'no-transport', message: `transport "${transportStrategy.name}" is not supported here: records will not sync` })
    } else {
      const infoOf = (peerId: string): PeerInfo => {
        let info = peerInfo.get(peerId)
        if (!info) {
          info = { peerId, state: 'connecting', pubkey: undefined, npub: undefined, strikes: 0, connectedAt: clock(), recordsReceived: 0 }
          peerInfo.set(peerId, info)
        }
        return info
      }
      sync = new SyncDriver({
        room,
        signer,
        publicKey,
        granularity: granularity.descriptor,
        moderationDigest: moderation.digest,
        buckets,
        index,
        ingestor,
        clock,
        clockSkewMs,
        registry,
        maxPeers,
        ...(options.sessionLimits ? { sessionLimits: options.sessionLimits } : {}),
        ...(options.sessionTimeouts ? { sessionTimeouts: options.sessionTimeouts } : {}),
        ...(options.proofOfWork?.session ? { proofOfWork: options.proofOfWork.session } : {}),
        onError: (error) => events.emit('error', error),
        peers: {
          state: (peerId, from, to) => {
            infoOf(peerId).state = to
            events.emit('peer:state', { peerId, from, to })
          },
          authenticated: (peerId, pubkey) => {
            const info = infoOf(peerId)
            info.pubkey = pubkey
            info.npub = npubEncode(pubkey)
            events.emit('peer:joined', { ...info })
          },
          closed: (peerId, reason, detail) => {
            const info = peerInfo.get(peerId)
            peerInfo.delete(peerId)
            if (info) events.emit('peer:left', { ...info }, { reason, detail })
          },
          strike: (peerId, reason, count, detail) => {
            infoOf(peerId).strikes = count
            events.emit('peer:strike', { peerId, reason, count, detail })
          },
          banned: (peerId, pubkey, untilMs, reason) => events.emit('peer:banned', { peerId, pubkey, untilMs, reason }),
          syncStarted: (wanted) => events.emit('sync:started', { wanted }),
          syncIdle: (recordsAdded) => events.emit('sync:idle', { recordsAdded }),
          registryChanged: (r) => {
            store.setMeta(REGISTRY_META_KEY, r.toJSON()).catch((error) => events.emit('error', error))
          },
        },
      })
      try {
        roomHandle = await transportStrategy.join(room, sync.handlers)
        sync.attach(roomHandle)
      } catch (error) {
        sync = undefined
        warnings.push({ code: 'transport-failed', message: `joining the room failed (${String(error)}): records will not sync` })
      }
    }
  }

  // Initial warnings are emitted on the next macrotask, once the caller has had a chance to subscribe.
  const initialWarnings = [...warnings]
  setTimeout(() => {
    if (state === 'open') for (const w of initialWarnings) events.emit('warning', w)
  }, 0)

  const timer = setInterval(() => void prune().catch((error) => events.emit('error', error)), tickIntervalMs)
  const sessionTimer = setInterval(() => sync?.tick(), sessionTickMs)
  unref(timer)
  unref(sessionTimer)

  // After `maxClientSessionMs` (with jitter) the peerset leaves the room and joins again, with fresh sessions.
  let rejoinTimer: ReturnType<typeof setTimeout> | undefined
  const scheduleRejoin = (): void => {
    if (!sync || !transportStrategy) return
    rejoinTimer = setTimeout(() => void rejoin(), Math.max(1_000, clientSessionEndsAt(clock(), { maxMs: maxClientSessionMs }) - clock()))
    unref(rejoinTimer)
  }
  const rejoin = async (): Promise<void> => {
    if (state !== 'open' || !sync || !transportStrategy || !roomHandle) return
    try {
      sync.detach()
      await withTimeout(roomHandle.leave(), closeTimeoutMs)
      if (state !== 'open') return
      roomHandle = await transportStrategy.join(room, sync.handlers)
      sync.attach(roomHandle)
    } catch (error) {
      roomHandle = undefined
      events.emit('error', error)
      warn({ code: 'transport-failed', message: `rejoining the room failed (${String(error)}): records will not sync` })
      return
    }
    scheduleRejoin()
  }
  scheduleRejoin()
  void prune().catch((error) => events.emit('error', error))

  let closing: Promise<void> | undefined
  const assertOpen = (what: string): void => {
    if (state !== 'open') throw new PeersetError('CLOSED', `${what}: the peerset is closed`)
  }

  const peerset: Peerset = {
    publicKey,
    npub,
    on: events.on,
    once: events.once,
    off: events.off,

    async publish(draft) {
      assertOpen('publish')
      const record = await createRecord(draft, signer, { now: Math.floor(clock() / 1000), retentionSeconds, limits, proofOfWork: recordProofOfWork })
      return settle(await ingestor.submitLocal(record), record)
    },

    importRecord(input) {
      if (state !== 'open') return Promise.resolve({ status: 'failed', id: '', error: new PeersetError('CLOSED', 'importRecord: the peerset is closed') })
      return ingestor.submitRemote(looksLikeRecord(input) ? toNostrEvent(input) : input)
    },

    records(query = {}) {
      const { author, since, until, limit, offset = 0 } = validateQuery(query)
      const source = author === undefined ? index.newestFirst() : index.newestFirst().filter((r) => r.author === author)
      const filtered = source.filter((r) => (since === undefined || r.createdAt >= since) && (until === undefined || r.createdAt <= until))
      return filtered.slice(offset, limit === undefined ? undefined : offset + limit)
    },

    get(id) {
      return typeof id === 'string' ? index.get(id) : undefined
    },

    peers() {
      return [...peerInfo.values()].map((p) => ({ ...p }))
    },

    status() {
      const window = granularity.windowAt(clock())
      return {
        room,
        publicKey,
        npub,
        state,
        records: index.size,
        authors: index.authorCount,
        granularity: { ...granularity.descriptor },
        buckets: { ...window, nonEmpty: buckets.bucketCount },
        storage: { name: storageStrategy.name, persistent: store.persistent, persisted },
        transport: {
          name: transportStrategy?.name ?? null,
          joined: roomHandle !== undefined && state === 'open',
          selfId: roomHandle?.selfId ?? null,
          peers: peerInfo.size,
        },
        warnings: [...warnings],
      }
    },

    settled: () => ingestor.idle(),

    close() {
      if (closing) return closing
      state = 'closing'
      clearInterval(timer)
      clearInterval(sessionTimer)
      if (rejoinTimer) clearTimeout(rejoinTimer)
      closing = (async () => {
        sync?.stop()
        if (roomHandle) await withTimeout(roomHandle.leave(), closeTimeoutMs).catch((e) => events.emit('error', e))
        ingestor.close()
        await ingestor.idle()
        await store.close().catch((e) => events.emit('error', e))
        state = 'closed'
        peerInfo.clear()
      })()
      return closing
    },
  }
  return peerset

  function validateQuery(query: RecordQuery): RecordQuery {
    if (typeof query !== 'object' || query === null) throw new PeersetError('INVALID_ARGUMENT', 'records(query): query must be an object')
    for (const key of Object.keys(query)) {
      if (!QUERY_KEYS.includes(key)) throw new PeersetError('INVALID_ARGUMENT', `records(query): unknown option "${key}" (known: ${QUERY_KEYS.join(', ')})`)
    }
    let { author } = query
    if (author !== undefined) author = authorKey(author)
    for (const key of ['since', 'until'] as const) {
      const v = query[key]
      if (v !== undefined && !Number.isFinite(v)) throw new PeersetError('INVALID_ARGUMENT', `records(query): ${key} must be a number (Unix seconds)`)
    }
    for (const key of ['limit', 'offset'] as const) {
      const v = query[key]
      if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new PeersetError('INVALID_ARGUMENT', `records(query): ${key} must be a non-negative integer`)
    }
    return { ...query, author }
  }
}

/** The metadata key of the strike ledger. */
const LEDGER_META_KEY = 'moderation:ledger'
/** The metadata key of the peer registry (bans and cool-downs by transport id and key). */
const REGISTRY_META_KEY = 'session:registry'

function loadRegistry(stored: unknown, reconnectCooldownMs: number | undefined, warnings: PeersetWarning[]): PeerRegistry {
  const options = reconnectCooldownMs === undefined ? {} : { cooldownMs: reconnectCooldownMs }
  if (stored === undefined) return new PeerRegistry(options)
  try {
    return PeerRegistry.fromJSON(stored, options)
  } catch (error) {
    warnings.push({ code: 'storage-fallback', message: `the stored peer bans were unreadable and were reset: ${String(error)}` })
    return new PeerRegistry(options)
  }
}

function unref(timer: unknown): void {
  ;(timer as { unref?: () => void }).unref?.()
}

const QUERY_KEYS = ['author', 'since', 'until', 'limit', 'offset']

/** The hex key of an author given as hex or npub. */
function authorKey(author: unknown): string {
  if (typeof author === 'string' && /^[0-9a-f]{64}$/.test(author)) return author
  if (typeof author === 'string' && author.startsWith('npub1')) {
    try {
      return npubDecode(author)
    } catch (cause) {
      throw new PeersetError('INVALID_ARGUMENT', `records(query): author is not a valid npub (${(cause as Error).message})`, { cause })
    }
  }
  throw new PeersetError('INVALID_ARGUMENT', 'records(query): author must be a public key (64 lowercase hex digits) or an npub')
}

/** The signer's public key, checked: a signer that fails or answers garbage is a typed error. */
async function signerPublicKey(signer: Signer): Promise<string> {
  let key: unknown
  try {
    key = await signer.getPublicKey()
  } catch (cause) {
    throw new PeersetError('SIGNER_FAILED', `createPeerset: signer.getPublicKey() failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
  if (typeof key !== 'string' || !/^[0-9a-f]{64}$/.test(key)) {
    throw new PeersetError('SIGNER_FAILED', 'createPeerset: signer.getPublicKey() did not return 64 lowercase hex digits')
  }
  return key
}

/** A PeersetRecord (not a Nostr event): converted for import, then verified like any event. */
function looksLikeRecord(value: unknown): value is PeersetRecord {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return !('pubkey' in v) && typeof v.author === 'string' && Array.isArray(v.tags) && typeof v.sig === 'string'
}

function settle(outcome: IngestOutcome, record: PeersetRecord): PeersetRecord {
  switch (outcome.status) {
    case 'added':
      return outcome.record
    case 'duplicate':
      return record
    case 'rejected':
      throw new PeersetError('INVALID_RECORD', `publish: record rejected (${outcome.reason}${outcome.rule ? `: ${outcome.rule}` : ''}): ${outcome.message}`, {
        reason: outcome.reason,
      })
    case 'failed':
      throw outcome.error
  }
}

function positive(value: number, name: string): number {
  if (!(Number.isFinite(value) && value > 0)) throw new PeersetError('INVALID_ARGUMENT', `createPeerset: ${name} must be a positive number`)
  return value
}

function nonNegative(value: number, name: string): number {
  if (!(Number.isFinite(value) && value >= 0)) throw new PeersetError('INVALID_ARGUMENT', `createPeerset: ${name} must be a non-negative number`)
  return value
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(undefined), ms)
    promise.then(
      (v) => {
        clearTimeout(t)
        resolve(v)
      },
      (e) => {
        clearTimeout(t)
        reject(e)
      },
    )
  })
}
