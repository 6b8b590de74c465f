/**
 * Honest peers after a lost or late handshake frame (found by black-box QA): one lost proof, or a
 * signer that once takes 11 s, kept two honest peers apart for 41-52 s (a half-open session for
 * ~11 s, then each side's 30 s cool-down in turn, the second caused by a hello dropped during the
 * first). They must meet again within about the cool-down, with no strike; a peer that keeps
 * failing handshakes must still be held back. On virtual time.
 */
import { describe, expect, it } from 'vitest'
import {
  createIdentity,
  createMemoryNetwork,
  type Peerset,
  type Signer,
  type TransportStrategy,
} from '../../src/index.js'
import { isSessionFrame } from '../../src/session/index.js'
import { drive, openPeer, sleep, virtualClock, virtualTime, waitFor, useSwarm } from '../swarm/harness.js'

const swarm = useSwarm()

/** A transport that drops the session frames (hello, auth, ...) `drop(n, bytes)` picks (n: their order). */
function dropSessionFrames(inner: TransportStrategy, drop: (n: number, bytes: Uint8Array) => boolean): TransportStrategy & { dropped: number } {
  let n = 0
  const wrapper = {
    name: 'drop-session-frames',
    dropped: 0,
    isSupported: () => true,
    async join(room: string, handlers: Parameters<TransportStrategy['join']>[1]) {
      const r = await inner.join(room, handlers)
      return {
        get selfId() {
          return r.selfId
        },
        leave: () => r.leave(),
        send(peer: string, data: Uint8Array) {
          if (isSessionFrame(data) && drop(++n, data)) {
            wrapper.dropped++
            return
          }
          r.send(peer, data)
        },
      }
    },
  }
  return wrapper
}

/** Watches two peers: strikes, bans, and the first time both hold each other authenticated. */
function watch(a: Peerset, b: Peerset) {
  const faults: string[] = []
  for (const p of [a, b]) {
    p.on('peer:strike', (x) => faults.push(`strike ${x.reason}`))
    p.on('peer:banned', (x) => faults.push(`ban ${x.reason}`))
  }
  const both = () => a.peers().some((x) => x.state === 'authenticated') && b.peers().some((x) => x.state === 'authenticated')
  return { faults, both }
}

async function pair(bTransport: (inner: TransportStrategy) => TransportStrategy, bSigner?: (s: Signer) => Signer) {
  virtualTime()
  swarm.network = createMemoryNetwork({ latencyMs: 5 })
  const a = await drive(openPeer({ transport: swarm.network.transport() }))
  swarm.peers.push(a)
  await drive(a.publish({ text: 'from A' }))
  const identity = createIdentity()
  const b = await drive(openPeer({ transport: bTransport(swarm.network.transport()), extra: { identity: bSigner ? bSigner(identity.signer) : identity } }))
  swarm.peers.push(b)
  return { a, b, start: virtualClock() }
}

describe('recovery after a lost or late handshake frame', () => {
  it('one lost proof: both sides authenticated and in sync within a few seconds, no strike', async () => {
    // B's session frames: 1 = its hello, 2 = its proof (as in QA's repro, whoever starts first).
    const lossy = (inner: TransportStrategy) => dropSessionFrames(inner, (n) => n === 2)
    let wrapper: ReturnType<typeof dropSessionFrames> | undefined
    const { a, b, start } = await pair((inner) => (wrapper = lossy(inner)))
    const { faults, both } = watch(a, b)
    await waitFor(() => b.records().length === 1 && both(), 60_000, 'B to hold A record with both sides authenticated')
    const took = virtualClock() - start
    expect(wrapper!.dropped).toBe(1) // the loss is real: a handshake frame did not arrive
    expect(took).toBeLessThan(8_000) // was 41-51 s
    expect(faults).toEqual([])
  })

  it('a half-open session (one side authenticated, the other not) does not last', async () => {
    const { a, b } = await pair((inner) => dropSessionFrames(inner, (n) => n === 2))
    let halfOpenMs = 0
    for (let t = 0; t < 30_000; t += 100) {
      const aAuth = a.peers().some((x) => x.state === 'authenticated')
      const bAuth = b.peers().some((x) => x.state === 'authenticated')
      if (aAuth !== bAuth) halfOpenMs += 100
      await sleep(100)
    }
    expect(halfOpenMs).toBeLessThan(5_000) // was ~11 s
    expect(a.peers().map((x) => x.state)).toEqual(['authenticated'])
  })

  it('a signer that once takes 11 s: in sync within the cool-down, no strike', async () => {
    let calls = 0
    // Like a NIP-07 extension waiting for a click: its first session proof (kind 22515) takes 11 s.
    const slowOnce = (s: Signer): Signer => ({
      getPublicKey: () => s.getPublicKey(),
      signEvent: async (e) => {
        if (e.kind === 22515 && ++calls === 1) await new Promise((r) => setTimeout(r, 11_000))
        return s.signEvent(e)
      },
    })
    const { a, b, start } = await pair((inner) => inner, slowOnce)
    const { faults, both } = watch(a, b)
    await waitFor(() => b.records().length === 1 && both(), 90_000, 'B to hold A record')
    expect(calls).toBeGreaterThan(1) // the slow signature did happen, and a second one was needed
    expect(virtualClock() - start).toBeLessThan(30_000) // was 52 s
    expect(faults).toEqual([])
  })
})

