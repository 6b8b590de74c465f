/** Who may connect: cool-downs, bans by transport id and pubkey, remembered strikes, persistence. */
import { describe, expect, it } from 'vitest'
import { DEFAULT_RECONNECT_COOLDOWN_MS, PeerRegistry } from '../../src/session/index.js'
import { FIRST_TIMEOUT_COOLDOWN_MS } from '../../src/session/registry.js'
import { T0 } from './helpers.js'

const KEY = 'ab'.repeat(32)

describe('cool-down after a drop', () => {
  it('a dropped peer id may reconnect only after the cool-down (30 s by default)', () => {
    const registry = new PeerRegistry()
    expect(registry.canConnect('p1', undefined, T0)).toBe(true)
    registry.drop('p1', T0, { reason: 'idle-timeout' })
    expect(registry.canConnect('p1', undefined, T0 + DEFAULT_RECONNECT_COOLDOWN_MS - 1)).toBe(false)
    expect(registry.canConnect('p1', undefined, T0 + DEFAULT_RECONNECT_COOLDOWN_MS)).toBe(true)
    expect(registry.canConnect('p2', undefined, T0)).toBe(true)
  })

  it('re-auth and local closes start no cool-down', () => {
    const registry = new PeerRegistry()
    registry.drop('p1', T0, { reason: 're-auth' })
    registry.drop('p2', T0, { reason: 'local' })
    expect(registry.canConnect('p1', undefined, T0)).toBe(true)
    expect(registry.canConnect('p2', undefined, T0)).toBe(true)
  })
})

describe('bans', () => {
  it('ban the transport id and the pubkey, each on its own, until the given time', () => {
    const registry = new PeerRegistry()
    registry.ban('p1', KEY, T0 + 1_000)
    expect(registry.canConnect('p1', undefined, T0)).toBe(false)
    expect(registry.canConnect('new-id', KEY, T0)).toBe(false)
    expect(registry.canConnect('new-id', undefined, T0)).toBe(true)
    expect(registry.bannedUntil(undefined, KEY, T0)).toBe(T0 + 1_000)
    expect(registry.canConnect('p1', KEY, T0 + 1_000)).toBe(true)
    expect(registry.bannedUntil('p1', KEY, T0 + 1_000)).toBeUndefined()
  })

  it('a later ban extends an earlier one, never shortens it; unban lifts it', () => {
    const registry = new PeerRegistry()
    registry.ban('p1', undefined, T0 + 5_000)
    registry.ban('p1', undefined, T0 + 1_000)
    expect(registry.bannedUntil('p1', undefined, T0)).toBe(T0 + 5_000)
    registry.unban('p1')
    expect(registry.canConnect('p1', undefined, T0)).toBe(true)
  })
})

describe('strikes remembered across sessions', () => {
  it('by id and by pubkey, for strikeMemoryMs', () => {
    const registry = new PeerRegistry({ strikeMemoryMs: 10_000 })
    registry.drop('p1', T0, { reason: 'auth-failed', strikes: 1 })
    registry.drop('p2', T0, { reason: 'idle-timeout', pubkey: KEY, strikes: 2 })
    expect(registry.strikesOf('p1', undefined, T0)).toBe(1)
    expect(registry.strikesOf('p9', KEY, T0)).toBe(2)
    expect(registry.strikesOf('p1', KEY, T0)).toBe(2)
    expect(registry.strikesOf('p1', undefined, T0 + 10_000)).toBe(0)
  })
})

describe('persistence', () => {
  it('round-trips through JSON', () => {
    const registry = new PeerRegistry()
    registry.ban('p1', KEY, T0 + 3_600_000)
    registry.drop('p2', T0, { strikes: 1 })
    const restored = PeerRegistry.fromJSON(JSON.parse(JSON.stringify(registry)))
    expect(restored.toJSON()).toEqual(registry.toJSON())
    expect(restored.canConnect('other', KEY, T0)).toBe(false)
    expect(restored.canConnect('p2', undefined, T0)).toBe(false)
    expect(restored.strikesOf('p2', undefined, T0)).toBe(1)
  })

  it('refuses anything but its own format', () => {
    for (const bad of [null, 1, {}, { version: 2, bans: [], cooldowns: [], strikes: [] }, { version: 1, bans: [{ kind: 'x', key: 'k', untilMs: 1 }], cooldowns: [], strikes: [] }]) {
      expect(() => PeerRegistry.fromJSON(bad)).toThrow(/PeerRegistry/)
    }
    expect(() => PeerRegistry.fromJSON({ version: 1, bans: [], cooldowns: [], strikes: [{ kind: 'peer', key: 'k', untilMs: 1 }] })).toThrow(/count/)
  })
})

