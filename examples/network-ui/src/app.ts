/**
 * The state of the page and the running peerset's lifecycle: who is logged in, the room settings,
 * and what the peerset reported (refusals, bans, sync progress). Views read it and call its methods.
 */
import {
  acceptAll,
  createModeration,
  createPeerset,
  dailyBuckets,
  hourlyBuckets,
  indexedDbStorage,
  nostrRelays,
  quarterDayBuckets,
  trysteroTransport,
  type AuthorBanInfo,
  type Identity,
  type Peerset,
  type PeersetRecord,
  type RejectedRecord,
  type Signer,
} from 'peerset'

/** Settings every peer of the room must share. Changing one restarts the peerset. */
export interface RoomSettings {
  granularity: 'daily' | 'quarter-day' | 'hourly'
  retentionDays: number
  moderation: 'default' | 'accept-all'
}

export const DEFAULT_ROOM_SETTINGS: RoomSettings = { granularity: 'daily', retentionDays: 90, moderation: 'default' }

/** Who publishes: a key held by this page (with its nsec), or a NIP-07 browser extension. */
export type Login = { kind: 'key'; identity: Identity; remembered: boolean } | { kind: 'extension'; signer: Signer }

/** A peer ban as the page saw it. */
export interface PeerBan {
  peerId: string
  pubkey: string | undefined
  untilMs: number
  reason: string
}

/** Sync progress from `sync:started` / `sync:idle`. */
export interface SyncProgress {
  state: 'idle' | 'syncing' | 'unknown'
  wanted: number
  added: number
}

const MAX_LOG = 50

/** The page's state; `changed()` tells the views to redraw. */
export class App {
  readonly room: string
  readonly trackers: string[] | undefined
  /** Nostr relay urls (`?relays=`), or undefined for none. */
  readonly relays: string[] | undefined
  roomSettings: RoomSettings
  login: Login | undefined
  peerset: Peerset | undefined
  /** Why the last start failed, shown in the Client section. */
  startError: string | undefined
  rejections: RejectedRecord[] = []
  peerBans: PeerBan[] = []
  authorBans: AuthorBanInfo[] = []
  sync: SyncProgress = { state: 'unknown', wanted: 0, added: 0 }
  /** The record being edited in the publish form. */
  editing: PeersetRecord | undefined
  /** Put a record of ours into the publish form (set by the form). */
  startEditing: (record: PeersetRecord) => void = () => undefined
  readonly #listeners = new Set<(what: Change) => void>()
  #generation = 0

  constructor(params: URLSearchParams) {
    this.room = params.get('room')?.trim() || 'peerset-network-ui'
    this.trackers = urlList(params.get('tracker'))
    this.relays = urlList(params.get('relays'))
    this.roomSettings = readRoomSettings(params)
  }

  /** Listen for changes: `login` (identity), `peerset` (started or stopped), `records`, `status`. */
  onChange(listener: (what: Change) => void): void {
    this.#listeners.add(listener)
  }

