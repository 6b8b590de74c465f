/**
 * Every strategy factory refuses an options key it does not know with a typed `INVALID_ARGUMENT`
 * naming the key, so a typo (`indexedDbStorage({ name })` for `{ databaseName }`) fails loudly
 * instead of silently keeping the default (two peers meant to use two databases sharing one).
 */
import { describe, expect, it } from 'vitest'
import {
  acceptAll,
  createBadWordsRule,
  createContentRule,
  createDuplicateRule,
  createLinkRule,
  createMemoryNetwork,
  createModeration,
  createQuotaRule,
  createStrikeLedger,
  dailyBuckets,
  fixedIntervalBuckets,
  hourlyBuckets,
  indexedDbStorage,
  mainThreadVerifier,
  memoryStorage,
  PeersetError,
  quarterDayBuckets,
  trysteroTransport,
  workerVerifier,
} from '../../src/index.js'
import { levelStorage, nodeRtc } from '../../src/node/index.js'
import { startNostrRelay, startTracker } from '../../src/testing/index.js'

const factories: Array<[string, () => unknown]> = [
  ['indexedDbStorage', () => indexedDbStorage({ name: 'A' } as never)],
  ['memoryStorage', () => memoryStorage({ name: 'A' } as never)],
  ['levelStorage', () => levelStorage({ path: '/tmp/x', name: 'A' } as never)],
  ['trysteroTransport', () => trysteroTransport({ relayUrl: 'wss://x' } as never)],
  ['createMemoryNetwork', () => createMemoryNetwork({ latency: 5 } as never)],
  ['memory network transport', () => createMemoryNetwork().transport({ id: 'a' } as never)],
  ['nodeRtc', () => nodeRtc({ bind: '127.0.0.1' } as never)],
  ['fixedIntervalBuckets', () => fixedIntervalBuckets(60_000, { retention: 1 } as never)],
  ['dailyBuckets', () => dailyBuckets({ retentionDays: 7 } as never)],
  ['quarterDayBuckets', () => quarterDayBuckets({ retentionDays: 7 } as never)],
  ['hourlyBuckets', () => hourlyBuckets({ retentionDays: 7 } as never)],
  ['createModeration', () => createModeration({ qouta: {} } as never)],
  ['acceptAll', () => acceptAll({ strict: true } as never)],
  ['createQuotaRule', () => createQuotaRule({ max: 3 } as never)],
  ['createContentRule', () => createContentRule({ minLen: 3 } as never)],
  ['createBadWordsRule', () => createBadWordsRule({ word: ['x'] } as never)],
  ['createLinkRule', () => createLinkRule({ allow: [] } as never)],
  ['createDuplicateRule', () => createDuplicateRule({ key: 'x' } as never)],
  ['createStrikeLedger', () => createStrikeLedger({ banDays: 7 } as never)],
  ['mainThreadVerifier', () => mainThreadVerifier({ yieldEvery: 5 } as never)],
  ['workerVerifier', () => workerVerifier({ sizes: 2 } as never)],
]

describe('strategy factories refuse unknown option keys', () => {
  it.each(factories)('%s', (_name, make) => {
    let thrown: unknown
    try {
      make()
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(PeersetError)
    expect((thrown as PeersetError).code).toBe('INVALID_ARGUMENT')
    expect((thrown as PeersetError).message).toMatch(/unknown option "\w+"/)
  })

  it.each([
    ['startTracker', () => startTracker({ interval: 1000 } as never)],
    ['startNostrRelay', () => startNostrRelay({ retain: 1 } as never)],
  ])('%s (rejects before listening)', async (_name, start) => {
    await expect(start()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/unknown option "\w+"/) })
  })

  it.each([
    ['mainThreadVerifier', () => mainThreadVerifier(null as never)],
    ['workerVerifier', () => workerVerifier(null as never)],
  ])('%s(null) is a typed INVALID_ARGUMENT, not a TypeError', (_name, make) => {
    expect(make).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error)
    expect(make).toThrowError(PeersetError)
  })

  it('names the known keys, and still accepts every documented key', () => {
    expect(() => indexedDbStorage({ name: 'A' } as never)).toThrowError(/unknown option "name" \(known: databaseName, indexedDB, blockedTimeoutMs, reopenDelayMs\)/)
    expect(() => memoryStorage({ name: 'A' } as never)).toThrowError(/memoryStorage: unknown option "name" \(it takes no options\)/)
    expect(() => indexedDbStorage({ databaseName: (room) => `A:${room}`, blockedTimeoutMs: 1, reopenDelayMs: 1 })).not.toThrow()
    expect(() => memoryStorage()).not.toThrow()
    expect(() => memoryStorage({})).not.toThrow()
    expect(() => trysteroTransport({ strategy: 'nostr', appId: 'a', password: 'p', relayUrls: ['wss://x'], relayRedundancy: 1, rtcConfig: {}, rtcPolyfill: class {} as never })).not.toThrow()
    expect(() => createMemoryNetwork({ latencyMs: 1, jitterMs: 1, loss: 0, duplicate: 0, reorder: false, seed: 1, maxFrameBytes: 10 }).transport({ peerId: 'a' })).not.toThrow()
    expect(() => nodeRtc({ bindAddress: '127.0.0.1', iceServers: [] })).not.toThrow()
    expect(() => levelStorage({ path: '/tmp/x', sync: false })).not.toThrow()
    expect(() => dailyBuckets({ retentionMs: 86_400_000 })).not.toThrow()
    expect(() => mainThreadVerifier({ yieldEveryMs: 5 })).not.toThrow()
    expect(() => workerVerifier({ size: 1, minChunk: 4, workerUrl: 'file:///x.js' })).not.toThrow()
  })
})
