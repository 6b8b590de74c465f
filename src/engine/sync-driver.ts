import { PeersetError } from '../errors.js'
import { decodeMessage, encodeMessage, type RejectClass } from '../protocol/index.js'
import type { PeersetRecord } from '../record/types.js'
import { toNostrEvent } from '../record/index.js'
import { createSyncCore, type BucketIndex, type Outbound, type SyncCore, type SyncStats } from '../sync/index.js'
import type { TransportHandlers, TransportRoom } from '../transport/types.js'
import type { IngestOutcome, Ingestor, RecordOrigin } from './ingest.js'
import type { RecordIndex } from './record-index.js'

export interface SyncDriverOptions {
  buckets: BucketIndex
  index: RecordIndex
  ingestor: Ingestor
  clock: () => number
  clockSkewMs: number
  onError(error: unknown): void
  onPeerJoined(peerId: string): void
  onPeerLeft(peerId: string): void
  /** A peer sent something malformed or broke the protocol (later: a session strike). */
  onViolation?(peerId: string, reason: string): void
}

/** Ids this peer refused for good are remembered (so they are never requested again), up to this many. */
const MAX_REMEMBERED_REJECTIONS = 100_000

/**
 * Connects the transport, the wire codec, the pure sync core and the ingest path. It owns no
 * policy: the core decides what to send and request; the ingestor decides what to keep.
 */
export class SyncDriver {
  readonly #o: SyncDriverOptions
  /** Made in `attach`, when the transport has told us our own id (the lower id of a pair leads). */
  #coreRef: SyncCore | undefined
  readonly #rejected = new Set<string>()
  readonly #peers = new Set<string>()
  #room: TransportRoom | undefined
  #stopped = false
  /** Frames that arrived before `attach` (a transport may deliver during `join`). */
  readonly #early: Array<() => void> = []

  constructor(options: SyncDriverOptions) {
    this.#o = options
  }

  /** The transport callbacks. They never throw: a failure becomes an `error` event. */
  readonly handlers: TransportHandlers = {
    onPeerJoin: (peerId) => this.#guard(() => this.#peerJoined(peerId)),
    onPeerLeave: (peerId) => this.#guard(() => this.#peerLeft(peerId)),
    onMessage: (peerId, data) => this.#guard(() => this.#message(peerId, data)),
  }

  attach(room: TransportRoom): void {
    this.#room = room
    const { index, buckets, clockSkewMs } = this.#o
    this.#coreRef = createSyncCore({
      selfId: room.selfId,
      index: buckets,
      lookup: (id) => {
        const record = index.get(id)
        return record ? toNostrEvent(record) : undefined
      },
      isKnownRejected: (id) => this.#rejected.has(id),
      clockSkewMs,
    })
    for (const run of this.#early.splice(0)) run()
  }

  /** Announce records that were added by other means than a pulled record (publishes, imports). */
  announce(records: readonly PeersetRecord[], origins: readonly RecordOrigin[]): void {
    const core = this.#coreRef
    if (!core || this.#stopped) return
    const ids = records.filter((_, i) => origins[i]?.origin !== 'remote').map((r) => r.id)
    if (ids.length > 0) this.#send(core.localRecordsAdded(ids, this.#o.clock()))
  }

  tick(): void {
    const core = this.#coreRef
    if (!core || this.#stopped) return
    this.#guard(() => this.#send(core.tick(this.#o.clock())))
  }

  stats(): SyncStats | undefined {
    return this.#coreRef?.stats()
  }

  peerState(peerId: string): 'syncing' | 'idle' | undefined {
    if (!this.#peers.has(peerId)) return undefined
    return (this.#coreRef?.stats().inFlight ?? 0) > 0 ? 'syncing' : 'idle'
  }

  stop(): void {
    this.#stopped = true
  }

  #peerJoined(peerId: string): void {
    const core = this.#coreRef
    if (!core) return void this.#early.push(() => this.#peerJoined(peerId))
    if (this.#stopped || this.#peers.has(peerId)) return
    this.#peers.add(peerId)
    this.#o.onPeerJoined(peerId)
    this.#send(core.peerReady(peerId, this.#o.clock()))
  }

  #peerLeft(peerId: string): void {
    const core = this.#coreRef
    if (!core) return void this.#early.push(() => this.#peerLeft(peerId))
    if (!this.#peers.delete(peerId)) return
    this.#send(core.peerGone(peerId, this.#o.clock()))
    this.#o.onPeerLeft(peerId)
  }

  #message(peerId: string, data: Uint8Array): void {
    const core = this.#coreRef
    if (!core) return void this.#early.push(() => this.#message(peerId, data))
    if (this.#stopped || !this.#peers.has(peerId)) return
    let message
    try {
      message = decodeMessage(data)
    } catch (error) {
      if (error instanceof PeersetError) return this.#o.onViolation?.(peerId, error.message)
      throw error
    }
    const result = core.receive(peerId, message, this.#o.clock())
    this.#send(result.send)
    for (const event of result.records) {
      void this.#o.ingestor.submitRemote(event, peerId).then(
        (outcome) => this.#guard(() => this.#resolved(event.id, peerId, outcome)),
        (error) => this.#o.onError(error),
      )
    }
  }

  #resolved(id: string, peerId: string, outcome: IngestOutcome): void {
    const core = this.#coreRef
    if (!core || this.#stopped) return
    const now = this.#o.clock()
    switch (outcome.status) {
      case 'added':
        return this.#send(core.recordResolved(id, 'accepted', now, { fromPeerId: peerId }))
      case 'duplicate':
        return this.#send(core.recordResolved(id, 'duplicate', now, { fromPeerId: peerId }))
      case 'failed':
        return this.#send(core.recordResolved(id, 'rejected', now, { fromPeerId: peerId, reject: { reason: 'other', permanent: false } }))
      case 'rejected': {
        if (outcome.peerFault) this.#o.onViolation?.(peerId, `record ${id}: ${outcome.reason}`)
        if (outcome.permanent) this.#rememberRejected(id)
        const reason = rejectClassOf(outcome.reason)
        return this.#send(core.recordResolved(id, 'rejected', now, { fromPeerId: peerId, reject: { reason, permanent: outcome.permanent } }))
      }
    }
  }

  #rememberRejected(id: string): void {
    if (this.#rejected.size >= MAX_REMEMBERED_REJECTIONS) {
      const oldest = this.#rejected.values().next().value
      if (oldest !== undefined) this.#rejected.delete(oldest)
    }
    this.#rejected.add(id)
  }

  #send(outbound: readonly Outbound[]): void {
    const room = this.#room
    if (!room || this.#stopped) return
    for (const { to, message } of outbound) {
      for (const frame of encodeMessage(message)) room.send(to, frame)
    }
  }

  #guard(fn: () => void): void {
    try {
      fn()
    } catch (error) {
      this.#o.onError(error)
    }
  }
}

function rejectClassOf(reason: string): RejectClass {
  switch (reason) {
    case 'malformed':
    case 'invalid-field':
    case 'too-large':
    case 'not-a-record':
    case 'bad-id':
    case 'bad-signature':
      return 'invalid'
    case 'expired':
    case 'future':
    case 'superseded':
    case 'moderation':
      return reason
    default:
      return 'other'
  }
}
