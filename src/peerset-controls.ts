/** Parts of the peerset facade kept out of `createPeerset`: its status snapshot and its controls (persistence, live settings). */
import type { RoomConnection } from './engine/relays.js'
import { applyChange, initialTuning, settingsOf } from './engine/live-settings.js'
import type { LocalState } from './engine/local-state.js'
import type { ResolvedOptions } from './engine/options.js'
import type { Reporter } from './engine/reporter.js'
import { PeersetError } from './errors.js'
import type { Peerset, PeersetStatus } from './peerset-types.js'

/** What the facade's parts read of the running peerset. */
export interface FacadeParts {
  config: ResolvedOptions
  local: LocalState
  connection: RoomConnection
  reporter: Reporter
  npub: string
  state: () => PeersetStatus['state']
}

/** `status()`: a snapshot of counts, buckets, storage and transport state, warnings. */
export function peersetStatus({ config, local, connection, reporter, npub, state }: FacadeParts): PeersetStatus {
  const { granularity, clock, publicKey } = config
  const { index } = local
  const now = state()
  return {
    room: config.room,
    publicKey,
    npub,
    state: now,
    records: index.size,
    withdrawals: index.withdrawalCount,
    authors: index.authorCount,
    granularity: { ...granularity.descriptor },
    buckets: { ...granularity.windowAt(clock()), nonEmpty: local.buckets.bucketCount },
    storage: {
      name: local.storageName,
      persistent: local.store.persistent,
      persisted: local.persisted(),
      ...local.health.status(),
    },
    transport: now === 'open' ? connection.status() : { ...connection.status(), joined: false },
    relays: connection.relays(),
    warnings: reporter.warnings,
  }
}

/** `requestPersistence()` and `configure()`. */
export function peersetControls(parts: FacadeParts): Pick<Peerset, 'requestPersistence' | 'configure'> {
  const { local, connection, state } = parts
  let tuning = initialTuning(parts.config)
  return {
    requestPersistence() {
      if (state() !== 'open') return Promise.reject(new PeersetError('CLOSED', 'requestPersistence: the peerset is closed'))
      return local.requestPersistence()
    },
    configure(change) {
      if (state() !== 'open') throw new PeersetError('CLOSED', 'configure: the peerset is closed')
      const next = applyChange(tuning, change)
      tuning = next
      connection.configure(next)
      return settingsOf(next)
    },
  }
}
