/** A local BitTorrent WebSocket tracker: signalling for trystero's torrent strategy without the internet. */
import type { Socket } from 'node:net'
import TrackerServer from 'bittorrent-tracker/server'
import { assertKnownOptions, PeersetError } from '../errors.js'
import { wsUrl } from './url.js'

/** Options of {@link startTracker}. */
export interface StartTrackerOptions {
  /** The TCP port; `0` (default) picks a free one. */
  port?: number
  /** The address to listen on. Default `'127.0.0.1'`. */
  host?: string
  /**
   * How often clients re-announce, ms. Default 10 000. trystero clamps it to 10-120 s, and a peer
   * that joins late is found at the next announce, so a low value makes tests and demos fast.
   */
  intervalMs?: number
}

/** A running tracker. */
export interface Tracker {
  /** Its WebSocket url, e.g. `ws://127.0.0.1:40123`: pass it as `relayUrls` to `trysteroTransport()`. */
  readonly url: string
  /** The port it listens on. */
  readonly port: number
  /** Stop it and drop every connection. Idempotent. */
  close(): Promise<void>
}

/**
 * Start a WebSocket BitTorrent tracker (bittorrent-tracker's server, WebSocket only) on 127.0.0.1 and
 * a free port, for tests, demos and offline swarms of `trysteroTransport({ strategy: 'torrent' })`.
 *
 * @throws PeersetError `INVALID_ARGUMENT` naming the bad option; `TRANSPORT_FAILED` if it cannot listen.
 * @example
 * ```ts
 * import { startTracker } from 'peerset/testing'
 * const tracker = await startTracker()
 * const transport = trysteroTransport({ relayUrls: [tracker.url], ...nodeRtc({ bindAddress: '127.0.0.1' }) })
 * // ...
 * await tracker.close()
 * ```
 */
export async function startTracker(options: StartTrackerOptions = {}): Promise<Tracker> {
  if (typeof options !== 'object' || options === null) throw new PeersetError('INVALID_ARGUMENT', 'startTracker: options must be an object')
  assertKnownOptions('startTracker', options, ['port', 'host', 'intervalMs'])
  const { port = 0, host = '127.0.0.1', intervalMs = 10_000 } = options
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new PeersetError('INVALID_ARGUMENT', `startTracker: options.port must be an integer 0-65535, got ${String(port)}`)
  if (typeof host !== 'string' || host.length === 0) throw new PeersetError('INVALID_ARGUMENT', 'startTracker: options.host must be a non-empty string')
  if (typeof intervalMs !== 'number' || !Number.isFinite(intervalMs) || intervalMs < 1_000) {
    throw new PeersetError('INVALID_ARGUMENT', `startTracker: options.intervalMs must be a number >= 1000, got ${String(intervalMs)}`)
  }
  // The server tells WebSocket clients a fifth of its interval (seconds, rounded up).
  const server = new TrackerServer({ http: false, udp: false, ws: true, stats: false, interval: intervalMs * 5 })
  const http = server.http
  if (http === null) throw new PeersetError('TRANSPORT_FAILED', 'startTracker: the tracker has no HTTP server')
  // Upgraded WebSocket connections keep the HTTP server open: track them to close them ourselves.
  const sockets = new Set<Socket>()
  http.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  // A broken client must not crash the process hosting the tracker.
  server.on('warning', () => undefined)
  await new Promise<void>((resolve, reject) => {
    const onError = (err: unknown): void => reject(new PeersetError('TRANSPORT_FAILED', `startTracker: cannot listen on ${host}:${port}: ${String(err)}`, { cause: err }))
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      server.on('error', () => undefined)
      resolve()
    })
  })
  const address = http.address()
  const actualPort = typeof address === 'object' && address !== null ? address.port : port
  let closing: Promise<void> | undefined
  return {
    url: wsUrl(host, actualPort),
    port: actualPort,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
      return closing
    },
  }
}
