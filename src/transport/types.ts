/** Callbacks a transport calls. Peer ids are the transport's own (e.g. trystero's `selfId`). */
export interface TransportHandlers {
  onPeerJoin(peerId: string): void
  onPeerLeave(peerId: string): void
  /** One whole frame from `peerId`. The transport preserves frame boundaries. */
  onMessage(peerId: string, data: Uint8Array): void
}

/** A joined room. */
export interface TransportRoom {
  /** This peer's id in the room. */
  readonly selfId: string
  /** Send one frame to one peer. Fire and forget: sent locally, not necessarily delivered. */
  send(peerId: string, data: Uint8Array): void
  /** Leave the room. Idempotent; always resolves. */
  leave(): Promise<void>
}

/** A transport strategy: joins rooms. Made by `network.transport()` (memory) or the trystero adapter. */
export interface TransportStrategy {
  /** A short name for `status()`, e.g. `'memory'`. */
  readonly name: string
  /** Whether it can run here (e.g. WebRTC exists). */
  isSupported(): boolean
  join(room: string, handlers: TransportHandlers): Promise<TransportRoom>
}