describe('bounds', () => {
  it('keeps at most maxEntries per table, evicting what expires first', () => {
    const registry = new PeerRegistry({ maxEntries: 100 })
    for (let i = 0; i < 1_000; i++) registry.ban(`p${i}`, undefined, T0 + i)
    expect(registry.size.bans).toBe(100)
    expect(registry.canConnect('p999', undefined, T0)).toBe(false)
    expect(registry.canConnect('p0', undefined, T0)).toBe(true)
  })

  it('prune forgets what expired', () => {
    const registry = new PeerRegistry()
    registry.ban('p1', KEY, T0 + 1)
    registry.drop('p2', T0, { strikes: 1 })
    registry.prune(T0 + 3_600_000)
    expect(registry.size).toEqual({ bans: 0, cooldowns: 0, strikes: 0 })
  })
})

describe('sessions that end before authentication', () => {
  it('a peer id may end 3 handshakes in a row (hello+bye), then one per 20 s: at most 6 a minute', () => {
    const registry = new PeerRegistry({ cooldownMs: 0 })
    let opened = 0
    for (let t = 0; t < 60_000; t += 100) {
      if (!registry.canConnect('looper', undefined, t)) continue
      opened++
      registry.drop('looper', t, { reason: 'peer-closed', authenticated: false })
    }
    expect(opened).toBeLessThanOrEqual(6)
    expect(opened).toBeGreaterThanOrEqual(3)
    expect(registry.canConnect('other', undefined, 0)).toBe(true)
  })

  it('authenticated sessions and our own closes cost nothing', () => {
    const registry = new PeerRegistry({ cooldownMs: 0 })
    for (let i = 0; i < 10; i++) registry.drop('p', 0, { reason: 'peer-closed', authenticated: true })
    for (let i = 0; i < 10; i++) registry.drop('p', 0, { reason: 'local', authenticated: false })
    expect(registry.canConnect('p', undefined, 0)).toBe(true)
  })
})

describe('cool-down after a handshake timeout', () => {
  const timedOut = { reason: 'challenge-timeout', authenticated: false } as const

  it('a first timeout from a clean record cools down 5 s, then 20 s, then the full cool-down', () => {
    const registry = new PeerRegistry()
    const waits: number[] = []
    let t = T0
    for (let i = 0; i < 4; i++) {
      registry.drop('p', t, timedOut)
      const at = registry.connectableAt('p', t)!
      waits.push(at - t)
      t = at + 10_000 // the next handshake times out 10 s later
    }
    expect(waits.slice(0, 3)).toEqual([FIRST_TIMEOUT_COOLDOWN_MS, 4 * FIRST_TIMEOUT_COOLDOWN_MS, DEFAULT_RECONNECT_COOLDOWN_MS])
    expect(waits[3]).toBeGreaterThanOrEqual(DEFAULT_RECONNECT_COOLDOWN_MS)
  })

  it('a peer that keeps timing out is held back as before: at most 2 handshakes a minute after the first three', () => {
    const registry = new PeerRegistry()
    let started = 0
    for (let t = 0; t < 10 * 60_000; t += 100) {
      if (!registry.canConnect('failing', undefined, t)) continue
      started++
      // Each of its handshakes times out (challengeMs later, here at once to be strict).
      registry.drop('failing', t, { reason: 'handshake-timeout', authenticated: false })
    }
    // 3 quick ones (0 s, 5 s, 25 s), then one per full cool-down (30 s): 3 + 590/30.
    expect(started).toBeLessThanOrEqual(3 + 20)
    expect(started).toBeGreaterThan(3)
  })

  it('a session that authenticates clears the count; a peer with strikes gets the full cool-down', () => {
    const registry = new PeerRegistry()
    registry.drop('p', 0, timedOut)
    registry.drop('p', 100_000, timedOut)
    registry.drop('p', 200_000, { reason: 'peer-closed', authenticated: true })
    registry.drop('p', 300_000, timedOut)
    expect(registry.connectableAt('p', 300_000)).toBe(300_000 + FIRST_TIMEOUT_COOLDOWN_MS)
    registry.drop('q', 0, { ...timedOut, strikes: 1 })
    expect(registry.connectableAt('q', 0)).toBe(DEFAULT_RECONNECT_COOLDOWN_MS)
    registry.drop('r', 0, { reason: 'auth-failed', authenticated: false })
    expect(registry.connectableAt('r', 0)).toBe(DEFAULT_RECONNECT_COOLDOWN_MS)
  })

  it('a session that ended before we answered its hello costs no handshake; a banned id is never connectable', () => {
    const registry = new PeerRegistry({ cooldownMs: 0 })
    for (let i = 0; i < 10; i++) registry.drop('p', 0, { reason: 'peer-left', authenticated: false, answered: false })
    expect(registry.canConnect('p', undefined, 0)).toBe(true)
    registry.ban('p', undefined, 1_000)
    expect(registry.connectableAt('p', 0)).toBeUndefined()
  })
})
