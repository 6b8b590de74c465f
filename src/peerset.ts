import { dailyBuckets } from './buckets/index.js'
import { RecordIndex } from './engine/record-index.js'
import { Ingestor, type IngestOutcome } from './engine/ingest.js'
import { DEFAULT_CLOCK_SKEW_MS } from './engine/time-window.js'
import { createEmitter } from './events.js'
import { PeersetError } from './errors.js'
import { resolveSigner } from './identity/index.js'
import type { Signer } from './identity/types.js'
import { createModeration, strikeLedgerFromJSON } from './moderation/index.js'
import { createRecord, resolveLimits, toNostrEvent } from './record/index.js'
import type { PeersetRecord } from './record/types.js'
import { indexedDbStorage, memoryStorage } from './storage/index.js'
import type { RecordStore, StorageStrategy } from './storage/types.js'
import type { TransportRoom, TransportStrategy } from './transport/types.js'
import { SyncDriver } from './engine/sync-driver.js'
import { recollectUnderPolicy } from './engine/policy-gc.js'
import {
  clientSessionEndsAt,
  DEFAULT_CLIENT_SESSION_MS,
  PeerRegistry,
} from './session/index.js'
import { BucketIndex } from './sync/index.js'
import { npubDecode, npubEncode } from './identity/index.js'
import type {
  PeerInfo,
  Peerset,
  PeersetEvents,
  PeersetOptions,
  PeersetStatus,
  PeersetWarning,
  RecordQuery,
  RejectedRecord,
} from './peerset-types.js'

export type { PeerInfo, Peerset, PeersetEvents, PeersetOptions, PeersetStatus, PeersetWarning, RecordQuery, RejectedRecord }

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
    if (state !== 'open') return
    const now = clock()
    const { oldest } = granularity.windowAt(now)
    const expired = buckets.idsBefore(oldest)
    if (expired.length > 0) await ingestor.remove(expired, 'expired')
    const banned: string[] = []
    for (const record of index.values()) if (ledger.isBanned(record.author, now)) banned.push(record.id)
    if (banned.length > 0) await ingestor.remove(banned, 'author-banned')
    const forgotten = ledger.expire(now)
    if ((forgotten.strikes > 0 || forgotten.bans > 0) && state === 'open') {
      await store.setMeta(LEDGER_META_KEY, ledger.toJSON()).catch((error) => events.emit('error', error))
    }
  }
  // A changed moderation policy: re-moderate what is kept, once (e.g. a lowered quota).
  if ((await store.getMeta(POLICY_META_KEY)) !== moderation.digest) {
    const hadRecords = index.size > 0
    const removals = hadRecords ? await recollectUnderPolicy(index, moderation, clock()) : new Map<string, string[]>()
    let complete = true
    for (const [reason, ids] of removals) if ((await ingestor.remove(ids, reason)) !== ids.length) complete = false
    // Marked done only when every removal was stored, so a failed write is retried on the next open.
    if (complete) await store.setMeta(POLICY_META_KEY, moderation.digest)
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
      const handle = await transportStrategy.join(room, sync.handlers)
      if (state !== 'open') {
        // close() ran while we were joining: leave the new room too, and stop here.
        await withTimeout(handle.leave(), closeTimeoutMs).catch(() => undefined)
        return
      }
      roomHandle = handle
      sync.attach(roomHandle)
    } catch (error) {
      roomHandle = undefined
      events.emit('error', error)
      warn({ code: 'transport-failed', message: `rejoining the room failed (${String(error)}): records will not sync` })
      return
    }
    if (state === 'open') scheduleRejoin()
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
        // Nothing here may stop the store from being flushed and closed.
        try {
          sync?.stop()
        } catch (error) {
          events.emit('error', error)
        }
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
/** The metadata key of the moderation policy digest the kept records were moderated with. */
const POLICY_META_KEY = 'moderation:policy'
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
