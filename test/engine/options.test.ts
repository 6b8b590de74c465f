/**
 * Every option of `createPeerset` is checked up front (issue 10): a bad value is a typed
 * `INVALID_ARGUMENT` naming the option, thrown before the store is opened or the room joined.
 */
import { describe, expect, it } from 'vitest'
import { isPeersetError } from '../../src/errors.js'
import { createMemoryNetwork } from '../../src/transport/index.js'
import { memoryStorage } from '../../src/storage/index.js'
import type { PeersetOptions } from '../../src/peerset.js'
import type { StorageStrategy } from '../../src/storage/types.js'
import { openPeerset } from '../helpers.js'

/** [option, a bad value's patch, what the message must name]. */
const BAD: Array<[string, Record<string, unknown>, RegExp]> = [
  ['an unknown top-level key', { relayUrls: ['wss://x'] }, /unknown option "relayUrls" \(known: room, identity, .*closeTimeoutMs, relays\)/],
  ['relays', { relays: { urls: ['wss://x'] } }, /relays must be a relay strategy/],
  ['room', { room: '' }, /room/],
  ['clock', { clock: 5 }, /clock/],
  ['storage', { storage: { name: 'x' } }, /storage/],
  ['transport', { transport: true }, /transport/],
  ['granularity', { granularity: { descriptor: { intervalMs: 0, retentionBuckets: 1 } } }, /granularity/],
  ['moderation', { moderation: { review: () => ({ accept: true }) } }, /moderation/],
  ['strikes.threshold', { strikes: { threshold: 0 } }, /strikes: .*threshold/],
  ['strikes (unknown key)', { strikes: { banDays: 7 } }, /strikes: .*banDays/],
  ['limits.maxTextBytes', { limits: { maxTextBytes: -1 } }, /limits\.maxTextBytes/],
  ['limits (unknown key)', { limits: { maxText: 1 } }, /limits: unknown field "maxText"/],
  ['clockSkewMs', { clockSkewMs: -1 }, /clockSkewMs/],
  ['clockSkewMs (NaN)', { clockSkewMs: Number.NaN }, /clockSkewMs/],
  ['tickIntervalMs', { tickIntervalMs: 0 }, /tickIntervalMs/],
  ['tickIntervalMs (over a timer)', { tickIntervalMs: 2 ** 31 }, /tickIntervalMs/],
  ['sessionTickMs', { sessionTickMs: '1000' }, /sessionTickMs/],
  ['sessionTimeouts.idleMs', { sessionTimeouts: { idleMs: -5 } }, /sessionTimeouts\.idleMs/],
  ['sessionTimeouts (unknown key)', { sessionTimeouts: { idle: 5 } }, /sessionTimeouts\.idle \(known: handshakeMs/],
  ['sessionTimeouts (not an object)', { sessionTimeouts: 5 }, /sessionTimeouts must be an object/],
  ['sessionLimits.strikeThreshold', { sessionLimits: { strikeThreshold: 2.5 } }, /sessionLimits\.strikeThreshold/],
  ['sessionLimits.banMs', { sessionLimits: { banMs: 0 } }, /sessionLimits\.banMs/],
  ['sessionLimits.maxFrameBytes', { sessionLimits: { maxFrameBytes: 10 } }, /sessionLimits\.maxFrameBytes/],
  ['sessionLimits.maxFrameBytes (over the wire\'s largest frame)', { sessionLimits: { maxFrameBytes: 1e12 } }, /sessionLimits\.maxFrameBytes must be at most 16348/],
  // Peers pack frames up to 16,348 bytes whatever the receiver set: a lower limit banned honest peers (QA).
  ['sessionLimits.maxFrameBytes (below the wire\'s frames)', { sessionLimits: { maxFrameBytes: 8000 } }, /sessionLimits\.maxFrameBytes must be 16348 .*strike honest peers/],
  ['sessionLimits.maxExpectedRecords (not an integer)', { sessionLimits: { maxExpectedRecords: 1.5 } }, /sessionLimits\.maxExpectedRecords must be an integer/],
  ['sessionLimits.messageBurst (not an integer)', { sessionLimits: { messageBurst: 10.5 } }, /sessionLimits\.messageBurst must be an integer/],
  ['sessionLimits.banMs (over a timer)', { sessionLimits: { banMs: 1e300 } }, /sessionLimits\.banMs must be at most 2147483647/],
  ['sessionTimeouts.idleMs (over a timer)', { sessionTimeouts: { idleMs: 2 ** 31 } }, /sessionTimeouts\.idleMs must be at most 2147483647/],
  ['sessionTimeouts.maxSessionMs (1e300)', { sessionTimeouts: { maxSessionMs: 1e300 } }, /sessionTimeouts\.maxSessionMs must be at most/],
  ['maxPeers', { maxPeers: 2.5 }, /maxPeers/],
  ['maxClientSessionMs', { maxClientSessionMs: 10 ** 12 }, /maxClientSessionMs/],
  ['reconnectCooldownMs', { reconnectCooldownMs: -1 }, /reconnectCooldownMs/],
  ['proofOfWork.records', { proofOfWork: { records: -3 } }, /proofOfWork\.records/],
  ['proofOfWork.session', { proofOfWork: { session: 40 } }, /proofOfWork\.session/],
  ['proofOfWork (unknown key)', { proofOfWork: { record: 3 } }, /unknown option proofOfWork\."record" \(known: session, records\)/],
  ['closeTimeoutMs', { closeTimeoutMs: Number.POSITIVE_INFINITY }, /closeTimeoutMs/],
]

describe('createPeerset options', () => {
  it.each(BAD)('refuses a bad %s up front, naming it', async (_label, patch, names) => {
    let opened = 0
    const storage: StorageStrategy = { name: 'spy', isSupported: () => true, open: (room) => (opened++, memoryStorage().open(room)) }
    const error = await openPeerset({ storage, transport: createMemoryNetwork().transport(), ...(patch as Partial<PeersetOptions>) }).then(
      async (peerset) => {
        await peerset.close()
        return undefined
      },
      (e: unknown) => e,
    )
    expect(isPeersetError(error, 'INVALID_ARGUMENT'), String(error)).toBe(true)
    expect((error as Error).message).toMatch(names)
    expect(opened).toBe(0)
  })

  it('accepts every option at a good value', async () => {
    const peerset = await openPeerset({
      sessionTimeouts: { idleMs: 60_000 },
      sessionLimits: { strikeThreshold: 5, banMs: 60_000 },
      strikes: { threshold: 4 },
      proofOfWork: { session: 0, records: 0 },
      maxPeers: 8,
      maxClientSessionMs: 3_600_000,
      reconnectCooldownMs: 0,
      clockSkewMs: 0,
    })
    expect(peerset.status().state).toBe('open')
    await peerset.close()
  })
})
