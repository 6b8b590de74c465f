/**
 * End to end: a peer whose store was tampered with on disk serves forged records (valid shape, text
 * changed after signing, id and signature kept). The other peer accepts none of them.
 *
 * Not asserted (yet): that the forger ends banned. Today the receiver recomputes each record's id,
 * finds it was never requested (the id it asked for is the old one) and drops it as unsolicited
 * (`ignored` in the sync core) without a strike, so the forger is never struck; see the note in the
 * report of issue 11.
 */
import { join } from 'node:path'
import { deserialize, serialize } from 'node:v8'
import { ClassicLevel } from 'classic-level'
import { afterEach, describe, expect, it } from 'vitest'
import type { PeersetRecord } from '../../src/record/types.js'
import { startCluster, type Cluster } from './cluster.js'

let cluster: Cluster | undefined
afterEach(async () => {
  await cluster?.close()
  cluster = undefined
})

/** Change the text of every record in a peer's LevelDB store, keeping its id and signature. */
async function tamper(storeDir: string, room: string): Promise<number> {
  const db = new ClassicLevel<string, Uint8Array>(join(storeDir, Buffer.from(room, 'utf8').toString('hex')), { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  let count = 0
  try {
    for await (const [key, value] of db.iterator({ gte: 'r!', lt: 'r"' })) {
      const record = deserialize(value) as PeersetRecord
      await db.put(key, serialize({ ...record, text: `${record.text} (forged: send money to mallory)` }))
      count++
    }
  } finally {
    await db.close()
  }
  return count
}

describe('a peer serving forged records', () => {
  it('gets none of them accepted', async () => {
    cluster = await startCluster()
    const mallory = cluster.peer('mallory', ['--publish', 'one', '--publish', 'two', '--publish', 'three'])
    await mallory.waitFor((e) => e.event === 'status' && e['records'] === 3, 60_000, 'three records stored')
    await mallory.stop()
    expect(await tamper(join(cluster.dir, 'mallory'), cluster.room)).toBe(3)

    const honest = cluster.peer('honest')
    cluster.peer('mallory') // restarts on its tampered store, and serves it
    // The two meet, reconcile, and the honest peer resolves every wanted record one way or another.
    await honest.waitFor((e) => e.event === 'peer:joined', 90_000, 'mallory connected')
    const idle = await honest.waitFor((e) => e.event === 'sync:idle', 90_000, 'the catch-up to end')
    const strikes = honest.events.filter((e) => e.event === 'peer:strike' || e.event === 'peer:banned').length
    console.log(`e2e: honest ended its catch-up from mallory with ${String(idle['records'])} records; strikes or bans: ${strikes}`)
    expect(honest.events.filter((e) => e.event === 'record:added')).toEqual([])
    const status = await honest.waitFor((e) => e.event === 'status' && e.t > idle.t, 10_000, 'a status line after the catch-up')
    expect(status['records']).toBe(0)
  }, 240_000)
})
