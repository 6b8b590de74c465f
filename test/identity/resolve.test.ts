import { describe, expect, it } from 'vitest'
import { createIdentity, resolveSigner, type Signer } from '../../src/identity/index.js'

describe('resolveSigner', () => {
  const me = createIdentity()

  it('takes the signer of an Identity', () => {
    expect(resolveSigner(me)).toBe(me.signer)
  })

  it('passes a NIP-07-shaped signer through as is', () => {
    const nip07: Signer = { getPublicKey: async () => me.publicKey, signEvent: (e) => me.signer.signEvent(e) }
    expect(resolveSigner(nip07)).toBe(nip07)
  })

  it('makes an in-memory signer from an nsec', async () => {
    expect(await resolveSigner(me.nsec).getPublicKey()).toBe(me.publicKey)
  })

  it('refuses anything else', () => {
    for (const bad of [null, 42, {}, { signer: {} }, { getPublicKey: () => '' }]) {
      expect(() => resolveSigner(bad as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    }
    expect(() => resolveSigner(me.npub)).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }))
  })
})
