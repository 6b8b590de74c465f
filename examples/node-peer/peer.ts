/**
 * A headless Peerset peer: one Node process, real WebRTC (node-datachannel), a durable LevelDB store.
 * It joins a room through trackers (or Nostr relays), publishes what it is told to, syncs with every
 * peer it meets, and prints one JSON line per event on stdout (for people: pipe it through `jq`; for
 * programs: see examples/node-peer/README.md). It runs until SIGINT/SIGTERM.
 *
 *   tsx examples/node-peer/peer.ts --room my-board --tracker ws://127.0.0.1:8000 --store ./data \
 *       --publish "Lost keys, blue keyring" --publish "Free apples"
 *
 * Every option can also come from the environment: PEERSET_ROOM, PEERSET_TRACKER (comma-separated),
 * PEERSET_STORE, PEERSET_NSEC, PEERSET_NAME, PEERSET_STRATEGY.
 */
import { performance as nodePerformance } from 'node:perf_hooks'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  acceptAll,
  createIdentity,
  createPeerset,
  identityFromNsec,
  isPeersetError,
  memoryStorage,
  nostrRelays,
  trysteroTransport,
  type Identity,
  type PeersetRecord,
  type StorageStrategy,
  type TransportStrategy,
  type VerifierStrategy,
  createRecord,
  workerVerifier,
} from '../../src/index.js'
import { levelStorage, nodeRtc } from '../../src/node/index.js'
import { WebSocket } from 'ws'

const USAGE = `usage: peer.ts --room <room> --tracker <ws-url> [--tracker <ws-url>...] [--store <folder>] [--nsec <nsec1...>]
  [--name <label>] [--strategy torrent|nostr] [--publish <text>...] [--bulk <n>] [--edit <text>] [--edit-after-ms <ms>]
  [--accept-all] [--workers <n>] [--bind <ip>] [--status-ms <ms>] [--list-ids] [--relay <ws-url>...] [--relay-publish own|kept]`

const { values: args } = parseArgs({
  options: {
    room: { type: 'string', default: process.env['PEERSET_ROOM'] },
    tracker: { type: 'string', multiple: true, default: process.env['PEERSET_TRACKER']?.split(',').filter(Boolean) ?? [] },
    strategy: { type: 'string', default: process.env['PEERSET_STRATEGY'] ?? 'torrent' },
    store: { type: 'string', default: process.env['PEERSET_STORE'] },
    nsec: { type: 'string', default: process.env['PEERSET_NSEC'] },
    name: { type: 'string', default: process.env['PEERSET_NAME'] ?? 'peer' },
    // Records to publish once started (each one a record; a refused one is reported, not fatal).
    publish: { type: 'string', multiple: true, default: [] },
    // Publish this many generated records at once (for catch-up tests and benchmarks).
    bulk: { type: 'string', default: '0' },
    // Edit (same uuid, new text) the first record published by --publish, after --edit-after-ms.
    edit: { type: 'string' },
    'edit-after-ms': { type: 'string', default: '3000' },
    // Keep every valid record (no quota, no word list): every peer of a room must agree on this.
    'accept-all': { type: 'boolean', default: false },
    // Verify signatures in a pool of this many worker threads (workerVerifier); 0: on the main thread.
    workers: { type: 'string', default: '0' },
    bind: { type: 'string', default: '127.0.0.1' },
    'status-ms': { type: 'string', default: '1000' },
    // Print every stored record id in the `ready` line (to check what survived a restart).
    'list-ids': { type: 'boolean', default: false },
    // Nostr relays as always-on peers (nostrRelays): records are published to them and back-filled from them.
    relay: { type: 'string', multiple: true, default: process.env['PEERSET_RELAY']?.split(',').filter(Boolean) ?? [] },
    // What goes to the relays: this peer's own records (default), or every record it keeps.
    'relay-publish': { type: 'string', default: 'own' },
    help: { type: 'boolean', default: false },
  },
})

if (args.help || !args.room || args.tracker.length === 0) {
  console.error(USAGE)
  process.exit(args.help ? 0 : 2)
}

const started = performance.now()
const name = args.name
/** Lines not written yet: written together once per turn of the event loop (one write for a whole ingest batch's lines). */
let unwritten: string[] = []
const flush = (): void => {
  if (unwritten.length === 0) return
  const out = unwritten.join('')
  unwritten = []
  process.stdout.write(out)
}
process.on('exit', flush)
/** One event, as one JSON line: `t` is ms since this process started (when it happened, not when it is written). */
const say = (event: string, fields: Record<string, unknown> = {}): void => {
  if (unwritten.push(`${JSON.stringify({ t: Math.round(performance.now() - started), name, event, ...fields })}\n`) === 1) setImmediate(flush)
}
/**
 * The live record ids, kept up to date from `record:added` and `record:removed` (tombstones are never
 * reported, nor counted by `records()`), with their digest: the XOR of every id's first 16 hex digits
 * (ids are SHA-256 hashes), so neither the set nor its digest is rebuilt for every `status` line.
 */
