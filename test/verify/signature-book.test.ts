/**
 * The SignatureBook (the ingest path's answers for signatures asked ahead): answers are per (id,
 * signature) — a record that reuses another's valid signature under its own id never gets that
 * verdict, whichever is asked first or forgotten first — one verifier call per `ask`, and nothing
 * is held once every check is forgotten. Packing checks for workers gives the bytes of the hex.
 */
import { hexToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { SignatureBook } from '../../src/verify/batch.js'
import { CHECK_BYTES, packChecks } from '../../src/verify/pack.js'
import { mainThreadVerifier, type SignatureCheck, type VerifierStrategy } from '../../src/verify/index.js'
import { loadFixtures } from '../helpers.js'

const events = loadFixtures().records.slice(0, 12)
const genuine: SignatureCheck[] = events.map((e) => ({ id: e.id, pubkey: e.pubkey, sig: e.sig }))
/** Each genuine signature claimed again for the next record's id (and author): none verifies. */
const reused: SignatureCheck[] = genuine.map((c, i) => ({ ...genuine[(i + 1) % genuine.length]!, sig: c.sig }))

/** The main-thread verifier, counting its calls and the checks it was given. */
function counted(): { verifier: VerifierStrategy; calls: number[] } {
  const inner = mainThreadVerifier()
  const calls: number[] = []
  return { calls, verifier: { name: 'counted', close: () => inner.close(), verify: (checks) => (calls.push(checks.length), inner.verify(checks)) } }
}

describe('SignatureBook', () => {
  it('answers per (id, signature): a signature reused under another id is invalid, asked before or after the genuine one', async () => {
    for (const order of [[...genuine, ...reused], [...reused, ...genuine]]) {
      const { verifier, calls } = counted()
      const book = new SignatureBook(verifier, () => undefined)
      book.ask(order.slice(0, 12))
      book.ask(order.slice(12))
      expect(await Promise.all(genuine.map((c) => book.valid(c)))).toEqual(genuine.map(() => true))
      expect(await Promise.all(reused.map((c) => book.valid(c)))).toEqual(reused.map(() => false))
      expect(calls).toEqual([12, 12]) // every answer came from the two asks
      // Forget the genuine ones first: the reused ones keep their own answers.
      book.forget(genuine)
      expect(await Promise.all(reused.map((c) => book.valid(c)))).toEqual(reused.map(() => false))
      book.forget(reused)
      expect(book.size).toBe(0)
    }
  })

  it('prefetch resolves once every answer is in; a check asked twice is verified once', async () => {
    const { verifier, calls } = counted()
    const book = new SignatureBook(verifier, () => undefined)
    await book.prefetch([...genuine, ...genuine.slice(0, 3)])
    expect(calls).toEqual([12])
    expect(await book.valid(genuine[5]!)).toBe(true)
    book.forget(genuine)
    expect(book.size).toBe(0)
  })
})

describe('packChecks', () => {
  it('writes signature, id and public key as bytes, 128 per check', () => {
    const packed = packChecks(genuine)
    expect(packed.length).toBe(genuine.length * CHECK_BYTES)
    genuine.forEach((c, i) => {
      const at = i * CHECK_BYTES
      expect(packed.subarray(at, at + CHECK_BYTES)).toEqual(new Uint8Array([...hexToBytes(c.sig), ...hexToBytes(c.id), ...hexToBytes(c.pubkey)]))
    })
  })
})
