/**
 * A levelStorage database with a row that cannot be deserialized (damaged on disk): the peerset
 * opens with the other records and one `storage-corrupt` warning, as for rows that decode to
 * something that is not a record.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { afterAll, expect, it } from 'vitest'
import { levelStorage } from '../../src/node/index.js'
import { FIXTURE_ROOM, loadFixtures, openPeerset } from '../helpers.js'

const { records: events } = loadFixtures()
const root = mkdtempSync(join(tmpdir(), 'peerset-level-corrupt-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

it('a row that cannot be deserialized is skipped with one storage-corrupt warning; the other rows open', async () => {
  const path = join(root, 'db')
  const first = await openPeerset({ storage: levelStorage({ path }) })
  for (const event of events.slice(0, 3)) expect((await first.importRecord(event)).status).toBe('added')
  await first.close()

  // Damage one record row with bytes that are no V8 serialization (levelStorage's folder for a room: its name in hex).
  const db = new ClassicLevel<string, Uint8Array>(join(path, Buffer.from(FIXTURE_ROOM, 'utf8').toString('hex')), { keyEncoding: 'utf8', valueEncoding: 'view' })
  const keys = await db.keys({ gte: 'r!', lt: 'r"' }).all()
  expect(keys).toHaveLength(3)
  await db.put(keys[1]!, new TextEncoder().encode('garbage, not a structured clone'))
  await db.close()

  const peerset = await openPeerset({ storage: levelStorage({ path }) })
  try {
    expect(peerset.status().records).toBe(2)
    expect(peerset.get(keys[1]!.slice(2))).toBeUndefined()
    const warnings = peerset.status().warnings.filter((w) => w.code === 'storage-corrupt')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.message).toContain('1 of 3 rows')
  } finally {
    await peerset.close()
  }
})
