/** Withdrawals (issue 16) at the record level: the tombstone's Nostr layout and what a reader accepts. */
import { describe, expect, it } from 'vitest'
import { verifyEvent } from 'nostr-tools/pure'
import { createIdentity } from '../../src/identity/index.js'
import { DEFAULT_RETENTION_SECONDS, RECORD_KIND, createRecord, createWithdrawal, roomHash, toNostrEvent, verifyRecord } from '../../src/record/index.js'
import { NOW, testSigner } from './helpers.js'

describe('createWithdrawal signs a tombstone version of the address', () => {
  it('is a valid Nostr event of the record kind: same d and h, later created_at, empty content, ["deleted"], expiring one retention after it', async () => {
    const record = await createRecord({ text: 'Lost cat', link: 'https://example.org' }, testSigner, { now: NOW, room: 'demo' })
    const tombstone = await createWithdrawal(record, testSigner, { now: NOW + 60 })
    const event = toNostrEvent(tombstone)
    expect(event.kind).toBe(RECORD_KIND)
    expect(event.content).toBe('')
    expect(event.created_at).toBe(NOW + 60)
    expect(event.tags).toEqual([['d', record.uuid], ['h', roomHash('demo')], ['expiration', String(NOW + 60 + DEFAULT_RETENTION_SECONDS)], ['deleted']])
    expect(verifyEvent(event)).toBe(true)
    const read = verifyRecord(event)
    expect(read.ok && read.record.withdrawn).toBe(true)
    expect(verifyRecord(toNostrEvent(record)).ok && 'withdrawn' in record).toBe(false)
  })

  it('is created one second after the target when the clock has not moved past it (so it wins the replacement rule)', async () => {
    const record = await createRecord({ text: 'x' }, testSigner, { now: NOW, room: 'demo' })
    expect((await createWithdrawal(record, testSigner, { now: NOW })).createdAt).toBe(NOW + 1)
  })

  it('refuses a signer that is not the author: only the author can withdraw', async () => {
    const record = await createRecord({ text: 'x' }, testSigner, { now: NOW, room: 'demo' })
    await expect(createWithdrawal(record, createIdentity().signer, { now: NOW + 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  it('reads back only a clean tombstone: no value on "deleted", empty content, no link', async () => {
    const record = await createRecord({ text: 'x' }, testSigner, { now: NOW, room: 'demo' })
    const base = toNostrEvent(await createWithdrawal(record, testSigner, { now: NOW + 1 }))
    // Unsigned variants: the tag checks come before the id and the signature.
    expect(verifyRecord({ ...base, content: 'still here' })).toMatchObject({ ok: false, reason: 'invalid-field' })
    expect(verifyRecord({ ...base, tags: [...base.tags.slice(0, 3), ['deleted', 'yes']] })).toMatchObject({ ok: false, reason: 'invalid-field' })
    expect(verifyRecord({ ...base, tags: [...base.tags, ['r', 'https://example.org']] })).toMatchObject({ ok: false, reason: 'invalid-field' })
  })
})
