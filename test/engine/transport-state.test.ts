/**
 * The transport's connection state as the host app sees it (issue 11): `status().transport.state`,
 * `transport:state` events, and the `no-signalling` warning when no signalling server has been
 * reachable for a while. On virtual time, with the memory network and a transport stub whose
 * signalling state the test sets (the real trystero sockets are in trystero-state.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { NO_SIGNALLING_WARNING_MS } from '../../src/engine/transport-watch.js'
import { createIdentity } from '../../src/identity/index.js'
import { acceptAll } from '../../src/moderation/index.js'
import { createPeerset, type Peerset, type PeersetWarning } from '../../src/peerset.js'
import { memoryStorage } from '../../src/storage/index.js'
import { createMemoryNetwork } from '../../src/transport/index.js'
import type { TransportHandlers, TransportState, TransportStrategy } from '../../src/transport/types.js'
import { drive, realTime, sleep, virtualClock, virtualTime, waitFor } from '../virtual-time.js'

const open: Peerset[] = []
afterEach(async () => {
  await drive(Promise.all(open.splice(0).map((p) => p.close())))
  realTime()
})

async function peer(transport: TransportStrategy, maxPeers?: number): Promise<Peerset> {
  const p = await drive(
    createPeerset({ room: 'state', identity: createIdentity(), storage: memoryStorage(), transport, moderation: acceptAll(), clock: virtualClock, ...(maxPeers !== undefined && { maxPeers }) }),
  )
  open.push(p)
  return p
}

/** The memory network's transport, with a signalling server whose state the test sets. */
function withSignalling(inner: TransportStrategy) {
  let handlers: TransportHandlers | undefined
  const demands: Array<{ peers: number; maxPeers: number }> = []
  let state: TransportState = { signalling: [{ url: 'wss://tracker.test', state: 'connecting', since: Date.now() }], peers: 0 }
  const strategy: TransportStrategy = {
    name: 'stub',
    isSupported: () => true,
    async join(room, h) {
      handlers = h
      const joined = await inner.join(room, h)
      return { selfId: joined.selfId, send: joined.send, leave: joined.leave, state: () => state, setPeerDemand: (d) => void demands.push(d) }
    },
  }
  return {
    strategy,
    demands,
    set(server: TransportState['signalling'][number]) {
      state = { signalling: [server], peers: 0, ...(server.lastError !== undefined && { lastError: server.lastError }) }
      handlers?.onState?.(state)
    },
  }
}

describe('the transport state', () => {
  it('of the memory network: no signalling servers, and the peers it is connected to', async () => {
    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 1 })
    const [a, b] = [await peer(network.transport()), await peer(network.transport())]
    await waitFor(() => a.peers().length === 1 && b.peers().length === 1, 5_000, 'the two to connect')
    expect(a.status().transport.state).toEqual({ signalling: [], peers: 1 })
    expect(a.status().warnings).toEqual([])
    network.close()
  })

  it('is reported as events; a room with no reachable signalling server is a no-signalling warning, not a crash', async () => {
    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 1 })
    const stub = withSignalling(network.transport())
    const p = await peer(stub.strategy)
    const states: TransportState[] = []
    const warnings: PeersetWarning[] = []
    const errors: unknown[] = []
    p.on('transport:state', (s) => states.push(s))
    p.on('warning', (w) => warnings.push(w))
    p.on('error', (e) => errors.push(e))
    stub.set({ url: 'wss://tracker.test', state: 'failing', since: Date.now(), lastError: 'connect ECONNREFUSED' })
    expect(states.at(-1)?.signalling[0]?.state).toBe('failing')
    expect(p.status().transport.state?.lastError).toBe('connect ECONNREFUSED')
    // Not at once: a server may fail once and come back.
    await sleep(NO_SIGNALLING_WARNING_MS - 1_000)
    expect(warnings).toEqual([])
    await sleep(1_000)
    expect(warnings.map((w) => w.code)).toEqual(['no-signalling'])
    expect(warnings[0]!.message).toContain('wss://tracker.test failing (connect ECONNREFUSED)')
    // Once per outage: still failing, no second warning.
    await sleep(5 * NO_SIGNALLING_WARNING_MS)
    expect(warnings).toHaveLength(1)
    // Reachable again: open; a later outage warns again.
    stub.set({ url: 'wss://tracker.test', state: 'open', since: Date.now() })
    expect(p.status().transport.state?.signalling[0]?.state).toBe('open')
    stub.set({ url: 'wss://tracker.test', state: 'failing', since: Date.now(), lastError: 'closed' })
    await sleep(NO_SIGNALLING_WARNING_MS)
    expect(warnings.map((w) => w.code)).toEqual(['no-signalling', 'no-signalling'])
    expect(p.status().state).toBe('open')
    expect(errors).toEqual([])
    network.close()
  })

  it('a server that opens in time is no warning', async () => {
    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 1 })
    const stub = withSignalling(network.transport())
    const p = await peer(stub.strategy)
    await sleep(NO_SIGNALLING_WARNING_MS / 2)
    stub.set({ url: 'wss://tracker.test', state: 'open', since: Date.now() })
    await sleep(2 * NO_SIGNALLING_WARNING_MS)
    expect(p.status().warnings).toEqual([])
    network.close()
  })

  it('tells the transport how full the room is (a full room announces less often)', async () => {
    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 1 })
    const stub = withSignalling(network.transport())
    await peer(stub.strategy, 1)
    await sleep(2_000)
    expect(stub.demands.at(-1)).toEqual({ peers: 0, maxPeers: 1 })
    await peer(network.transport())
    await waitFor(() => stub.demands.at(-1)?.peers === 1, 10_000, 'the room to be full')
    expect(stub.demands.at(-1)).toEqual({ peers: 1, maxPeers: 1 })
    network.close()
  })
})