  changed(what: Change): void {
    for (const listener of this.#listeners) listener(what)
  }

  /** Log in and start the peerset. */
  async logIn(login: Login): Promise<void> {
    this.login = login
    this.changed('login')
    await this.restart()
  }

  /** Close the peerset and forget the identity. */
  async logOut(): Promise<void> {
    this.login = undefined
    this.changed('login')
    await this.stop()
  }

  /** (Re)start the peerset with the current login and room settings. */
  async restart(): Promise<void> {
    await this.stop()
    const login = this.login
    if (!login) return
    const generation = ++this.#generation
    this.startError = undefined
    try {
      const identity = login.kind === 'key' ? login.identity : login.signer
      // One database per room and identity: two tabs of one browser, each logged in as someone else, do not share a store.
      const publicKey = login.kind === 'key' ? login.identity.publicKey : await login.signer.getPublicKey()
      const peerset = await createPeerset({
        room: this.room,
        identity,
        storage: storageFor(publicKey),
        transport: trysteroTransport(this.trackers ? { relayUrls: this.trackers } : {}),
        ...(this.relays ? { relays: nostrRelays({ urls: this.relays }) } : {}),
        granularity: granularityOf(this.roomSettings),
        moderation: this.roomSettings.moderation === 'accept-all' ? acceptAll() : createModeration(),
      })
      if (generation !== this.#generation) {
        await peerset.close()
        return
      }
      this.#watch(peerset)
      this.peerset = peerset
    } catch (error) {
      this.startError = error instanceof Error ? error.message : String(error)
    }
    this.changed('peerset')
  }

  /** Change the room-wide settings: kept in the address (a reload keeps them) and the peerset restarts. */
  async changeRoomSettings(settings: RoomSettings): Promise<void> {
    this.roomSettings = settings
    const params = new URLSearchParams(location.search)
    params.set('granularity', settings.granularity)
    params.set('retention', String(settings.retentionDays))
    params.set('moderation', settings.moderation)
    history.replaceState(null, '', `${location.pathname}?${params}`)
    await this.restart()
  }

  async stop(): Promise<void> {
    this.#generation++
    const peerset = this.peerset
    this.peerset = undefined
    this.rejections = []
    this.peerBans = []
    this.authorBans = []
    this.sync = { state: 'unknown', wanted: 0, added: 0 }
    this.editing = undefined
    this.changed('peerset')
    await peerset?.close()
  }

  #watch(peerset: Peerset): void {
    const records = (): void => this.changed('records')
    const status = (): void => this.changed('status')
    peerset.on('records:added', records)
    peerset.on('record:removed', records)
    peerset.on('record:rejected', (info) => {
      this.rejections = [info, ...this.rejections].slice(0, MAX_LOG)
      records()
    })
    peerset.on('author:banned', (info) => {
      this.authorBans = [info, ...this.authorBans].slice(0, MAX_LOG)
      status()
    })
    peerset.on('peer:banned', (info) => {
      this.peerBans = [info, ...this.peerBans].slice(0, MAX_LOG)
      status()
    })
    peerset.on('sync:started', ({ wanted }) => {
      this.sync = { state: 'syncing', wanted, added: 0 }
      status()
    })
    peerset.on('sync:idle', ({ recordsAdded }) => {
      this.sync = { state: 'idle', wanted: 0, added: recordsAdded }
      status()
    })
    for (const name of ['peer:joined', 'peer:left', 'peer:state', 'peer:strike', 'transport:state', 'relay:state', 'warning'] as const) peerset.on(name, status)
    peerset.on('error', (error) => console.warn('peerset:', error))
  }
}

export type Change = 'login' | 'peerset' | 'records' | 'status'

function readRoomSettings(params: URLSearchParams): RoomSettings {
  const granularity = params.get('granularity')
  const retention = Number(params.get('retention'))
  const moderation = params.get('moderation')
  return {
    granularity: granularity === 'hourly' || granularity === 'quarter-day' ? granularity : 'daily',
    retentionDays: Number.isFinite(retention) && retention > 0 && retention <= 365 ? retention : DEFAULT_ROOM_SETTINGS.retentionDays,
    moderation: moderation === 'accept-all' ? 'accept-all' : 'default',
  }
}

/** The granularity strategy of the room settings. */
export function granularityOf(settings: RoomSettings) {
  const options = { retentionMs: settings.retentionDays * 86_400_000 }
  if (settings.granularity === 'hourly') return hourlyBuckets(options)
  if (settings.granularity === 'quarter-day') return quarterDayBuckets(options)
  return dailyBuckets(options)
}

/** IndexedDB, one database per room and identity; where there is none, the default (memory, with a warning). */
/** A comma-separated list of urls from the address, or undefined when empty. */
function urlList(param: string | null): string[] | undefined {
  const urls = param
    ?.split(',')
    .map((url) => url.trim())
    .filter(Boolean)
  return urls && urls.length > 0 ? urls : undefined
}

function storageFor(publicKey: string) {
  const idb = indexedDbStorage({ databaseName: (room) => `peerset:${room}:${publicKey}` })
  return idb.isSupported() ? idb : undefined
}
