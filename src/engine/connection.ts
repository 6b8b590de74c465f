/**
 * Connecting a peerset to its room: the transport, the peer sessions and the sync (through the
 * `SyncDriver`), the per-peer info the host app sees, the session timer, and the periodic rejoin
 * after `maxClientSessionMs`. Without a transport the peerset is local only.
 */
import { npubEncode } from '../identity/index.js'
import type { PeerInfo, PeersetStatus } from '../peerset-types.js'
import { clientSessionEndsAt } from '../session/index.js'
import { defaultTransport, NO_DEFAULT_TRANSPORT_MESSAGE } from '../transport/default.js'
import type { TransportRoom, TransportStrategy } from '../transport/types.js'
import { initialTuning, type LiveTuning } from './live-settings.js'
import type { LocalState } from './local-state.js'
import { REGISTRY_META_KEY } from './meta-keys.js'
import { keptSetRules, type ResolvedOptions } from './options.js'
import { unref, withTimeout, type Reporter } from './reporter.js'
import { SyncDriver } from './sync-driver.js'
import { TransportWatch } from './transport-watch.js'

/** A peerset's link to its room. */
export interface Connection {
  peers(): PeerInfo[]
  status(): PeersetStatus['transport']
  /** Use new tuning from now on (see `live-settings.ts`); checked by the caller. */
  configure(tuning: LiveTuning): void
  /** Leave the room and end every session. Never throws. */
  close(): Promise<void>
}

/**
 * Join the room with the configured transport, or the default one (`trysteroTransport()` in a
 * browser, see `defaultTransport`), or stay local with a warning that says how to set one up.
 */
export async function connect(config: ResolvedOptions, local: LocalState, reporter: Reporter): Promise<Connection> {
  const transport = config.given.transport ?? defaultTransport()
  if (transport === undefined) {
    // With relays the records do sync (through them): no warning that they will not.
    if (!config.given.relays) reporter.warn({ code: 'no-transport', message: NO_DEFAULT_TRANSPORT_MESSAGE })
  } else if (transport !== false && !transport.isSupported()) {
    reporter.warn({ code: 'no-transport', message: `transport "${transport.name}" is not supported here: records will not sync` })
  } else if (transport !== false) {
    // A failed first join is retried in the background (see `RoomLink.join`): the peerset opens anyway.
    const room = new RoomLink(config, local, reporter, transport)
    await room.join()
    return room
  }
  return {
    peers: () => [],
    status: () => ({ name: transport ? transport.name : null, joined: false, selfId: null, peers: 0, state: null }),
    configure: () => undefined,
    close: async () => undefined,
  }
}

/** A joined room: sessions and sync through the driver, rejoined every `maxClientSessionMs`. */
class RoomLink implements Connection {
  readonly #config: ResolvedOptions
  readonly #reporter: Reporter
  readonly #transport: TransportStrategy
  readonly #peerInfo = new Map<string, PeerInfo>()
  readonly #sync: SyncDriver
  /** Connection state: `transport:state` events, the `no-signalling` warning. */
  readonly #watch: TransportWatch
  readonly #handlers: SyncDriver['handlers']
  #handle: TransportRoom | undefined
  /** The tuning in force (`configure()` changes it). */
  #tuning: LiveTuning
  /** When the room was last joined (the stay before a rejoin counts from it). */
  #joinedAt = 0
  #open = true
  #sessionTimer: ReturnType<typeof setInterval> | undefined
  #rejoinTimer: ReturnType<typeof setTimeout> | undefined
  /** Failed attempts to rejoin in a row. */
  #failedJoins = 0

  constructor(config: ResolvedOptions, local: LocalState, reporter: Reporter, transport: TransportStrategy) {
    this.#config = config
    this.#reporter = reporter
    this.#transport = transport
    this.#tuning = initialTuning(config)
    this.#sync = createDriver(config, this.#tuning, local, reporter, this.#peerInfo)
    this.#watch = new TransportWatch(reporter)
    this.#handlers = { ...this.#sync.handlers, onState: (state) => this.#watch.changed(state) }
    local.onRecordsAdded = (records, origins) => {
      origins.forEach((origin) => {
        if (origin.origin === 'remote') {
          const peer = this.#peerInfo.get(origin.peerId)
          if (peer) peer.recordsReceived++
        }
      })
      this.#sync.announce(records, origins)
    }
    local.onEvidenceAdded = (records) => this.#sync.sendEvidence(records)
    local.onRecordRemoved = (record) => this.#sync.recordsRemoved([record])
  }

