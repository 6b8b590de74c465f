/**
 * A test network of sync cores: every message goes through the codec (encode -> frames -> decode)
 * and the pump plays the engine (stores pulled records, reports verdicts with recordResolved).
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { dailyBuckets, type Granularity } from '../../src/buckets/index.js'
import { decodeMessage, encodeMessage } from '../../src/protocol/index.js'
import type { SyncMessage, SyncMessageType, WireEvent } from '../../src/protocol/messages.js'
import type { NostrEvent } from '../../src/record/types.js'
import { BucketIndex } from '../../src/sync/bucket-index.js'
import { createSyncCore, type Outbound, type SyncCore, type SyncCoreOptions } from '../../src/sync/core.js'

export const DAY_MS = 86_400_000
/** Noon, 20 November 2026 (UTC). */
export const NOW = Date.UTC(2026, 10, 20, 12)
export const granularity = dailyBuckets()

/** A fake record: its id and creation time (Unix seconds). */
export interface FakeRecord {
  id: string
  createdAt: number
}

/** A minimal fake event whose "id" is its content (the tests inject `computeId: e => e.content`). */
export function fakeEvent(r: FakeRecord): NostrEvent {
  return { id: r.id, pubkey: '00'.repeat(32), created_at: r.createdAt, kind: 37_515, tags: [], content: r.id, sig: '00'.repeat(64) }
}

/** A distinct, uniformly random-looking id for a label (SHA-256 of it), like real event ids. */
export function hid(label: string | number): string {
  return bytesToHex(sha256(new TextEncoder().encode(String(label))))
}

/** Creation time `daysAgo` days before today's bucket start, plus `second`. */
export function timeIn(daysAgo: number, second = 0): number {
  const todayStart = Math.floor(NOW / DAY_MS) * DAY_MS
  return (todayStart - daysAgo * DAY_MS) / 1000 + second
}

export class TestPeer {
  readonly index: BucketIndex
  readonly store = new Map<string, NostrEvent>()
  /** Ids this peer's rules refuse for good. */
  readonly refuses = new Set<string>()
  /** Ids this peer's rules refuse for now (a transient refusal: not remembered, may be asked again). */
  readonly refusesForNow = new Set<string>()
  /** Ids it has refused (the engine's memory behind `isKnownRejected`). */
  readonly refused = new Set<string>()
  readonly core: SyncCore
  /** How many times each record arrived here. */
  readonly arrivals = new Map<string, number>()

  constructor(
    readonly id: string,
    records: readonly FakeRecord[] = [],
    options: Partial<SyncCoreOptions> = {},
    buckets: Granularity = granularity,
  ) {
    this.index = new BucketIndex(buckets)
    for (const r of records) this.addLocal(r)
    this.core = createSyncCore({
      selfId: id,
      index: this.index,
      lookup: (x) => this.store.get(x),
      isKnownRejected: (x) => this.refused.has(x),
      computeId: (e: WireEvent) => e.content,
      ...options,
    })
  }

  addLocal(r: FakeRecord): void {
    this.index.add(r.id, r.createdAt)
    this.store.set(r.id, fakeEvent(r))
  }

  ids(): string[] {
    return [...this.store.keys()].sort()
  }
}

export interface LoggedMessage {
  from: string
  to: string
  type: SyncMessageType
  bytes: number
  message: SyncMessage
}

export class Pump {
  readonly peers = new Map<string, TestPeer>()
  readonly log: LoggedMessage[] = []
  now = NOW
  /** Return true to lose a message in transit. */
  drop: (from: string, to: string, message: SyncMessage) => boolean = () => false
  #queue: Array<{ from: string; out: Outbound }> = []

  constructor(peers: TestPeer[]) {
    for (const p of peers) this.peers.set(p.id, p)
  }

  connect(a: TestPeer, b: TestPeer): void {
    this.send(a.id, a.core.peerReady(b.id, this.now))
    this.send(b.id, b.core.peerReady(a.id, this.now))
  }

  send(from: string, outs: readonly Outbound[]): void {
    for (const out of outs) this.#queue.push({ from, out })
  }

  /** Deliver until nothing is in flight. Throws if it does not settle within `maxDeliveries` (a loop). */
  run(maxDeliveries = 200_000): number {
    let delivered = 0
    while (this.#queue.length > 0) {
      if (++delivered > maxDeliveries) throw new Error(`no quiescence after ${maxDeliveries} messages`)
      const { from, out } = this.#queue.shift()!
      this.#deliver(from, out)
    }
    return delivered
  }

  /** Advance the clock in steps of `stepMs`, ticking every peer and delivering after each step. */
  advance(totalMs: number, stepMs = 1_000): void {
    for (let t = 0; t < totalMs; t += stepMs) {
      this.now += stepMs
      for (const p of this.peers.values()) this.send(p.id, p.core.tick(this.now))
      this.run()
    }
  }

  count(type?: SyncMessageType, from?: string): number {
    return this.log.filter((m) => (type === undefined || m.type === type) && (from === undefined || m.from === from)).length
  }

  #deliver(from: string, out: Outbound): void {
    const to = this.peers.get(out.to)
    if (!to) return
    for (const frame of encodeMessage(out.message)) {
      const message = decodeMessage(frame)
      this.log.push({ from, to: out.to, type: message.type, bytes: frame.length, message })
      if (this.drop(from, out.to, message)) continue
      const result = to.core.receive(from, message, this.now)
      this.send(to.id, result.send)
      for (const event of result.records) this.#ingest(to, event, from)
    }
  }

  #ingest(peer: TestPeer, event: NostrEvent, from: string): void {
    peer.arrivals.set(event.id, (peer.arrivals.get(event.id) ?? 0) + 1)
    if (peer.refuses.has(event.id)) {
      peer.refused.add(event.id)
      this.send(peer.id, peer.core.recordResolved(event.id, 'rejected', this.now, { fromPeerId: from, reject: { reason: 'moderation', permanent: true } }))
    } else if (peer.refusesForNow.has(event.id)) {
      this.send(peer.id, peer.core.recordResolved(event.id, 'rejected', this.now, { fromPeerId: from, reject: { reason: 'moderation', permanent: false } }))
    } else if (peer.index.has(event.id)) {
      this.send(peer.id, peer.core.recordResolved(event.id, 'duplicate', this.now, { fromPeerId: from }))
    } else {
      peer.addLocal({ id: event.id, createdAt: event.created_at })
      this.send(peer.id, peer.core.recordResolved(event.id, 'accepted', this.now, { fromPeerId: from }))
    }
  }
}
