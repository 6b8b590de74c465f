/** Callbacks a transport calls. Peer ids are the transport's own (e.g. trystero's `selfId`). */
export interface TransportHandlers {
  onPeerJoin(peerId: string): void
  onPeerLeave(peerId: string): void
  /** One whole frame from `peerId`. The transport preserves frame boundaries. */
  onMessage(peerId: string, data: Uint8Array): void
  /**
   * Optional: the connection state changed (a signalling server opened or failed, a peer came or
   * went). Called with the whole {@link TransportState}; transports without signalling may never call it.
   */
  onState?(state: TransportState): void
}

/** How one signalling server (a tracker or relay) is doing. */
export type SignallingStatus = 'connecting' | 'open' | 'failing'

/** One signalling server in a {@link TransportState}. */
export interface SignallingServerState {
  url: string
  /** `connecting` (not open yet, no failure so far), `open`, or `failing` (closed or refused since it was last open; retried with backoff). */
  state: SignallingStatus
  /** Why it last failed, if it did. */
  lastError?: string
  /** When it entered this state (ms since the epoch, the transport's clock). */
  since: number
}

/** A transport's connection state: its signalling servers and how many peers it is connected to. */
export interface TransportState {
  /** The signalling servers in use (empty for a transport that has none, e.g. the in-memory network). */
  signalling: SignallingServerState[]
  /** Peers connected at the transport level (before any handshake). */
  peers: number
  /** The last error, of any server. */
  lastError?: string
}

/** A joined room. */
export interface TransportRoom {
  /** This peer's id in the room. */
  readonly selfId: string
  /** Send one frame to one peer. Fire and forget: sent locally, not necessarily delivered. */
  send(peerId: string, data: Uint8Array): void
  /** Leave the room. Idempotent; always resolves. */
  leave(): Promise<void>
  /** Optional: the connection state now (see {@link TransportState}). */
  state?(): TransportState
  /**
   * Optional: the engine tells the transport how many authenticated peers it has and the most it
   * wants, so a full room can announce itself less often (see `announcePolicy`).
   */
  setPeerDemand?(demand: { peers: number; maxPeers: number }): void
  /**
   * Optional: drop the link to `peerId`, which the transport reports connected but which has sent
   * nothing at all through a whole handshake (e.g. a WebRTC connection that one side never reported,
   * so the other side ignores the peer's new offers). The transport should close it, so that the
   * peer is reported gone and a new link can be made. Peers never told of the link lose nothing.
   */
  resetPeer?(peerId: string): void
}

/** A transport strategy: joins rooms. Made by `network.transport()` (memory) or the trystero adapter. */
export interface TransportStrategy {
  /** A short name for `status()`, e.g. `'memory'`. */
  readonly name: string
  /** Whether it can run here (e.g. WebRTC exists). */
  isSupported(): boolean
  join(room: string, handlers: TransportHandlers): Promise<TransportRoom>
}
