/**
 * The outbox of the sync driver: encodes what the sync core sends and hands the frames to the
 * transport, to authenticated peers only. The `have` announcements (and `gossip` messages) of one
 * event-loop turn are merged per peer into as few frames as fit.
 */
import { encodeMessage, type GossipMessage } from '../protocol/index.js'
import type { Outbound } from '../sync/index.js'
import type { DriverState, Guard } from './driver-state.js'
import type { PeerTable } from './peer-table.js'

/** Sends the sync core's messages. */
export class Outbox {
  readonly #state: DriverState
  readonly #peers: PeerTable
  readonly #guard: Guard
  /** Per peer, per kind (`have`, or `gossip:<op>`), ids by bucket. */
  readonly #pendingHave = new Map<string, Map<string, Map<number, string[]>>>()
  #haveFlushQueued = false

  constructor(state: DriverState, peers: PeerTable, guard: Guard) {
    this.#state = state
    this.#peers = peers
    this.#guard = guard
  }

  /** Send messages of the sync core (dropped while detached or stopped). */
  send(outbound: readonly Outbound[]): void {
    const room = this.#state.room
    if (!room || this.#state.stopped) return
    for (const { to, message } of outbound) {
      const entry = this.#peers.get(to)
      // Nothing but handshake messages go to a peer that has not authenticated.
      if (!entry?.authenticated) continue
      // Records we ask for are flow-controlled, never counted as a flood.
      if (message.type === 'want') entry.session.expectRecords(message.ids.length)
      else if (message.type === 'fetch') entry.session.expectRecords(message.max)
      else if (message.type === 'gossip' && message.op === 'want') entry.session.expectRecords(message.groups.reduce((n, g) => n + g.ids.length, 0))
      if (message.type === 'records' || message.type === 'pushed') entry.recordsSent += message.events.length
      if (message.type === 'have' || message.type === 'gossip') {
        this.#queueHave(to, message.type === 'have' ? 'have' : `gossip:${message.op}`, message.groups)
        continue
      }
      for (const frame of encodeMessage(message)) room.send(to, frame)
    }
  }

  /** Encode a message into frames (for messages the sync core does not make, e.g. evidence). */
  encode(message: Parameters<typeof encodeMessage>[0]): Uint8Array[] {
    return encodeMessage(message)
  }

  /**
   * Announcements made in one turn of the event loop (a committed batch resolves many records at
   * once, each announced on its own) are merged into as few `have` frames as fit, per peer.
   */
  #queueHave(to: string, kind: string, groups: readonly { bucket: number; ids: string[] }[]): void {
    let kinds = this.#pendingHave.get(to)
    if (!kinds) this.#pendingHave.set(to, (kinds = new Map()))
    let buckets = kinds.get(kind)
    if (!buckets) kinds.set(kind, (buckets = new Map()))
    for (const { bucket, ids } of groups) {
      const list = buckets.get(bucket)
      if (list) list.push(...ids)
      else buckets.set(bucket, [...ids])
    }
    if (this.#haveFlushQueued) return
    this.#haveFlushQueued = true
    queueMicrotask(() => this.#guard(() => this.#flushHave()))
  }

  #flushHave(): void {
    this.#haveFlushQueued = false
    const pending = [...this.#pendingHave]
    this.#pendingHave.clear()
    const room = this.#state.room
    if (!room || this.#state.stopped) return
    for (const [to, kinds] of pending) {
      if (!this.#peers.get(to)?.authenticated) continue
      for (const [kind, buckets] of kinds) {
        const groups = [...buckets].map(([bucket, ids]) => ({ bucket, ids: [...new Set(ids)] }))
        const message = kind === 'have' ? { type: 'have' as const, groups } : { type: 'gossip' as const, op: kind.slice('gossip:'.length) as GossipMessage['op'], groups }
        for (const frame of encodeMessage(message)) room.send(to, frame)
      }
    }
  }
}
