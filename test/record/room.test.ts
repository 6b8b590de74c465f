import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { computeEventId, createRecord, roomHash, roomTag, toNostrEvent, verifyRecord, type NostrEvent } from '../../src/record/index.js'
import * as peerset from '../../src/index.js'
import { NOW, UUID, baseTags, expectRejected, signEvent, testSigner } from './helpers.js'

const ROOM = 'lost-and-found'

describe('roomHash and roomTag (a record’s room)', () => {
  it('is the lowercase hex SHA-256 of "peerset-room:" + the name: deterministic, never the plain name', () => {
    const hash = roomHash(ROOM)
    expect(hash).toBe(bytesToHex(sha256(utf8ToBytes(`peerset-room:${ROOM}`))))
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    expect(roomHash(ROOM)).toBe(hash)
    expect(hash).not.toContain(ROOM)
    // Domain-separated: not the bare hash of the name.
    expect(hash).not.toBe(bytesToHex(sha256(utf8ToBytes(ROOM))))
    expect(roomHash(`${ROOM} `)).not.toBe(hash)
    expect(roomHash('Lost-and-found')).not.toBe(hash)
    expect(roomTag(ROOM)).toEqual(['h', hash])
    expect(roomTag(ROOM)).not.toBe(roomTag(ROOM)) // a new array each call
  })

  it('is exported by the package entry point', () => {
    expect(typeof peerset.roomHash).toBe('function')
    expect(peerset.roomHash).toBe(roomHash)
    expect(peerset.roomTag).toBe(roomTag)
  })

  it('refuses a room that is not a non-empty string', () => {
    expect(() => roomHash('')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => roomTag(42 as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
  })
})

describe('createRecord({ room }) binds the record to its room', () => {
  it('writes ["h", roomHash(room)] right after d, and verifyRecord reads it back as roomHash; no tag without a room', async () => {
    const record = await createRecord({ text: 'Grey cat' }, testSigner, { now: NOW, room: ROOM })
    expect(record.tags.slice(0, 2)).toEqual([['d', record.uuid], roomTag(ROOM)])
    expect(record.roomHash).toBe(roomHash(ROOM))
    const again = verifyRecord(toNostrEvent(record))
    expect(again.ok && again.record.roomHash).toBe(roomHash(ROOM))
    // Without a room the record belongs to no room (every peerset refuses it).
    const roomless = await createRecord({ text: 'Grey cat' }, testSigner, { now: NOW })
    expect(roomless.tags.some((t) => t[0] === 'h')).toBe(false)
    expect(roomless.roomHash).toBeUndefined()
  })

  it('refuses a room that is not a non-empty string', async () => {
    const refused = { code: 'INVALID_ARGUMENT', message: expect.stringContaining('options.room must be a non-empty string') }
    await expect(createRecord({ text: 'x' }, testSigner, { now: NOW, room: '' })).rejects.toMatchObject(refused)
    await expect(createRecord({ text: 'x' }, testSigner, { now: NOW, room: 7 as never })).rejects.toMatchObject(refused)
  })

  it('the room tag is covered by the id and the signature: moving a record to another room breaks it', async () => {
    const event = toNostrEvent(await createRecord({ text: 'Grey cat' }, testSigner, { now: NOW, room: ROOM }))
    const moved: NostrEvent = { ...event, tags: event.tags.map((t) => (t[0] === 'h' ? roomTag('elsewhere') : t)) }
    expectRejected(verifyRecord(moved), 'bad-id')
    expectRejected(verifyRecord({ ...moved, id: computeEventId(moved) }), 'bad-signature')
    const stripped: NostrEvent = { ...event, tags: event.tags.filter((t) => t[0] !== 'h') }
    expectRejected(verifyRecord({ ...stripped, id: computeEventId(stripped) }), 'bad-signature')
  })
})

describe('verifyRecord reads the room tag (and stays room-agnostic)', () => {
  const [d, expiration] = baseTags() as [string[], string[]]

  it('accepts the tag anywhere, once, and any room’s hash; a record without it still verifies (the engine refuses it)', async () => {
    for (const room of ['a', 'b']) {
      const result = verifyRecord(await signEvent({ tags: [d, expiration, roomTag(room)] }))
      expect(result.ok && result.record.roomHash).toBe(roomHash(room))
    }
    const result = verifyRecord(await signEvent({ tags: [['d', UUID], expiration] }))
    expect(result.ok && result.record).toMatchObject({ uuid: UUID })
    expect(result.ok && result.record.roomHash).toBeUndefined()
  })

  it('refuses a room tag that is duplicated, has the wrong number of values, or is not 64 lowercase hex', async () => {
    const hash = roomHash(ROOM)
    const bad = [
      [d, ['h', hash], ['h', hash]],
      [d, ['h', hash], ['h', roomHash('other')]],
      [d, ['h']],
      [d, ['h', hash, 'wss://relay.example']],
      [d, ['h', hash.toUpperCase()]],
      [d, ['h', hash.slice(1)]],
      [d, ['h', ROOM]],
    ]
    for (const tags of bad) expectRejected(verifyRecord(await signEvent({ tags: [...tags, expiration] as string[][] })), 'invalid-field')
  })
})
