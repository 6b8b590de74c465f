/**
 * The WebRTC transport, on trystero 0.25: peers find each other through BitTorrent WebSocket trackers
 * (`@trystero-p2p/torrent`, the default) or Nostr relays (`trystero`), then talk over data channels.
 */
import { assertKnownOptions, PeersetError } from '../errors.js'
import { type TransportHandlers, type TransportRoom, type TransportState, type TransportStrategy } from './types.js'
import { SignallingMonitor, type SocketLike } from './signalling-monitor.js'
import { announceDecision, gateAnnounces, type SendingSocket } from './announce-policy.js'
import { MAX_FRAME_BYTES } from '../protocol/messages.js'

/** Which signalling network trystero uses to find peers. */
export type TrysteroStrategyName = 'torrent' | 'nostr'

/** Options of {@link trysteroTransport}. */
export interface TrysteroTransportOptions {
  /** How peers are found: `'torrent'` (BitTorrent WebSocket trackers, default) or `'nostr'` (Nostr relays). */
  strategy?: TrysteroStrategyName
  /** trystero's application id: peers meet only within the same app id. Default `'peerset'`. */
  appId?: string
  /** Encrypts the signalling (SDP) with this password: only peers that know it can connect. */
  password?: string
  /** Tracker (torrent) or relay (nostr) WebSocket urls. Default: trystero's public list. Passed as `relayConfig.urls`. */
  relayUrls?: string[]
  /** How many of the urls to use at once. Default: trystero's. */
  relayRedundancy?: number
  /** The RTCPeerConnection configuration (ICE/TURN servers, ...). Offline, pass `{ iceServers: [] }`. */
  rtcConfig?: RTCConfiguration
  /** An RTCPeerConnection implementation where there is none (Node: `nodeRtc()` from `peerset/node`). */
  rtcPolyfill?: typeof RTCPeerConnection
}

/** The trystero room and the module it came from (its `selfId` is per module, not per room). */
interface TrysteroModule {
  selfId: string
  joinRoom: (config: Record<string, unknown>, roomId: string) => TrysteroRoomLike
  /** The signalling sockets of the module, by url (module-level: every room of the process). */
  getRelaySockets?: () => Record<string, SocketLike | undefined>
  pauseRelayReconnection?: () => void
  resumeRelayReconnection?: () => void
}

/** How often the signalling sockets are looked at (their events update the state sooner). */
const STATE_POLL_MS = 1_000

interface TrysteroRoomLike {
  makeAction: (namespace: string) => {
    send: (data: Uint8Array, options?: { target?: string }) => Promise<void>
    onMessage: ((data: unknown, context: { peerId: string }) => void) | null
  }
  leave: () => Promise<void>
  onPeerJoin: ((peerId: string) => void) | null
  onPeerLeave: ((peerId: string) => void) | null
  /** The peers' connections (`RTCPeerConnection`s), by peer id. */
  getPeers?: () => Record<string, { close(): void } | undefined>
}

/** The action that carries protocol frames (trystero limits action names to 12 bytes). */
const FRAME_ACTION = 'peerset'

/**
 * Rooms joined in this process, by strategy, app id and room. trystero's `selfId` is one per module
 * (per page, per Node process), and joining a room twice returns the same room, so a second peerset
 * in the same room would never meet the first one and never get its own frames. This registry is
 * module-level on purpose: it mirrors trystero's own module-level state.
 */
const joinedRooms = new Set<string>()

/**
 * Peer demand of each joined room, by room key (see `setPeerDemand`). Tracker sockets are shared by
 * every room of the process, so their announces are held only while every joined room is full.
 */
const demands = new Map<string, { peers: number; maxPeers: number }>()

/** The trystero modules loaded so far (torrent, nostr): their signalling sockets are module-level. */
const loadedModules = new Set<TrysteroModule>()
/** Whether the signalling sockets were closed when the last room left, and their reconnection is held. */
let signallingReleased = false

/**
 * The last room of the process has left: close trystero's signalling sockets, which it keeps open
 * for the whole process (in Node an open socket keeps the process alive), and hold its reconnection
 * (`pauseRelayReconnection`, process-wide: so only once no room of any strategy is joined) until a
 * room is joined again. Rooms joined through trystero directly, not through this transport, are not
 * counted.
 */
