/**
 * `peerset.configure()`: this peer's own tuning changes while it runs (checked like createPeerset's
 * options, nothing changed by a bad value); settings the room must agree on are refused by name.
 * Timeouts are measured in virtual time.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { FIXED_SETTING_KEYS, LIVE_SETTING_KEYS, ROOM_WIDE_SETTING_KEYS } from '../../src/engine/live-settings.js'
import { PEERSET_OPTION_KEYS } from '../../src/engine/options.js'
import { createIdentity, createPeerset, DEFAULT_SESSION_LIMITS, DEFAULT_SESSION_TIMEOUTS, memoryStorage, PeersetError, type Peerset } from '../../src/index.js'
import { createMemoryNetwork, type MemoryNetwork } from '../../src/transport/index.js'
import { FIXTURE_ROOM } from '../helpers.js'
import { closeAfterEach, openPeer, virtualTime, waitFor } from '../swarm/harness.js'

let peers: Peerset[] = []
let network: MemoryNetwork | undefined
closeAfterEach(
  () => ({ peers, network }),
  () => {
    peers = []
    network = undefined
  },
)

/** A peer that joins the room and never says a word: our session with it can only time out. */
async function silentPeer(net: MemoryNetwork, peerId: string): Promise<void> {
  await net.transport({ peerId }).join(FIXTURE_ROOM, { onPeerJoin: () => {}, onPeerLeave: () => {}, onMessage: () => {} })
}

/** When (virtual ms after it joined) `peerset` ended its session with the silent peer `peerId`, and why. */
async function handshakeEnds(peerset: Peerset, net: MemoryNetwork, peerId: string): Promise<{ afterMs: number; reason: string }> {
  let ended: { at: number; reason: string } | undefined
  const off = peerset.on('peer:left', (peer, info) => {
    if (peer.peerId === peerId) ended = { at: Date.now(), reason: info.reason }
  })
  const joinedAt = Date.now()
  await silentPeer(net, peerId)
  await waitFor(() => ended !== undefined, 60_000, `the session with ${peerId} to end`, 100)
  off()
  return { afterMs: ended!.at - joinedAt, reason: ended!.reason }
}

