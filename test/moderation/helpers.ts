/** Cheap, unsigned records and contexts for moderation tests. Moderation trusts verified records. */
import type { ModerationContext, ModerationVerdict } from '../../src/moderation/index.js'
import type { PeersetRecord } from '../../src/record/types.js'

export const ALICE = 'a'.repeat(64)
export const BOB = 'b'.repeat(64)
export const T0 = 1_790_000_000
export const NOW_MS = (T0 + 86_400) * 1000

let counter = 0

/** A 64-hex id that sorts by `n` (handy to control the id tie-break). */
export function hexId(n: number): string {
  return n.toString(16).padStart(64, '0')
}

/** A record of ALICE with a fresh id and uuid; `overrides` replace fields. */
export function fakeRecord(overrides: Partial<PeersetRecord> = {}): PeersetRecord {
  counter++
  const uuid = overrides.uuid ?? `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`
  return {
    id: hexId(1_000_000 + counter),
    author: ALICE,
    uuid,
    createdAt: T0 + counter,
    text: `hello number ${counter}`,
    tags: [['d', uuid]],
    sig: 'f'.repeat(128),
    ...overrides,
  }
}

/** A context holding `records` (the engine's live set), at NOW_MS. */
export function contextOf(records: readonly PeersetRecord[] = [], nowMs = NOW_MS): ModerationContext {
  return {
    nowMs,
    recordsOfAuthor: (author) =>
      records
        .filter((r) => r.author === author)
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  }
}

/** Narrows a verdict that must be synchronous (all built-ins but link-check are). */
export function sync(verdict: ModerationVerdict | Promise<ModerationVerdict>): ModerationVerdict {
  if (verdict instanceof Promise) throw new Error('expected a synchronous verdict')
  return verdict
}

/** The reject reason, or 'accept'. */
export function reasonOf(verdict: ModerationVerdict): string {
  return verdict.accept ? 'accept' : verdict.reason
}
