import type { SyncCore } from '../sync/index.js'
import type { TransportRoom } from '../transport/types.js'

/**
 * What the parts of the sync driver share: the room and the sync core of the current `attach`
 * (both unset while detached), and whether the driver has stopped for good.
 */
export interface DriverState {
  room: TransportRoom | undefined
  core: SyncCore | undefined
  stopped: boolean
}

/** Runs a callback of the driver: reports a throw as an error instead of letting it escape. */
export type Guard = (fn: () => void) => void
