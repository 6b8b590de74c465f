/** WebRTC for Node: node-datachannel's RTCPeerConnection, and a WebSocket for the signalling. */
import { RTCPeerConnection as NodeRTCPeerConnection } from 'node-datachannel/polyfill'
import WebSocket from 'ws'
import { assertKnownOptions, PeersetError } from '../errors.js'

/**
 * `ws`'s WebSocket, but a failed connection (tracker down, refused) is only an `error` + `close` event,
 * as in a browser: `ws` throws an `error` that has no listener, which would crash the process, and
 * trystero listens for `close` (to reconnect with backoff), not for `error`.
 */
class QuietWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args)
    this.on('error', () => undefined)
  }
}

/** Options of {@link nodeRtc}. */
export interface NodeRtcOptions {
  /**
   * The local address WebRTC binds to and offers as its ICE candidate, e.g. `'127.0.0.1'` on a host
   * whose only interface is the loopback (tests, CI). Default: every interface.
   */
  bindAddress?: string
  /** STUN/TURN servers. Default: none (`[]`), which is right on a LAN or loopback and needs no internet. */
  iceServers?: RTCIceServer[]
}

/** What {@link nodeRtc} returns: spread it into `trysteroTransport()`'s options. */
export interface NodeRtc {
  /** node-datachannel's RTCPeerConnection. */
  rtcPolyfill: typeof RTCPeerConnection
  /** The RTCPeerConnection configuration: `iceServers`, plus node-datachannel's `bindAddress` if given. */
  rtcConfig: RTCConfiguration & { bindAddress?: string }
}

/**
 * Wire WebRTC into a Node process for `trysteroTransport()`: returns node-datachannel's
 * RTCPeerConnection and a configuration, and installs `ws` as `globalThis.WebSocket` (used by
 * trystero to reach trackers and relays) if the process has no WebSocket yet (Node < 22).
 *
 * @throws PeersetError `INVALID_ARGUMENT` naming the bad option.
 * @example
 * ```ts
 * import { trysteroTransport } from 'peerset'
 * import { nodeRtc } from 'peerset/node'
 * const transport = trysteroTransport({ relayUrls: ['ws://127.0.0.1:8000'], ...nodeRtc({ bindAddress: '127.0.0.1' }) })
 * ```
 */
export function nodeRtc(options: NodeRtcOptions = {}): NodeRtc {
  if (typeof options !== 'object' || options === null) throw new PeersetError('INVALID_ARGUMENT', 'nodeRtc: options must be an object')
  assertKnownOptions('nodeRtc', options, ['bindAddress', 'iceServers'])
  const { bindAddress, iceServers = [] } = options
  if (bindAddress !== undefined && (typeof bindAddress !== 'string' || bindAddress.length === 0)) {
    throw new PeersetError('INVALID_ARGUMENT', 'nodeRtc: options.bindAddress must be a non-empty IP address string')
  }
  if (!Array.isArray(iceServers)) throw new PeersetError('INVALID_ARGUMENT', 'nodeRtc: options.iceServers must be an array of RTCIceServer')
  const global = globalThis as { WebSocket?: unknown }
  if (typeof global.WebSocket !== 'function') global.WebSocket = QuietWebSocket
  return {
    rtcPolyfill: NodeRTCPeerConnection as unknown as typeof RTCPeerConnection,
    rtcConfig: { iceServers: [...iceServers], ...(bindAddress !== undefined && { bindAddress }) },
  }
}
