/**
 * The default (main-thread) verifier checks the next batch's signatures while the previous batch's
 * write is in flight: the thread would otherwise only wait for the store. Nothing is acknowledged
 * before its write commits; a failed write loses nothing that should be kept; a copy of a record
 * being written is not verified again.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PeersetError } from '../../src/errors.js'
import type { IngestOutcome } from '../../src/engine/ingest.js'
import type { Peerset } from '../../src/peerset.js'
import type { NostrEvent } from '../../src/record/types.js'
import type { WriteBatch } from '../../src/storage/types.js'
import { mainThreadVerifier, type SignatureCheck, type VerifierStrategy } from '../../src/verify/index.js'
import { loadFixtures, openPeerset, wrappedMemoryStorage } from '../helpers.js'
import { drive, realTime, virtualClock, virtualTime, waitFor } from '../virtual-time.js'

/** The main-thread verifier, logging every batch it is given. */
function counting(): VerifierStrategy & { calls: SignatureCheck[][] } {
  const inner = mainThreadVerifier()
  const wrapper = {
    name: 'counting main-thread',
    calls: [] as SignatureCheck[][],
    verify(checks: readonly SignatureCheck[]) {
      wrapper.calls.push([...checks])
      return inner.verify(checks)
    },
    close: () => inner.close(),
  }
  return wrapper
}

/** A memory store whose writes wait until the test settles them, one by one, with success or failure. */
function controlledStorage() {
  const pending: { batch: WriteBatch; settle: (ok: boolean) => void }[] = []
  let started = 0
  const strategy = wrappedMemoryStorage('controlled', (batch, inner) => {
    started++
    return new Promise<void>((resolve, reject) => {
      pending.push({
        batch,
        settle: (ok) => (ok ? inner.write(batch).then(resolve, reject) : reject(new PeersetError('STORAGE_FAILED', 'simulated failing disk'))),
      })
    })
  })
  return {
    strategy,
    get started() {
      return started
    },
    /** Settle the oldest pending write. */
    settle(ok: boolean): WriteBatch {
      const write = pending.shift()
      if (!write) throw new Error('no write is pending')
      write.settle(ok)
      return write.batch
    },
    get pending() {
      return pending.length
    },
  }
}

const ids = (calls: SignatureCheck[][]): string[] => calls.flat().map((c) => c.id)
const statuses = (outcomes: IngestOutcome[]): string[] => outcomes.map((o) => o.status)
const verdict = (o: IngestOutcome): string => (o.status === 'added' ? `added ${o.record.id}` : o.status === 'rejected' ? `rejected ${o.reason} ${String(o.id)}` : `${o.status} ${o.id}`)

