/** The largest frame a transport must carry; owned by the wire protocol. */
export { MAX_FRAME_BYTES } from '../protocol/messages.js'
export type { SignallingServerState, SignallingStatus, TransportHandlers, TransportRoom, TransportState, TransportStrategy } from './types.js'
export {
  createMemoryNetwork,
  type MemoryNetwork,
  type MemoryNetworkOptions,
  type MemoryNetworkStats,
  type MemoryTransport,
  type MemoryTransportOptions,
} from './memory.js'
export { trysteroTransport, type TrysteroStrategyName, type TrysteroTransportOptions } from './trystero.js'
export { defaultTransport, isBrowserEnvironment, type TransportEnvironment } from './default.js'
export { announceDecision, FULL_ROOM_ANNOUNCE_MS, type AnnounceContext } from './announce-policy.js'
