/**
 * `sync:progress` (issue 14): a peer that joins a swarm holding N records hears how its catch-up
 * goes, on virtual time: a bounded number of events (one at the start, at most one per 250 ms, one at
 * the end), `received` never goes down and ends at N, `expected` is never below `received` and ends
 * at it; and the records arrive in `records:added` batches, not one event each.
 */
import { describe, expect, it } from 'vitest'
import { createMemoryNetwork } from '../../src/index.js'
import { SYNC_PROGRESS_INTERVAL_MS } from '../../src/engine/sync-progress.js'
import { loadFixtures } from '../helpers.js'
import { drive, importAll, openPeer, virtualTime, waitFor, useSwarm } from './harness.js'

const swarm = useSwarm()

type Progress = { received: number; expected: number; added: number; rate: number }

describe('sync:progress', () => {
  it('a newcomer catching up on N records: bounded, monotonic, ends at N; records:added in batches', async () => {
    virtualTime()
    swarm.network = createMemoryNetwork({ latencyMs: 150, jitterMs: 50, seed: 14 })
    const holders = [await drive(openPeer({ transport: swarm.network.transport() })), await drive(openPeer({ transport: swarm.network.transport() }))]
    swarm.peers.push(...holders)
    await drive(importAll(holders[0]!, loadFixtures().records))
    await waitFor(() => holders[1]!.status().records === holders[0]!.status().records, 120_000, 'the two holders to agree')
    const n = holders[0]!.status().records
    expect(n).toBeGreaterThan(300)

    const newcomer = await drive(openPeer({ transport: swarm.network.transport() }))
    swarm.peers.push(newcomer)
    const log: Array<{ at: number; name: string; info: unknown }> = []
    for (const name of ['sync:started', 'sync:progress', 'sync:idle', 'records:added', 'record:added'] as const) {
      newcomer.on(name, ((info: unknown) => log.push({ at: Date.now(), name, info })) as never)
    }
    await waitFor(() => newcomer.status().records === n && log.some((e) => e.name === 'sync:idle'), 300_000, 'the newcomer to catch up')

    // One catch-up here (the holders announce everything at once); each is framed by started / idle.
    const starts = log.filter((e) => e.name === 'sync:started')
    expect(starts.length).toBe(1)
    const progress = log.filter((e) => e.name === 'sync:progress')
    const infos = progress.map((e) => e.info as Progress)
    const startAt = starts[0]!.at
    const endAt = log.find((e) => e.name === 'sync:idle')!.at
    // First right after sync:started, last right before sync:idle.
    expect(log[log.indexOf(starts[0]!) + 1]!.name).toBe('sync:progress')
    expect(infos[0]).toMatchObject({ received: 0, added: 0 })
    expect(infos[0]!.expected).toBeGreaterThan(0)
    const idleIndex = log.findIndex((e) => e.name === 'sync:idle')
    expect(log[idleIndex - 1]!.name).toBe('sync:progress')
    expect(infos.at(-1)).toMatchObject({ received: n, expected: n, added: n })
    // Bounded: at most one per interval in between.
    expect(progress.length).toBeGreaterThan(2)
    expect(progress.length).toBeLessThanOrEqual(Math.floor((endAt - startAt) / SYNC_PROGRESS_INTERVAL_MS) + 2)
    for (let i = 1; i < progress.length - 1; i++) expect(progress[i]!.at - progress[i - 1]!.at).toBeGreaterThanOrEqual(SYNC_PROGRESS_INTERVAL_MS)
    for (let i = 1; i < infos.length; i++) {
      expect(infos[i]!.received).toBeGreaterThanOrEqual(infos[i - 1]!.received)
      expect(infos[i]!.added).toBeGreaterThanOrEqual(infos[i - 1]!.added)
    }
    for (const info of infos) {
      expect(info.expected).toBeGreaterThanOrEqual(info.received)
      expect(info.expected).toBeLessThanOrEqual(n)
      expect(info.rate).toBeGreaterThanOrEqual(0)
    }
    expect(infos.some((info) => info.rate > 0)).toBe(true)
    // records:added: batches, together every record once.
    const batches = log.filter((e) => e.name === 'records:added').map((e) => e.info as unknown[])
    expect(batches.reduce((sum, b) => sum + b.length, 0)).toBe(n)
    expect(batches.length).toBeLessThan(n / 5)
    expect(log.filter((e) => e.name === 'record:added').length).toBe(n)
    console.log(`sync:progress: ${progress.length} events over ${endAt - startAt} ms of virtual time for ${n} records; ${batches.length} records:added batches`)
  })
})