describe('the default verifier while a write is in flight', () => {
  let peerset: Peerset | undefined
  let store: ReturnType<typeof controlledStorage>
  let verifier: ReturnType<typeof counting>
  const added: string[] = []
  const fixtures = loadFixtures().records

  beforeEach(async () => {
    virtualTime()
    store = controlledStorage()
    verifier = counting()
    added.length = 0
    peerset = await drive(openPeerset({ verifier, storage: store.strategy, clock: virtualClock }))
    peerset.on('record:added', (record) => added.push(record.id))
  })

  afterEach(async () => {
    let closed = false
    void peerset!.close().finally(() => (closed = true))
    // Writes still to come (after a failed assertion) commit as they start.
    await waitFor(() => {
      while (store.pending > 0) store.settle(true)
      return closed
    }, 60_000, 'close()')
    realTime()
  })

  /** Import `events` in one synchronous turn; the outcomes, as they resolve. */
  function importAll(events: readonly NostrEvent[]): { outcomes: Promise<IngestOutcome[]>; settled: () => number } {
    let settled = 0
    const outcomes = Promise.all(events.map((e) => peerset!.importRecord(e).finally(() => settled++)))
    return { outcomes, settled: () => settled }
  }

  it('checks the next batch\'s signatures (queued before and during the write) while the write is pending, and acknowledges nothing before it commits', async () => {
    const first = fixtures.slice(0, 100) // one full batch (maxBatch 100)...
    const queued = fixtures.slice(100, 130) // ...and records queued behind it
    const during = fixtures.slice(130, 150) // records that arrive while its write is pending
    const a = importAll([...first, ...queued])
    await waitFor(() => store.started === 1, 10_000, 'the first batch to be written (and held)')
    expect(ids(verifier.calls.slice(0, 1)).sort()).toEqual(first.map((e) => e.id).sort())
    const b = importAll(during)
    // The write is still pending, and the next batch's signatures are asked for meanwhile.
    await waitFor(() => ids(verifier.calls).length === 150, 10_000, 'the next batch\'s signatures to be asked for')
    expect(ids(verifier.calls.slice(1)).sort()).toEqual([...queued, ...during].map((e) => e.id).sort())
    expect(store.started).toBe(1)
    // Nothing is acknowledged or reported before its write commits.
    expect(a.settled()).toBe(0)
    expect(added).toEqual([])
    store.settle(true)
    await waitFor(() => store.started === 2, 10_000, 'the second batch to be written')
    expect(a.settled()).toBe(100) // the first batch, and only it
    const firstIds = new Set(first.map((e) => e.id))
    expect(added.length).toBeGreaterThan(50)
    expect(added.every((id) => firstIds.has(id))).toBe(true)
    store.settle(true)
    const outcomes = [...(await drive(a.outcomes)), ...(await drive(b.outcomes))]
    // The same verdicts as a peerset whose writes commit at once, given the same two batches (a
    // version displaced by a newer one of its own batch is never written: it is refused `superseded`).
    const reference = await drive(openPeerset({ clock: virtualClock }))
    const expected = [...(await drive(Promise.all(first.map((e) => reference.importRecord(e))))), ...(await drive(Promise.all([...queued, ...during].map((e) => reference.importRecord(e)))))]
    await drive(reference.close())
    expect(outcomes.map(verdict)).toEqual(expected.map(verdict))
    // Each signature was checked once: the judge used the answers asked for early.
    expect(ids(verifier.calls)).toHaveLength(150)
  })

  it('a copy of a record being written is not verified again, and is a duplicate once the write commits', async () => {
    const first = fixtures.slice(0, 10)
    const next = [fixtures[3]!, ...fixtures.slice(10, 15)] // a copy of a record of the pending write, and new ones
    const a = importAll(first)
    await waitFor(() => store.started === 1, 10_000, 'the first batch to be written (and held)')
    const b = importAll(next)
    await waitFor(() => verifier.calls.length === 2, 10_000, 'the next batch\'s signatures to be asked for')
    expect(ids(verifier.calls.slice(1)).sort()).toEqual(fixtures.slice(10, 15).map((e) => e.id).sort())
    store.settle(true)
    await waitFor(() => store.started === 2, 10_000, 'the second batch to be written')
    store.settle(true)
    expect(statuses(await drive(a.outcomes))).toEqual(Array(10).fill('added'))
    expect(statuses(await drive(b.outcomes))).toEqual(['duplicate', ...Array(5).fill('added')])
    expect(ids(verifier.calls)).toHaveLength(15) // each signature once
    expect(added.filter((id) => id === fixtures[3]!.id)).toHaveLength(1)
  })

  it('a write that fails: its batch fails (and nothing of it is reported), and the next batch, checked meanwhile, keeps a copy of a failed record', async () => {
    const first = fixtures.slice(0, 10)
    const next = [fixtures[3]!, ...fixtures.slice(10, 15)]
    const a = importAll(first)
    await waitFor(() => store.started === 1, 10_000, 'the first batch to be written (and held)')
    const b = importAll(next)
    await waitFor(() => verifier.calls.length === 2, 10_000, 'the next batch\'s signatures to be asked for while the write is pending')
    store.settle(false)
    expect(statuses(await drive(a.outcomes))).toEqual(Array(10).fill('failed'))
    await waitFor(() => store.started === 2, 10_000, 'the second batch to be written')
    const written = store.settle(true)
    const outcomes = await drive(b.outcomes)
    // The copy of a record whose write failed is judged afresh (its signature checked then) and kept.
    expect(statuses(outcomes)).toEqual(Array(6).fill('added'))
    expect((written.put ?? []).map((r) => r.id).sort()).toEqual(next.map((e) => e.id).sort())
    expect(added.sort()).toEqual(next.map((e) => e.id).sort())
    expect(ids(verifier.calls).filter((id) => id === fixtures[3]!.id)).toHaveLength(2) // in the failed batch, and again
    expect(ids(verifier.calls)).toHaveLength(16)
  })
})