function releaseSignalling(): void {
  if (joinedRooms.size > 0 || signallingReleased) return
  closeKeptConnections()
  const modules = [...loadedModules].filter((m) => m.getRelaySockets && m.pauseRelayReconnection && m.resumeRelayReconnection)
  if (modules.length === 0) return
  modules[0]!.pauseRelayReconnection!()
  signallingReleased = true
  for (const m of modules) {
    for (const socket of Object.values(m.getRelaySockets!())) (socket as { close?: () => void } | undefined)?.close?.()
  }
}

/**
 * The peer connections made through each `rtcPolyfill`, by a subclass that records them: trystero
 * keeps a peer's connection after the last room it served has left (to reuse it, for two minutes or
 * more), and in Node an open node-datachannel connection keeps the process alive.
 */
const trackedConnections = new Set<{ connectionState?: string; close(): void }>()
const trackingClasses = new WeakMap<typeof RTCPeerConnection, typeof RTCPeerConnection>()

function tracking(polyfill: typeof RTCPeerConnection): typeof RTCPeerConnection {
  let tracked = trackingClasses.get(polyfill)
  if (tracked === undefined) {
    tracked = class extends polyfill {
      constructor(...args: ConstructorParameters<typeof RTCPeerConnection>) {
        super(...args)
        // A long session makes and drops many: forget the closed ones (closing them once more: one
        // closed by the other side may still need its own close() to be freed, in node-datachannel).
        for (const old of trackedConnections) {
          if (old.connectionState !== 'closed') continue
          trackedConnections.delete(old)
          closeQuietly(old)
        }
        trackedConnections.add(this)
        // Forgotten once closed: a long session makes and drops many connections.
      }
    }
    trackingClasses.set(polyfill, tracked)
  }
  return tracked
}

/** Close the peer connections trystero kept after the last room left (see {@link trackedConnections}). */
function closeKeptConnections(): void {
  for (const connection of trackedConnections) {
    trackedConnections.delete(connection)
    closeQuietly(connection)
  }
}

function closeQuietly(connection: { close(): void }): void {
  try {
    connection.close()
  } catch {
    // already gone
  }
}

/** A room is joined after {@link releaseSignalling}: let trystero reopen its sockets (it does so a few microtasks after the release). */
async function resumeSignalling(trystero: TrysteroModule): Promise<void> {
  if (!signallingReleased) return
  signallingReleased = false
  trystero.resumeRelayReconnection?.()
  for (let i = 0; i < 10; i++) await null
}

function everyRoomFull(): boolean {
  if (demands.size === 0) return false
  for (const d of demands.values()) if (d.peers < d.maxPeers) return false
  return true
}

/** The announce gate of a torrent tracker socket: see announce-policy.ts. */
function gateTrackerSocket(socket: SocketLike): void {
  const sending = socket as unknown as Partial<SendingSocket>
  if (typeof sending.send !== 'function') return
  gateAnnounces(
    sending as SendingSocket,
    (lastSentMs) => (everyRoomFull() ? announceDecision({ peers: 1, maxPeers: 1, nowMs: Date.now(), lastSentMs }) : 'send'),
    Date.now,
  )
}

/**
 * A transport strategy on trystero (WebRTC). Each protocol frame travels as one binary message of one
 * trystero action; peers joining and leaving the room are passed to the peerset as they happen.
 *
 * One process (or page) can be in a room only once: trystero gives every peer of a process the same
 * id. Joining a room this process is already in (through any `trysteroTransport`) rejects with
 * `TRANSPORT_FAILED`; different rooms work side by side. Use separate processes (or the in-memory
 * network) to run several peers of one room on one machine.
 *
 * @throws PeersetError `INVALID_ARGUMENT` naming the bad option.
 * @example
 * ```ts
 * // Browser: public trackers.
 * const peerset = await createPeerset({ room: 'my-board', identity, transport: trysteroTransport() })
 * // Node, offline, with a local tracker (see peerset/node and peerset/testing):
 * const transport = trysteroTransport({ relayUrls: [tracker.url], rtcConfig: { iceServers: [] }, ...nodeRtc() })
 * ```
 */
