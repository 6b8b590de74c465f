/**
 * A cluster for end-to-end tests: a tracker on 127.0.0.1, a temporary folder for the peers' stores,
 * and node-peer processes (examples/node-peer/peer.ts), all torn down by `close()` even after a failure.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startPeer, type PeerEvent, type PeerProcess } from '../../examples/node-peer/spawn.js'
import { startNostrRelay, startTracker } from '../../src/testing/index.js'

export interface Cluster {
  /** The signalling server: a BitTorrent tracker (torrent strategy) or a Nostr relay (nostr strategy). */
  readonly signalling: { url: string; close(): Promise<void> }
  readonly dir: string
  readonly room: string
  /** Start a peer with its own store `<dir>/<name>` (a restart with the same name reopens it). */
  peer(name: string, args?: string[]): PeerProcess
  /** Every peer process started (restarts included). */
  readonly processes: PeerProcess[]
  close(): Promise<void>
}

export async function startCluster(strategy: 'torrent' | 'nostr' = 'torrent'): Promise<Cluster> {
  const tracker = strategy === 'torrent' ? await startTracker({ intervalMs: 10_000 }) : await startNostrRelay()
  const dir = mkdtempSync(join(tmpdir(), 'peerset-e2e-'))
  const room = `e2e-${process.pid}-${Date.now()}`
  const processes: PeerProcess[] = []
  return {
    signalling: tracker,
    dir,
    room,
    processes,
    peer(name, args = []) {
      const peer = startPeer(name, ['--room', room, '--strategy', strategy, '--tracker', tracker.url, '--store', join(dir, name), '--status-ms', '500', ...args])
      processes.push(peer)
      return peer
    },
    async close() {
      // SIGKILL: nothing to keep, and it cannot hang.
      await Promise.all(processes.map((p) => p.kill()))
      await tracker.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const latestStatus = (peer: PeerProcess): PeerEvent | undefined => peer.last('status')

/**
 * Wait until every peer reports (in its periodic `status` line) `records` records, the same set
 * digest as the others, and at least `peers` authenticated peers. Rejects after `budgetMs` with the
 * statuses seen last.
 */
export async function waitConverged(peers: PeerProcess[], expect: { records: number; peers: number }, budgetMs: number): Promise<number> {
  const start = Date.now()
  const end = start + budgetMs
  for (;;) {
    const statuses = peers.map(latestStatus)
    const ok = statuses.every(
      (s) => s !== undefined && s['records'] === expect.records && (s['peers'] as number) >= expect.peers && s['digest'] === statuses[0]!['digest'],
    )
    if (ok) return Date.now() - start
    const dead = peers.find((p) => p.exited())
    if (dead) throw new Error(`${dead.name} exited (code ${dead.child.exitCode}) before convergence`)
    if (Date.now() > end) {
      const seen = peers.map((p) => `${p.name}: ${JSON.stringify(latestStatus(p) ?? null)}`).join('\n  ')
      throw new Error(`not converged to ${expect.records} records within ${budgetMs} ms; last statuses:\n  ${seen}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
}
