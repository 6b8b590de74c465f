import type { ModerationStrategy } from '../moderation/types.js'
import type { PeersetRecord } from '../record/types.js'
import { REVIEW_TIMEOUT_MS } from './judge.js'
import type { RecordIndex } from './record-index.js'

/** What a re-check found: the ids to remove by reason, and whether every record got a verdict. */
export interface Recollection {
  removals: Map<string, string[]>
  /** False if a review failed, timed out, or the re-check was stopped: it should run again later. */
  complete: boolean
}

/** Options of {@link recollectUnderPolicy}. */
export interface RecollectOptions {
  /** Longest one review may take; the record is then kept (default `REVIEW_TIMEOUT_MS`, 10 s). */
  reviewTimeoutMs?: number
  /** Asked before each record: false stops the re-check (the peerset closed). */
  keepGoing?: () => boolean
}

/**
 * Re-moderates every kept record under the current policy, as if the records arrived one by one in
 * their canonical order (creation time, then id) — which, since verdicts are deterministic, gives
 * the set every peer with this policy keeps. Returns the ids to remove, by reason (e.g.
 * `over-quota` when the quota was lowered). Run once when the policy changed since the store was
 * last used: the displacement rules keep the set right while the policy stays the same. No strikes:
 * the records were accepted under the old policy. A review that throws or takes longer than
 * `reviewTimeoutMs` keeps its record and makes the result incomplete (so it runs again later).
 */
export async function recollectUnderPolicy(
  index: RecordIndex,
  moderation: ModerationStrategy,
  nowMs: number,
  options: RecollectOptions = {},
): Promise<Recollection> {
  const { reviewTimeoutMs = REVIEW_TIMEOUT_MS, keepGoing = () => true } = options
  let complete = true
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
      if (!keepGoing()) return { removals, complete: false }
      let verdict
      try {
        verdict = await withTimeLimit(moderation.review(record, { nowMs, recordsOfAuthor: (a) => (a === author ? kept : []) }), reviewTimeoutMs)
      } catch {
        // A failing or silent rule keeps the record: garbage collection never loses data on an error.
        complete = false
        continue
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
  return { removals, complete }
}

/** `value`, or a rejection after `ms` if it has not settled by then. */
async function withTimeLimit<T>(value: T | Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      Promise.resolve(value),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no verdict within ${ms} ms`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}
