/**
 * The circuit breaker around a verifier: a verifier that throws or never answers is tripped once,
 * the batches after it are verified on the main thread at once (no 10 s wait each), one error per
 * trip, and the verifier is tried again after the back-off (30 s, doubling).
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { PeersetError } from '../../src/errors.js'
import { verifyBatch } from '../../src/verify/batch.js'
import type { SignatureCheck, VerifierStrategy } from '../../src/verify/index.js'
import { loadFixtures } from '../helpers.js'
import { realTime, sleep, virtualTime } from '../virtual-time.js'

const records = loadFixtures().records
const checks: SignatureCheck[] = records.slice(0, 64).map((e) => ({ id: e.id, pubkey: e.pubkey, sig: e.sig }))

function broken(kind: 'throws' | 'hangs'): VerifierStrategy & { calls: number } {
  const v = {
    name: kind,
    calls: 0,
    verify(): Promise<boolean[]> {
      v.calls++
      if (kind === 'throws') throw new Error('boom')
      return new Promise(() => undefined)
    },
    close: async () => undefined,
  }
  return v
}

afterEach(realTime)

describe('verifyBatch circuit breaker', () => {
  it.each(['throws', 'hangs'] as const)('a verifier that %s: 47 batches of 64 (a 3,000-record catch-up) in 20 s of virtual time give one error, all answered on the main thread', async (kind) => {
    virtualTime()
    const v = broken(kind)
    const errors: PeersetError[] = []
    const start = Date.now()
    let answered = 0
    for (let batch = 0; batch < 47; batch++) {
      const pending = verifyBatch(v, checks, (e) => errors.push(e))
      let done = false
      void pending.then(() => (done = true))
      while (!done) await sleep(100)
      expect(await pending).toEqual(checks.map(() => true))
      answered += checks.length
    }
    expect(answered).toBe(3008)
    expect(Date.now() - start).toBeLessThan(20_000) // only the first batch waited (10.64 s when it hangs)
    expect(errors.map((e) => e.code)).toEqual(['VERIFIER_FAILED'])
    expect(v.calls).toBe(1)
  })

  it('tries the verifier again after 30 s, then backs off for 60 s (one error per trip)', async () => {
    virtualTime()
    const v = broken('throws')
    const errors: PeersetError[] = []
    const run = (): Promise<boolean[]> => verifyBatch(v, checks, (e) => errors.push(e))
    await run()
    expect([v.calls, errors.length]).toEqual([1, 1])
    await sleep(29_000)
    await run()
    expect([v.calls, errors.length]).toEqual([1, 1]) // still backing off
    await sleep(1_000)
    await run() // tried again, fails: second trip, 60 s
    expect([v.calls, errors.length]).toEqual([2, 2])
    expect(errors[1]!.message).toContain('60 s')
    await sleep(59_000)
    await run()
    expect(v.calls).toBe(2)
    await sleep(1_000)
    await run() // tried again after 60 s: third trip
    expect([v.calls, errors.length]).toEqual([3, 3])
    expect(errors[2]!.message).toContain('120 s')
  })

  it('batches already waiting on a hung verifier stop waiting when one of them trips the breaker', async () => {
    virtualTime()
    const v = broken('hangs')
    const errors: PeersetError[] = []
    const all = Promise.all([0, 1, 2, 3].map(() => verifyBatch(v, checks, (e) => errors.push(e))))
    let done = false
    void all.then(() => (done = true))
    while (!done) await sleep(100)
    expect(errors).toHaveLength(1)
    expect(v.calls).toBe(4)
  })
})