describe('configure', () => {
  beforeEach(() => virtualTime())

  it('a shorter challenge timeout takes effect for the next session', async () => {
    network = createMemoryNetwork()
    const a = await openPeer({ transport: network.transport({ peerId: 'aa-peer' }), extra: { sessionTickMs: 100 } })
    peers.push(a)

    const before = await handshakeEnds(a, network, 'zz-silent-1')
    expect(before.reason).toBe('challenge-timeout')
    expect(before.afterMs).toBeGreaterThanOrEqual(DEFAULT_SESSION_TIMEOUTS.challengeMs)

    const settings = a.configure({ sessionTimeouts: { challengeMs: 2_000 } })
    expect(settings.sessionTimeouts).toMatchObject({ challengeMs: 2_000, idleMs: DEFAULT_SESSION_TIMEOUTS.idleMs })
    const after = await handshakeEnds(a, network, 'zz-silent-2')
    expect(after.reason).toBe('challenge-timeout')
    expect(after.afterMs).toBeGreaterThanOrEqual(2_000)
    expect(after.afterMs).toBeLessThan(3_000)
  })

  it('a lower maxPeers refuses the next peer', async () => {
    network = createMemoryNetwork()
    const a = await openPeer({ transport: network.transport({ peerId: 'aa-peer' }) })
    const b = await openPeer({ transport: network.transport({ peerId: 'bb-peer' }) })
    peers.push(a, b)
    await waitFor(() => a.peers().some((p) => p.state === 'authenticated'), 30_000, 'a and b to authenticate')
    expect(a.configure({ maxPeers: 1 }).maxPeers).toBe(1)
    const c = await openPeer({ transport: network.transport({ peerId: 'cc-peer' }) })
    peers.push(c)
    const left: string[] = []
    c.on('peer:left', (peer, info) => {
      if (peer.peerId === 'aa-peer') left.push(info.reason)
    })
    await waitFor(() => left.length > 0, 30_000, 'a to refuse c')
    expect(a.peers().map((p) => p.peerId)).toEqual(['bb-peer'])
  })

  it('a shorter stay in the room makes the running peerset leave and rejoin, counted from its join', async () => {
    network = createMemoryNetwork()
    const joinedAt = Date.now()
    const a = await openPeer({ transport: network.transport({ peerId: 'aa-peer' }), extra: { sessionTickMs: 100 } })
    const b = await openPeer({ transport: network.transport({ peerId: 'bb-peer' }), extra: { sessionTickMs: 100 } })
    peers.push(a, b)
    await waitFor(() => b.peers().some((p) => p.peerId === 'aa-peer' && p.state === 'authenticated'), 30_000, 'a and b to authenticate')
    const left: number[] = []
    b.on('peer:left', (peer) => {
      if (peer.peerId === 'aa-peer') left.push(Date.now() - joinedAt)
    })
    a.configure({ maxClientSessionMs: 60_000 })
    await waitFor(() => left.length > 0, 120_000, 'a to leave the room', 100)
    // Up to 10% earlier, at random, so that peers that joined together do not leave together.
    expect(left[0]).toBeGreaterThanOrEqual(54_000)
    expect(left[0]).toBeLessThanOrEqual(61_000)
    await waitFor(() => b.peers().some((p) => p.peerId === 'aa-peer' && p.state === 'authenticated'), 60_000, 'a to come back')
  })

  it('returns every setting, and configure({}) only reads them', async () => {
    const p = await createPeerset({ room: FIXTURE_ROOM, identity: createIdentity(), storage: memoryStorage(), transport: false, maxPeers: 7, sessionLimits: { banMs: 5_000 } })
    peers.push(p)
    const s = p.configure({})
    expect(s).toMatchObject({ maxPeers: 7, sessionLimits: { banMs: 5_000, strikeThreshold: 3 }, closeTimeoutMs: 5_000 })
    expect(p.configure({ sessionLimits: { strikeThreshold: 5 } }).sessionLimits).toMatchObject({ banMs: 5_000, strikeThreshold: 5 })
  })

  it.each([
    ['not an object', 5, /settings must be an object/, undefined],
    ['an unknown key', { maxPeer: 3 }, /unknown option "maxPeer"/, undefined],
    ['a bad maxPeers', { maxPeers: 0 }, /maxPeers must be a positive integer/, undefined],
    ['a bad timeout', { sessionTimeouts: { idleMs: -1 } }, /sessionTimeouts\.idleMs must be a finite number/, undefined],
    ['an unknown timeout', { sessionTimeouts: { idle: 1 } }, /unknown option sessionTimeouts\.idle/, undefined],
    ['a bad maxClientSessionMs', { maxClientSessionMs: Infinity }, /maxClientSessionMs must be a positive number/, undefined],
    ['a timeout over a timer', { sessionTimeouts: { idleMs: 1e300 } }, /sessionTimeouts\.idleMs must be at most 2147483647/, undefined],
    ['a ban over a timer', { sessionLimits: { banMs: 2 ** 31 } }, /sessionLimits\.banMs must be at most 2147483647/, undefined],
    ['a fractional count', { sessionLimits: { maxExpectedRecords: 1.5 } }, /sessionLimits\.maxExpectedRecords must be an integer/, undefined],
    ['a frame limit over the wire\'s', { sessionLimits: { maxFrameBytes: 1e12 } }, /sessionLimits\.maxFrameBytes must be at most 16348/, undefined],
    ['a frame limit below the frames peers send', { sessionLimits: { maxFrameBytes: 4096 } }, /configure: sessionLimits\.maxFrameBytes must be 16348/, undefined],
    ['granularity (room-wide)', { granularity: {} }, /granularity must match across the room/, 'room-wide-setting'],
    ['moderation and limits (room-wide)', { moderation: {}, limits: {} }, /moderation, limits must match across the room/, 'room-wide-setting'],
    ['clockSkewMs (room-wide)', { clockSkewMs: 1 }, /clockSkewMs must match across the room/, 'room-wide-setting'],
    ['room (fixed)', { room: 'other' }, /room cannot change on a running peerset/, 'fixed-setting'],
    ['verifier (fixed)', { verifier: {} }, /verifier cannot change on a running peerset/, 'fixed-setting'],
    ['relays (fixed)', { relays: {} }, /relays cannot change on a running peerset/, 'fixed-setting'],
  ])('refuses %s with INVALID_ARGUMENT, and changes nothing', async (_what, change, message, reason) => {
    const p = await createPeerset({ room: FIXTURE_ROOM, identity: createIdentity(), storage: memoryStorage(), transport: false })
    peers.push(p)
    const before = p.configure({})
    let thrown: unknown
    try {
      // A good value next to the bad one must not be applied either.
      p.configure((typeof change === 'object' ? { maxPeers: 9, ...change } : change) as never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(PeersetError)
    expect(thrown).toMatchObject({ code: 'INVALID_ARGUMENT', reason })
    expect((thrown as Error).message).toMatch(message)
    expect(p.configure({})).toEqual(before)
  })

  it('every createPeerset option is either live, room-wide or fixed', () => {
    const named = [...LIVE_SETTING_KEYS, ...ROOM_WIDE_SETTING_KEYS, ...FIXED_SETTING_KEYS]
    expect(PEERSET_OPTION_KEYS.filter((k) => !named.includes(k))).toEqual([])
  })

  it('reads only the change\'s own keys, never its prototype\'s, nested objects too', async () => {
    const p = await createPeerset({ room: FIXTURE_ROOM, identity: createIdentity(), storage: memoryStorage(), transport: false })
    peers.push(p)
    const before = p.configure({})
    expect(p.configure(Object.create({ maxPeers: 3, closeTimeoutMs: 1 }) as never)).toEqual(before)
    expect(p.configure({ __proto__: { maxPeers: 3 } } as never)).toEqual(before)
    expect(p.configure({ sessionLimits: Object.create({ strikeThreshold: 9 }) as never })).toEqual(before)
    expect(p.configure({ sessionTimeouts: { __proto__: { idleMs: 5 } } as never })).toEqual(before)
  })

  it('reads back the session defaults the engine uses', async () => {
    const p = await createPeerset({ room: FIXTURE_ROOM, identity: createIdentity(), storage: memoryStorage(), transport: false })
    peers.push(p)
    expect(p.configure({}).sessionLimits).toEqual(DEFAULT_SESSION_LIMITS)
  })

  it('throws CLOSED after close()', async () => {
    const p = await createPeerset({ room: FIXTURE_ROOM, identity: createIdentity(), storage: memoryStorage(), transport: false })
    await p.close()
    expect(() => p.configure({})).toThrowError(expect.objectContaining({ code: 'CLOSED' }))
  })
})
