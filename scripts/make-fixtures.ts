/**
 * Writes test/fixtures/records.json: a deterministic pool of signed records for tests.
 * Run: `npx tsx scripts/make-fixtures.ts`. Same output on every run (seeded keys, uuids, texts,
 * times and signing randomness), so the committed file only changes when this script does.
 *
 * What is in it, on purpose:
 * - 8 authors, keys sha256('peerset-fixture-author-' + i);
 * - every record signed for the room FIXTURE_ROOM (its `h` tag);
 * - records spread over the 90 daily buckets of the window at FIXTURE_NOW, plus a burst on one day;
 * - new versions of earlier records (same author and uuid, newer created_at), some chains of three;
 * - tie pairs: same author, uuid and created_at, different content (the lowest id wins);
 * - some with a link, some with geolocation, unicode, newlines and a few long texts.
 */
import { writeFileSync } from 'node:fs'
import { schnorr } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { npubEncode, nsecEncode, type Signer } from '../src/identity/index.js'
import { computeEventId, createRecord, toNostrEvent, type NostrEvent, type PeersetRecord, type RecordDraft, type UnsignedEvent } from '../src/record/index.js'
import { FIXTURE_NOW, FIXTURE_ROOM, FIXTURES_URL, type FixtureAuthor, type Fixtures } from '../test/fixtures/index.js'

const AUTHORS = 8
const BASE_RECORDS = 320
const SAME_DAY_BURST = 30
const VERSIONS = 40
const TIE_PAIRS = 4
const DAY = 86_400

/** mulberry32: a tiny seeded PRNG (test data only, not cryptography). */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
const random = seededRandom(37_515)
const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1))
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T

function seededUuidV4(): string {
  const bytes = Uint8Array.from({ length: 16 }, () => int(0, 255))
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80
  const hex = bytesToHex(bytes)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** A signer with deterministic BIP-340 aux randomness (sha256 of the id), so signatures repeat. */
function fixtureSigner(secretKey: Uint8Array): Signer {
  const pubkey = bytesToHex(schnorr.getPublicKey(secretKey))
  return {
    getPublicKey: async () => pubkey,
    signEvent: async (event: UnsignedEvent): Promise<NostrEvent> => {
      const fields = { pubkey, created_at: event.created_at, kind: event.kind, tags: event.tags, content: event.content }
      const id = computeEventId(fields)
      const sig = bytesToHex(schnorr.sign(hexToBytes(id), secretKey, sha256(hexToBytes(id))))
      return { id, ...fields, sig }
    },
  }
}

const SUBJECTS = ['Grey cat', 'Red bicycle', 'Blue umbrella', 'Small dog', 'Set of keys', 'Green backpack', 'Wallet', 'Kite', 'Hedgehog', 'Parcel']
const VERBS = ['seen near', 'found at', 'lost around', 'spotted by', 'left at', 'waiting at']
const PLACES = ['the harbour', 'Marktplatz', 'the old mill', 'gare du Nord', 'the library steps', 'Ōdōri Park', 'the bakery', 'platform 3']
const EXTRAS = ['', ' Please share.', ' 😺', ' Grüße!', ' — call me', '\nDetails below.\n\t• friendly\n\t• shy', ' "ask for Sam"', ' 🚲💨']
const SPOTS = [
  { lat: 52.52, lon: 13.405 },
  { lat: 48.8566, lon: 2.3522 },
  { lat: 57.64911, lon: 10.40744 },
  { lat: -33.8688, lon: 151.2093 },
  { lat: 35.6762, lon: 139.6503 },
  { lat: 40.7128, lon: -74.006 },
]

function randomDraft(uuid?: string): RecordDraft {
  let text = `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(PLACES)}.${pick(EXTRAS)}`
  if (random() < 0.03) text += `\n${'Long description. '.repeat(int(20, 60))}`
  const draft: RecordDraft = { text, uuid: uuid ?? seededUuidV4() }
  if (random() < 0.25) draft.link = `https://example.org/items/${int(1, 99_999)}`
  if (random() < 0.3) {
    const spot = pick(SPOTS)
    draft.geo = { lat: spot.lat + (random() - 0.5) / 50, lon: spot.lon + (random() - 0.5) / 50 }
  }
  return draft
}

async function main(): Promise<void> {
  const keys = Array.from({ length: AUTHORS }, (_, i) => sha256(utf8ToBytes(`peerset-fixture-author-${i}`)))
  const authors: FixtureAuthor[] = keys.map((secretKey) => {
    const publicKey = bytesToHex(schnorr.getPublicKey(secretKey))
    return { nsec: nsecEncode(secretKey), npub: npubEncode(publicKey), publicKey }
  })
  const signers = keys.map(fixtureSigner)
  const records: PeersetRecord[] = []
  const make = async (author: number, createdAt: number, uuid?: string) => {
    const record = await createRecord(randomDraft(uuid), signers[author] as Signer, { now: createdAt, room: FIXTURE_ROOM })
    records.push(record)
    return { author, record }
  }

  const originals: { author: number; record: PeersetRecord }[] = []
  // The oldest daily bucket still inside a 90-bucket window at FIXTURE_NOW starts 89 days before today.
  const oldest = FIXTURE_NOW - (FIXTURE_NOW % DAY) - 89 * DAY + 3600
  for (let i = 0; i < BASE_RECORDS; i++) originals.push(await make(int(0, AUTHORS - 1), int(oldest, FIXTURE_NOW - 3600)))
  const burstDay = FIXTURE_NOW - 3 * DAY - (FIXTURE_NOW % DAY)
  for (let i = 0; i < SAME_DAY_BURST; i++) originals.push(await make(int(0, AUTHORS - 1), burstDay + int(0, DAY - 1)))

  // New versions: same author and uuid, newer created_at (some get a third version).
  for (let i = 0; i < VERSIONS; i++) {
    const { author, record } = originals[i * 7] as { author: number; record: PeersetRecord }
    const second = await make(author, Math.min(FIXTURE_NOW, record.createdAt + int(60, 5 * DAY)), record.uuid)
    if (i % 4 === 0) await make(author, Math.min(FIXTURE_NOW, second.record.createdAt + int(60, DAY)), record.uuid)
  }
  // Ties: identical author, uuid and created_at, different content and so different ids.
  for (let i = 0; i < TIE_PAIRS; i++) {
    const author = i % AUTHORS
    const uuid = seededUuidV4()
    const createdAt = FIXTURE_NOW - int(1, 30) * DAY
    await make(author, createdAt, uuid)
    await make(author, createdAt, uuid)
  }

  const events = records.map(toNostrEvent).sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const fixtures: Fixtures = { now: FIXTURE_NOW, room: FIXTURE_ROOM, authors, records: events }
  // One record per line: small, and diffs stay readable.
  const text = [
    `{"now":${fixtures.now},`,
    `"room":${JSON.stringify(fixtures.room)},`,
    `"authors":[\n${authors.map((a) => JSON.stringify(a)).join(',\n')}\n],`,
    `"records":[\n${events.map((e) => JSON.stringify(e)).join(',\n')}\n]}\n`,
  ].join('\n')
  writeFileSync(FIXTURES_URL, text)
  console.log(`wrote ${events.length} records by ${authors.length} authors, ${(Buffer.byteLength(text) / 1024).toFixed(0)} KB, to ${FIXTURES_URL.pathname}`)
}

await main()
