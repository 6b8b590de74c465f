/**
 * Every setting that changes the kept set is agreed in the hello (issue 10): two peers that differ
 * in one end their session naming it, and sync nothing. On virtual time.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createIdentity } from '../../src/identity/index.js'
import { acceptAll } from '../../src/moderation/index.js'
import { createPeerset, type Peerset, type PeersetOptions } from '../../src/peerset.js'
import { memoryStorage } from '../../src/storage/index.js'
import { createMemoryNetwork, type MemoryNetwork } from '../../src/transport/index.js'
import { FIXTURE_ROOM, collect, loadFixtures } from '../helpers.js'
import { drive, realTime, sleep, virtualClock, virtualTime, waitFor } from '../virtual-time.js'

const { records: events } = loadFixtures()

function peer(network: MemoryNetwork, options: Partial<PeersetOptions> = {}): Promise<Peerset> {
  return createPeerset({
    room: FIXTURE_ROOM,
    identity: createIdentity(),
    storage: memoryStorage(),
    transport: network.transport(),
    moderation: acceptAll(),
    clock: virtualClock,
    sessionTickMs: 1_000,
    ...options,
  })
}

afterEach(() => realTime())

const CASES: Array<[string, Partial<PeersetOptions>, Partial<PeersetOptions>, string, RegExp]> = [
  ['author strike threshold', { strikes: { threshold: 3 } }, { strikes: { threshold: 5 } }, 'author-strikes', /strikes\.threshold differs: ours 3, theirs 5/],
  ['author ban time', {}, { strikes: { banSeconds: 3_600 } }, 'author-strikes', /strikes\.banSeconds/],
  ['record limits', {}, { limits: { maxTextBytes: 1_000 } }, 'record-limits', /limits\.maxTextBytes/],
  ['record proof of work', {}, { proofOfWork: { records: 1 } }, 'record-pow', /proofOfWork\.records/],
  ['clock skew', {}, { clockSkewMs: 60_000 }, 'clock-skew', /clockSkewMs/],
]

describe('settings that change the kept set', () => {
  it.each(CASES)('a different %s ends the session naming it, and nothing syncs', async (_label, ours, theirs, reason, detail) => {
    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 1 })
    const a = await drive(peer(network, ours))
    const left = collect(a, 'peer:left')
    const joined = collect(a, 'peer:joined')
    await drive(a.importRecord(events.at(-1)))
    const b = await drive(peer(network, theirs))
    await waitFor(() => left.length > 0, 30_000, 'peer:left')
    expect(left[0]![2]).toMatchObject({ reason })
    expect((left[0]![2] as { detail: string }).detail).toMatch(detail)
    await sleep(5_000)
    expect(joined).toEqual([])
    expect(b.records()).toHaveLength(0)
    await drive(Promise.all([a.close(), b.close()]))
    network.close()
  })

  it('peers that agree sync', async () => {
    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 1 })
    const same = { strikes: { threshold: 5 }, clockSkewMs: 60_000 }
    const a = await drive(peer(network, same))
    await drive(a.importRecord(events.at(-1)))
    const b = await drive(peer(network, same))
    await waitFor(() => b.records().length === 1, 30_000, 'sync')
    await drive(Promise.all([a.close(), b.close()]))
    network.close()
  })
})
