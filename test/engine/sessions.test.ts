/**
 * Sessions as the engine runs them: only authenticated peers sync; incompatible settings end the
 * session with a reason; misbehaving peers are struck and banned while honest peers keep syncing;
 * honest catch-ups are never struck; bans survive a reopen.
 */
import { describe, expect, it } from 'vitest'
import { acceptAll, createModeration } from '../../src/moderation/index.js'
import { createPeerset, type Peerset, type PeersetOptions } from '../../src/peerset.js'
import { dailyBuckets, hourlyBuckets } from '../../src/buckets/index.js'
import { createIdentity } from '../../src/identity/index.js'
import { keptSetRulesOf } from '../../src/engine/options.js'
import { encodeMessage } from '../../src/protocol/index.js'
import { createPeerSession, type SessionAction } from '../../src/session/index.js'
import { memoryStorage } from '../../src/storage/index.js'
import { createMemoryNetwork, type MemoryNetwork } from '../../src/transport/index.js'
import type { TransportRoom } from '../../src/transport/types.js'
import { FIXTURE_NOW, FIXTURE_ROOM, collect, createClock, loadFixtures, waitFor } from '../helpers.js'
import { drive, realTime, sleep, virtualClock, virtualTime, waitFor as virtualWaitFor } from '../virtual-time.js'

const { records: events } = loadFixtures()
const now = (): number => FIXTURE_NOW * 1000

function peer(network: MemoryNetwork, options: Partial<PeersetOptions> = {}): Promise<Peerset> {
  return createPeerset({
    room: FIXTURE_ROOM,
    identity: createIdentity(),
    storage: memoryStorage(),
    transport: network.transport(),
    moderation: acceptAll(),
    clock: now,
    sessionTickMs: 50,
    ...options,
  })
}

/** A raw peer on the network that speaks whatever bytes the test wants. */
async function rawPeer(network: MemoryNetwork, transport = network.transport({ peerId: 'zz-raw-peer' })) {
  const received: Array<{ from: string; data: Uint8Array }> = []
  const joined = new Set<string>()
  let onFrame: (from: string, data: Uint8Array) => void = () => {}
  const room: TransportRoom = await transport.join(FIXTURE_ROOM, {
    onPeerJoin: (id) => joined.add(id),
    onPeerLeave: (id) => joined.delete(id),
    onMessage: (from, data) => {
      received.push({ from, data })
      onFrame(from, data)
    },
  })
  return { room, received, joined, setOnFrame: (fn: typeof onFrame) => void (onFrame = fn) }
}

describe('settings must match', () => {
  it('ends the session with the setting that differs (granularity), and syncs nothing', async () => {
    const network = createMemoryNetwork()
    const a = await peer(network, { granularity: dailyBuckets() })
    const left = collect(a, 'peer:left')
    await a.importRecord(events.at(-1))
    const b = await peer(network, { granularity: hourlyBuckets({ retentionMs: 90 * 86_400_000 }) })
    await waitFor(() => left.length > 0, 5000, 'peer:left')
    expect(left[0]![2]).toMatchObject({ reason: 'granularity' })
    expect(b.records()).toHaveLength(0)
    await Promise.all([a.close(), b.close()])
  })

  it('ends the session when the moderation policies differ', async () => {
    const network = createMemoryNetwork()
    const a = await peer(network, { moderation: createModeration() })
    const left = collect(a, 'peer:left')
    const b = await peer(network, { moderation: createModeration({ quota: { maxRecords: 3 } }) })
    await waitFor(() => left.length > 0, 5000, 'peer:left')
    expect(left[0]![2]).toMatchObject({ reason: 'moderation-policy' })
    await Promise.all([a.close(), b.close()])
  })
})

