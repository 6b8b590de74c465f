/** The session proof: what it binds, and every way a proof from elsewhere fails. */
import { verifyEvent } from 'nostr-tools/pure'
import { beforeAll, describe, expect, it } from 'vitest'
import { createIdentity, type Signer } from '../../src/identity/index.js'
import type { NostrEvent } from '../../src/record/index.js'
import {
  SESSION_PROOF_KIND,
  SESSION_PROOF_PURPOSE,
  createSessionProof,
  sessionProofTags,
  settingsDigest,
  verifySessionProof,
  type ProofFailure,
  type SessionProofContext,
  type VerifySessionProofOptions,
} from '../../src/session/index.js'
import { SETTINGS, T0 } from './helpers.js'

const me = createIdentity()
const CONTEXT: SessionProofContext = {
  room: 'room-a',
  proverId: 'prover-id',
  verifierId: 'verifier-id',
  proverNonce: '11'.repeat(32),
  verifierNonce: '22'.repeat(32),
  settingsDigest: settingsDigest(SETTINGS),
}
const CHECK: VerifySessionProofOptions = { pubkey: me.publicKey, nowMs: T0, ttlMs: 60_000 }
let proof: NostrEvent

beforeAll(async () => {
  proof = await createSessionProof(me.signer, CONTEXT, { pubkey: me.publicKey, createdAt: T0 / 1000 })
})

function expectFailure(event: unknown, reason: ProofFailure, context = CONTEXT, check = CHECK): void {
  const verdict = verifySessionProof(event, context, check)
  expect(verdict).toMatchObject({ ok: false, reason })
}

describe('a session proof', () => {
  it('is a plain signed Nostr event of kind 22515 with the binding tags and empty content', () => {
    expect(verifyEvent({ ...proof })).toBe(true) // nostr-tools agrees it is a valid event
    expect(proof.kind).toBe(SESSION_PROOF_KIND)
    expect(proof.content).toBe('')
    expect(proof.created_at).toBe(T0 / 1000)
    expect(proof.tags).toEqual([
      ['purpose', SESSION_PROOF_PURPOSE],
      ['room', 'room-a'],
      ['prover', 'prover-id'],
      ['verifier', 'verifier-id'],
      ['prover-nonce', '11'.repeat(32)],
      ['verifier-nonce', '22'.repeat(32)],
      ['settings', settingsDigest(SETTINGS)],
    ])
    expect(sessionProofTags(CONTEXT)).toEqual(proof.tags)
  })

  it('verifies in its own session', () => {
    expect(verifySessionProof(proof, CONTEXT, CHECK)).toEqual({ ok: true })
  })

  it('verifies anywhere inside the TTL, either way', () => {
    expect(verifySessionProof(proof, CONTEXT, { ...CHECK, nowMs: T0 + 60_000 })).toEqual({ ok: true })
    expect(verifySessionProof(proof, CONTEXT, { ...CHECK, nowMs: T0 - 60_000 })).toEqual({ ok: true })
  })
})

describe('a proof from elsewhere fails', () => {
  const elsewhere: [string, Partial<SessionProofContext>][] = [
    ['another session (the verifier issued another nonce)', { verifierNonce: '33'.repeat(32) }],
    ['another session (the prover used another nonce)', { proverNonce: '44'.repeat(32) }],
    ['another room', { room: 'room-b' }],
    ['another peer pair (another verifier)', { verifierId: 'someone-else' }],
    ['another peer pair (another prover)', { proverId: 'someone-else' }],
    ['the mirrored direction (prover and verifier ids swapped)', { proverId: 'verifier-id', verifierId: 'prover-id' }],
    ['other settings', { settingsDigest: 'ff'.repeat(32) }],
  ]
  for (const [what, change] of elsewhere) {
    it(`from ${what}`, () => expectFailure(proof, 'binding', { ...CONTEXT, ...change }))
  }

  it('the mirrored direction, signed for real by the other side', async () => {
    const mirrored = await createSessionProof(me.signer, { ...CONTEXT, proverId: 'verifier-id', verifierId: 'prover-id' }, { pubkey: me.publicKey, createdAt: T0 / 1000 })
    expectFailure(mirrored, 'binding')
  })

  it('expired: older or newer than the TTL', () => {
    expectFailure(proof, 'expired', CONTEXT, { ...CHECK, nowMs: T0 + 61_000 })
    expectFailure(proof, 'expired', CONTEXT, { ...CHECK, nowMs: T0 - 61_000 })
  })

  it('signed by another key than the hello named', () => {
    expectFailure(proof, 'pubkey', CONTEXT, { ...CHECK, pubkey: createIdentity().publicKey })
  })
})

