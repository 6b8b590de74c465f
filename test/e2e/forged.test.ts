/**
 * End to end: a peer whose store was tampered with on disk serves forged records (valid shape, text
 * changed after signing, id and signature kept). The other peer accepts none of them, and bans it.
 * Asked for by id, a copy hashes to an id that was never asked of the forger (`unrequested-record`,
 * one strike per frame); fetched by bucket (the honest peer starts empty, so it fetches), the copy's
 * signature does not match its content (`bad-signature`, one strike per record). Three strikes ban.
 * The in-memory twin is in test/swarm/adversarial.test.ts ('serving records tampered with in its store…').
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
  it('gets none of them accepted and ends banned', async () => {
    cluster = await startCluster()
    const mallory = cluster.peer('mallory', ['--publish', 'one', '--publish', 'two', '--publish', 'three'])
    await mallory.waitFor((e) => e.event === 'status' && e['records'] === 3, 60_000, 'three records stored')
    await mallory.stop()
    expect(await tamper(join(cluster.dir, 'mallory'), cluster.room)).toBe(3)

    const honest = cluster.peer('honest')
    cluster.peer('mallory') // restarts on its tampered store, and serves it
    // The two meet, reconcile, and the honest peer resolves every wanted record one way or another.
    const joined = await honest.waitFor((e) => e.event === 'peer:joined', 90_000, 'mallory connected')
    const banned = await honest.waitFor((e) => e.event === 'peer:banned', 90_000, 'mallory to be banned')
    const idle = await honest.waitFor((e) => e.event === 'sync:idle', 90_000, 'the catch-up to end')
    const strikes = honest.events.filter((e) => e.event === 'peer:strike')
    console.log(`e2e: honest ended its catch-up from mallory with ${String(idle['records'])} records; strikes: ${strikes.map((e) => String(e['reason'])).join(', ')}; banned: ${String(banned['reason'])}`)
    expect(banned['peerId']).toBe(joined['peerId'])
    expect(strikes.filter((e) => (e['reason'] === 'unrequested-record' || e['reason'] === 'bad-signature') && e['peerId'] === joined['peerId']).length).toBeGreaterThanOrEqual(3)
    expect(honest.events.filter((e) => e.event === 'record:added')).toEqual([])
    const status = await honest.waitFor((e) => e.event === 'status' && e.t > idle.t, 10_000, 'a status line after the catch-up')
    expect(status['records']).toBe(0)
  }, 240_000)
})