class IdSet {
  readonly ids = new Set<string>()
  #high = 0
  #low = 0
  add(id: string): void {
    if (this.ids.has(id)) return
    this.ids.add(id)
    this.#toggle(id)
  }
  delete(id: string): void {
    if (this.ids.delete(id)) this.#toggle(id)
  }
  #toggle(id: string): void {
    this.#high = (this.#high ^ parseInt(id.slice(0, 8), 16)) >>> 0
    this.#low = (this.#low ^ parseInt(id.slice(8, 16), 16)) >>> 0
  }
  get digest(): string {
    return this.#high.toString(16).padStart(8, '0') + this.#low.toString(16).padStart(8, '0')
  }
}
/** The digest of a set of records (what two peers that hold the same set print alike). */
const digestOf = (records: readonly PeersetRecord[]): string => {
  const set = new IdSet()
  for (const record of records) set.add(record.id)
  return set.digest
}
const short = (text: string): string => (text.length > 60 ? `${text.slice(0, 57)}...` : text)

/** The identity: --nsec, else the one saved in the store folder, else a new one (saved there). */
function loadIdentity(): Identity {
  if (args.nsec) return identityFromNsec(args.nsec)
  if (!args.store) return createIdentity()
  const file = join(args.store, 'identity.nsec')
  try {
    return identityFromNsec(readFileSync(file, 'utf8').trim())
  } catch {
    const fresh = createIdentity()
    mkdirSync(args.store, { recursive: true })
    writeFileSync(file, `${fresh.nsec}\n`, { mode: 0o600 })
    return fresh
  }
}

const identity = loadIdentity()
const storage: StorageStrategy = args.store ? levelStorage({ path: args.store }) : memoryStorage()
/** Bytes of protocol frames sent and received through the transport (trystero's own framing not included). */
const wire = { sent: 0, received: 0 }
const transport = countBytes(
  trysteroTransport({
    strategy: args.strategy as 'torrent' | 'nostr',
    appId: 'peerset-node-peer',
    relayUrls: args.tracker,
    ...nodeRtc({ bindAddress: args.bind }),
  }),
)

/** The same transport, counting the bytes of every frame in `wire`. */
function countBytes(inner: TransportStrategy): TransportStrategy {
  return {
    name: inner.name,
    isSupported: () => inner.isSupported(),
    async join(room, handlers) {
      const joined = await inner.join(room, {
        ...handlers,
        onMessage: (peerId, data) => {
          wire.received += data.byteLength
          handlers.onMessage(peerId, data)
        },
      })
      return {
        selfId: joined.selfId,
        send: (peerId, data) => {
          wire.sent += data.byteLength
          joined.send(peerId, data)
        },
        leave: () => joined.leave(),
        ...(joined.state && { state: () => joined.state!() }),
      }
    },
  }
}
const verifier = Number(args.workers) > 0 ? await warmVerifier(Number(args.workers)) : undefined
const peerset = await createPeerset({
  room: args.room,
  identity,
  storage,
  transport,
  ...(args['accept-all'] && { moderation: acceptAll() }),
  ...(verifier && { verifier }),
  ...(args.relay.length > 0 && {
    relays: nostrRelays({ urls: args.relay, publish: args['relay-publish'] as 'own' | 'kept', WebSocket: WebSocket as never, backoff: { minMs: 500 } }),
  }),
  // A restarted peer comes back under a new transport id: let it in at once.
  reconnectCooldownMs: 2_000,
  // Notice a vanished peer within 20 s of silence (trystero itself takes about 26 s).
  sessionTimeouts: { idleMs: 20_000 },
})

