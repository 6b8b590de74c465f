/**
 * The connection to the room, with the relay strategy (`options.relays`) if one is configured. The
 * relay side (relay-host.ts) loads only then, so a peerset without relays does not ship it.
 */
import type { RelayState } from '../relays/index.js'
import type { Connection } from './connection.js'
import { connect } from './connection.js'
import type { LocalState } from './local-state.js'
import type { ResolvedOptions } from './options.js'
import type { Reporter } from './reporter.js'

/** The connection to the room, with the relays (if configured). */
export interface RoomConnection extends Connection {
  relays(): RelayState[]
}

/** Join the room (see `connect`) and start the relays; closing closes both (the relays first flush what they publish). */
export async function connectWithRelays(config: ResolvedOptions, local: LocalState, reporter: Reporter): Promise<RoomConnection> {
  const connection = await connect(config, local, reporter)
  if (!config.given.relays) return { ...bind(connection), relays: () => [] }
  const { startRelays } = await import('./relay-host.js')
  return { ...bind(connection), ...startRelays(config, local, reporter, connection) }
}

/** `connection`'s methods, bound (spread into a new object without losing `this`). */
function bind(connection: Connection): Connection {
  return { peers: () => connection.peers(), status: () => connection.status(), configure: (tuning) => connection.configure(tuning), close: () => connection.close() }
}
