import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { verifyEvent } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { createIdentity, createSigner, identityFromNsec, isSigner, npubDecode, nsecDecode } from '../../src/identity/index.js'
import { computeEventId, verifyEventSignature } from '../../src/record/index.js'

const code = (c: string) => expect.objectContaining({ code: c })
const NSEC = 'nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5'
const SECRET_HEX = '67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa'
const PUBLIC_HEX = '7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e'
const template = { kind: 1, created_at: 1_700_000_000, tags: [['t', 'peerset']], content: 'hello' }

describe('createIdentity', () => {
  it('makes a fresh key each time, with consistent npub, nsec, publicKey and signer', async () => {
    const a = createIdentity()
    const b = createIdentity()
    expect(a.publicKey).not.toBe(b.publicKey)
    expect(a.publicKey).toMatch(/^[0-9a-f]{64}$/)
    expect(npubDecode(a.npub)).toBe(a.publicKey)
    expect(bytesToHex(schnorr.getPublicKey(nsecDecode(a.nsec)))).toBe(a.publicKey)
    expect(await a.signer.getPublicKey()).toBe(a.publicKey)
  })

  it('does not leak the secret through JSON.stringify, spreads or Object.keys', () => {
    const me = createIdentity()
    const secretHex = bytesToHex(nsecDecode(me.nsec))
    const json = JSON.stringify(me)
    expect(json).not.toContain(me.nsec)
    expect(json).not.toContain(secretHex)
    expect(Object.keys(me)).toEqual(['publicKey', 'npub', 'signer'])
    expect(JSON.stringify(me.signer)).toBe('{}')
    expect(me.nsec.startsWith('nsec1')).toBe(true) // still readable where the type promises it
  })

  it('is frozen', () => {
    const me = createIdentity()
    expect(Object.isFrozen(me)).toBe(true)
    expect(Object.isFrozen(me.signer)).toBe(true)
  })
})

describe('identityFromNsec', () => {
  it('restores the NIP-19 vector identity', () => {
    const me = identityFromNsec(NSEC)
    expect(me.publicKey).toBe(PUBLIC_HEX)
    expect(me.npub).toBe('npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg')
    expect(me.nsec).toBe(NSEC)
  })

  it('refuses anything that is not a valid nsec', () => {
    expect(() => identityFromNsec(NSEC.toUpperCase())).toThrow(code('INVALID_NIP19'))
    expect(() => identityFromNsec('npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg')).toThrow(code('INVALID_NIP19'))
  })
})

describe('createSigner', () => {
  it('accepts an nsec, 64 lowercase hex digits or 32 bytes, all the same key', async () => {
    for (const secret of [NSEC, SECRET_HEX, hexToBytes(SECRET_HEX)]) {
      expect(await createSigner(secret).getPublicKey()).toBe(PUBLIC_HEX)
    }
  })

  it('keeps a private copy of the key bytes', async () => {
    const bytes = hexToBytes(SECRET_HEX)
    const signer = createSigner(bytes)
    bytes.fill(0)
    const event = await signer.signEvent(template)
    expect(event.pubkey).toBe(PUBLIC_HEX)
    expect(verifyEventSignature(event)).toBe(true)
  })

  it('refuses bad secrets with a clear code', () => {
    expect(() => createSigner(SECRET_HEX.toUpperCase())).toThrow(code('INVALID_KEY'))
    expect(() => createSigner(SECRET_HEX.toUpperCase())).toThrow(/uppercase/)
    expect(() => createSigner(SECRET_HEX.slice(1))).toThrow(code('INVALID_KEY'))
    expect(() => createSigner('0'.repeat(64))).toThrow(code('INVALID_KEY'))
    expect(() => createSigner(new Uint8Array(32))).toThrow(code('INVALID_KEY'))
    expect(() => createSigner('npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg')).toThrow(/npub/)
    expect(() => createSigner(42 as unknown as string)).toThrow(code('INVALID_ARGUMENT'))
  })

  it('signEvent fills pubkey, computes the NIP-01 id and a valid BIP-340 signature (nostr-tools agrees)', async () => {
    const event = await createSigner(NSEC).signEvent(template)
    expect(event).toMatchObject({ ...template, pubkey: PUBLIC_HEX })
    expect(event.id).toBe(computeEventId(event))
    expect(schnorr.verify(hexToBytes(event.sig), hexToBytes(event.id), hexToBytes(PUBLIC_HEX))).toBe(true)
    expect(verifyEvent({ ...event })).toBe(true)
  })

  it('signEvent returns a new event: later changes to the input do not touch it', async () => {
    const input = { ...template, tags: [['t', 'a']] }
    const event = await createSigner(NSEC).signEvent(input)
    ;(input.tags[0] as string[])[1] = 'b'
    expect(event.tags).toEqual([['t', 'a']])
    expect(event).not.toBe(input)
  })

  it('signEvent accepts its own pubkey and refuses another one', async () => {
    const signer = createSigner(NSEC)
    await expect(signer.signEvent({ ...template, pubkey: PUBLIC_HEX })).resolves.toMatchObject({ pubkey: PUBLIC_HEX })
    const other = createIdentity().publicKey
    await expect(signer.signEvent({ ...template, pubkey: other })).rejects.toThrow(code('SIGNER_FAILED'))
  })

  it('signEvent refuses malformed events', async () => {
    const signer = createSigner(NSEC)
    const bad: unknown[] = [
      null,
      { ...template, created_at: 1.5 },
      { ...template, created_at: -1 },
      { ...template, kind: 70_000 },
      { ...template, tags: [['t', 1]] },
      { ...template, tags: 'x' },
      { ...template, content: 5 },
      { ...template, content: 'lone \ud800 surrogate' },
      { ...template, pubkey: PUBLIC_HEX.toUpperCase() },
    ]
    for (const event of bad) {
      await expect(signer.signEvent(event as typeof template)).rejects.toThrow(code('INVALID_ARGUMENT'))
    }
  })
})

describe('isSigner', () => {
  it('recognizes objects with getPublicKey and signEvent functions (like NIP-07 window.nostr)', () => {
    expect(isSigner(createIdentity().signer)).toBe(true)
    expect(isSigner({ getPublicKey: async () => '', signEvent: async () => ({}) })).toBe(true)
    expect(isSigner({ getPublicKey: 'x', signEvent: async () => ({}) })).toBe(false)
    expect(isSigner({ getPublicKey: async () => '' })).toBe(false)
    expect(isSigner(null)).toBe(false)
    expect(isSigner('signer')).toBe(false)
  })
})
