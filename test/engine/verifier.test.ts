/**
 * The engine and its verifier strategy: signatures are checked only for records that pass the
 * cheap checks, a batch of forged and genuine records from a peer stores exactly the genuine ones
 * and strikes the peer, and a verifier that fails costs speed (and an `error` event), never a
 * wrong verdict.
 */
import { describe, expect, it } from 'vitest'
import { createIdentity } from '../../src/identity/index.js'
import { isPeersetError } from '../../src/errors.js'
import type { Peerset, RejectedRecord } from '../../src/peerset.js'
import { createRecord, recordFromNostrEvent, toNostrEvent } from '../../src/record/index.js'
import type { NostrEvent } from '../../src/record/types.js'
import { memoryStorage, type StorageStrategy } from '../../src/storage/index.js'
import { createMemoryNetwork } from '../../src/transport/index.js'
import { verifyTimeoutMs } from '../../src/verify/batch.js'
import { mainThreadVerifier, workerVerifier, type SignatureCheck, type VerifierStrategy } from '../../src/verify/index.js'
import { FIXTURE_NOW, FIXTURE_ROOM, loadFixtures, openPeerset, uuidOf, waitFor as realWaitFor, wrappedMemoryStorage } from '../helpers.js'
import { flipHex } from '../swarm/attacker.js'
import { drive, openPeer, realTime, virtualClock, virtualTime, waitFor } from '../swarm/harness.js'

/** A verifier that records every batch it is given, then asks `inner`. */
function counting(inner: VerifierStrategy): VerifierStrategy & { calls: SignatureCheck[][]; closed: number } {
  const wrapper = {
    name: `counting ${inner.name}`,
    calls: [] as SignatureCheck[][],
    closed: 0,
    verify(checks: readonly SignatureCheck[]) {
      wrapper.calls.push([...checks])
      return inner.verify(checks)
    },
    async close() {
      wrapper.closed++
      await inner.close()
    },
  }
  return wrapper
}

describe('the verifier strategy in the ingest path', () => {
  it('is never asked about a record the cheap checks refuse (format, size, id, room, time window, copies), and verifies each survivor once', async () => {
    const verifier = counting(mainThreadVerifier())
    const peerset = await openPeerset({ verifier })
    try {
      const signer = createIdentity().signer
      const make = (text: string, options: { now?: number; room?: string } = {}): Promise<NostrEvent> =>
        createRecord({ text }, signer, { room: FIXTURE_ROOM, now: FIXTURE_NOW, ...options }).then(toNostrEvent)
      const kept = await make('already kept')
      expect((await peerset.importRecord(kept)).status).toBe('added')
      expect(verifier.calls.flat().map((c) => c.id)).toEqual([kept.id])
      verifier.calls.length = 0

      const good = await Promise.all([make('one'), make('two'), make('three')])
      const edited = { ...(await make('four')), content: 'four, edited' } // the id no longer matches
      const refusedCheaply: unknown[] = [
        {},
        { ...(await make('five')), content: 'x'.repeat(100_000) }, // over the size limit
        edited,
        await make('other room', { room: 'another room' }),
        await make('too old', { now: FIXTURE_NOW - 200 * 86_400 }),
        await make('from the future', { now: FIXTURE_NOW + 86_400 }),
        kept, // a copy of a kept record
      ]
      // One synchronous turn: one ingest batch. The first good record comes twice.
      const outcomes = await Promise.all([...good, good[0], ...refusedCheaply].map((e) => peerset.importRecord(e)))
      expect(outcomes.map((o) => o.status)).toEqual(['added', 'added', 'added', 'duplicate', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'duplicate'])
      expect(outcomes.slice(4, 10).map((o) => (o.status === 'rejected' ? o.reason : o.status))).toEqual(['malformed', 'too-large', 'bad-id', 'wrong-room', 'expired', 'future'])
      // Exactly the three survivors reached the verifier, once each, in one call.
      expect(verifier.calls.length).toBe(1)
      expect(verifier.calls[0]!.map((c) => c.id)).toEqual(good.map((e) => e.id))
    } finally {
      await peerset.close()
    }
    expect(verifier.closed).toBe(1) // peerset.close() closes the verifier
  })

  it('refuses a verifier option that is not a verifier strategy, naming the option', async () => {
    for (const verifier of [{}, { name: 'x', verify: () => Promise.resolve([]) }, 'workers', null]) {
      const error = await openPeerset({ verifier: verifier as never }).then(
        (p) => p.close().then(() => undefined),
        (e: unknown) => e,
      )
      expect(isPeersetError(error, 'INVALID_ARGUMENT') && String(error).includes('verifier'), String(error)).toBe(true)
    }
  })

  it('a verifier that fails: the batch is verified on the main thread (same verdicts) and an error event says why', async () => {
    const broken: VerifierStrategy = { name: 'broken', verify: () => Promise.reject(new Error('no workers here')), close: () => Promise.resolve() }
    const peerset = await openPeerset({ verifier: broken })
    const errors: unknown[] = []
    peerset.on('error', (e) => errors.push(e))
    try {
      const events = loadFixtures().records.slice(0, 6)
      const forged = { ...events[1]!, sig: flipHex(events[1]!.sig, 100) }
      const outcomes = await Promise.all([events[0]!, forged, ...events.slice(2)].map((e) => peerset.importRecord(e)))
      expect(outcomes.map((o) => (o.status === 'rejected' ? o.reason : o.status))).toEqual(['added', 'bad-signature', 'added', 'added', 'added', 'added'])
      expect(errors.length).toBeGreaterThan(0)
      expect(errors.every((e) => isPeersetError(e, 'VERIFIER_FAILED') && String(e).includes('no workers here')), String(errors[0])).toBe(true)
    } finally {
      await peerset.close()
    }
  })
})

