import { statSync } from 'node:fs'
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { identityFromNsec, nsecEncode } from '../../src/identity/index.js'
import { DEFAULT_RETENTION_SECONDS, roomHash, verifyRecord, type PeersetRecord } from '../../src/record/index.js'
import { FIXTURES_URL, FIXTURE_NOW, FIXTURE_ROOM, loadFixtures } from '../fixtures/index.js'

const fixtures = loadFixtures()
const records = fixtures.records.map((event) => {
  const result = verifyRecord(event)
  if (!result.ok) throw new Error(`fixture ${event.id} does not verify: ${result.message}`)
  return result.record
})
const byAddress = new Map<string, PeersetRecord[]>()
for (const record of records) {
  const key = `${record.author}:${record.uuid}`
  byAddress.set(key, [...(byAddress.get(key) ?? []), record])
}

describe('the fixture pool (test/fixtures/records.json)', () => {
  it('every record verifies (signature included)', () => {
    expect(records).toHaveLength(fixtures.records.length)
    expect(new Set(records.map((r) => r.id)).size).toBe(records.length)
  })

  it('every record is signed for FIXTURE_ROOM (its h tag)', () => {
    expect(fixtures.room).toBe(FIXTURE_ROOM)
    expect(records.every((r) => r.roomHash === roomHash(FIXTURE_ROOM))).toBe(true)
  })

  it('has 8 authors with seeded, consistent keys, and every record is by one of them', () => {
    expect(fixtures.now).toBe(FIXTURE_NOW)
    expect(fixtures.authors).toHaveLength(8)
    fixtures.authors.forEach((author, i) => {
      expect(author.nsec).toBe(nsecEncode(sha256(utf8ToBytes(`peerset-fixture-author-${i}`))))
      expect(identityFromNsec(author.nsec)).toMatchObject({ publicKey: author.publicKey, npub: author.npub })
    })
    const keys = new Set(fixtures.authors.map((a) => a.publicKey))
    expect(records.every((r) => keys.has(r.author))).toBe(true)
  })

  it('spreads about 400 records over the 90 days before FIXTURE_NOW, sorted by created_at', () => {
    expect(records.length).toBeGreaterThanOrEqual(380)
    expect(records.every((r) => r.createdAt <= FIXTURE_NOW && r.createdAt > FIXTURE_NOW - 90 * 86_400)).toBe(true)
    expect(records.every((r) => r.expiresAt === r.createdAt + DEFAULT_RETENTION_SECONDS)).toBe(true)
    const days = new Set(records.map((r) => Math.floor(r.createdAt / 86_400)))
    expect(days.size).toBeGreaterThan(60)
    const perDay = [...days].map((d) => records.filter((r) => Math.floor(r.createdAt / 86_400) === d).length)
    expect(Math.max(...perDay)).toBeGreaterThanOrEqual(20)
    expect(records.map((r) => r.createdAt)).toEqual(records.map((r) => r.createdAt).sort((a, b) => a - b))
  })

  it('has newer versions of the same (author, uuid), some chains of three, and created_at ties', () => {
    const groups = [...byAddress.values()].filter((g) => g.length > 1)
    expect(groups.length).toBeGreaterThanOrEqual(40)
    expect(groups.some((g) => g.length >= 3)).toBe(true)
    const ties = groups.filter((g) => new Set(g.map((r) => r.createdAt)).size < g.length)
    expect(ties.length).toBeGreaterThanOrEqual(2)
  })

  it('has records with links, with geolocation and with non-ASCII text', () => {
    expect(records.filter((r) => r.link !== undefined).length).toBeGreaterThan(40)
    expect(records.filter((r) => r.geo !== undefined).length).toBeGreaterThan(40)
    expect(records.some((r) => /[^\u0000-\u007f]/.test(r.text))).toBe(true)
    expect(records.some((r) => r.text.includes('\n'))).toBe(true)
  })

  it('stays small', () => {
    expect(statSync(FIXTURES_URL).size).toBeLessThan(400 * 1024)
  })
})
