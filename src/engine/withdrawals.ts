/**
 * Withdrawals (tombstones) in the judge: which tombstones are kept, and which versions they keep out.
 *
 * Per author, the kept tombstones are the newest {@link MAX_WITHDRAWALS_PER_AUTHOR} (by the version
 * order: later `createdAt`, a tie to the lower id). Once an author has that many, the oldest kept one
 * is the author's **horizon**: every record and tombstone of that author older than it is refused
 * (and evicted if held), whether or not it was ever withdrawn. A tombstone pushed out by the cap can
 * only have withdrawn versions older than itself, hence older than the horizon: whoever holds the
 * kept tombstones keeps those versions out without it. A tombstone is not replaced by a newer live
 * version of its address while it is kept (that version is refused for now), so the tombstones
 * never go but by the cap or by expiry, and the horizon depends only on the set of tombstones held.
 * See docs/moderation.md, Withdrawals.
 */
import { MAX_WITHDRAWALS_PER_AUTHOR } from '../record/index.js'
import type { PeersetRecord } from '../record/types.js'
import type { Rejection, RemoveReason } from './ingest-types.js'
import { supersedes } from './record-index.js'
import type { Stage } from './stage.js'

/** A refusal by the withdrawal rules (the caller adds the record id and `status`). */
export type WithdrawalRefusal = Omit<Rejection, 'status' | 'id'>

/** Removes a held record from the stage (the judge's eviction, which also updates the version memory). */
export type Evict = (stage: Stage, id: string, reason: RemoveReason) => unknown

/** The author's kept tombstones, newest first (the version order). */
function tombstonesNewestFirst(stage: Stage, author: string): PeersetRecord[] {
  return stage.withdrawalsOfAuthor(author).sort((a, b) => (a.id === b.id ? 0 : supersedes(a, b) ? -1 : 1))
}

/** The author's horizon: the oldest of their newest {@link MAX_WITHDRAWALS_PER_AUTHOR} tombstones, once they have that many. */
export function withdrawalHorizon(stage: Stage, author: string): PeersetRecord | undefined {
  return tombstonesNewestFirst(stage, author)[MAX_WITHDRAWALS_PER_AUTHOR - 1]
}

function belowHorizon(stage: Stage, record: PeersetRecord): WithdrawalRefusal | undefined {
  const horizon = withdrawalHorizon(stage, record.author)
  if (horizon === undefined || !supersedes(horizon, record)) return undefined
  const message = `created before its author's ${MAX_WITHDRAWALS_PER_AUTHOR} newest withdrawals (the oldest kept: ${horizon.id}): nothing older of this author is kept`
  return { reason: 'moderation', rule: 'withdrawal-cap', message, permanent: true, peerFault: false }
}

/**
 * Whether the withdrawal rules keep out a live record that is not older than the held version of its
 * address (older ones are `superseded` already): it is older than its author's horizon (permanent),
 * or its address holds a tombstone (until the tombstone goes: transient).
 */
export function withdrawalBlocks(stage: Stage, record: PeersetRecord, current: PeersetRecord | undefined): WithdrawalRefusal | undefined {
  const below = belowHorizon(stage, record)
  if (below) return below
  if (current?.withdrawn !== true) return undefined
  const message = `its address ${record.uuid} was withdrawn (${current.id}): a new version is kept only once that withdrawal has gone`
  return { reason: 'superseded', message, permanent: false, peerFault: false }
}

/**
 * Judge a tombstone (signature checked). Refused if older than its author's horizon, or older than a
 * tombstone held at its address. Otherwise it replaces the held version, whatever its age (a live
 * record goes with reason `withdrawn`, an older tombstone with `replaced`), and if the author now
 * has more than {@link MAX_WITHDRAWALS_PER_AUTHOR} tombstones, the horizon moves up: everything of
 * the author older than the new horizon is evicted (`withdrawal-cap`).
 */
export function judgeTombstone(stage: Stage, record: PeersetRecord, current: PeersetRecord | undefined, evict: Evict): WithdrawalRefusal | undefined {
  const below = belowHorizon(stage, record)
  if (below) return below
  if (current?.withdrawn === true && current.id !== record.id && supersedes(current, record)) {
    return { reason: 'superseded', message: `a newer withdrawal of ${record.uuid} (${current.id}) is held`, permanent: true, peerFault: false }
  }
  if (current) stage.remove(current.id, current.withdrawn ? 'replaced' : 'withdrawn', record)
  return undefined
}

/** After a tombstone was added: evict everything of its author older than the (new) horizon. */
export function applyWithdrawalHorizon(stage: Stage, author: string, evict: Evict): void {
  const horizon = withdrawalHorizon(stage, author)
  if (horizon === undefined) return
  for (const tombstone of stage.withdrawalsOfAuthor(author)) if (supersedes(horizon, tombstone)) evict(stage, tombstone.id, 'withdrawal-cap')
  for (const record of stage.recordsOfAuthor(author)) if (supersedes(horizon, record)) evict(stage, record.id, 'withdrawal-cap')
}