describe('a verifier that keeps failing (circuit breaker)', () => {
  it('is asked once and reported once over several waves of imports: the rest are verified on the main thread, same verdicts', async () => {
    let asked = 0
    const broken: VerifierStrategy = { name: 'broken', verify: () => (asked++, Promise.reject(new Error('no workers here'))), close: () => Promise.resolve() }
    const peerset = await openPeerset({ verifier: broken })
    const errors: unknown[] = []
    peerset.on('error', (e) => errors.push(e))
    try {
      const events = loadFixtures().records.slice(0, 50)
      let added = 0
      for (let wave = 0; wave < 5; wave++) {
        const outcomes = await Promise.all(events.slice(wave * 10, wave * 10 + 10).map((e) => peerset.importRecord(e)))
        added += outcomes.filter((o) => o.status === 'added').length
      }
      expect(added).toBeGreaterThanOrEqual(45) // the waves reached the verifier (fixture versions may replace a few)
      expect(asked).toBe(1)
      expect(errors).toHaveLength(1)
      expect(isPeersetError(errors[0], 'VERIFIER_FAILED') && /main thread for 30 s/.test(String(errors[0])), String(errors[0])).toBe(true)
    } finally {
      await peerset.close()
    }
  })
})

describe('a verifier that never answers', () => {
  it('costs verifyTimeoutMs of (virtual) time and an error event: the import resolves with the main thread\'s verdicts, and close() resolves', async () => {
    virtualTime()
    const asked: number[] = []
    const silent: VerifierStrategy = {
      name: 'silent',
      verify: (checks) => {
        asked.push(checks.length)
        return new Promise<boolean[]>(() => {})
      },
      close: () => Promise.resolve(),
    }
    try {
      const peerset = await drive(openPeerset({ verifier: silent, clock: virtualClock }))
      const errors: unknown[] = []
      peerset.on('error', (e) => errors.push(e))
      const events = loadFixtures().records.slice(0, 3)
      const forged = { ...events[1]!, sig: flipHex(events[1]!.sig, 100) }
      const startedAt = Date.now()
      const outcomes = await drive(Promise.all([events[0]!, forged, events[2]!].map((e) => peerset.importRecord(e))))
      expect(outcomes.map((o) => (o.status === 'rejected' ? o.reason : o.status))).toEqual(['added', 'bad-signature', 'added'])
      expect(asked.length).toBeGreaterThan(0) // the verifier was asked, and never answered
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(verifyTimeoutMs(1))
      expect(errors.length).toBe(asked.length)
      expect(errors.every((e) => isPeersetError(e, 'VERIFIER_FAILED') && /did not answer/.test(String(e))), String(errors[0])).toBe(true)
      await drive(peerset.close(), 60_000, 'close()')
    } finally {
      realTime()
    }
  })
})

