import { connectWithRelays } from './engine/relays.js'
import type { IngestOutcome } from './engine/ingest.js'
import { openLocalState } from './engine/local-state.js'
import type { RecordIndex } from './engine/record-index.js'
import { resolveOptions } from './engine/options.js'
import { Reporter } from './engine/reporter.js'
import { PeersetError } from './errors.js'
import { peersetControls, peersetStatus, type FacadeParts } from './peerset-controls.js'
import { npubDecode, npubEncode } from './identity/index.js'
import { createRecord, createWithdrawal, toNostrEvent } from './record/index.js'
import { copyDraft } from './record/create.js'
import type { PeersetRecord } from './record/types.js'
import type {
  PeerInfo,
  Peerset,
  PeersetEvents,
  PeersetOptions,
  PeersetSettings,
  PeersetSettingsChange,
  PeersetStatus,
  PeersetWarning,
  RecordQuery,
  RejectedRecord,
} from './peerset-types.js'

export type { PeerInfo, Peerset, PeersetEvents, PeersetOptions, PeersetSettings, PeersetSettingsChange, PeersetStatus, PeersetWarning, RecordQuery, RejectedRecord }

/**
 * Create a peerset: open the room's store, rebuild the indexes, join the room, and start syncing.
 * This is the public facade; the work is done by the local state (`engine/local-state.ts`) and the
 * connection to the room (`engine/connection.ts`).
 *
 * @example
 * const alice = createIdentity()
 * const peerset = await createPeerset({ room: 'demo', identity: alice })
 * peerset.on('record:added', (record) => console.log(record.text))
 * await peerset.publish({ text: 'hello' })
 * await peerset.close()
 */
export async function createPeerset(options: PeersetOptions): Promise<Peerset> {
  const config = await resolveOptions(options)
  const { clock, publicKey, signer } = config
  const npub = npubEncode(publicKey)
  const reporter = new Reporter()
  const local = await openLocalState(config, reporter)
  const connection = await connectWithRelays(config, local, reporter)
  const { events } = reporter
  const { index, ingestor } = local

  let state: PeersetStatus['state'] = 'open'
  const parts: FacadeParts = { config, local, connection, reporter, npub, state: () => state }
  reporter.goLive(() => state === 'open')
  // After the warnings held so far, on the next macrotask: the caller has the peerset by then.
  const started = local.start()
  let closing: Promise<void> | undefined
  // Aborted by close(): a signer that never answers leaves no publish() or withdraw() pending.
  const closeSignal = new AbortController()
  const assertOpen = (what: string): void => {
    if (state !== 'open') throw new PeersetError('CLOSED', `${what}: the peerset is closed`)
  }

  return {
    publicKey,
    npub,
    on: events.on,
    once: events.once,
    off: events.off,

    async publish(given) {
      assertOpen('publish')
      const draft = copyDraft(given) // read once: a throwing getter is INVALID_ARGUMENT, not a stray error
      const record = await unlessClosed(closeSignal.signal, 'publish', createRecord(draft, signer, {
        now: editTime(index, publicKey, draft, Math.floor(clock() / 1000)),
        retentionSeconds: config.retentionSeconds,
        limits: config.limits,
        proofOfWork: config.recordProofOfWork,
        room: config.room,
      }))
      return settle(await ingestor.submitLocal(record), record)
    },

    async withdraw(target) {
      assertOpen('withdraw')
      const held = withdrawalTarget(index, target, publicKey)
      if (held.withdrawn) return held
      const address = { author: held.author, uuid: held.uuid, createdAt: held.createdAt, roomHash: config.roomHash }
      const tombstone = await unlessClosed(closeSignal.signal, 'withdraw', createWithdrawal(address, signer, {
        now: Math.floor(clock() / 1000),
        retentionSeconds: config.retentionSeconds,
        limits: config.limits,
        proofOfWork: config.recordProofOfWork,
      }))
      const outcome = await ingestor.submitLocal(tombstone)
      // Older than its author's withdrawal horizon: the record it withdraws is older still, so gone too (withdrawals.ts).
      if (outcome.status === 'rejected' && outcome.rule === 'withdrawal-cap') return tombstone
      return settle(outcome, tombstone)
    },

    importRecord(input) {
      if (state !== 'open') return Promise.resolve({ status: 'failed', id: '', error: new PeersetError('CLOSED', 'importRecord: the peerset is closed') })
      return ingestor.submitRemote(asImportedEvent(input))
    },

    records(query = {}) {
      const { author, since, until, limit, offset = 0 } = validateQuery(query)
      return index.query({ author, since, until }, offset, limit)
    },

    get: (id) => {
      const record = typeof id === 'string' ? index.get(id) : undefined
      return record?.withdrawn ? undefined : record
    },
    peers: () => connection.peers(),

    status: () => peersetStatus(parts),
    ...peersetControls(parts),

    async settled() {
      await started
      await ingestor.idle()
    },

    close() {
      if (closing) return closing
      state = 'closing'
      closeSignal.abort()
      closing = (async () => {
        // Nothing here may stop the store from being flushed and closed.
        await connection.close()
        await local.close()
        state = 'closed'
      })()
      return closing
    },
  }
}

/** `step` (signing a record), or a `CLOSED` rejection as soon as the peerset closes, whichever comes first. */
function unlessClosed<T>(signal: AbortSignal, what: string, step: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onClose = (): void => reject(new PeersetError('CLOSED', `${what}: the peerset closed before the signer answered`))
    if (signal.aborted) onClose()
    else signal.addEventListener('abort', onClose, { once: true })
    step.then(
      (value) => {
        signal.removeEventListener('abort', onClose)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onClose)
        reject(error)
      },
    )
  })
}

/** Check a `records()` query; the author may be hex or an npub. */
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

/**
 * The creation time of a new record: now, or for an edit one second after the version held at that
 * address if that is not earlier (an edit in the same second as its version would lose the tie).
 */
function editTime(index: RecordIndex, publicKey: string, draft: unknown, nowSeconds: number): number {
  const uuid = typeof draft === 'object' && draft !== null ? (draft as { uuid?: unknown }).uuid : undefined
  const held = typeof uuid === 'string' ? index.atAddress(publicKey, uuid) : undefined
  return held !== undefined && held.createdAt >= nowSeconds ? held.createdAt + 1 : nowSeconds
}

/** The version `withdraw(target)` withdraws: the held record of that id, or the held version at a given record's address (else that record); this peer's own. */
function withdrawalTarget(index: RecordIndex, target: unknown, publicKey: string): PeersetRecord {
  const held = typeof target === 'string' ? index.get(target) : looksLikeRecord(target) ? (index.atAddress(target.author, target.uuid) ?? target) : undefined
  if (held === undefined) {
    throw new PeersetError('INVALID_ARGUMENT', typeof target === 'string' ? `withdraw: no record ${target} is held here` : 'withdraw: expected a record or a record id')
  }
  if (held.author !== publicKey) throw new PeersetError('INVALID_ARGUMENT', 'withdraw: only the author of a record can withdraw it')
  return held
}

/** A PeersetRecord (not a Nostr event): converted for import, then verified like any event. */
/** What `importRecord` judges: a `PeersetRecord` as its event, anything else as given. */
function asImportedEvent(input: unknown): unknown {
  try {
    return looksLikeRecord(input) ? toNostrEvent(input) : input
  } catch {
    return input // a record-like object whose fields throw when read: the judge refuses it as malformed
  }
}

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

