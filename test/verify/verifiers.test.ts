/**
 * The two verifier strategies, as specifications: one answer per check in order, `true` exactly
 * for signatures that verify (checked against nostr-tools as an independent oracle), malformed
 * input `false` without a throw, a typed `CLOSED` after `close()`, and a worker that crashes or
 * never starts a typed `VERIFIER_FAILED`, never a hang.
 */
import { verifyEvent } from 'nostr-tools/pure'
import { afterEach, describe, expect, it } from 'vitest'
import { isPeersetError } from '../../src/errors.js'
import { mainThreadVerifier, workerVerifier, type SignatureCheck, type VerifierStrategy } from '../../src/verify/index.js'
import { loadFixtures } from '../helpers.js'
import { flipHex } from '../swarm/attacker.js'

const events = loadFixtures().records.slice(0, 60)
/** Some signatures forged (one hex digit flipped), in no symmetric pattern: a mixed batch. */
const mixed: SignatureCheck[] = events.map((e, i) => ({ id: e.id, pubkey: e.pubkey, sig: i % 5 === 1 || i % 7 === 3 ? flipHex(e.sig, 100) : e.sig }))
const oracle = mixed.map((c, i) => verifyEvent({ ...events[i]!, sig: c.sig }))

const opened: VerifierStrategy[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((v) => v.close()))
})
const make = {
  'mainThreadVerifier()': () => mainThreadVerifier(),
  'workerVerifier({ size: 2 })': () => workerVerifier({ size: 2 }),
}

describe.each(Object.entries(make))('%s', (_, create) => {
  const open = (): VerifierStrategy => {
    const v = create()
    opened.push(v)
    return v
  }

  it('answers a mixed batch in order: true exactly where the signature verifies', async () => {
    expect(oracle.filter(Boolean).length).toBe(40) // the input holds both kinds
    expect(await open().verify(mixed)).toEqual(oracle)
  })

  it('answers the same for the batch reversed and for each check alone (order preserved, no cross-talk)', async () => {
    const v = open()
    expect(await v.verify([...mixed].reverse())).toEqual([...oracle].reverse())
    const alone = await Promise.all(mixed.slice(0, 9).map((c) => v.verify([c])))
    expect(alone.map((a) => a[0])).toEqual(oracle.slice(0, 9))
  })

  it('answers false for malformed checks (uppercase, short, non-hex, not an object) without throwing, and [] for []', async () => {
    const good = mixed[0]!
    const bad = [
      { ...good, sig: good.sig.toUpperCase() },
      { ...good, id: good.id.slice(2) },
      { ...good, pubkey: `zz${good.pubkey.slice(2)}` },
      { ...good, pubkey: 'f'.repeat(64) }, // not on the curve
      null,
      42,
    ] as unknown as SignatureCheck[]
    expect(await open().verify([...bad, good])).toEqual([false, false, false, false, false, false, true])
    expect(await open().verify([])).toEqual([])
  })

  it('rejects with a typed CLOSED error after close()', async () => {
    const v = open()
    expect(await v.verify(mixed.slice(0, 2))).toEqual(oracle.slice(0, 2))
    await v.close()
    const error = await v.verify(mixed.slice(0, 2)).catch((e: unknown) => e)
    expect(isPeersetError(error, 'CLOSED'), String(error)).toBe(true)
  })
})

describe('workerVerifier failures', () => {
  /** A worker script as a data: URL (Node loads those as ES modules). */
  const script = (code: string): URL => new URL(`data:text/javascript,${encodeURIComponent(code)}`)

  it('spreads a batch over its workers: a pool of 3 answers a 90-check batch like the main thread', async () => {
    const v = workerVerifier({ size: 3, minChunk: 1 })
    opened.push(v)
    const big = [...mixed, ...mixed.slice(0, 30)]
    expect(await v.verify(big)).toEqual([...oracle, ...oracle.slice(0, 30)])
  })

  it('a worker that crashes on a request rejects that batch with VERIFIER_FAILED, and the next batch gets a new worker', async () => {
    // This script crashes on a request of more than one check and answers "valid" to a single one.
    const code = `import { parentPort } from 'node:worker_threads'
      parentPort.on('message', (m) => {
        if (m.packed.length > 128) throw new Error('boom')
        parentPort.postMessage({ job: m.job, valid: new Uint8Array([1]) })
      })`
    const v = workerVerifier({ size: 1, workerUrl: script(code) })
    opened.push(v)
    const error = await v.verify(mixed.slice(0, 3)).catch((e: unknown) => e)
    expect(isPeersetError(error, 'VERIFIER_FAILED'), String(error)).toBe(true)
    expect(String(error)).toContain('boom')
    expect(await v.verify(mixed.slice(0, 1))).toEqual([true])
  })

  it('workers that exit before answering: each batch rejects, and after 3 in a row the pool is off and rejects at once', async () => {
    const v = workerVerifier({ size: 1, workerUrl: script('process.exit(3)') })
    opened.push(v)
    const errors: unknown[] = []
    for (let i = 0; i < 4; i++) errors.push(await v.verify(mixed.slice(0, 2)).catch((e: unknown) => e))
    expect(errors.every((e) => isPeersetError(e, 'VERIFIER_FAILED')), errors.map(String).join('\n')).toBe(true)
    expect(String(errors[0])).toContain('exited (code 3)')
    expect(String(errors[3])).toContain('the pool is off')
  })

  it('a worker that answers garbage rejects with VERIFIER_FAILED', async () => {
    const v = workerVerifier({ size: 1, workerUrl: script(`import { parentPort } from 'node:worker_threads'; parentPort.on('message', (m) => parentPort.postMessage({ job: m.job, valid: new Uint8Array(1) }))`) })
    opened.push(v)
    const error = await v.verify(mixed.slice(0, 5)).catch((e: unknown) => e)
    expect(isPeersetError(error, 'VERIFIER_FAILED'), String(error)).toBe(true)
  })

  it('close() while a batch is in flight rejects it with CLOSED', async () => {
    const v = workerVerifier({ size: 2 })
    const pending = v.verify(mixed).catch((e: unknown) => e)
    await v.close()
    const outcome = await pending
    expect(isPeersetError(outcome, 'CLOSED') || (Array.isArray(outcome) && outcome.length === mixed.length), String(outcome)).toBe(true)
  })

  it('refuses bad options with INVALID_ARGUMENT', () => {
    for (const options of [{ size: 0 }, { size: 1.5 }, { minChunk: 0 }, { workerUrl: 3 }, { workerUrl: './verify-worker.js' }, { workerUrl: '/nope.js' }]) {
      expect(() => workerVerifier(options as never), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    }
  })
})
