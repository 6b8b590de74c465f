/**
 * A raw malicious peer: it joins the memory network's transport directly (no Peerset, no session),
 * and speaks the sync wire protocol with frames built by the exported codec. Its behaviour is a
 * set of callbacks; it counts what it sends and what honest peers send it.
 */
import { computeEventId, dailyBuckets, type MemoryNetwork, type NostrEvent, type TransportRoom } from '../../src/index.js'
import { decodeMessage, encodeMessage, type BucketIds, type SyncMessage, type WireEvent } from '../../src/protocol/index.js'

/** What the attacker does; every callback is optional. */
export interface Behaviour {
  /** An honest peer appeared. */
  joined?(attacker: Attacker, peerId: string): void
  /** An honest peer sent a frame the sync codec decodes. */
  message?(attacker: Attacker, peerId: string, message: SyncMessage): void
  /** Called every `everyMs` while the attack runs, for each honest peer. */
  tick?(attacker: Attacker, peerId: string): void
}

export class Attacker {
  readonly peers = new Set<string>()
  /** Frames sent to honest peers, and frames they sent here (by decoded type, `other` if not decodable). */
  framesSent = 0
  framesReceived = 0
  bytesReceived = 0
  readonly receivedByType = new Map<string, number>()
  #room: TransportRoom | undefined
  #timer: ReturnType<typeof setInterval> | undefined
  readonly #behaviour: Behaviour
  readonly random: () => number
  readonly clock: () => number

  private constructor(behaviour: Behaviour, random: () => number, clock: () => number) {
    this.#behaviour = behaviour
    this.random = random
    this.clock = clock
  }

  /** Join `room` as `peerId` and behave. */
  static async join(
    network: MemoryNetwork,
    room: string,
    peerId: string,
    behaviour: Behaviour,
    options: { random: () => number; clock: () => number },
  ): Promise<Attacker> {
    const attacker = new Attacker(behaviour, options.random, options.clock)
    attacker.#room = await network.transport({ peerId }).join(room, {
      onPeerJoin: (id) => {
        attacker.peers.add(id)
        behaviour.joined?.(attacker, id)
      },
      onPeerLeave: (id) => void attacker.peers.delete(id),
      onMessage: (id, data) => {
        attacker.framesReceived++
        attacker.bytesReceived += data.byteLength
        let message: SyncMessage
        try {
          message = decodeMessage(data)
        } catch {
          attacker.receivedByType.set('other', (attacker.receivedByType.get('other') ?? 0) + 1)
          return
        }
        attacker.receivedByType.set(message.type, (attacker.receivedByType.get(message.type) ?? 0) + 1)
        behaviour.message?.(attacker, id, message)
      },
    })
    return attacker
  }

  get id(): string {
    return this.#room!.selfId
  }

  /** Run `tick` every `everyMs` for every honest peer. */
  start(everyMs: number): void {
    this.#timer = setInterval(() => {
      for (const peerId of this.peers) this.#behaviour.tick?.(this, peerId)
    }, everyMs)
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  async leave(): Promise<void> {
    this.stop()
    await this.#room?.leave()
  }

  /** Send raw bytes. */
  sendBytes(to: string, bytes: Uint8Array): void {
    this.framesSent++
    this.#room!.send(to, bytes)
  }

  /** Send a message, encoded by the public codec. */
  send(to: string, message: SyncMessage): void {
    for (const frame of encodeMessage(message)) this.sendBytes(to, frame)
  }

  /** The current window of daily buckets (what honest peers use by default). */
  window(): { oldest: number; newest: number } {
    return buckets.windowAt(this.clock())
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.random() * 256)
    return out
  }

  hex(bytes: number): string {
    return [...this.bytes(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('')
  }
}

const buckets = dailyBuckets()

/** The daily bucket of an event. */
export function bucketOfEvent(event: Pick<NostrEvent, 'created_at'>): number {
  return buckets.bucketOf(event.created_at * 1000)
}

/** `have` groups for events, by bucket. */
export function haveGroups(entries: ReadonlyArray<{ id: string; bucket: number }>): BucketIds[] {
  const groups = new Map<number, string[]>()
  for (const { id, bucket } of entries) {
    let g = groups.get(bucket)
    if (!g) groups.set(bucket, (g = []))
    g.push(id)
  }
  return [...groups].map(([bucket, ids]) => ({ bucket, ids }))
}

/** The wire form of an event (no id), with its id as a receiver computes it. */
export function wire(event: Omit<NostrEvent, 'id'>): { id: string; event: WireEvent; bucket: number } {
  const e: WireEvent = { pubkey: event.pubkey, created_at: event.created_at, kind: event.kind, tags: event.tags, content: event.content, sig: event.sig }
  return { id: computeEventId(e), event: e, bucket: bucketOfEvent(e) }
}

/** A copy of a hex string with one digit changed. */
export function flipHex(hex: string, at = 10): string {
  const c = hex[at] === '0' ? '1' : '0'
  return hex.slice(0, at) + c + hex.slice(at + 1)
}
