/** Shape-correct records for storage tests. The store trusts records, so ids and sigs are random hex. */
import { randomBytes } from 'node:crypto'
import type { PeersetRecord } from '../../src/record/types.js'

const hex = (bytes: number): string => randomBytes(bytes).toString('hex')

/** A record with random id, author, uuid and sig; `overrides` replace fields. */
export function fakeRecord(overrides: Partial<PeersetRecord> = {}): PeersetRecord {
  const uuid = crypto.randomUUID()
  return {
    id: hex(32),
    author: hex(32),
    uuid,
    createdAt: 1_790_000_000 + Math.floor(Math.random() * 7_776_000),
    text: `hello ${hex(8)}`,
    tags: [['d', uuid]],
    sig: hex(64),
    ...overrides,
  }
}

/** Records sorted by id, the order stores return them in. */
export function byId(records: readonly PeersetRecord[]): PeersetRecord[] {
  return [...records].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}
