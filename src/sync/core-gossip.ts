/**
 * Gossip of new records by gossip id in the sync core (internal; see `gossip-ids.ts` for who
 * announces what to whom, and `GOSSIP_ID_BYTES` for why 8-byte ids are safe).
 *
 * - A record that appeared here is announced (`gossip` `have`) to every ready peer but the one it
 *   came from; a record pulled from a peer and accepted is relayed to at most `RELAY_FANOUT` peers
 *   (its successors on the record's ring, see `gossip-ids.ts`) not known to have it (neither the
 *   peer it came from nor any that announced it to us).
 * - A receiver pulls the gossip ids it neither holds (a binary search in the bucket's sorted ids)
 *   nor refused, through the same one-peer-at-a-time scheduler as every other request: a record
 *   announced by several peers is asked of one; if that one does not deliver (time-out, or `gone`),
 *   it is asked of another that announced it, and the silent one is charged as for any `want`.
 * - A holder answers a `gossip` `want` with every record it holds that matches each gossip id, and
 *   with `gone` for those it holds none of (so the asker turns to another source at once).
 */
import type { GossipMessage } from '../protocol/messages.js'
import type { Outbound } from './core-types.js'
import { announceTo, byBucket, offerAnnounced, out, pullRequests, type CoreState } from './core-state.js'
import { gossipIdOf, heldWithGossipId, relayTargets } from './gossip-ids.js'

/** Most gossip ids of records refused for good remembered (oldest forgotten first). */
export const MAX_REFUSED_GOSSIP_IDS = 10_000

/** Records that appeared here (published, imported): announced to every peer but `fromPeerId`. */
export function announceNew(s: CoreState, ids: readonly string[], fromPeerId: string | undefined, list: Outbound[]): void {
  for (const [peerId, peer] of s.peers) if (peerId !== fromPeerId) announceTo(s, peerId, peer, ids, list)
}

/** A record pulled from `from` and accepted: relayed to a few peers not known to have it. */
export function relay(s: CoreState, id: string, from: string | undefined, sources: ReadonlySet<string> | undefined, list: Outbound[]): void {
  const known = (peerId: string) => peerId === from || (sources?.has(peerId) ?? false)
  for (const peerId of relayTargets(s.selfId, id, [...s.peers.keys()], known)) announceTo(s, peerId, s.peers.get(peerId)!, [id], list)
}

/** A record was refused here for good: a gossip announcement of it is not pulled again. */
export function rememberRefused(s: CoreState, id: string): void {
  const key = gossipIdOf(id)
  s.refusedGossipIds.delete(key)
  s.refusedGossipIds.add(key)
  if (s.refusedGossipIds.size > MAX_REFUSED_GOSSIP_IDS) s.refusedGossipIds.delete(s.refusedGossipIds.values().next().value!)
}

/**
 * A `gossip` message from a ready peer; returns the items ignored. `serve` answers a `want` of
 * full ids (records, or `reject` notices for those not served).
 */
export function onGossip(s: CoreState, peerId: string, m: GossipMessage, nowMs: number, list: Outbound[], serve: (ids: string[]) => void): number {
  if (m.op === 'want') {
    serveGossipIds(s, peerId, m, list, serve)
    return 0
  }
  if (m.op === 'gone') {
    let moved = 0
    for (const g of m.groups) for (const id of g.ids) if (s.requests.notServed(peerId, id)) moved++
    if (moved > 0) pullRequests(s, nowMs, list)
    return 0
  }
  return offerAnnounced(s, peerId, m.groups, nowMs, list, m.op === 'have' ? 'gossiped' : 'announced')
}

/** Every record we hold matching each gossip id asked for; `gone` for those matching none. */
function serveGossipIds(s: CoreState, peerId: string, m: GossipMessage, list: Outbound[], serve: (ids: string[]) => void): void {
  const ids: string[] = []
  const gone: Array<{ id: string; bucket: number }> = []
  for (const g of m.groups) {
    for (const key of g.ids) {
      const held = heldWithGossipId(s.index, g.bucket, key)
      if (held.length === 0) gone.push({ id: key, bucket: g.bucket })
      else ids.push(...held)
    }
  }
  if (ids.length > 0) serve(ids)
  if (gone.length > 0) out(s, peerId, { type: 'gossip', op: 'gone', groups: byBucket(gone) }, list)
}
