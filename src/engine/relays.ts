/**
 * The peerset's side of the relay strategy (`options.relays`): what a relay serves goes through the
 * ingest path with the relay as its origin; records stored here are handed to the strategy to
 * publish; the sync points persist in the store's metadata; state changes become `relay:state` events.
 */
import type { RelayHost, RelayLinks, RelayState } from '../relays/index.js'
import { RECORD_KIND, toNostrEvent } from '../record/index.js'
import type { Connection } from './connection.js'
import { connect } from './connection.js'
import type { LocalState } from './local-state.js'
import { RELAYS_SINCE_META_KEY } from './meta-keys.js'
import type { ResolvedOptions } from './options.js'
import type { Reporter } from './reporter.js'

/** The connection to the room, with the relays (if configured). */
export interface RoomConnection extends Connection {
  relays(): RelayState[]
}

/** Join the room (see `connect`) and start the relays; closing closes both (the relays first flush what they publish). */
export async function connectWithRelays(config: ResolvedOptions, local: LocalState, reporter: Reporter): Promise<RoomConnection> {
  const connection = await connect(config, local, reporter)
  const strategy = config.given.relays
  if (!strategy) return { ...bind(connection), relays: () => [] }
  const links = strategy.start(relayHost(config, local, reporter))
  const announce = local.onRecordsAdded
  local.onRecordsAdded = (records, origins) => {
    announce?.(records, origins)
    const from = records.map((r, i) => {
      const origin = origins[i]
      return { own: r.author === config.publicKey, ...(origin?.origin === 'relay' ? { relay: origin.url } : {}) }
    })
    links.stored(records.map(toNostrEvent), from)
  }
  return {
    ...bind(connection),
    relays: () => links.status(),
    close: async () => {
      await Promise.all([closeLinks(links, reporter), connection.close()])
    },
  }
}

function bind(connection: Connection): Connection {
  return { peers: () => connection.peers(), status: () => connection.status(), configure: (tuning) => connection.configure(tuning), close: () => connection.close() }
}

async function closeLinks(links: RelayLinks, reporter: Reporter): Promise<void> {
  await links.close().catch((error) => reporter.error(error))
}

function relayHost(config: ResolvedOptions, local: LocalState, reporter: Reporter): RelayHost {
  const { granularity, clock } = config
  const sinceOf = async (): Promise<Record<string, number>> => {
    const stored = await local.store.getMeta(RELAYS_SINCE_META_KEY)
    return typeof stored === 'object' && stored !== null ? (stored as Record<string, number>) : {}
  }
  return {
    roomHash: config.roomHash,
    kind: RECORD_KIND,
    signer: config.signer,
    clock,
    windowStartSeconds: () => granularity.rangeOf(granularity.windowAt(clock()).oldest).startMs / 1000,
    async submit(event, url) {
      const outcome = await local.ingestor.submitFromRelay(event, url)
      return { accepted: outcome.status === 'added', fault: outcome.status === 'rejected' && outcome.peerFault }
    },
    ownRecords: () => [...local.index.idsOfAuthor(config.publicKey), ...local.index.withdrawalsOfAuthor(config.publicKey)].map((id) => toNostrEvent(local.index.get(id)!)),
    heldSince: (seconds) => {
      const held: Array<{ timestamp: number; id: string }> = []
      for (const r of local.index.all()) if (r.createdAt >= seconds) held.push({ timestamp: r.createdAt, id: r.id })
      return held
    },
    heldEvent: (id) => {
      const record = local.index.get(id)
      return record && { event: toNostrEvent(record), own: record.author === config.publicKey }
    },
    async loadSince(url) {
      const value = (await sinceOf())[url]
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined
    },
    async saveSince(url, seconds) {
      await local.store.setMeta(RELAYS_SINCE_META_KEY, { ...(await sinceOf()), [url]: seconds })
    },
    stateChanged: (state) => reporter.events.emit('relay:state', state),
  }
}
