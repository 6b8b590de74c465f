/**
 * A minimal Nostr relay on `ws`, for trystero's Nostr strategy and `nostrRelays` without the
 * internet: it forwards events live to matching subscriptions (NIP-01 REQ/EVENT/CLOSE/OK/EOSE/CLOSED),
 * keeps ephemeral events (kinds 20000-29999, trystero's signalling) in memory for `retainMs` so that a
 * subscription that arrives just after an event still gets it, and stores every other event until it
 * closes (addressable kinds 30000-39999: the newest per author, kind and `d` tag). REQ honours `limit`
 * (newest first). Optionally it requires NIP-42 authentication, or refuses what `refuse` says.
 * It does not check events' signatures (a test relay that can serve forged events); only AUTH events'.
 */
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import { assertKnownOptions, PeersetError } from '../errors.js'
import { verifyEventSignature } from '../record/verify.js'
import { Negentropy, NegentropyError, negentropyItems } from '../relays/negentropy.js'
import { wsUrl } from './url.js'

/** Options of {@link startNostrRelay}. */
export interface StartNostrRelayOptions {
  /** The TCP port; `0` (default) picks a free one. */
  port?: number
  /** The address to listen on. Default `'127.0.0.1'`. */
  host?: string
  /** How long ephemeral events (kinds 20000-29999) are kept for subscriptions that arrive later, ms. Default 30 000. */
  retainMs?: number
  /** Require NIP-42 authentication: send `AUTH` on connect, and answer REQ and EVENT with `auth-required:` until authenticated. Default false. */
  requireAuth?: boolean
  /**
   * Refuse a message: return a NIP-01 reason (`'rate-limited: slow down'`, `'blocked: ...'`) to answer an
   * EVENT with `OK false` or a REQ with `CLOSED`, or `undefined` to serve it. For tests of clients.
   */
  refuse?: (message: { type: 'EVENT'; event: unknown } | { type: 'REQ'; filters: unknown[] }) => string | undefined
  /** Answer NIP-77 (negentropy) reconciliation (NEG-OPEN, NEG-MSG, NEG-CLOSE). Default false: a NOTICE, as from a relay without it. */
  negentropy?: boolean
}

/** A running relay. */
export interface NostrRelay {
  /** Its WebSocket url: pass it as `relayUrls` to `trysteroTransport({ strategy: 'nostr' })`. */
  readonly url: string
  readonly port: number
  /** Events received (EVENT messages), in order, whether stored or refused: what clients sent it. */
  readonly received: readonly unknown[]
  /** Store an event as if a client had published it (no checks: tests use it to serve forged or foreign events). */
  inject(event: unknown): void
  /** Stop it and drop every connection. Idempotent. */
  close(): Promise<void>
}

interface NostrEventLike {
  id: string
  pubkey: string
  kind: number
  created_at: number
  tags: string[][]
}

const isEphemeral = (kind: number): boolean => kind >= 20_000 && kind < 30_000
const isAddressable = (kind: number): boolean => kind >= 30_000 && kind < 40_000
const addressOf = (e: NostrEventLike): string => `${e.kind}:${e.pubkey}:${e.tags.find((t) => t[0] === 'd')?.[1] ?? ''}`

/** The stored (non-ephemeral) events, with NIP-01 replacement of addressable ones. */
class EventStore {
  readonly #byId = new Map<string, NostrEventLike>()
  readonly #byAddress = new Map<string, NostrEventLike>()

