/** The settings digest and the comparison that names the differing setting. */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { compareSettings, settingsDigest } from '../../src/session/index.js'
import { SETTINGS } from './helpers.js'
import { keptSetRulesOf } from '../../src/engine/options.js'
import { MAX_WITHDRAWALS_PER_AUTHOR } from '../../src/record/index.js'

describe('settingsDigest', () => {
  it('is SHA-256 of the JSON array ["peerset-settings/1", intervalMs, retentionBuckets, moderationDigest]', () => {
    const expected = createHash('sha256').update('["peerset-settings/1",86400000,90,"default/1"]', 'utf8').digest('hex')
    expect(settingsDigest(SETTINGS)).toBe(expected)
  })

  it('changes with every setting', () => {
    const digests = new Set([
      settingsDigest(SETTINGS),
      settingsDigest({ ...SETTINGS, granularity: { intervalMs: 3_600_000, retentionBuckets: 90 } }),
      settingsDigest({ ...SETTINGS, granularity: { intervalMs: 86_400_000, retentionBuckets: 91 } }),
      settingsDigest({ ...SETTINGS, moderationDigest: 'default/2' }),
    ])
    expect(digests.size).toBe(4)
  })

  it('validates its input', () => {
    expect(() => settingsDigest({ ...SETTINGS, granularity: { intervalMs: 0, retentionBuckets: 1 } })).toThrow(/intervalMs/)
    expect(() => settingsDigest({ ...SETTINGS, moderationDigest: 'x'.repeat(257) })).toThrow(/moderationDigest/)
    expect(() => settingsDigest(null as never)).toThrow(/settings must be an object/)
  })
})

describe('compareSettings', () => {
  it('is undefined when the settings agree', () => {
    expect(compareSettings(SETTINGS, structuredClone(SETTINGS))).toBeUndefined()
  })

  it('names the granularity first, then the moderation policy', () => {
    expect(compareSettings(SETTINGS, { granularity: { intervalMs: 1000, retentionBuckets: 90 }, moderationDigest: 'x' })).toEqual({
      reason: 'granularity',
      detail: 'bucket interval differs: ours 86400000 ms, theirs 1000 ms',
    })
    expect(compareSettings(SETTINGS, { ...SETTINGS, granularity: { intervalMs: 86_400_000, retentionBuckets: 30 } })?.detail).toBe(
      'retention differs: ours 90 buckets, theirs 30 buckets',
    )
    expect(compareSettings(SETTINGS, { ...SETTINGS, moderationDigest: 'strict/2' })).toEqual({
      reason: 'moderation-policy',
      detail: 'moderation policy digest differs: ours "default/1", theirs "strict/2"',
    })
  })

  it('closes with record-limits when one peer keeps no tombstones, or another number per author (withdrawals.maxPerAuthor)', () => {
    const ours = { ...SETTINGS, rules: keptSetRulesOf({}) }
    expect(ours.rules['withdrawals.maxPerAuthor']).toBe(MAX_WITHDRAWALS_PER_AUTHOR)
    const { 'withdrawals.maxPerAuthor': _, ...older } = ours.rules
    expect(compareSettings(ours, { ...ours, rules: older })?.reason).toBe('record-limits')
    expect(compareSettings(ours, { ...ours, rules: { ...ours.rules, 'withdrawals.maxPerAuthor': 5 } })).toMatchObject({ reason: 'record-limits', detail: expect.stringContaining('withdrawals.maxPerAuthor') })
    // A build that keeps records older than an author's withdrawal horizon (no `withdrawals.horizon`) does not sync either.
    const { 'withdrawals.horizon': __, ...noHorizon } = ours.rules
    expect(ours.rules['withdrawals.horizon']).toBe(1)
    expect(compareSettings(ours, { ...ours, rules: noHorizon })?.reason).toBe('record-limits')
  })
})