describe('misbehaving peers', () => {
  it('strikes and bans a peer that sends random bytes; honest peers keep syncing and lose nothing', async () => {
    const network = createMemoryNetwork()
    const a = await peer(network)
    const b = await peer(network)
    const banned = collect(a, 'peer:banned')
    const bad = await rawPeer(network)
    await waitFor(() => bad.joined.size === 2, 5000, 'raw peer joined')
    // Seeded junk, the same every run: a fresh random draw sometimes holds a frame that ends the
    // session without a strike (e.g. a hello of another protocol version closes it as
    // `protocol-version`, and the raw peer then waits out a cool-down), which made this test depend
    // on the draw (CI failed once on it, 1 December).
    let state = 0x9e3779b9
    const byte = () => {
      state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
      return state >>> 24
    }
    for (let i = 0; i < 20; i++) {
      const junk = Uint8Array.from({ length: 1 + (i * 37) % 500 }, byte)
      for (const id of bad.joined) bad.room.send(id, junk)
    }
    // Generous budgets: a condition waited for, on a machine that may be busy (it took over 5 s once beside other runs).
    await waitFor(() => banned.length > 0, 30_000, 'a ban')
    expect(banned[0]![1]).toMatchObject({ peerId: 'zz-raw-peer' })
    for (const e of events.slice(0, 20)) await a.importRecord(e)
    await waitFor(() => b.records().length === 20, 30_000, 'b to sync')
    expect(b.records()).toEqual(a.records())
    await Promise.all([a.close(), b.close(), bad.room.leave()])
  }, 90_000)

  it('never sends records to, nor accepts sync frames from, a peer that has not authenticated', async () => {
    const network = createMemoryNetwork()
    const clock = createClock()
    const a = await peer(network, { clock: clock.now })
    for (const e of events.slice(0, 30)) await a.importRecord(e)
    const before = a.records()
    const left = collect(a, 'peer:left')
    const bad = await rawPeer(network)
    await waitFor(() => bad.joined.size === 1, 5000, 'raw peer joined')
    const [target] = bad.joined
    // Sync frames without any handshake: a want for everything, and records.
    for (const frame of encodeMessage({ type: 'want', ids: events.slice(0, 30).map((e) => e.id) })) bad.room.send(target!, frame)
    for (const frame of encodeMessage({ type: 'records', events: events.slice(30, 35).map(({ id: _id, ...rest }) => rest) })) bad.room.send(target!, frame)
    // Then a marker that earns one strike (a session type that does not exist): frames arrive in
    // order, so once a reports the strike it has handled every sync frame above.
    const strikes = collect(a, 'peer:strike')
    bad.room.send(target!, new Uint8Array([1, 0x4f, 0]))
    await waitFor(() => strikes.length > 0, 5000, 'a to handle the frames (the marker strike)')
    expect(strikes[0]![1]).toMatchObject({ peerId: 'zz-raw-peer', reason: 'malformed', count: 1 })
    // The challenge times out: the session ends without a single sync frame delivered either way.
    clock.advance(20_000)
    await waitFor(() => left.length > 0, 5000, 'the challenge timeout')
    expect(left[0]![2]).toMatchObject({ reason: 'challenge-timeout' })
    expect(bad.received.length).toBeGreaterThan(0)
    expect(bad.received.every(({ data }) => data[1]! >= 0x40)).toBe(true)
    expect(a.records()).toEqual(before)
    await Promise.all([a.close(), bad.room.leave()])
  })

  it('strikes a peer that authenticates and then forwards forged records, and bans it', async () => {
    const network = createMemoryNetwork()
    const a = await peer(network)
    const banned = collect(a, 'peer:banned')
    const bad = await rawPeer(network)
    await waitFor(() => bad.joined.size === 1, 5000, 'raw peer joined')
    const [target] = bad.joined
    const identity = createIdentity()
    const session = createPeerSession({
      room: FIXTURE_ROOM,
      selfId: 'zz-raw-peer',
      peerId: target!,
      signer: identity.signer,
      selfPubkey: identity.publicKey,
      settings: { granularity: dailyBuckets().descriptor, moderationDigest: acceptAll().digest, rules: keptSetRulesOf({}) },
    })
    let authenticated = false
    const perform = (actions: readonly SessionAction[]): void => {
      for (const action of actions) {
        if (action.type === 'send') bad.room.send(target!, action.bytes)
        if (action.type === 'authenticated') authenticated = true
        if (action.type === 'pending') void action.actions.then(perform)
      }
    }
    bad.setOnFrame((_, data) => perform(session.receive(data, now())))
    perform(session.start(now()))
    // a's hello may have arrived before the session existed.
    for (const { data } of bad.received.splice(0)) perform(session.receive(data, now()))
    await waitFor(() => authenticated, 5000, 'raw peer authenticated')
    // Announce forged records (a signature that is not the author's), then serve them when asked.
    const forged = events.slice(0, 10).map((e, i) => ({ ...e, sig: events[i + 20]!.sig }))
    bad.setOnFrame((_, data) => {
      const actions = session.receive(data, now())
      perform(actions.filter((x) => x.type !== 'deliver'))
      if (actions.some((x) => x.type === 'deliver')) {
        for (const frame of encodeMessage({ type: 'records', events: forged.map(({ id: _id, ...rest }) => rest) })) bad.room.send(target!, frame)
      }
    })
    const byBucket = new Map<number, string[]>()
    for (const e of forged) byBucket.set(Math.floor(e.created_at / 86_400), [...(byBucket.get(Math.floor(e.created_at / 86_400)) ?? []), e.id])
    const groups = [...byBucket].map(([bucket, ids]) => ({ bucket, ids }))
    for (const frame of encodeMessage({ type: 'have', groups })) bad.room.send(target!, frame)
    await waitFor(() => banned.length > 0, 10_000, 'a ban')
    expect(a.records()).toHaveLength(0)
    await Promise.all([a.close(), bad.room.leave()])
  })

  it('remembers a ban across close and reopen', async () => {
    const network = createMemoryNetwork()
    const storage = memoryStorage()
    const identity = createIdentity()
    const a = await peer(network, { storage, identity })
    const banned = collect(a, 'peer:banned')
    const transport = network.transport({ peerId: 'zz-raw-peer' })
    const bad = await rawPeer(network, transport)
    await waitFor(() => bad.joined.size === 1, 5000, 'raw peer joined')
    // Session frames of an unknown type: malformed.
    for (let i = 0; i < 10; i++) for (const id of bad.joined) bad.room.send(id, new Uint8Array([1, 0x4f, i]))
    await waitFor(() => banned.length > 0, 5000, 'a ban')
    await a.close()
    await bad.room.leave()
    const reopened = await peer(network, { storage, identity })
    const states = collect(reopened, 'peer:state')
    const again = await rawPeer(network, transport)
    await waitFor(() => again.joined.size === 1, 5000, 'raw peer joined')
    // The banned peer says hello (a well-formed one); then a control peer, never banned, joins.
    const [target] = again.joined
    const identity2 = createIdentity()
    const hello = createPeerSession({
      room: FIXTURE_ROOM,
      selfId: 'zz-raw-peer',
      peerId: target!,
      signer: identity2.signer,
      selfPubkey: identity2.publicKey,
      settings: { granularity: dailyBuckets().descriptor, moderationDigest: acceptAll().digest },
    }).start(now())
    for (const action of hello) if (action.type === 'send') again.room.send(target!, action.bytes)
    const control = await rawPeer(network, network.transport({ peerId: 'zz-control-peer' }))
    // The reopened peer greets the control peer: by then it has seen the banned peer join and its
    // hello (both reached it first, in order) and had every chance to answer.
    await waitFor(() => control.received.length > 0, 5000, 'a hello to the control peer')
    expect(states.some(([, info]) => (info as { peerId: string }).peerId === 'zz-control-peer')).toBe(true)
    // No session was even started with the banned peer id: it received nothing.
    expect(again.received).toHaveLength(0)
    expect(states.filter(([, info]) => (info as { peerId: string }).peerId === 'zz-raw-peer')).toHaveLength(0)
    await Promise.all([reopened.close(), again.room.leave(), control.room.leave()])
  })
})