  /** Store `event`; false if an equal or newer version of its address is held (NIP-01: newest, then lowest id). */
  put(event: NostrEventLike): boolean {
    if (this.#byId.has(event.id)) return false
    if (isAddressable(event.kind)) {
      const held = this.#byAddress.get(addressOf(event))
      if (held && (held.created_at > event.created_at || (held.created_at === event.created_at && held.id < event.id))) return false
      if (held) this.#byId.delete(held.id)
      this.#byAddress.set(addressOf(event), event)
    }
    this.#byId.set(event.id, event)
    return true
  }

  /** Matching events, newest first, at most `limit` per filter. */
  query(filters: Filter[]): NostrEventLike[] {
    const all = [...this.#byId.values()].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1))
    const found = new Map<string, NostrEventLike>()
    for (const filter of filters) {
      const limit = typeof filter.limit === 'number' ? filter.limit : Infinity
      let n = 0
      for (const event of all) {
        if (n >= limit) break
        if (matches(filter, event)) {
          found.set(event.id, event)
          n++
        }
      }
    }
    return [...found.values()]
  }
}

type Filter = Record<string, unknown>

/** NIP-01 filter matching: ids, authors, kinds, #<letter> tags, since, until. */
function matches(filter: Filter, event: NostrEventLike): boolean {
  for (const [key, value] of Object.entries(filter)) {
    if (key === 'limit') continue
    if (key === 'ids' && Array.isArray(value) && !value.includes(event.id)) return false
    if (key === 'authors' && Array.isArray(value) && !value.includes(event.pubkey)) return false
    if (key === 'kinds' && Array.isArray(value) && !value.includes(event.kind)) return false
    if (key === 'since' && typeof value === 'number' && event.created_at < value) return false
    if (key === 'until' && typeof value === 'number' && event.created_at > value) return false
    if (key.length === 2 && key[0] === '#' && Array.isArray(value)) {
      const name = key[1]
      if (!event.tags.some((t) => t[0] === name && value.includes(t[1]))) return false
    }
  }
  return true
}

function isEvent(value: unknown): value is NostrEventLike {
  const e = value as NostrEventLike | null
  return (
    typeof e === 'object' && e !== null && typeof e.id === 'string' && typeof e.pubkey === 'string' &&
    Number.isInteger(e.kind) && Number.isInteger(e.created_at) && Array.isArray(e.tags)
  )
}

/**
 * Start a minimal Nostr relay on 127.0.0.1 and a free port, for tests, demos and offline swarms of
 * `trysteroTransport({ strategy: 'nostr' })`.
 *
 * @throws PeersetError `INVALID_ARGUMENT` naming the bad option; `TRANSPORT_FAILED` if it cannot listen.
 * @example
 * ```ts
 * import { startNostrRelay } from 'peerset/testing'
 * const relay = await startNostrRelay()
 * const transport = trysteroTransport({ strategy: 'nostr', relayUrls: [relay.url], ...nodeRtc({ bindAddress: '127.0.0.1' }) })
 * // ...
 * await relay.close()
 * ```
 */
export async function startNostrRelay(options: StartNostrRelayOptions = {}): Promise<NostrRelay> {
  if (typeof options !== 'object' || options === null) throw new PeersetError('INVALID_ARGUMENT', 'startNostrRelay: options must be an object')
  assertKnownOptions('startNostrRelay', options, ['port', 'host', 'retainMs', 'requireAuth', 'refuse', 'negentropy'])
  const { port = 0, host = '127.0.0.1', retainMs = 30_000, requireAuth = false, refuse, negentropy = false } = options
  if (refuse !== undefined && typeof refuse !== 'function') throw new PeersetError('INVALID_ARGUMENT', 'startNostrRelay: options.refuse must be a function')
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new PeersetError('INVALID_ARGUMENT', `startNostrRelay: options.port must be an integer 0-65535, got ${String(port)}`)
  if (typeof host !== 'string' || host.length === 0) throw new PeersetError('INVALID_ARGUMENT', 'startNostrRelay: options.host must be a non-empty string')
  if (typeof retainMs !== 'number' || !(retainMs >= 0)) throw new PeersetError('INVALID_ARGUMENT', 'startNostrRelay: options.retainMs must be a number >= 0')
  const subscriptions = new Map<WebSocket, Map<string, Filter[]>>()
  // Recent events, oldest first. A peer answers an announce on the announcer's own topic, and the
  // announcer's subscription to that topic may reach us a moment after the answer: keep events a while.
  const recent: Array<{ at: number; event: NostrEventLike }> = []
  const server = new WebSocketServer({ port, host, perMessageDeflate: false })
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', (err) => reject(new PeersetError('TRANSPORT_FAILED', `startNostrRelay: cannot listen on ${host}:${port}: ${String(err)}`, { cause: err })))
  })
  server.on('error', () => undefined)
  const send = (socket: WebSocket, message: unknown[]): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message))
  }
  const relay: RelayContext = { subscriptions, recent, store: new EventStore(), received: [], retainMs, requireAuth, refuse, negentropy, send, url: '' }
  server.on('connection', (socket) => handleConnection(socket, relay))
  const actualPort = (server.address() as AddressInfo).port
  let closing: Promise<void> | undefined
  relay.url = wsUrl(host, actualPort)
  return {
    url: relay.url,
    port: actualPort,
    received: relay.received,
    inject: (event) => {
      if (isEvent(event)) accept(event, relay)
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of subscriptions.keys()) socket.terminate()
        server.close(() => resolve())
      })
      return closing
    },
  }
}

interface RelayContext {
  subscriptions: Map<WebSocket, Map<string, Filter[]>>
  recent: Array<{ at: number; event: NostrEventLike }>
  store: EventStore
  received: unknown[]
  retainMs: number
  requireAuth: boolean
  refuse: StartNostrRelayOptions['refuse']
  negentropy: boolean
  send: (socket: WebSocket, message: unknown[]) => void
  url: string
}