describe('a lossy link that flaps', () => {
  for (const seed of [1, 2, 5, 6]) {
    it(`5% loss, partitions every ~0.4 s for 8 s (seed ${seed}): authenticated again within 50 s of the final heal, no strike`, async () => {
      virtualTime()
      swarm.network = createMemoryNetwork({ latencyMs: 5, jitterMs: 10, loss: 0.05, seed })
      const ta = swarm.network.transport()
      const tb = swarm.network.transport()
      const a = await drive(openPeer({ transport: ta, extra: { sessionTickMs: 100 } }))
      const b = await drive(openPeer({ transport: tb, extra: { sessionTickMs: 100 } }))
      swarm.peers.push(a, b)
      const { faults, both } = watch(a, b)
      const start = virtualClock()
      let published = 0
      for (let i = 1; virtualClock() - start < 8_000; i++) {
        await drive(Promise.all([a.publish({ text: `A ${i}` }), b.publish({ text: `B ${i}` })]))
        published += 2
        if (i % 3 === 0) swarm.network.partition([[ta.peerId], [tb.peerId]])
        await sleep(50 + (i % 4) * 40)
        if (i % 3 === 0) swarm.network.heal()
      }
      swarm.network.heal()
      const healed = virtualClock()
      await waitFor(both, 120_000, 'both swarm.peers authenticated')
      const took = virtualClock() - healed
      // Records then cross; how fast is the sync's own recovery from lost frames, not checked here.
      await waitFor(() => a.records().length > published / 2 || b.records().length > published / 2, 60_000, 'records to cross')
      expect(swarm.network.stats().framesDropped).toBeGreaterThan(0) // the loss is real
      expect(published).toBeGreaterThan(20)
      // Usually 0-17 s. A handshake that loses a frame times out (10 s) and the pair cools down
      // (5 s, then 20 s): two lost in a row take 45 s, which 2 of 80 runs of these seeds did (the
      // runs are not repeatable: keys, nonces and jitter are random). Before: up to 60 s and more.
      expect(took).toBeLessThan(50_000)
      expect(faults).toEqual([])
    }, 60_000)
  }
})

describe('a peer whose handshakes keep failing', () => {
  it('is still cooled down: every proof of B lost, A starts few sessions with it in 5 minutes, and nobody is struck', async () => {
    let wrapper: ReturnType<typeof dropSessionFrames> | undefined
    // Every auth frame of B is lost (a session frame with type byte 0x41 is an auth).
    const { a, b, start } = await pair((inner) => (wrapper = dropSessionFrames(inner, (_n, bytes) => bytes[1] === 0x41)))
    const { faults } = watch(a, b)
    let sessions = 0
    a.on('peer:state', (x) => x.to === 'hello-sent' && sessions++)
    await sleep(5 * 60_000)
    expect(virtualClock() - start).toBeGreaterThanOrEqual(5 * 60_000)
    expect(wrapper!.dropped).toBeGreaterThan(3) // B did prove itself, again and again; A never got it
    expect(a.peers().filter((p) => p.state === 'authenticated')).toEqual([])
    // 5 s, 20 s, then one per 30 s cool-down + 10 s challenge at most: about 3 + 300 / 40.
    expect(sessions).toBeLessThanOrEqual(14)
    expect(faults).toEqual([])
  })
})