export function trysteroTransport(options: TrysteroTransportOptions = {}): TransportStrategy {
  const config = checkOptions(options)
  const strategy = config.strategy
  return {
    name: `trystero-${strategy}`,
    isSupported: () =>
      (config.rtcPolyfill !== undefined || typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection === 'function') &&
      typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'function',
    async join(room: string, handlers: TransportHandlers): Promise<TransportRoom> {
      if (typeof room !== 'string' || room.length === 0) {
        throw new PeersetError('INVALID_ARGUMENT', 'trysteroTransport.join: room must be a non-empty string')
      }
      checkHandlers(handlers)
      const key = JSON.stringify([strategy, config.appId, room])
      if (joinedRooms.has(key)) {
        throw new PeersetError(
          'TRANSPORT_FAILED',
          `trysteroTransport.join: this process is already in room ${JSON.stringify(room)} (app ${JSON.stringify(config.appId)}, ${strategy}). ` +
            "trystero's peer id (selfId) is one per process, so two peers of one room in one process would never meet: " +
            'leave the first room, run the second peer in another process, or use createMemoryNetwork() for in-process peers',
          { reason: 'room-already-joined' },
        )
      }
      joinedRooms.add(key)
      try {
        const trystero = await loadStrategy(strategy)
        loadedModules.add(trystero)
        await resumeSignalling(trystero)
        return joinTrysteroRoom(trystero, room, config, handlers, key, () => {
          joinedRooms.delete(key)
          releaseSignalling()
        })
      } catch (err) {
        joinedRooms.delete(key)
        releaseSignalling()
        if (err instanceof PeersetError) throw err
        throw new PeersetError('TRANSPORT_FAILED', `trysteroTransport.join(${JSON.stringify(room)}) failed: ${String(err)}`, { cause: err })
      }
    },
  }
}

type CheckedOptions = Required<Pick<TrysteroTransportOptions, 'strategy' | 'appId'>> & TrysteroTransportOptions

function checkOptions(options: TrysteroTransportOptions): CheckedOptions {
  const fail = (message: string): never => {
    throw new PeersetError('INVALID_ARGUMENT', `trysteroTransport: ${message}`)
  }
  if (typeof options !== 'object' || options === null) fail('options must be an object')
  assertKnownOptions('trysteroTransport', options, ['strategy', 'appId', 'password', 'relayUrls', 'relayRedundancy', 'rtcConfig', 'rtcPolyfill'])
  const { strategy = 'torrent', appId = 'peerset', password, relayUrls, relayRedundancy, rtcConfig, rtcPolyfill } = options
  if (strategy !== 'torrent' && strategy !== 'nostr') fail(`options.strategy must be 'torrent' or 'nostr', got ${JSON.stringify(strategy)}`)
  if (typeof appId !== 'string' || appId.length === 0) fail('options.appId must be a non-empty string')
  if (password !== undefined && (typeof password !== 'string' || password.length === 0)) fail('options.password must be a non-empty string')
  if (relayUrls !== undefined) {
    if (!Array.isArray(relayUrls) || relayUrls.length === 0) fail('options.relayUrls must be a non-empty array of ws:// or wss:// urls')
    for (const [i, url] of relayUrls.entries()) {
      if (typeof url !== 'string' || !/^wss?:\/\/[^\s]+$/.test(url)) fail(`options.relayUrls[${i}] must be a ws:// or wss:// url, got ${JSON.stringify(url)}`)
    }
  }
  if (relayRedundancy !== undefined && (!Number.isInteger(relayRedundancy) || relayRedundancy < 1)) {
    fail('options.relayRedundancy must be an integer >= 1')
  }
  if (rtcConfig !== undefined && (typeof rtcConfig !== 'object' || rtcConfig === null)) fail('options.rtcConfig must be an RTCConfiguration object')
  if (rtcPolyfill !== undefined && typeof rtcPolyfill !== 'function') fail('options.rtcPolyfill must be an RTCPeerConnection class')
  return { ...options, strategy, appId }
}

function checkHandlers(handlers: TransportHandlers): void {
  for (const name of ['onPeerJoin', 'onPeerLeave', 'onMessage'] as const) {
    if (typeof handlers?.[name] !== 'function') {
      throw new PeersetError('INVALID_ARGUMENT', `trysteroTransport.join: handlers.${name} must be a function`)
    }
  }
}

