/**
 * A minimal Nostr relay on `ws`, for trystero's Nostr strategy without the internet: it forwards
 * events live to matching subscriptions (NIP-01 REQ/EVENT/CLOSE/OK/EOSE), and keeps them in memory
 * for `retainMs` so that a subscription that arrives just after an event still gets it.
 * Signalling only: it does not check signatures and is not a relay for records.
 */
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import { assertKnownOptions, PeersetError } from '../errors.js'
import { wsUrl } from './url.js'

/** Options of {@link startNostrRelay}. */
export interface StartNostrRelayOptions {
  /** The TCP port; `0` (default) picks a free one. */
  port?: number
  /** The address to listen on. Default `'127.0.0.1'`. */
  host?: string
  /** How long events are kept for subscriptions that arrive later, ms. Default 30 000. */
  retainMs?: number
}

/** A running relay. */
export interface NostrRelay {
  /** Its WebSocket url: pass it as `relayUrls` to `trysteroTransport({ strategy: 'nostr' })`. */
  readonly url: string
  readonly port: number
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

type Filter = Record<string, unknown>

/** NIP-01 filter matching: ids, authors, kinds, #<letter> tags, since, until. */
function matches(filter: Filter, event: NostrEventLike): boolean {
  for (const [key, value] of Object.entries(filter)) {
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
  assertKnownOptions('startNostrRelay', options, ['port', 'host', 'retainMs'])
  const { port = 0, host = '127.0.0.1', retainMs = 30_000 } = options
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
  server.on('connection', (socket) => {
    const subs = new Map<string, Filter[]>()
    subscriptions.set(socket, subs)
    socket.on('error', () => undefined)
    socket.on('close', () => subscriptions.delete(socket))
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
        subs.set(first, filters)
        const since = Date.now() - retainMs
        while (recent.length > 0 && recent[0]!.at < since) recent.shift()
        for (const { event } of recent) if (filters.some((f) => matches(f, event))) send(socket, ['EVENT', first, event])
        send(socket, ['EOSE', first])
      } else if (type === 'CLOSE' && typeof first === 'string') {
        subs.delete(first)
      } else if (type === 'EVENT' && isEvent(first)) {
        send(socket, ['OK', first.id, true, ''])
        if (retainMs > 0) recent.push({ at: Date.now(), event: first })
        for (const [other, otherSubs] of subscriptions) {
          for (const [subId, filters] of otherSubs) {
            if (filters.some((f) => matches(f, first))) send(other, ['EVENT', subId, first])
          }
        }
      } else {
        send(socket, ['NOTICE', 'invalid: unsupported message'])
      }
    })
  })
  const actualPort = (server.address() as AddressInfo).port
  let closing: Promise<void> | undefined
  return {
    url: wsUrl(host, actualPort),
    port: actualPort,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of subscriptions.keys()) socket.terminate()
        server.close(() => resolve())
      })
      return closing
    },
  }
}
