/**
 * The transport a peerset uses when none is given: in a browser, {@link trysteroTransport} on its
 * default public trackers (the seed's promise: `createPeerset({ room, identity })` just works); in
 * Node (or anywhere without a browser's WebRTC) none, with a warning that says how to set one up.
 */
import { trysteroTransport } from './trystero.js'
import type { TransportStrategy } from './types.js'

/** What a runtime offers, as far as the default transport cares (defaults to `globalThis`). */
export interface TransportEnvironment {
  window?: unknown
  RTCPeerConnection?: unknown
  WebSocket?: unknown
}

/** The warning of a runtime with no default transport (Node): how to join a room there. */
export const NO_DEFAULT_TRANSPORT_MESSAGE =
  'no transport configured: records are kept locally and will not sync. In a browser the default is trysteroTransport() on public trackers; ' +
  "in Node, set up WebRTC with peerset/node: `import { nodeRtc } from 'peerset/node'` and pass " +
  '`transport: trysteroTransport({ ...nodeRtc() })` (add `relayUrls: [...]` for your own tracker, and `nodeRtc({ bindAddress })` on a loopback-only host). ' +
  'Pass `transport: false` to stay local without this warning.'

/**
 * Whether this looks like a browser page: a `window`, and WebRTC and WebSocket as globals. Node
 * (even with a WebSocket global) and web workers (no RTCPeerConnection) are not.
 * @example
 * ```ts
 * isBrowserEnvironment() // true in a page, false in Node
 * ```
 */
export function isBrowserEnvironment(env: TransportEnvironment = globalThis as TransportEnvironment): boolean {
  return typeof env.window === 'object' && env.window !== null && typeof env.RTCPeerConnection === 'function' && typeof env.WebSocket === 'function'
}

/**
 * The default transport here: `trysteroTransport()` (torrent strategy, trystero's public trackers)
 * in a browser, `undefined` elsewhere (the peerset stays local and warns with
 * a `no-transport` warning that says how to set up WebRTC in Node).
 * @example
 * ```ts
 * const transport = defaultTransport() // in a page: trystero-torrent
 * ```
 */
export function defaultTransport(env: TransportEnvironment = globalThis as TransportEnvironment): TransportStrategy | undefined {
  return isBrowserEnvironment(env) ? trysteroTransport() : undefined
}
