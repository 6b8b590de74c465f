/**
 * Gossip of new records by gossip id (internal to the sync core; the wire side is `GossipMessage`).
 *
 * Cost per record must not grow with the room. A new record is announced:
 * - by the peer where it appeared (published or imported) to every peer: it is the only one that has it;
 * - by a peer that received it from another, to its next {@link RELAY_FANOUT} peers on a ring of
 *   the room ordered by a hash of the record's gossip id and each peer id (a different ring for
 *   every record, the same on every peer), skipping those known to have it (the peer it came
 *   from, and any peer that announced it to us). Each peer is then relayed a record by at most its
 *   {@link RELAY_FANOUT} predecessors on that ring, whatever the size of the room. In a full mesh
 *   every peer already heard of it from its author; relays reach peers that lost that announcement
 *   or that the author cannot reach, and periodic reconciliation catches whatever gossip misses.
 * Each peer thus receives at most 1 + {@link RELAY_FANOUT} announcements of 8 bytes per record
 * (when the peers agree on who is in the room), and pulls each record once, from one announcer at
 * a time.
 *
 * Gossip ids are the first 8 bytes of the event id: a receiver finds whether it holds one by a
 * binary search in the bucket's sorted ids (see `GOSSIP_ID_BYTES` for why 8 bytes are safe).
 */
import { GOSSIP_ID_BYTES } from '../protocol/messages.js'
import type { BucketIndex } from './bucket-index.js'
import { sortedIndex } from './bucket-index.js'

/** Peers a relayed record is announced to, at most (besides the peers known to have it). */
export const RELAY_FANOUT = 2

/** Hex digits of a gossip id. */
export const GOSSIP_ID_CHARS = GOSSIP_ID_BYTES * 2

/** The gossip id of an event id: its first 8 bytes, as hex. */
export function gossipIdOf(id: string): string {
  return id.slice(0, GOSSIP_ID_CHARS)
}

/** The ids of `bucket` we hold whose gossip id is `gossipId` (usually none or one). */
export function heldWithGossipId(index: BucketIndex, bucket: number, gossipId: string): string[] {
  const ids = index.sortedBucketIds(bucket)
  const found: string[] = []
  // Every hex digit sorts before 'g', so gossipId + 'g' bounds the ids that start with it.
  for (let i = sortedIndex(ids, gossipId); i < ids.length && ids[i]!.startsWith(gossipId); i++) found.push(ids[i]!)
  return found
}

/**
 * The peers a relay of `id` goes to: of the {@link RELAY_FANOUT} peers that follow `selfId` on the
 * record's ring of `selfId` and `peers` (ordered by FNV-1a of the gossip id and the peer id), those
 * not known to have it. Deterministic.
 */
export function relayTargets(selfId: string, id: string, peers: readonly string[], known: (peerId: string) => boolean): string[] {
  const key = gossipIdOf(id)
  const ring = [selfId, ...peers]
    .map((peerId) => ({ peerId, score: fnv1a(`${key}/${peerId}`) }))
    .sort((a, b) => a.score - b.score || (a.peerId < b.peerId ? -1 : 1))
  const at = ring.findIndex((r) => r.peerId === selfId)
  const targets: string[] = []
  for (let step = 1; step <= RELAY_FANOUT && step < ring.length; step++) {
    const peerId = ring[(at + step) % ring.length]!.peerId
    if (!known(peerId)) targets.push(peerId)
  }
  return targets
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  // A final avalanche so that peer ids differing in their last characters spread well.
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  return h >>> 0
}