/** One client: NIP-01 REQ/CLOSE/EVENT, and NIP-42 AUTH when required. */
function handleConnection(socket: WebSocket, relay: RelayContext): void {
  const { send } = relay
  const subs = new Map<string, Filter[]>()
  const negSessions = new Map<string, Negentropy>()
  const challenge = Math.random().toString(36).slice(2)
  let authed = !relay.requireAuth
  relay.subscriptions.set(socket, subs)
  socket.on('error', () => undefined)
  socket.on('close', () => relay.subscriptions.delete(socket))
  if (relay.requireAuth) send(socket, ['AUTH', challenge])
  socket.on('message', (data) => {
    let message: unknown
    try {
      message = JSON.parse(String(data))
    } catch {
      return send(socket, ['NOTICE', 'invalid: not JSON'])
    }
    if (!Array.isArray(message)) return send(socket, ['NOTICE', 'invalid: not an array'])
    const [type, first, ...rest] = message as [unknown, unknown, ...unknown[]]
    if (type === 'REQ' && typeof first === 'string') {
      const filters = rest.filter((f): f is Filter => typeof f === 'object' && f !== null)
      const refusal = authed ? relay.refuse?.({ type: 'REQ', filters }) : 'auth-required: authenticate first'
      if (refusal !== undefined) return send(socket, ['CLOSED', first, refusal])
      subs.set(first, filters)
      for (const event of serve(filters, relay)) send(socket, ['EVENT', first, event])
      send(socket, ['EOSE', first])
    } else if (type === 'CLOSE' && typeof first === 'string') {
      subs.delete(first)
    } else if (type === 'EVENT' && isEvent(first)) {
      relay.received.push(first)
      const refusal = authed ? relay.refuse?.({ type: 'EVENT', event: first }) : 'auth-required: authenticate first'
      if (refusal !== undefined) return send(socket, ['OK', first.id, false, refusal])
      send(socket, ['OK', first.id, true, accept(first, relay) ? '' : 'duplicate: have it or a newer version'])
    } else if (relay.negentropy && typeof type === 'string' && type.startsWith('NEG-') && typeof first === 'string') {
      const refusal = authed ? undefined : 'auth-required: authenticate first'
      if (refusal !== undefined) return send(socket, ['NEG-ERR', first, refusal])
      answerNegentropy(socket, relay, negSessions, type, first, rest)
    } else if (type === 'AUTH' && isEvent(first)) {
      authed = authed || isAuthFor(first, challenge, relay.url)
      send(socket, ['OK', first.id, authed, authed ? '' : 'invalid: bad AUTH event'])
    } else {
      send(socket, ['NOTICE', 'invalid: unsupported message'])
    }
  })
}

/** The events a new subscription gets: recent ephemeral ones and the stored ones. */
function serve(filters: Filter[], relay: RelayContext): NostrEventLike[] {
  const since = Date.now() - relay.retainMs
  while (relay.recent.length > 0 && relay.recent[0]!.at < since) relay.recent.shift()
  const recent = relay.recent.map((r) => r.event).filter((e) => filters.some((f) => matches(f, e)))
  return [...recent, ...relay.store.query(filters)]
}

/** Keep an event (ephemeral for a while, others stored) and forward it to live subscriptions; false if it was a duplicate or older version. */
function accept(event: NostrEventLike, relay: RelayContext): boolean {
  if (isEphemeral(event.kind)) {
    if (relay.retainMs > 0) relay.recent.push({ at: Date.now(), event })
  } else if (!relay.store.put(event)) {
    return false
  }
  for (const [other, otherSubs] of relay.subscriptions) {
    for (const [subId, filters] of otherSubs) {
      if (filters.some((f) => matches(f, event))) relay.send(other, ['EVENT', subId, event])
    }
  }
  return true
}

/** A valid NIP-42 AUTH event for this connection's challenge. */
function isAuthFor(event: NostrEventLike, challenge: string, url: string): boolean {
  const tag = (name: string): string | undefined => event.tags.find((t) => t[0] === name)?.[1]
  return event.kind === 22_242 && tag('challenge') === challenge && tag('relay') === url && verifyEventSignature(event)
}

/** NIP-77, the relay's side: NEG-OPEN (a filter and the first message), NEG-MSG, NEG-CLOSE. */
function answerNegentropy(socket: WebSocket, relay: RelayContext, sessions: Map<string, Negentropy>, type: string, subId: string, rest: unknown[]): void {
  if (type === 'NEG-CLOSE') {
    sessions.delete(subId)
    return
  }
  let session = sessions.get(subId)
  if (type === 'NEG-OPEN') {
    const filter = rest[0]
    if (typeof filter !== 'object' || filter === null) return relay.send(socket, ['NEG-ERR', subId, 'invalid: no filter'])
    const { limit: _limit, ...unlimited } = filter as Filter
    const held = relay.store.query([unlimited]).filter((e) => /^[0-9a-f]{64}$/.test(e.id) && Number.isSafeInteger(e.created_at) && e.created_at >= 0)
    session = new Negentropy(negentropyItems(held.map((e) => ({ timestamp: e.created_at, id: e.id }))), false)
    sessions.set(subId, session)
  }
  const message = type === 'NEG-OPEN' ? rest[1] : rest[0]
  if (session === undefined || typeof message !== 'string') return relay.send(socket, ['NEG-ERR', subId, 'closed: no such reconciliation'])
  try {
    relay.send(socket, ['NEG-MSG', subId, session.reconcile(message).next!])
  } catch (error) {
    sessions.delete(subId)
    relay.send(socket, ['NEG-ERR', subId, `invalid: ${error instanceof NegentropyError ? error.message : 'bad message'}`])
  }
}
