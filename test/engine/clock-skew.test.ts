/**
 * Honest peers whose clocks differ. Within `clockSkewMs` (5 minutes by default, the tolerance of
 * records) they authenticate and sync; beyond it their sessions end (`auth-failed`, naming the
 * clocks) without a strike, so no pair of honest peers ever bans each other for a clock error.
 * On virtual time, with the clocks offset through the `clock` option.
 */
import { describe, expect, it } from 'vitest'
import { createMemoryNetwork } from '../../src/index.js'
import { FIXTURE_ROOM, loadFixtures } from '../helpers.js'
import { drive, importAll, openPeer, sleep, virtualClock, virtualTime, waitFor, useSwarm } from '../swarm/harness.js'

const { records: events } = loadFixtures()

const swarm = useSwarm()

/** Two swarm.peers, b's clock `aheadMs` ahead of a's; their strikes, session ends and the records b gets. */
async function pair(aheadMs: number) {
  virtualTime()
  swarm.network = createMemoryNetwork({ latencyMs: 2, seed: 7 })
  const a = await drive(openPeer({ room: FIXTURE_ROOM, transport: swarm.network.transport() }))
  const b = await drive(openPeer({ room: FIXTURE_ROOM, transport: swarm.network.transport(), clock: () => virtualClock() + aheadMs }))
  swarm.peers.push(a, b)
  const strikes: string[] = []
  const ends: string[] = []
  for (const p of [a, b]) {
    p.on('peer:strike', (x) => strikes.push(`${x.reason}: ${x.detail}`))
    p.on('peer:left', (_peer, info) => ends.push(`${info.reason}: ${info.detail}`))
  }
  await drive(importAll(a, events.slice(0, 5)))
  return { a, b, strikes, ends }
}

describe('honest swarm.peers with different clocks', () => {
  it('two minutes apart (inside clockSkewMs): they authenticate and sync, without a strike', async () => {
    const { a, b, strikes } = await pair(120_000)
    await waitFor(() => b.records().length === 5, 60_000, 'b to get the records')
    await sleep(5 * 60_000)
    expect(a.peers().map((p) => p.pubkey)).toEqual([b.publicKey])
    expect(b.peers().map((p) => p.pubkey)).toEqual([a.publicKey])
    expect(strikes).toEqual([])
  }, 60_000)

  it('ten minutes apart (beyond it): sessions end without a strike, and never a ban', async () => {
    const { b, strikes, ends } = await pair(10 * 60_000)
    await waitFor(() => ends.length >= 2, 60_000, 'a session to end')
    await sleep(30 * 60_000)
    expect(strikes).toEqual([])
    expect(ends.length).toBeGreaterThanOrEqual(2)
    // Every end says why (the host app can tell the user): the clocks, never a ban.
    for (const end of ends) expect(end).toMatch(/^auth-failed: our clocks differ too much/)
    expect(b.records()).toHaveLength(0)
  }, 60_000)
})