describe('a peer serving forged records among genuine ones', () => {
  // The worker pool's work takes real time on other threads, which virtual time would not wait for
  // (it would run the sessions' timeouts out meanwhile): that case runs on real timers, from the
  // fixture time, and waits for conditions only.
  it.each([
    ['mainThreadVerifier()', () => mainThreadVerifier(), true],
    ['workerVerifier({ size: 2 })', () => workerVerifier({ size: 2 }), false],
  ])('with %s: the joining peer stores exactly the genuine ones, refuses the forged ones and strikes the sender', async (_, make, virtual) => {
    const start = Date.now()
    const clock = virtual ? virtualClock : () => FIXTURE_NOW * 1000 + (Date.now() - start)
    if (virtual) virtualTime()
    const settle = <T>(p: Promise<T>): Promise<T> => (virtual ? drive(p) : p)
    const until = virtual ? waitFor : realWaitFor
    const network = createMemoryNetwork({ latencyMs: 2, jitterMs: 3, seed: 14 })
    let peers: Peerset[] = []
    try {
      // Live records of distinct addresses (the fixtures also hold withdrawals and older versions).
      const seen = new Set<string>()
      const events = loadFixtures()
        .records.filter((e) => !e.tags.some((t) => t[0] === 'deleted') && !seen.has(`${e.pubkey}:${uuidOf(e)}`) && seen.add(`${e.pubkey}:${uuidOf(e)}`))
        .slice(0, 30)
      // Two forged copies (a NIP-01 id does not cover the signature): two strikes, under the ban threshold (3).
      const forgedIds = new Set([events[4]!.id, events[17]!.id])
      const rigged: StorageStrategy = memoryStorage()
      const store = await settle(rigged.open(FIXTURE_ROOM))
      await settle(store.write({ put: events.map((e) => ({ ...recordFromNostrEvent(e), sig: forgedIds.has(e.id) ? flipHex(e.sig, 100) : e.sig })) }))
      await settle(store.close())

      const verifier = counting(make())
      const [mallory, bob] = [network.transport(), network.transport()]
      peers = await settle(Promise.all([openPeer({ transport: mallory, clock, extra: { storage: rigged } }), openPeer({ transport: bob, clock, extra: { verifier } })]))
      const [m, b] = peers as [Peerset, Peerset]
      const refused: RejectedRecord[] = []
      const strikes: { peerId: string; reason: string }[] = []
      b.on('record:rejected', (r) => refused.push(r))
      b.on('peer:strike', (x) => strikes.push(x))
      expect(m.status().records).toBe(events.length)

      await until(() => b.status().records + refused.length >= events.length, 30_000, 'Bob to take or refuse every record Mallory holds')
      await settle(b.settled())
      const genuine = events.filter((e) => !forgedIds.has(e.id)).map((e) => e.id)
      expect(b.records().map((r) => r.id).sort()).toEqual([...genuine].sort())
      expect(refused.map((r) => [r.id, r.reason, r.peerId]).sort()).toEqual([...forgedIds].map((id) => [id, 'bad-signature', mallory.peerId]).sort())
      expect(strikes.filter((s) => s.peerId === mallory.peerId && s.reason === 'bad-signature').length).toBe(2)
      // What reached the verifier: every record once, and forged and genuine signatures in one batch.
      expect(verifier.calls.flat().map((c) => c.id).sort()).toEqual(events.map((e) => e.id).sort())
      expect(verifier.calls.some((call) => call.some((c) => forgedIds.has(c.id)) && call.some((c) => !forgedIds.has(c.id)))).toBe(true)
    } finally {
      await settle(Promise.all(peers.map((p) => p.close())))
      network.close()
      if (virtual) realTime()
    }
  }, 60_000)
})

describe('a verifier off the calling thread (`concurrent`)', () => {
  it('is asked for the signatures of records queued behind a batch while that batch is still being written, once each', async () => {
    const { records: fixtures } = loadFixtures()
    const first = fixtures.slice(0, 10)
    const second = fixtures.slice(10, 30)
    const verifier = Object.assign(counting(mainThreadVerifier()), { concurrent: true })
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    let writesStarted = 0
    const storage = wrappedMemoryStorage('held', async (batch, inner) => {
      writesStarted++
      await held
      await inner.write(batch)
    })
    const peerset = await openPeerset({ verifier, storage })
    try {
      const outcomes = first.map((event) => peerset.importRecord(event))
      await realWaitFor(() => writesStarted === 1, 10_000, 'the first batch to be written (and held)')
      expect(verifier.calls.map((c) => c.length)).toEqual([first.length])
      outcomes.push(...second.map((event) => peerset.importRecord(event)))
      // The first batch's write is still held, and the second batch's signatures are already asked for.
      await realWaitFor(() => verifier.calls.length === 2, 10_000, 'the queued records\' signatures to be asked for')
      expect(writesStarted).toBe(1)
      expect(verifier.calls[1]!.map((c) => c.id).sort()).toEqual(second.map((e) => e.id).sort())
      release()
      const outcomesEarly = await Promise.all(outcomes)
      // The same verdicts as a peerset that checks each batch's signatures when it judges it.
      const reference = await openPeerset()
      const expected = [...(await Promise.all(first.map((e) => reference.importRecord(e)))), ...(await Promise.all(second.map((e) => reference.importRecord(e))))]
      await reference.close()
      expect(outcomesEarly).toEqual(expected)
      expect(outcomesEarly.filter((o) => o.status === 'added').length).toBeGreaterThan(25)
      // Each signature was checked once: the judge used the answers asked for early.
      expect(verifier.calls.flat()).toHaveLength(first.length + second.length)
    } finally {
      release()
      await peerset.close()
    }
  })
})
