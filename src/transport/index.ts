export { MAX_FRAME_BYTES, type TransportHandlers, type TransportRoom, type TransportStrategy } from './types.js'
export {
  createMemoryNetwork,
  type MemoryNetwork,
  type MemoryNetworkOptions,
  type MemoryNetworkStats,
  type MemoryTransport,
  type MemoryTransportOptions,
} from './memory.js'
export { trysteroTransport, type TrysteroStrategyName, type TrysteroTransportOptions } from './trystero.js'