/** The npub of each connected peer, by transport id (looked up once per record added). */
const npubs = new Map<string, string>()
const npubOf = (peerId: string): string | undefined => npubs.get(peerId) ?? peerset.peers().find((p) => p.peerId === peerId)?.npub
peerset.on('peer:joined', (peer) => {
  if (peer.npub !== undefined) npubs.set(peer.peerId, peer.npub)
  say('peer:joined', { peerId: peer.peerId, npub: peer.npub })
})
peerset.on('peer:left', (peer, { reason, detail }) => {
  npubs.delete(peer.peerId)
  say('peer:left', { peerId: peer.peerId, npub: peer.npub, reason, detail })
})
peerset.on('peer:strike', (info) => say('peer:strike', { ...info }))
peerset.on('peer:banned', (info) => say('peer:banned', { ...info }))
peerset.on('record:added', (record, info) =>
  say('record:added', {
    id: record.id,
    uuid: record.uuid,
    author: record.author,
    text: short(record.text),
    origin: info.origin,
    ...(info.origin === 'remote' && { from: npubOf(info.peerId) ?? info.peerId }),
    ...(info.origin === 'relay' && { from: info.url }),
  }),
)
peerset.on('record:removed', (record, { reason }) => say('record:removed', { id: record.id, uuid: record.uuid, text: short(record.text), reason }))
peerset.on('record:rejected', (info) => say('record:rejected', { id: info.id, reason: info.reason, rule: info.rule, origin: info.origin, message: info.message }))
peerset.on('sync:idle', ({ recordsAdded }) => say('sync:idle', { recordsAdded, records: peerset.records().length }))
peerset.on('relay:state', (r) => say('relay:state', { url: r.url, state: r.state, lastError: r.lastError }))
peerset.on('warning', (w) => say('warning', { code: w.code, message: w.message }))
peerset.on('error', (error) => say('error', { message: String(error) }))

const loaded = peerset.records()
const live = new IdSet()
for (const record of loaded) live.add(record.id)
peerset.on('record:added', (record) => live.add(record.id))
peerset.on('record:removed', (record) => live.delete(record.id))
say('ready', {
  npub: identity.npub,
  publicKey: identity.publicKey,
  selfId: peerset.status().transport.selfId,
  records: loaded.length,
  digest: digestOf(loaded),
  persistent: peerset.status().storage.persistent,
  ...(args['list-ids'] && { ids: loaded.map((r) => r.id) }),
})

let status: ReturnType<typeof setInterval> | undefined
let closing = false
async function shutdown(signal: string): Promise<void> {
  if (closing) return
  closing = true
  clearInterval(status)
  await peerset.close()
  say('closed', { signal })
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))

/** Publish one record; a refusal (moderation, limits) is an event, not a crash. */
async function publish(text: string, uuid?: string): Promise<PeersetRecord | undefined> {
  try {
    const record = await peerset.publish(uuid === undefined ? { text } : { text, uuid })
    say(uuid === undefined ? 'published' : 'edited', { id: record.id, uuid: record.uuid, text: short(text) })
    return record
  } catch (error) {
    if (!isPeersetError(error)) throw error
    say('refused', { text: short(text), code: error.code, reason: error.reason, message: error.message.replace(/^peerset: /, '') })
    return undefined
  }
}

const published: PeersetRecord[] = []
for (const text of args.publish) {
  const record = await publish(text)
  if (record) published.push(record)
}
const bulk = Number(args.bulk)
if (bulk > 0) {
  for (let i = 0; i < bulk; i++) await peerset.publish({ text: `${name} bulk record #${i + 1} of ${bulk}` })
  say('bulk-published', { count: bulk, records: peerset.records().length })
}

status = setInterval(() => {
  const count = peerset.status().records
  say('status', {
    records: count,
    peers: peerset.peers().filter((p) => p.state === 'authenticated').length,
    // Should the kept set ever disagree with the store's count, the digest is taken from the store.
    digest: live.ids.size === count ? live.digest : digestOf(peerset.records()),
    bytesSent: wire.sent,
    bytesReceived: wire.received,
    // Time this process's event loop spent waiting and working since it started (ms): was it busy?
    loopIdleMs: Math.round(nodePerformance.eventLoopUtilization().idle),
    loopActiveMs: Math.round(nodePerformance.eventLoopUtilization().active),
  })
}, Number(args['status-ms']))

if (args.edit !== undefined) {
  const first = published[0]
  if (first === undefined) say('refused', { text: short(args.edit), message: 'nothing to edit: no record was published' })
  else {
    // Editing = publishing again under the same uuid; the newer record replaces the older on every peer.
    setTimeout(() => void (!closing && publish(args.edit!, first.uuid)), Number(args['edit-after-ms']))
  }
}

/**
 * A worker pool whose workers have started: run from the sources (this example), each worker first
 * loads tsx, which takes seconds; from the published package a worker starts in tens of ms.
 */
async function warmVerifier(size: number): Promise<VerifierStrategy> {
  const pool = workerVerifier({ size, minChunk: 1 })
  const record = await createRecord({ text: 'warm-up' }, createIdentity().signer, { room: 'warm-up' })
  await pool.verify(Array.from({ length: size }, () => ({ id: record.id, pubkey: record.author, sig: record.sig })))
  return pool
}

