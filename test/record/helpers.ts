/** Shared helpers of the record tests: a fixed test key and a way to sign arbitrary events. */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { expect } from 'vitest'
import { createSigner } from '../../src/identity/index.js'
import { RECORD_KIND, type NostrEvent, type RecordRejectReason, type VerifyResult } from '../../src/record/index.js'

export const TEST_SECRET_HEX = bytesToHex(sha256(utf8ToBytes('peerset-record-test-key')))
export const testSigner = createSigner(TEST_SECRET_HEX)
export const TEST_PUBKEY = await testSigner.getPublicKey()
export const NOW = 1_790_000_000
export const UUID = '0b0e7d1c-5a3f-4e8b-9c2d-1f6a7b8c9d0e'
export const DAY = 86_400

/** Peerset's own tag layout for a plain record. */
export function baseTags(uuid = UUID, createdAt = NOW): string[][] {
  return [
    ['d', uuid],
    ['expiration', String(createdAt + 90 * DAY)],
  ]
}

/** Signs any event of the record kind (or `kind`) with the test key: the way to make odd but signed events. */
export function signEvent(fields: { tags?: string[][]; content?: string; created_at?: number; kind?: number } = {}): Promise<NostrEvent> {
  return testSigner.signEvent({
    kind: fields.kind ?? RECORD_KIND,
    created_at: fields.created_at ?? NOW,
    tags: fields.tags ?? baseTags(),
    content: fields.content ?? 'hello',
  })
}

/** Asserts that verification failed with `reason`, and returns the message. */
export function expectRejected(result: VerifyResult, reason: RecordRejectReason): string {
  expect(result).toMatchObject({ ok: false, reason })
  return result.ok ? '' : result.message
}
