/** The sync driver's peer table and its one reject-reason mapping. */
import { describe, expect, it } from 'vitest'
import { dailyBuckets } from '../../src/buckets/index.js'
import { MAX_ROTATED_OUT, PeerTable } from '../../src/engine/peer-table.js'
import { MAX_WARNINGS, Reporter } from '../../src/engine/reporter.js'
import { rejectClassOf } from '../../src/engine/reject-class.js'
import { createIdentity } from '../../src/identity/index.js'
import { PeerRegistry } from '../../src/session/index.js'

const T0 = 1_000_000

function table(registry = new PeerRegistry(), maxPeers = 4): PeerTable {
  const me = createIdentity()
  return new PeerTable({
    room: 'table',
    signer: me.signer,
    publicKey: me.publicKey,
    granularity: dailyBuckets().descriptor,
    moderationDigest: 'none',
    registry,
    maxPeers,
  })
}

describe('the peer table', () => {
  it('forgets expired bans and cool-downs at most once a minute', () => {
    const registry = new PeerRegistry()
    const peers = table(registry)
    registry.ban('peer-a', undefined, T0 + 1_000)
    peers.prune(T0)
    expect(registry.size.bans).toBe(1)
    registry.ban('peer-b', undefined, T0 + 2_000)
    peers.prune(T0 + 30_000) // both expired, but the last prune was under a minute ago
    expect(registry.size.bans).toBe(2)
    peers.prune(T0 + 60_000)
    expect(registry.size.bans).toBe(0)
  })

  it('admits a peer once, and not while it is banned', () => {
    const registry = new PeerRegistry()
    const peers = table(registry)
    expect(peers.admit('peer-a', 'self', T0)).toBeDefined()
    expect(peers.admit('peer-a', 'self', T0)).toBeUndefined()
    expect(peers.size).toBe(1)
    registry.ban('peer-b', undefined, T0 + 60_000)
    expect(peers.admit('peer-b', 'self', T0)).toBeUndefined()
    expect(peers.admit('peer-b', 'self', T0, true)).toBeDefined()
  })

  it('keeps a quarter of the places for peers that were useful', () => {
    const peers = table(new PeerRegistry(), 4)
    for (const [i, id] of ['p1', 'p2', 'p3'].entries()) peers.authenticated(peers.admit(id, 'self', T0)!, `key-${i}`, T0)
    expect(peers.hasRoomFor('fresh-key')).toBe(false)
    peers.credit('p1')
    expect(peers.hasRoomFor('key-0')).toBe(true)
  })
})

describe('bounded memory of the peer table', () => {
  it(`remembers at most ${MAX_ROTATED_OUT} rotated-out peers, and forgets them once their two minutes are over`, () => {
    const peers = table(new PeerRegistry(), 1)
    let t = T0
    // A full room (one place) whose peer is rotated out every minute, each time a new id (a sybil crowd).
    for (let i = 0; i < MAX_ROTATED_OUT + 200; i++) {
      const id = `sybil-${i}`
      peers.authenticated(peers.admit(id, 'self', t)!, `key-${i}`, t)
      t += 60_000
      const victim = peers.rotate(t)
      expect(victim?.[0]).toBe(id)
      peers.remove(id)
      expect(peers.rotatedOutCount).toBeLessThanOrEqual(MAX_ROTATED_OUT)
    }
    expect(peers.rotatedOutCount).toBe(MAX_ROTATED_OUT)
    peers.prune(t + 121_000)
    expect(peers.rotatedOutCount).toBe(0)
  })

  it(`status() lists at most ${MAX_WARNINGS} warnings, the newest`, () => {
    const reporter = new Reporter()
    for (let i = 0; i < MAX_WARNINGS + 50; i++) reporter.warn({ code: 'transport-failed', message: `attempt ${i}` })
    expect(reporter.warnings).toHaveLength(MAX_WARNINGS)
    expect(reporter.warnings.at(-1)!.message).toBe(`attempt ${MAX_WARNINGS + 49}`)
  })
})

describe('rejectClassOf', () => {
  it('maps every ingest reject reason to its wire class', () => {
    for (const reason of ['malformed', 'invalid-field', 'too-large', 'not-a-record', 'bad-id', 'bad-signature'] as const) {
      expect(rejectClassOf(reason)).toBe('invalid')
    }
    for (const reason of ['expired', 'future', 'superseded', 'moderation'] as const) expect(rejectClassOf(reason)).toBe(reason)
    expect(rejectClassOf('insufficient-pow')).toBe('other')
  })
})
