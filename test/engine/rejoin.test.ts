/**
 * The rejoin after `maxClientSessionMs` (issue 10): jittered, and retried with backoff when the join
 * fails, with a warning each time and `status().transport.joined` false meanwhile. On virtual time:
 * the minutes pass exactly, however busy the machine is.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { rejoinBackoffMs } from '../../src/engine/connection.js'
import { createIdentity } from '../../src/identity/index.js'
import { acceptAll } from '../../src/moderation/index.js'
import { createPeerset, type Peerset, type PeersetOptions, type PeersetWarning } from '../../src/peerset.js'
import { memoryStorage } from '../../src/storage/index.js'
import { createMemoryNetwork, type MemoryNetwork } from '../../src/transport/index.js'
import type { TransportStrategy } from '../../src/transport/types.js'
import { FIXTURE_ROOM, loadFixtures } from '../helpers.js'
import { drive, realTime, sleep, virtualClock, virtualTime, waitFor } from '../virtual-time.js'

const { records: events } = loadFixtures()

function peer(transport: TransportStrategy, options: Partial<PeersetOptions> = {}): Promise<Peerset> {
  return createPeerset({
    room: FIXTURE_ROOM,
    identity: createIdentity(),
    storage: memoryStorage(),
    transport,
    moderation: acceptAll(),
    clock: virtualClock,
    sessionTickMs: 1_000,
    ...options,
  })
}

/** The network's transport, whose joins after the first fail `failures` times; join times are logged. */
function flaky(network: MemoryNetwork, failures: number): TransportStrategy & { joins: number[]; attempts: number[] } {
  const inner = network.transport()
  let left = failures
  const joins: number[] = []
  const attempts: number[] = []
  return {
    name: 'flaky',
    joins,
    attempts,
    isSupported: () => true,
    async join(room, handlers) {
      attempts.push(Date.now())
      if (joins.length > 0 && left > 0) {
        left--
        throw new Error('signalling server unreachable')
      }
      joins.push(Date.now())
      return inner.join(room, handlers)
    },
  }
}

afterEach(() => {
  vi.restoreAllMocks()
  realTime()
})

describe('rejoin after maxClientSessionMs', () => {
  it('is jittered: the stay is shortened by up to 10% at random', async () => {
    virtualTime()
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const network = createMemoryNetwork({ latencyMs: 1 })
    const transport = flaky(network, 0)
    const a = await drive(peer(transport, { maxClientSessionMs: 100_000 }))
    await waitFor(() => transport.joins.length === 2, 200_000, 'the rejoin')
    // 0.5 of the 10% jitter: 95 s, not 100 s.
    expect(transport.joins[1]! - transport.joins[0]!).toBe(95_000)
    await drive(a.close())
    network.close()
  })

  it('is retried with backoff when the join fails, warning each time, and syncs again once it works', async () => {
    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 1 })
    const transport = flaky(network, 3)
    const a = await drive(peer(transport, { maxClientSessionMs: 60_000 }))
    const b = await drive(peer(network.transport()))
    const warnings: PeersetWarning[] = []
    a.on('warning', (w) => warnings.push(w))
    await waitFor(() => transport.attempts.length === 2, 120_000, 'the first rejoin attempt')
    await sleep(1)
    expect(warnings.map((w) => w.code)).toEqual(['transport-failed'])
    expect(a.status().transport.joined).toBe(false)
    expect(a.status().warnings.filter((w) => w.code === 'transport-failed')).toHaveLength(1)
    await waitFor(() => transport.joins.length === 2, 60_000, 'the rejoin to work at the fourth attempt')
    expect(warnings.map((w) => w.code)).toEqual(['transport-failed', 'transport-failed', 'transport-failed'])
    // Backoff: the i-th wait is in [0.5, 1] x 1 s x 2^i.
    const waits = transport.attempts.slice(2).map((t, i) => t - transport.attempts[i + 1]!)
    expect(waits).toHaveLength(3)
    waits.forEach((wait, i) => {
      expect(wait).toBeGreaterThanOrEqual(500 * 2 ** i)
      expect(wait).toBeLessThanOrEqual(1_000 * 2 ** i)
    })
    await waitFor(() => a.status().transport.joined, 1_000, 'joined')
    await a.importRecord(events.at(-1))
    await waitFor(() => b.records().length === 1, 30_000, 'sync after the rejoin')
    await drive(Promise.all([a.close(), b.close()]))
    network.close()
  })

  it('backs off from 1 s, doubling, up to 5 minutes, shortened by up to half at random', () => {
    expect([0, 1, 2, 3].map((n) => rejoinBackoffMs(n, 0))).toEqual([1_000, 2_000, 4_000, 8_000])
    expect(rejoinBackoffMs(20, 0)).toBe(300_000)
    expect(rejoinBackoffMs(20, 0.999)).toBeGreaterThan(150_000)
    expect(rejoinBackoffMs(0, 0.999)).toBe(500)
  })
})

