import type { ModerationStrategy } from '../moderation/types.js'
import type { PeersetRecord } from '../record/types.js'
import type { RecordIndex } from './record-index.js'

/**
 * Re-moderates every kept record under the current policy, as if the records arrived one by one in
 * their canonical order (creation time, then id) — which, since verdicts are deterministic, gives
 * the set every peer with this policy keeps. Returns the ids to remove, by reason (e.g.
 * `over-quota` when the quota was lowered). Run once when the policy changed since the store was
 * last used: the displacement rules keep the set right while the policy stays the same. No strikes:
 * the records were accepted under the old policy.
 */
export async function recollectUnderPolicy(
  index: RecordIndex,
  moderation: ModerationStrategy,
  nowMs: number,
): Promise<Map<string, string[]>> {
  const byAuthor = new Map<string, PeersetRecord[]>()
  for (const record of index.values()) {
    let list = byAuthor.get(record.author)
    if (!list) byAuthor.set(record.author, (list = []))
    list.push(record)
  }
  const removals = new Map<string, string[]>()
  const remove = (id: string, reason: string): void => {
    let ids = removals.get(reason)
    if (!ids) removals.set(reason, (ids = []))
    ids.push(id)
  }
  for (const [author, records] of byAuthor) {
    records.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    let kept: PeersetRecord[] = []
    for (const record of records) {
      let verdict
      try {
        verdict = await moderation.review(record, { nowMs, recordsOfAuthor: (a) => (a === author ? kept : []) })
      } catch {
        continue // a failing rule keeps the record: garbage collection never loses data on an error
      }
      if (!verdict.accept) {
        if (verdict.transient !== true || verdict.reason === 'over-quota' || verdict.reason === 'duplicate') remove(record.id, verdict.reason)
        continue
      }
      const evicted = new Set((verdict.evict ?? []).map((e) => e.id))
      for (const e of verdict.evict ?? []) if (kept.some((r) => r.id === e.id)) remove(e.id, e.reason)
      kept = [...kept.filter((r) => !evicted.has(r.id)), record]
    }
  }
  return removals
}
