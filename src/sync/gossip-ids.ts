/**
 * Gossip of new records by gossip id (internal to the sync core; the wire side is `GossipMessage`).
 *
 * Cost per record must not grow with the room. A new record is announced:
 * - by the peer where it appeared (published or imported) to every peer: it is the only one that has it;
 * - by a peer that received it from another, to at most {@link RELAY_FANOUT} peers not known to
 *   have it (not the peer it came from, nor any peer that announced it to us), chosen by rendezvous
 *   hashing of the gossip id and the peer id, so the relays of one record spread over the room and
 *   every peer runs the same rule without coordination. In a full mesh every peer already heard
 *   of it from its author; relays reach peers that lost that announcement or that the author cannot
 *   reach, and periodic reconciliation catches whatever gossip misses.
 * Each peer thus receives about 1 + {@link RELAY_FANOUT} announcements of 8 bytes per record,
 * whatever the size of the room, and pulls each record once, from one announcer at a time.
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
 * The peers (of `candidates`) that relay `id` goes to: the {@link RELAY_FANOUT} with the lowest
 * rendezvous score (FNV-1a of the gossip id and the peer id). Deterministic.
 */
export function relayTargets(id: string, candidates: readonly string[]): string[] {
  if (candidates.length <= RELAY_FANOUT) return [...candidates]
  const key = gossipIdOf(id)
  return candidates
    .map((peerId) => ({ peerId, score: fnv1a(`${key}/${peerId}`) }))
    .sort((a, b) => a.score - b.score || (a.peerId < b.peerId ? -1 : 1))
    .slice(0, RELAY_FANOUT)
    .map((c) => c.peerId)
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