describe('flow control', () => {
  it('never strikes an honest peer that serves a large catch-up, even with tight unsolicited-record limits', async () => {
    const network = createMemoryNetwork({ latencyMs: 1 })
    const tight = { unsolicitedRecordsPerSecond: 1, unsolicitedRecordBurst: 2 }
    const full = await peer(network, { sessionLimits: tight })
    for (const e of events) await full.importRecord(e)
    const fresh = await peer(network, { sessionLimits: tight })
    const strikes = [...collect(fresh, 'peer:strike'), ...collect(full, 'peer:strike')]
    await waitFor(() => fresh.records().length === full.records().length, 20_000, 'catch-up')
    expect(strikes).toEqual([])
    expect(fresh.records()).toEqual(full.records())
    await Promise.all([full.close(), fresh.close()])
  })
})

describe('the peer limit', () => {
  it('keeps to the limit when a crowd arrives at once, and frees a place now and then so nobody is shut out', async () => {
    // On virtual time (fake timers, the peersets' clock is the faked Date.now): the minutes pass
    // exactly, however busy the machine is.
    virtualTime()
    try {
      const network = createMemoryNetwork({ latencyMs: 1 })
      const maxPeers = 4
      const peers = await drive(
        Promise.all(Array.from({ length: 10 }, () => peer(network, { maxPeers, reconnectCooldownMs: 1_000, clock: virtualClock, sessionTickMs: 1_000 }))),
      )
      const authenticated = (p: Peerset) => p.peers().filter((x) => x.state === 'authenticated').length
      // The crowd's handshakes are over: some sessions authenticated and none is still in progress
      // (refused ones are closed). Only then does "never more than maxPeers" say something.
      const settled = () => peers.some((p) => authenticated(p) > 0) && peers.every((p) => p.peers().every((x) => x.state === 'authenticated'))
      await virtualWaitFor(settled, 30_000, 'the handshakes to settle')
      for (const p of peers) expect(authenticated(p)).toBeLessThanOrEqual(maxPeers)
      // Minutes pass: full peers rotate a place each minute; refused peers retry after their cool-down.
      for (let minute = 0; minute < 10 && !peers.every((p) => authenticated(p) >= 1); minute++) {
        await sleep(61_000)
        await virtualWaitFor(settled, 30_000, 'the handshakes to settle')
        for (const p of peers) expect(authenticated(p)).toBeLessThanOrEqual(maxPeers)
      }
      expect(peers.map(authenticated).every((n) => n >= 1 && n <= maxPeers)).toBe(true)
      await drive(Promise.all(peers.map((p) => p.close())))
      network.close()
    } finally {
      realTime()
    }
  })
})

describe('maximum client session time', () => {
  it('leaves the room and joins again after maxClientSessionMs, with fresh sessions', async () => {
    const network = createMemoryNetwork({ latencyMs: 1 })
    const a = await peer(network, { maxClientSessionMs: 1_000 })
    const b = await peer(network)
    const joined = collect(b, 'peer:joined')
    const left = collect(b, 'peer:left')
    await waitFor(() => joined.length === 1, 5000, 'first session')
    const firstId = a.status().transport.selfId
    await waitFor(() => left.length >= 1 && joined.length >= 2, 8000, 'a to leave and come back')
    expect(a.status().transport.joined).toBe(true)
    expect(a.status().transport.selfId).toBe(firstId) // the memory transport keeps the peer id
    await a.importRecord(events.at(-1))
    await waitFor(() => b.records().length === 1, 5000, 'sync after the rejoin')
    await Promise.all([a.close(), b.close()])
  })
})