describe('a tampered or odd proof fails', () => {
  const resigned = (change: (e: NostrEvent) => Partial<NostrEvent>) =>
    me.signer.signEvent({ created_at: proof.created_at, kind: proof.kind, tags: proof.tags, content: proof.content, ...change(proof) })

  it('a NIP-42 relay auth kind (22242)', async () => expectFailure(await resigned(() => ({ kind: 22_242 })), 'kind'))
  it('non-empty content', async () => expectFailure(await resigned(() => ({ content: 'hi' })), 'content'))
  it('tags in another order', async () => expectFailure(await resigned((e) => ({ tags: [e.tags[1]!, e.tags[0]!, ...e.tags.slice(2)] })), 'binding'))
  it('a missing tag', async () => expectFailure(await resigned((e) => ({ tags: e.tags.slice(0, -1) })), 'binding'))
  it('an extra tag', async () => expectFailure(await resigned((e) => ({ tags: [...e.tags, ['p', me.publicKey]] })), 'binding'))
  it('a binding tag with an extra value', async () => expectFailure(await resigned((e) => ({ tags: [[...e.tags[0]!, 'x'], ...e.tags.slice(1)] })), 'binding'))
  it('another purpose', async () => expectFailure(await resigned((e) => ({ tags: [['purpose', 'peerset-session/2'], ...e.tags.slice(1)] })), 'binding'))
  it('a changed field under the old signature', () => expectFailure({ ...proof, created_at: proof.created_at + 1 }, 'signature'))
  it('a forged signature', () => expectFailure({ ...proof, sig: 'ab'.repeat(64) }, 'signature'))
  it('not an event', () => {
    expectFailure(null, 'malformed')
    expectFailure('proof', 'malformed')
    expectFailure({ kind: SESSION_PROOF_KIND }, 'malformed')
  })
  it('an extra field', () => expectFailure({ ...proof, extra: 1 }, 'signature'))
})

describe('proof of work on a proof', () => {
  it('is mined into a trailing nonce tag when asked, and then verifies', async () => {
    const mined = await createSessionProof(me.signer, CONTEXT, { pubkey: me.publicKey, createdAt: T0 / 1000, powDifficulty: 10 })
    expect(mined.tags.at(-1)).toEqual(['nonce', expect.stringMatching(/^\d+$/), '10'])
    expect(verifySessionProof(mined, CONTEXT, { ...CHECK, powDifficulty: 10 })).toEqual({ ok: true })
  })

  it('is missing: fails when required', () => {
    expectFailure(proof, 'pow', CONTEXT, { ...CHECK, powDifficulty: 10 })
  })
})

describe('createSessionProof checks what the signer returns', () => {
  const options = { pubkey: me.publicKey, createdAt: T0 / 1000 }
  const cases: [string, Signer, RegExp][] = [
    ['a signer that throws', { getPublicKey: async () => me.publicKey, signEvent: () => Promise.reject(new Error('denied')) }, /denied/],
    ['a signer with another key', createIdentity().signer, /signed as/],
    [
      'a signer that changes the tags',
      { getPublicKey: async () => me.publicKey, signEvent: (e) => me.signer.signEvent({ ...e, tags: [...e.tags, ['client', 'x']] }) },
      /changed the event/,
    ],
    [
      'a signer that returns a bad signature',
      { getPublicKey: async () => me.publicKey, signEvent: async (e) => ({ ...(await me.signer.signEvent(e)), sig: '00'.repeat(64) }) },
      /does not verify/,
    ],
  ]
  for (const [what, signer, message] of cases) {
    it(`refuses ${what} with SIGNER_FAILED`, async () => {
      await expect(createSessionProof(signer, CONTEXT, options)).rejects.toMatchObject({ code: 'SIGNER_FAILED', message: expect.stringMatching(message) })
    })
  }
})