  /**
   * Join. A failed join (the first one too) is retried with backoff ({@link rejoinBackoffMs}), with a
   * `transport-failed` warning each time: this resolves after the first attempt either way, and the
   * peerset works locally (`status().transport.joined` false) until a join works.
   */
  async join(): Promise<void> {
    this.#sessionTimer = setInterval(() => {
      this.#sync.tick()
      this.#tellPeerDemand()
    }, this.#config.sessionTickMs)
    unref(this.#sessionTimer)
    await this.#joinAgain('joining')
  }

  peers(): PeerInfo[] {
    return [...this.#peerInfo.values()].map((p) => ({ ...p, rttMs: this.#sync.rttOf(p.peerId), recordsSent: this.#sync.recordsSentTo(p.peerId) }))
  }

  configure(tuning: LiveTuning): void {
    const stayChanged = tuning.maxClientSessionMs !== this.#tuning.maxClientSessionMs
    this.#tuning = tuning
    this.#sync.retune(tuning)
    this.#tellPeerDemand()
    // A joined room: the stay counts from the last join, with the new length.
    if (stayChanged && this.#open && this.#handle !== undefined) {
      clearTimeout(this.#rejoinTimer)
      this.#scheduleRejoin()
    }
  }

  /** Tell the transport how full the room is, so a full room announces itself less often (see announce-policy.ts). */
  #tellPeerDemand(): void {
    let peers = 0
    for (const p of this.#peerInfo.values()) if (p.state === 'authenticated') peers++
    this.#handle?.setPeerDemand?.({ peers, maxPeers: this.#tuning.maxPeers })
  }

  status(): PeersetStatus['transport'] {
    return {
      name: this.#transport.name,
      joined: this.#handle !== undefined && this.#open,
      selfId: this.#handle?.selfId ?? null,
      peers: this.#peerInfo.size,
      state: this.#watch.state(),
    }
  }

  async close(): Promise<void> {
    this.#open = false
    clearInterval(this.#sessionTimer)
    clearTimeout(this.#rejoinTimer)
    this.#watch.stop()
    try {
      this.#sync.stop()
    } catch (error) {
      this.#reporter.error(error)
    }
    if (this.#handle) await withTimeout(this.#handle.leave(), this.#tuning.closeTimeoutMs).catch((e) => this.#reporter.error(e))
    this.#peerInfo.clear()
  }

  /**
   * After `maxClientSessionMs` leave the room and join again, with fresh sessions. The stay is
   * shortened by a random 0-10% (`clientSessionEndsAt`'s jitter), so peers that joined together do
   * not all leave together.
   */
  #scheduleRejoin(): void {
    const { clock } = this.#config
    const endsAt = clientSessionEndsAt(this.#joinedAt, { maxMs: this.#tuning.maxClientSessionMs, jitter: Math.random() })
    this.#rejoinTimer = setTimeout(() => void this.#rejoin(), Math.max(1_000, endsAt - clock()))
    unref(this.#rejoinTimer)
  }

  /** Leave, then join again; a failed join is retried with backoff (see {@link rejoinBackoffMs}). */
  async #rejoin(): Promise<void> {
    if (!this.#open) return
    const { closeTimeoutMs } = this.#tuning
    const old = this.#handle
    this.#handle = undefined
    if (old) {
      this.#sync.detach()
      await withTimeout(old.leave(), closeTimeoutMs).catch((error) => this.#reporter.error(error))
    }
    if (!this.#open) return
    await this.#joinAgain('rejoining')
  }

  async #joinAgain(what: 'joining' | 'rejoining'): Promise<void> {
    if (!this.#open) return
    const { room } = this.#config
    const { closeTimeoutMs } = this.#tuning
    let handle: TransportRoom
    try {
      handle = await this.#transport.join(room, this.#handlers)
    } catch (error) {
      if (!this.#open) return
      const delay = rejoinBackoffMs(this.#failedJoins++, Math.random())
      this.#reporter.warn({
        code: 'transport-failed',
        message: `${what} the room failed (${String(error)}): records will not sync until it works; trying again in ${Math.round(delay / 1000)} s`,
      })
      this.#rejoinTimer = setTimeout(() => void this.#joinAgain(what), delay)
      unref(this.#rejoinTimer)
      return
    }
    if (!this.#open) {
      // close() ran while we were joining: leave the new room too, and stop here.
      await withTimeout(handle.leave(), closeTimeoutMs).catch(() => undefined)
      return
    }
    this.#failedJoins = 0
    this.#joinedAt = this.#config.clock()
    this.#handle = handle
    this.#sync.attach(handle)
    this.#watch.attach(handle)
    this.#scheduleRejoin()
  }
}

/** First wait before joining again after a failed join (the first one or a rejoin), ms; doubled after each failure. */
export const REJOIN_RETRY_MS = 1_000
/** Longest wait between two attempts to rejoin, ms. */
export const MAX_REJOIN_RETRY_MS = 300_000

/**
 * The wait before attempt `failures + 1` to rejoin: 1 s doubling up to 5 minutes, shortened by up
 * to half at random (`random` in [0, 1)), so a swarm whose signalling server came back does not
 * return all at once.
 */
export function rejoinBackoffMs(failures: number, random: number): number {
  const base = Math.min(MAX_REJOIN_RETRY_MS, REJOIN_RETRY_MS * 2 ** Math.min(failures, 30))
  return Math.max(REJOIN_RETRY_MS / 2, Math.round(base * (1 - random / 2)))
}

/** The sync driver, reporting peers as the peerset's events and keeping `peerInfo` current. */
function createDriver(config: ResolvedOptions, tuning: LiveTuning, local: LocalState, reporter: Reporter, peerInfo: Map<string, PeerInfo>): SyncDriver {
  const { events } = reporter
  const { clock } = config
  const infoOf = (peerId: string): PeerInfo => {
    let info = peerInfo.get(peerId)
    if (!info) peerInfo.set(peerId, (info = { peerId, state: 'connecting', pubkey: undefined, npub: undefined, strikes: 0, connectedAt: clock(), recordsReceived: 0, recordsSent: 0, rttMs: undefined }))
    return info
  }
  return new SyncDriver({
    room: config.room,
    signer: config.signer,
    publicKey: config.publicKey,
    granularity: config.granularity.descriptor,
    moderationDigest: config.moderation.digest,
    settingRules: keptSetRules(config),
    buckets: local.buckets,
    index: local.index,
    ingestor: local.ingestor,
    evidence: local.evidence,
    clock,
    clockSkewMs: config.clockSkewMs,
    registry: local.registry,
    maxPeers: tuning.maxPeers,
    sessionLimits: tuning.sessionLimits,
    sessionTimeouts: tuning.sessionTimeouts,
    ...(config.given.proofOfWork?.session ? { proofOfWork: config.given.proofOfWork.session } : {}),
    onError: (error) => reporter.error(error),
    pullGate: local.health,
    peers: {
      state: (peerId, from, to) => {
        infoOf(peerId).state = to
        events.emit('peer:state', { peerId, from, to })
      },
      authenticated: (peerId, pubkey, strikes) => {
        const info = infoOf(peerId)
        info.strikes = strikes
        info.pubkey = pubkey
        info.npub = npubEncode(pubkey)
        events.emit('peer:joined', { ...info })
      },
      closed: (peerId, reason, detail) => {
        const info = peerInfo.get(peerId)
        peerInfo.delete(peerId)
        if (info) events.emit('peer:left', { ...info }, { reason, detail })
      },
      strike: (peerId, reason, count, detail) => {
        infoOf(peerId).strikes = count
        events.emit('peer:strike', { peerId, reason, count, detail })
      },
      banned: (peerId, pubkey, untilMs, reason) => events.emit('peer:banned', { peerId, pubkey, untilMs, reason }),
      syncStarted: (wanted) => events.emit('sync:started', { wanted }),
      syncIdle: (recordsAdded) => events.emit('sync:idle', { recordsAdded }),
      syncProgress: (progress) => events.emit('sync:progress', progress),
      registryChanged: (registry) => {
        local.store.setMeta(REGISTRY_META_KEY, registry.toJSON()).catch((error) => reporter.error(error))
      },
    },
  })
}
