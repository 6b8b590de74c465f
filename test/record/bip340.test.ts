import { readFileSync } from 'node:fs'
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { npubEncode } from '../../src/identity/index.js'

interface Bip340Vector {
  index: number
  secretKey: string
  publicKey: string
  auxRand: string
  message: string
  signature: string
  valid: boolean
  comment: string
}

function loadVectors(): Bip340Vector[] {
  const lines = readFileSync(new URL('../vectors/bip340.csv', import.meta.url), 'utf8').trim().split('\n').slice(1)
  return lines.map((line) => {
    const [index, secretKey, publicKey, auxRand, message, signature, valid, ...comment] = line.trim().split(',')
    return {
      index: Number(index),
      secretKey: (secretKey ?? '').toLowerCase(),
      publicKey: (publicKey ?? '').toLowerCase(),
      auxRand: (auxRand ?? '').toLowerCase(),
      message: (message ?? '').toLowerCase(),
      signature: (signature ?? '').toLowerCase(),
      valid: valid === 'TRUE',
      comment: comment.join(','),
    }
  })
}

const vectors = loadVectors()

describe('BIP-340 test vectors (through noble schnorr, the primitive Peerset signs and verifies with)', () => {
  it('has all 19 official vectors', () => {
    expect(vectors.map((v) => v.index)).toEqual([...Array(19).keys()])
  })

  for (const v of vectors.filter((v) => v.secretKey !== '')) {
    it(`vector ${v.index}: derives the public key and signs with the given aux rand to the exact signature`, () => {
      const secretKey = hexToBytes(v.secretKey)
      expect(bytesToHex(schnorr.getPublicKey(secretKey))).toBe(v.publicKey)
      expect(bytesToHex(schnorr.sign(hexToBytes(v.message), secretKey, hexToBytes(v.auxRand)))).toBe(v.signature)
    })
  }

  for (const v of vectors) {
    it(`vector ${v.index}: verify says ${v.valid}${v.comment ? ` (${v.comment})` : ''}`, () => {
      expect(schnorr.verify(hexToBytes(v.signature), hexToBytes(v.message), hexToBytes(v.publicKey))).toBe(v.valid)
    })
  }

  it('public keys the vectors call invalid are refused as keys too', () => {
    for (const index of [5, 14]) {
      const v = vectors[index] as Bip340Vector
      expect(() => npubEncode(v.publicKey)).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }))
    }
  })
})