/** Load only the strategy in use (each pulls its own signalling client). */
async function loadStrategy(strategy: TrysteroStrategyName): Promise<TrysteroModule> {
  const mod = strategy === 'torrent' ? await import('@trystero-p2p/torrent') : await import('trystero')
  return mod as unknown as TrysteroModule
}

function joinTrysteroRoom(
  trystero: TrysteroModule,
  room: string,
  config: CheckedOptions,
  handlers: TransportHandlers,
  key: string,
  release: () => void,
): TransportRoom {
  const relayConfig: Record<string, unknown> = {}
  if (config.relayUrls) relayConfig['urls'] = [...config.relayUrls]
  if (config.relayRedundancy !== undefined) relayConfig['redundancy'] = config.relayRedundancy
  const joined = trystero.joinRoom(
    {
      appId: config.appId,
      ...(config.password !== undefined && { password: config.password }),
      ...(Object.keys(relayConfig).length > 0 && { relayConfig }),
      ...(config.rtcConfig !== undefined && { rtcConfig: config.rtcConfig }),
      ...(config.rtcPolyfill !== undefined && { rtcPolyfill: tracking(config.rtcPolyfill) }),
    },
    room,
  )
  let left: Promise<void> | undefined
  // Connection state: the signalling sockets (watched, failing ones retried with backoff) and the peers.
  const peers = new Set<string>()
  const report = (): TransportState => monitor.state(peers.size)
  const monitor = new SignallingMonitor({
    urls: config.relayUrls ?? [],
    sockets: () => trystero.getRelaySockets?.() ?? {},
    clock: Date.now,
    ...(trystero.pauseRelayReconnection && trystero.resumeRelayReconnection && {
      reconnect: { pause: trystero.pauseRelayReconnection, resume: trystero.resumeRelayReconnection },
    }),
    onChange: () => {
      if (left === undefined) handlers.onState?.(report())
    },
    ...(config.strategy === 'torrent' && { onSocket: (_url: string, socket: SocketLike) => gateTrackerSocket(socket) }),
  })
  monitor.poll() // listen to the sockets trystero just opened before they can fail
  const poller = setInterval(() => monitor.poll(), STATE_POLL_MS)
  ;(poller as { unref?: () => void }).unref?.()
  const frames = joined.makeAction(FRAME_ACTION)
  frames.onMessage = (data, { peerId }) => {
    // A peer of another app version could send text or JSON on the same action: only bytes are frames.
    if (left === undefined && data instanceof Uint8Array) handlers.onMessage(peerId, data)
  }
  joined.onPeerJoin = (peerId) => {
    if (left !== undefined) return
    peers.add(peerId)
    handlers.onPeerJoin(peerId)
    handlers.onState?.(report())
  }
  joined.onPeerLeave = (peerId) => {
    if (left !== undefined) return
    peers.delete(peerId)
    handlers.onPeerLeave(peerId)
    handlers.onState?.(report())
  }
  return {
    selfId: trystero.selfId,
    send(peerId: string, data: Uint8Array): void {
      if (left !== undefined) return
      if (!(data instanceof Uint8Array)) throw new PeersetError('INVALID_ARGUMENT', 'trysteroTransport send: data must be a Uint8Array')
      if (data.byteLength > MAX_FRAME_BYTES) {
        throw new PeersetError('TRANSPORT_FAILED', `trysteroTransport send: frame of ${data.byteLength} bytes is over ${MAX_FRAME_BYTES}`)
      }
      // Fire and forget: a peer that just left makes the send reject, which changes nothing for us.
      frames.send(data, { target: peerId }).catch(() => undefined)
    },
    state: report,
    resetPeer(peerId: string): void {
      if (left !== undefined) return
      // Closing the connection makes trystero drop it: at once if the data channel reports the close,
      // else at the peer's next offer, which trystero ignored while it held this connection for live.
      try {
        joined.getPeers?.()[peerId]?.close()
      } catch {
        // Already closed.
      }
    },
    setPeerDemand(demand: { peers: number; maxPeers: number }): void {
      if (left === undefined) demands.set(key, { peers: demand.peers, maxPeers: demand.maxPeers })
    },
    leave(): Promise<void> {
      if (left === undefined) {
        demands.delete(key)
        clearInterval(poller)
        monitor.stop()
        // The room is free for a new join only once trystero has forgotten it (or it would hand back this one).
        left = joined.leave().catch(() => undefined).finally(release)
      }
      return left
    },
  }
}
