/**
 * Nostr relays as always-on peers (optional): `nostrRelays({ urls })`. A peerset publishes its
 * records to them and back-fills from them, so a room works even when its users are never online at
 * the same time. A relay is never trusted: what it serves takes a peer's path (format, room,
 * signature, time window, moderation, quota).
 */
import { PeersetError } from '../errors.js'
import type { NostrEvent } from '../record/types.js'
import { RelayLink, type RelayLinkOptions } from './link.js'
import type { RelayLinks, RelayState, RelayStrategy, WebSocketConstructor } from './types.js'

export type { RelayHost, RelayLinks, RelayState, RelayStrategy, WebSocketConstructor, WebSocketLike } from './types.js'

/** Options of {@link nostrRelays}. */
export interface NostrRelaysOptions {
  /** The relays' urls (`wss://...`; `ws://` for local ones). At least one, at most 16. */
  urls: readonly string[]
  /**
   * Which records are published: `'own'` (default) this user's records and withdrawals; `'kept'` also
   * every record kept here that came from a peer or another relay (a peer that seeds the relays).
   */
  publish?: 'own' | 'kept'
  /** The WebSocket implementation. Default `globalThis.WebSocket` (in Node 20: pass `WebSocket` from `ws`). */
  WebSocket?: WebSocketConstructor
  /** Backoff after a failure, refusal or rate limit: first and longest delay, ms. Default 1 s and 5 min. */
  backoff?: { minMs?: number; maxMs?: number }
  /** Invalid events or messages on one connection before the relay is dropped and backed off. Default 20. */
  maxFaults?: number
  /** `limit` of each back-fill page. Default 500. */
  pageSize?: number
  /** How far before the last sync to ask again, seconds (writers' clock skew). Default 600. */
  sinceMarginSeconds?: number
  /** How long to wait for a relay's answer (`OK`), ms. Default 10 s. */
  publishTimeoutMs?: number
  /** How long `close()` waits for unconfirmed publications, ms. Default 3 s. */
  flushTimeoutMs?: number
  /**
   * Reconcile with NIP-77 (negentropy) where a relay supports it: only the records missing on either
   * side move, whatever their age, instead of a download since the last sync. Default true; a relay
   * that refuses it is back-filled with `REQ` instead.
   */
  negentropy?: boolean
}

const KEYS = ['urls', 'publish', 'WebSocket', 'backoff', 'maxFaults', 'pageSize', 'sinceMarginSeconds', 'publishTimeoutMs', 'flushTimeoutMs', 'negentropy']

/**
 * Use Nostr relays as always-on peers: publish this peer's records (and withdrawals) to them, back-fill
 * the room from them (NIP-01 `REQ` for the record kind and the room's `#h` tag, since the last
 * finished sync or the start of the retention window), and stay subscribed. Relays that refuse,
 * rate-limit, require NIP-42 authentication (answered with the user's signer) or misbehave are shown
 * in `status().relays` and `relay:state` events, and retried with backoff.
 *
 * @throws PeersetError `INVALID_ARGUMENT` naming the bad option.
 * @example
 * ```ts
 * import { createPeerset, nostrRelays } from 'peerset'
 * const peerset = await createPeerset({ room: 'demo', identity, relays: nostrRelays({ urls: ['wss://relay.example'] }) })
 * ```
 */
export function nostrRelays(options: NostrRelaysOptions): RelayStrategy {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object { urls }')
  for (const key of Object.keys(options)) if (!KEYS.includes(key)) throw invalid(`unknown option "${key}" (known: ${KEYS.join(', ')})`)
  const urls = checkUrls(options.urls)
  const publish = options.publish ?? 'own'
  if (publish !== 'own' && publish !== 'kept') throw invalid(`publish must be 'own' or 'kept', got ${String(publish)}`)
  const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
  if (typeof WebSocket !== 'function') throw invalid('no WebSocket here: pass options.WebSocket (in Node: the WebSocket class of the "ws" package)')
  const backoff = { minMs: positive(options.backoff?.minMs ?? 1_000, 'backoff.minMs'), maxMs: positive(options.backoff?.maxMs ?? 300_000, 'backoff.maxMs') }
  const base: Omit<RelayLinkOptions, 'url'> = {
    WebSocket,
    backoff,
    maxFaults: positive(options.maxFaults ?? 20, 'maxFaults'),
    pageSize: positive(options.pageSize ?? 500, 'pageSize'),
    sinceMarginSeconds: nonNegative(options.sinceMarginSeconds ?? 600, 'sinceMarginSeconds'),
    publishTimeoutMs: positive(options.publishTimeoutMs ?? 10_000, 'publishTimeoutMs'),
    maxQueue: 10_000,
    negentropy: options.negentropy ?? true,
    publishKept: publish === 'kept',
  }
  if (typeof base.negentropy !== 'boolean') throw invalid('negentropy must be a boolean')
  const flushTimeoutMs = nonNegative(options.flushTimeoutMs ?? 3_000, 'flushTimeoutMs')
  return {
    name: 'nostr-relays',
    urls,
    start: (host) => startLinks(urls.map((url) => new RelayLink({ ...base, url }, host)), publish, flushTimeoutMs),
  }
}

function startLinks(links: RelayLink[], publish: 'own' | 'kept', flushTimeoutMs: number): RelayLinks {
  for (const link of links) void link.start()
  return {
    stored(records: readonly NostrEvent[], from: { own: boolean; relay?: string }[]) {
      records.forEach((event, i) => {
        const source = from[i]
        for (const link of links) {
          if (source?.own || (publish === 'kept' && source?.relay !== link.url)) link.publish(event)
        }
      })
    },
    status: (): RelayState[] => links.map((link) => link.status()),
    close: async () => {
      await Promise.all(links.map((link) => link.close(flushTimeoutMs)))
    },
  }
}

function checkUrls(urls: unknown): string[] {
  if (!Array.isArray(urls) || urls.length === 0 || urls.length > 16) throw invalid('urls must be an array of 1 to 16 relay urls')
  const checked = urls.map((url: unknown) => {
    if (typeof url !== 'string' || !/^wss?:\/\/[^\s/]+/.test(url)) throw invalid(`urls: ${JSON.stringify(url)} is not a ws:// or wss:// url`)
    return url
  })
  return [...new Set(checked)]
}

function positive(value: unknown, name: string): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) throw invalid(`${name} must be a positive number, got ${String(value)}`)
  return value
}

function nonNegative(value: unknown, name: string): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) throw invalid(`${name} must be a non-negative number, got ${String(value)}`)
  return value
}

function invalid(message: string): PeersetError {
  return new PeersetError('INVALID_ARGUMENT', `nostrRelays: ${message}`)
}
