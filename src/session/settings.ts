/**
 * The settings two peers must share, their digest, and which one differs when they do not match.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { PeersetError } from '../errors.js'
import type { SessionSettings } from './types.js'
import { encodeUtf8 as utf8, isWellFormedText } from '../protocol/bytes.js'
import { MAX_MODERATION_DIGEST_BYTES, MAX_SETTING_NAME_BYTES, MAX_SETTING_RULES } from './codec.js'

/** Domain label of the settings digest (bumped if the encoding ever changes). */
export const SETTINGS_DIGEST_LABEL = 'peerset-settings/1'

/**
 * The settings digest: lowercase hex SHA-256 of the UTF-8 JSON array
 * `["peerset-settings/1", intervalMs, retentionBuckets, moderationDigest]` (no spaces; integers in
 * decimal; the digest string JSON-escaped as `JSON.stringify` does), with, when `rules` has any,
 * a fifth element `[[name, value], ...]` sorted by name (code unit order). The retention is part of it
 * through `retentionBuckets` (retention = intervalMs x retentionBuckets).
 * Throws `PeersetError` `INVALID_ARGUMENT` for invalid settings.
 * @example
 * ```ts
 * settingsDigest({ granularity: { intervalMs: 86_400_000, retentionBuckets: 90 }, moderationDigest: 'default/1' })
 * // sha256('["peerset-settings/1",86400000,90,"default/1"]') as hex
 * ```
 */
export function settingsDigest(settings: SessionSettings): string {
  assertSettings(settings, 'settingsDigest')
  const { intervalMs, retentionBuckets } = settings.granularity
  const rules = sortedRules(settings)
  const parts: unknown[] = [SETTINGS_DIGEST_LABEL, intervalMs, retentionBuckets, settings.moderationDigest]
  // The rules, when there are any, as a fifth element: [[name, value], ...] sorted by name.
  if (rules.length > 0) parts.push(rules)
  const json = JSON.stringify(parts)
  return bytesToHex(sha256(utf8(json)))
}

/** Which setting differs between two peers, and a sentence saying how. */
export interface SettingsMismatch {
  reason: 'granularity' | 'moderation-policy' | 'record-limits' | 'record-pow' | 'clock-skew' | 'author-strikes'
  detail: string
}

/** The rules of `settings`, sorted by name. */
export function sortedRules(settings: SessionSettings): Array<[string, number]> {
  return Object.entries(settings.rules ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/** Which close reason a rule's mismatch is, by the option it comes from. */
function ruleReason(name: string): SettingsMismatch['reason'] {
  if (name.startsWith('limits.') || name.startsWith('withdrawals.')) return 'record-limits'
  if (name.startsWith('proofOfWork.')) return 'record-pow'
  if (name.startsWith('strikes.')) return 'author-strikes'
  return 'clock-skew'
}

/**
 * The first setting in which `theirs` differs from `ours` (granularity first), or `undefined` if
 * they agree.
 * @example
 * ```ts
 * compareSettings(ours, { ...ours, moderationDigest: 'strict/2' })
 * // { reason: 'moderation-policy', detail: 'moderation policy digest differs: ours "default/1", theirs "strict/2"' }
 * ```
 */
export function compareSettings(ours: SessionSettings, theirs: SessionSettings): SettingsMismatch | undefined {
  const a = ours.granularity
  const b = theirs.granularity
  if (a.intervalMs !== b.intervalMs) {
    return { reason: 'granularity', detail: `bucket interval differs: ours ${a.intervalMs} ms, theirs ${b.intervalMs} ms` }
  }
  if (a.retentionBuckets !== b.retentionBuckets) {
    return { reason: 'granularity', detail: `retention differs: ours ${a.retentionBuckets} buckets, theirs ${b.retentionBuckets} buckets` }
  }
  if (ours.moderationDigest !== theirs.moderationDigest) {
    return {
      reason: 'moderation-policy',
      detail: `moderation policy digest differs: ours ${JSON.stringify(ours.moderationDigest)}, theirs ${JSON.stringify(theirs.moderationDigest)}`,
    }
  }
  const a2 = ours.rules ?? {}
  const b2 = theirs.rules ?? {}
  const names = [...new Set([...Object.keys(a2), ...Object.keys(b2)])].sort()
  for (const name of names) {
    if (a2[name] !== b2[name]) {
      return { reason: ruleReason(name), detail: `${name} differs: ours ${a2[name] ?? 'unset'}, theirs ${b2[name] ?? 'unset'}` }
    }
  }
  return undefined
}

/** Throws `INVALID_ARGUMENT` unless `settings` is valid (internal). */
export function assertSettings(settings: unknown, fn: string): asserts settings is SessionSettings {
  const fail = (what: string) => new PeersetError('INVALID_ARGUMENT', `${fn}: ${what}`)
  if (typeof settings !== 'object' || settings === null) throw fail('settings must be an object { granularity, moderationDigest }')
  const s = settings as Partial<SessionSettings>
  const g = s.granularity
  if (typeof g !== 'object' || g === null) throw fail('settings.granularity must be a granularity descriptor')
  if (!isPositiveSafeInteger(g.intervalMs)) throw fail(`settings.granularity.intervalMs must be a positive integer, got ${String(g.intervalMs)}`)
  if (!isPositiveSafeInteger(g.retentionBuckets)) {
    throw fail(`settings.granularity.retentionBuckets must be a positive integer, got ${String(g.retentionBuckets)}`)
  }
  const d = s.moderationDigest
  if (typeof d !== 'string' || !isWellFormedText(d) || utf8(d).length > MAX_MODERATION_DIGEST_BYTES) {
    throw fail(`settings.moderationDigest must be a well-formed string of at most ${MAX_MODERATION_DIGEST_BYTES} UTF-8 bytes`)
  }
  if (s.rules === undefined) return
  if (typeof s.rules !== 'object' || s.rules === null || Array.isArray(s.rules)) throw fail('settings.rules must be an object of named integers')
  const entries = Object.entries(s.rules)
  if (entries.length > MAX_SETTING_RULES) throw fail(`settings.rules may have at most ${MAX_SETTING_RULES} entries`)
  for (const [name, value] of entries) {
    if (name.length === 0 || !isWellFormedText(name) || utf8(name).length > MAX_SETTING_NAME_BYTES) throw fail(`settings.rules: a name must be a well-formed string of 1..${MAX_SETTING_NAME_BYTES} UTF-8 bytes`)
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw fail(`settings.rules.${name} must be a non-negative integer, got ${String(value)}`)
  }
}

function isPositiveSafeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}