/** The network's transport, whose first `failures` joins throw; attempt times are logged. */
function failingFirst(network: MemoryNetwork, failures: number): TransportStrategy & { attempts: number[]; joined: number } {
  const inner = network.transport()
  let left = failures
  const t = {
    name: 'failing-first',
    attempts: [] as number[],
    joined: 0,
    isSupported: () => true,
    async join(room: string, handlers: Parameters<TransportStrategy['join']>[1]) {
      t.attempts.push(Date.now())
      if (left > 0) {
        left--
        throw new Error('signalling server unreachable')
      }
      t.joined++
      return inner.join(room, handlers)
    },
  }
  return t
}

describe('a failed first join', () => {
  it('does not fail createPeerset: it is retried in the background with backoff, warning each time, until the peerset is connected', async () => {
    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 1 })
    const transport = failingFirst(network, 2)
    const b = await drive(peer(network.transport()))
    await b.importRecord(events.at(-1))
    const a = await drive(peer(transport))
    const warnings: PeersetWarning[] = []
    a.on('warning', (w) => warnings.push(w))
    expect(transport.attempts).toHaveLength(1)
    expect(a.status().transport).toMatchObject({ name: 'failing-first', joined: false })
    const first = a.status().warnings
    expect(first.map((w) => w.code)).toEqual(['transport-failed'])
    expect(first[0]!.message).toMatch(/^joining the room failed .*trying again in/)
    await waitFor(() => a.status().transport.joined, 60_000, 'the join to work at the third attempt')
    expect(transport.attempts).toHaveLength(3)
    expect(a.status().warnings.map((w) => w.code)).toEqual(['transport-failed', 'transport-failed'])
    expect(warnings.map((w) => w.code)).toContain('transport-failed') // the second one, as an event
    const waits = transport.attempts.slice(1).map((t, i) => t - transport.attempts[i]!)
    waits.forEach((wait, i) => {
      expect(wait).toBeGreaterThanOrEqual(500 * 2 ** i)
      expect(wait).toBeLessThanOrEqual(1_000 * 2 ** i)
    })
    // Connected for real: a session with b, and b's record synced.
    await waitFor(() => a.records().length === 1, 30_000, 'sync after the late join')
    expect(a.peers().map((p) => p.pubkey)).toEqual([b.publicKey])
    await drive(Promise.all([a.close(), b.close()]))
    network.close()
  })

  it('stops retrying when the peerset closes', async () => {
    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 1 })
    const transport = failingFirst(network, 1_000)
    const a = await drive(peer(transport))
    await sleep(5_000)
    const tried = transport.attempts.length
    expect(tried).toBeGreaterThanOrEqual(2)
    await drive(a.close())
    await sleep(3_600_000)
    expect(transport.attempts).toHaveLength(tried)
    expect(transport.joined).toBe(0)
    network.close()
  })
})
