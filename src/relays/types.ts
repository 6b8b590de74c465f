/** The relay strategy's vocabulary: what the host app configures and sees, and what the engine gives a strategy. */
import type { Signer } from '../identity/types.js'
import type { NostrEvent } from '../record/types.js'

/** The smallest WebSocket the relay links need: the browser's, or `ws` in Node. */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: unknown) => void) | null
  onerror: ((event: unknown) => void) | null
}

/** A WebSocket constructor (`globalThis.WebSocket`, or `WebSocket` from `ws`). */
export type WebSocketConstructor = new (url: string) => WebSocketLike

/** One relay as `status().relays` lists it and the `relay:state` event reports it. */
export interface RelayState {
  url: string
  /**
   * `connecting`; `syncing` (back-filling the retention window, or since the last sync); `live`
   * (back-fill done, subscribed to new records); `backoff` (failed or refused: waiting until
   * `retryAtMs`); `closed`.
   */
  state: 'connecting' | 'syncing' | 'live' | 'backoff' | 'closed'
  /** Events it served (every one judged like a peer's record). */
  received: number
  /** Of those, records kept here. */
  accepted: number
  /** Of those, invalid ones (malformed, forged, another room): the relay's fault, never the author's. Too many and it is dropped and backed off. */
  faults: number
  /** Records it confirmed (`OK true`, or a duplicate). */
  published: number
  /** Records it refused (`OK false`: blocked, invalid, pow, restricted...). Not retried. */
  refused: number
  /** Whether this peerset authenticated to it (NIP-42) with the user's signer. */
  authenticated: boolean
  /** The `since` (Unix seconds) of its last finished back-fill, persisted; undefined before the first. */
  syncedUntil: number | undefined
  /** Whether it reconciles with NIP-77 (negentropy): `undefined` until tried; `false` if it refused, then `REQ` with `since` is used. */
  negentropy: boolean | undefined
  /** What went wrong last (a refusal, a `CLOSED` reason, a connection failure, bad events). */
  lastError?: string
  /** When the next attempt is made (ms since the epoch, by the peerset's clock), in `backoff`. */
  retryAtMs?: number
}

/** What the engine gives a relay strategy. Every event a relay serves goes through `submit`. */
export interface RelayHost {
  /** `roomHash(room)`: the `#h` filter value. */
  readonly roomHash: string
  /** The record kind (37515). */
  readonly kind: number
  /** The user's signer, for NIP-42 authentication when a relay requires it. */
  readonly signer: Signer
  /** The peerset's clock, ms since the epoch. */
  clock(): number
  /** The start of the retention window, Unix seconds: nothing older is asked for. */
  windowStartSeconds(): number
  /** Judge an event from `url` exactly as a peer's record. `fault`: the relay is at fault (malformed, forged, wrong room). */
  submit(event: unknown, url: string): Promise<{ accepted: boolean; fault: boolean }>
  /** This peer's own records (and tombstones) held now, to (re)publish after connecting. */
  ownRecords(): NostrEvent[]
  /** Every record and tombstone held now created at or after `sinceSeconds`, for NIP-77 reconciliation. */
  heldSince(sinceSeconds: number): Array<{ timestamp: number; id: string }>
  /** A held record by id, and whether it is this user's own. */
  heldEvent(id: string): { event: NostrEvent; own: boolean } | undefined
  /** The persisted end of the last finished back-fill from `url`, Unix seconds. */
  loadSince(url: string): Promise<number | undefined>
  saveSince(url: string, seconds: number): Promise<void>
  /** A relay's state changed. */
  stateChanged(state: RelayState): void
}

/** Links to the relays, running. */
export interface RelayLinks {
  /** Records that were just stored here: publish those the strategy publishes (own ones; with `publish: 'kept'` every one not from that relay). */
  stored(records: readonly NostrEvent[], from: { own: boolean; relay?: string }[]): void
  status(): RelayState[]
  /** Wait (at most the flush timeout) for pending publications to be confirmed, then disconnect. Never throws. */
  close(): Promise<void>
}

/**
 * A relay strategy (made by `nostrRelays()`): Nostr relays as always-on peers that store and serve the
 * room's records. Optional; a peerset without one works as before.
 */
export interface RelayStrategy {
  readonly name: string
  readonly urls: readonly string[]
  /** Connect to the relays for a peerset. */
  start(host: RelayHost): RelayLinks
}
