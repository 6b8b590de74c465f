/** Creating (signing) a new record or a new version of one. */
import { randomBytes, bytesToHex } from '@noble/hashes/utils.js'
import { PeersetError } from '../errors.js'
import { isSigner } from '../identity/keys.js'
import { isLowerHex64 } from '../identity/key-format.js'
import type { Signer } from '../identity/types.js'
import { DEFAULT_RETENTION_SECONDS, RECORD_KIND } from './constants.js'
import { resolveLimits } from './limits.js'
import { isNonNegativeSafeInteger } from './serialize.js'
import { isRecordUuid } from './tag-values.js'
import { mineProofOfWork } from './pow.js'
import { roomHash } from './room.js'
import { buildRecordTags } from './tags.js'
import { ALLOW_TAB_NEWLINE, describeScanFailure, scanText } from './text-scan.js'
import type { GeoPoint, NostrEvent, PeersetRecord, RecordDraft, RecordLimits, RecordRejectReason, UnsignedEvent } from './types.js'
import { checkRecordCandidate, verifyRecord } from './verify.js'

/** Options of {@link createRecord}. */
export interface CreateRecordOptions {
  /** Creation time, Unix seconds (default: now). */
  now?: number
  /** Seconds until the record expires (NIP-40 `expiration`); default 90 days. */
  retentionSeconds?: number
  /** Overrides of the default {@link RecordLimits}. */
  limits?: Partial<RecordLimits>
  /**
   * The room the record is for: its `["h", roomHash(room)]` tag, covered by the id and signature.
   * A peerset accepts only records of its own room; `publish` always passes it. Without it the
   * record belongs to no room and every peerset refuses it (`wrong-room`).
   */
  room?: string
  /**
   * NIP-13 proof of work: mine a `["nonce", n, difficulty]` tag until the id has this many leading
   * zero bits, before signing. Each bit doubles the work (~2^difficulty hashes). Default 0 (none).
   */
  proofOfWork?: number
}

const DRAFT_KEYS = ['text', 'link', 'geo', 'uuid']
const OPTION_KEYS = ['now', 'retentionSeconds', 'limits', 'proofOfWork', 'room']
const ZERO_ID = '0'.repeat(64)
/** Most proof of work a record may be mined for here (about 16 million hashes at 24 bits). */
const MAX_RECORD_POW = 24
const ZERO_SIG = '0'.repeat(128)

/**
 * Builds, signs and verifies a record. The draft is checked first (text without lone surrogates or
 * control characters other than `\n` and `\t`, kept verbatim; a non-empty link; finite coordinates in
 * range; a lowercase RFC 9562 uuid if given, else a new v4 one) and the whole event against the
 * limits, so the signer is never asked to sign something Peerset would refuse.
 *
 * What the signer returns is verified like any remote record, and must be the event asked for,
 * signed by `signer.getPublicKey()`: a buggy or hostile signer cannot inject a bad record.
 *
 * Throws `PeersetError`: `INVALID_ARGUMENT` (wrong types), `INVALID_RECORD` with `reason`
 * (`invalid-field`, `too-large`), `SIGNER_FAILED` (the signer threw or returned a wrong event).
 * @example
 * ```ts
 * const me = createIdentity()
 * const record = await createRecord({ text: 'Lost cat, grey', geo: { lat: 52.52, lon: 13.405 } }, me.signer)
 * const edit = await createRecord({ text: 'Found!', uuid: record.uuid }, me.signer)
 * ```
 */
export async function createRecord(draft: RecordDraft, signer: Signer, options?: CreateRecordOptions): Promise<PeersetRecord> {
  const { text, textBytes, link, geo, uuid } = checkDraft(draft)
  if (!isSigner(signer)) throw new PeersetError('INVALID_ARGUMENT', 'createRecord: signer must have getPublicKey() and signEvent()')
  const { now, retentionSeconds, limits, proofOfWork, room } = checkOptions(options)
  checkDraftLimits(textBytes, link, limits)

  const pubkey = await signerPublicKey(signer)
  const tags = buildRecordTags({ uuid: uuid ?? randomUuidV4(), roomHash: room === undefined ? undefined : roomHash(room), expiresAt: now + retentionSeconds, link, geo })
  return signRecord({ pubkey, created_at: now, kind: RECORD_KIND, tags, content: text }, signer, limits, proofOfWork)
}

/** What {@link createWithdrawal} needs of the record it withdraws: its address, room and time. */
export type WithdrawalTarget = Pick<PeersetRecord, 'author' | 'uuid' | 'createdAt'> & { readonly roomHash?: string | undefined }

/**
 * Signs the withdrawal of a record: a tombstone, the newest version of its address (same kind
 * {@link RECORD_KIND}, same `d` uuid, same `h` room tag) with empty content and the tag
 * `["deleted"]`. It replaces every version created before it (the replacement rule: later
 * `created_at` wins), on Peerset peers and on every Nostr relay, which keep only the newest event of
 * an address. Its `created_at` is `now`, or one second after the target's when that is not later;
 * its NIP-40 `expiration` is its own `created_at` + retention, so it outlives every version it beats.
 *
 * Only the author can withdraw: the signer's key must be the target's author (the address includes
 * it), else `INVALID_ARGUMENT`. Other errors as {@link createRecord}.
 * @example
 * ```ts
 * const record = await createRecord({ text: 'Lost cat' }, me.signer, { room: 'demo' })
 * const tombstone = await createWithdrawal(record, me.signer) // tombstone.withdrawn === true
 * ```
 */
export async function createWithdrawal(target: WithdrawalTarget, signer: Signer, options?: Omit<CreateRecordOptions, 'room'>): Promise<PeersetRecord> {
  if (typeof target !== 'object' || target === null || typeof target.author !== 'string' || !isRecordUuid(target.uuid) || !isNonNegativeSafeInteger(target.createdAt)) {
    throw new PeersetError('INVALID_ARGUMENT', 'createWithdrawal: target must be a record (author, uuid, createdAt, roomHash)')
  }
  if (target.roomHash !== undefined && !/^[0-9a-f]{64}$/.test(target.roomHash)) throw new PeersetError('INVALID_ARGUMENT', 'createWithdrawal: target.roomHash must be 64 lowercase hex digits')
  if (!isSigner(signer)) throw new PeersetError('INVALID_ARGUMENT', 'createWithdrawal: signer must have getPublicKey() and signEvent()')
  if (typeof options === 'object' && options !== null && 'room' in options) throw new PeersetError('INVALID_ARGUMENT', 'createWithdrawal: the room is the target\'s (no room option)')
  const { now, retentionSeconds, limits, proofOfWork } = checkOptions(options)
  const pubkey = await signerPublicKey(signer)
  if (pubkey !== target.author) throw new PeersetError('INVALID_ARGUMENT', 'createWithdrawal: only the author of a record can withdraw it (the signer is another key)')
  const createdAt = Math.max(now, target.createdAt + 1)
  const tags = buildRecordTags({ uuid: target.uuid, roomHash: target.roomHash, expiresAt: createdAt + retentionSeconds, withdrawn: true })
  return signRecord({ pubkey, created_at: createdAt, kind: RECORD_KIND, tags, content: '' }, signer, limits, proofOfWork)
}

async function signerPublicKey(signer: Signer): Promise<string> {
  const pubkey = await callSigner(() => signer.getPublicKey(), 'getPublicKey')
  if (!isLowerHex64(pubkey)) throw new PeersetError('SIGNER_FAILED', 'createRecord: the signer returned a public key that is not 64 lowercase hex digits')
  return pubkey
}

/** Mine (if asked), check, sign and verify an event of the record kind; the signer must return exactly it. */
async function signRecord(event: Omit<NostrEvent, 'id' | 'sig'>, signer: Signer, limits: RecordLimits, proofOfWork: number): Promise<PeersetRecord> {
  let unsigned = event
  if (proofOfWork > 0) unsigned = mineProofOfWork(unsigned, proofOfWork).event
  const candidate = checkRecordCandidate({ id: ZERO_ID, ...unsigned, sig: ZERO_SIG }, limits)
  if ('ok' in candidate) throw new PeersetError('INVALID_RECORD', `createRecord: ${candidate.message}`, { reason: candidate.reason })

  const request: UnsignedEvent = { ...unsigned, tags: unsigned.tags.map((tag) => tag.slice()) }
  const signed = await callSigner(() => signer.signEvent(request), 'signEvent')
  const result = verifyRecord(signed, { limits })
  if (!result.ok) {
    throw new PeersetError('SIGNER_FAILED', `createRecord: the signer returned an event that does not verify (${result.reason}: ${result.message})`)
  }
  const changed = changedField(result.record, unsigned)
  if (changed !== undefined) throw new PeersetError('SIGNER_FAILED', `createRecord: the signer returned a different event than asked for (${changed} changed)`)
  return result.record
}

/**
 * A plain copy of a draft (its fields and its `geo`'s, read once), so a getter that throws is an
 * `INVALID_ARGUMENT` and a getter that changes its answer cannot make the checked and the signed
 * draft differ. Anything not an object is returned as it is (checked later).
 */
export function copyDraft<T>(draft: T): T {
  if (typeof draft !== 'object' || draft === null || Array.isArray(draft)) return draft
  try {
    const copy: Record<string, unknown> = { ...(draft as Record<string, unknown>) }
    if (typeof copy.geo === 'object' && copy.geo !== null && !Array.isArray(copy.geo)) copy.geo = { ...copy.geo }
    return copy as T
  } catch (cause) {
    throw new PeersetError('INVALID_ARGUMENT', `createRecord: reading the draft threw: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
}

function checkDraft(input: unknown): RecordDraft & { textBytes: number } {
  const draft = copyDraft(input)
  if (typeof draft !== 'object' || draft === null || Array.isArray(draft)) {
    throw new PeersetError('INVALID_ARGUMENT', 'createRecord: draft must be an object { text, link?, geo?, uuid? }')
  }
  for (const key of Object.keys(draft)) {
    if (!DRAFT_KEYS.includes(key)) throw new PeersetError('INVALID_ARGUMENT', `createRecord: unknown draft field "${key}" (known: ${DRAFT_KEYS.join(', ')})`)
  }
  const { text, link, geo, uuid } = draft as Record<string, unknown>
  if (typeof text !== 'string') throw new PeersetError('INVALID_ARGUMENT', 'createRecord: draft.text must be a string')
  if (link !== undefined && typeof link !== 'string') throw new PeersetError('INVALID_ARGUMENT', 'createRecord: draft.link must be a string')
  if (uuid !== undefined && typeof uuid !== 'string') throw new PeersetError('INVALID_ARGUMENT', 'createRecord: draft.uuid must be a string')
  const textScan = scanText(text, ALLOW_TAB_NEWLINE)
  if (textScan < 0) throw invalid('invalid-field', `draft.text contains ${describeScanFailure(textScan)} (only \\n and \\t are allowed)`)
  if (link !== undefined) {
    if (link.length === 0) throw invalid('invalid-field', 'draft.link is empty (leave it out instead)')
    const linkScan = scanText(link, 0)
    if (linkScan < 0) throw invalid('invalid-field', `draft.link contains ${describeScanFailure(linkScan)}`)
  }
  if (uuid !== undefined && !isRecordUuid(uuid)) throw invalid('invalid-field', 'draft.uuid must be a lowercase RFC 9562 uuid')
  return { text, textBytes: textScan, link, geo: geo === undefined ? undefined : checkGeo(geo), uuid }
}

function checkGeo(geo: unknown): GeoPoint {
  if (typeof geo !== 'object' || geo === null || Array.isArray(geo)) throw new PeersetError('INVALID_ARGUMENT', 'createRecord: draft.geo must be an object { lat, lon }')
  for (const key of Object.keys(geo)) {
    if (key !== 'lat' && key !== 'lon') throw new PeersetError('INVALID_ARGUMENT', `createRecord: unknown draft.geo field "${key}" (known: lat, lon)`)
  }
  const { lat, lon } = geo as Record<string, unknown>
  if (typeof lat !== 'number' || typeof lon !== 'number') throw new PeersetError('INVALID_ARGUMENT', 'createRecord: draft.geo.lat and draft.geo.lon must be numbers')
  if (!Number.isFinite(lat) || lat < -90 || lat > 90) throw invalid('invalid-field', `draft.geo.lat must be a finite number in [-90, 90], got ${lat}`)
  if (!Number.isFinite(lon) || lon < -180 || lon > 180) throw invalid('invalid-field', `draft.geo.lon must be a finite number in [-180, 180], got ${lon}`)
  return { lat, lon }
}

function checkDraftLimits(textBytes: number, link: string | undefined, limits: RecordLimits): void {
  if (textBytes > limits.maxTextBytes) throw invalid('too-large', `draft.text is ${textBytes} bytes, over the limit of ${limits.maxTextBytes}`)
  if (link !== undefined && link.length > limits.maxLinkLength) {
    throw invalid('too-large', `draft.link is ${link.length} characters, over the limit of ${limits.maxLinkLength}`)
  }
}

function checkOptions(options: unknown): { now: number; retentionSeconds: number; limits: Readonly<RecordLimits>; proofOfWork: number; room: string | undefined } {
  if (options === undefined) return { now: unixNow(), retentionSeconds: DEFAULT_RETENTION_SECONDS, limits: resolveLimits(), proofOfWork: 0, room: undefined }
  if (typeof options !== 'object' || options === null) throw new PeersetError('INVALID_ARGUMENT', 'createRecord: options must be an object')
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw new PeersetError('INVALID_ARGUMENT', `createRecord: unknown option "${key}" (known: ${OPTION_KEYS.join(', ')})`)
  }
  const { now = unixNow(), retentionSeconds = DEFAULT_RETENTION_SECONDS, limits, proofOfWork = 0, room } = options as Record<string, unknown>
  if (room !== undefined && (typeof room !== 'string' || room.length === 0)) {
    throw new PeersetError('INVALID_ARGUMENT', 'createRecord: options.room must be a non-empty string')
  }
  if (!isNonNegativeSafeInteger(proofOfWork) || proofOfWork > MAX_RECORD_POW) {
    throw new PeersetError('INVALID_ARGUMENT', `createRecord: options.proofOfWork must be an integer from 0 to ${MAX_RECORD_POW}, got ${String(proofOfWork)}`)
  }
  if (!isNonNegativeSafeInteger(now)) throw new PeersetError('INVALID_ARGUMENT', `createRecord: options.now must be a non-negative integer (Unix seconds), got ${String(now)}`)
  if (!isNonNegativeSafeInteger(retentionSeconds) || retentionSeconds === 0 || !Number.isSafeInteger(now + retentionSeconds)) {
    throw new PeersetError('INVALID_ARGUMENT', `createRecord: options.retentionSeconds must be a positive integer, got ${String(retentionSeconds)}`)
  }
  return { now, retentionSeconds, limits: resolveLimits(limits as Partial<RecordLimits> | undefined), proofOfWork, room }
}

/** Runs a signer call; anything it throws or rejects with becomes `SIGNER_FAILED` (with the cause). */
async function callSigner<T>(call: () => Promise<T>, method: string): Promise<T> {
  try {
    return await call()
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause)
    throw new PeersetError('SIGNER_FAILED', `createRecord: signer.${method}() failed: ${why}`, { cause })
  }
}

function changedField(record: PeersetRecord, asked: Omit<NostrEvent, 'id' | 'sig'>): string | undefined {
  if (record.author !== asked.pubkey) return 'pubkey'
  if (record.createdAt !== asked.created_at) return 'created_at'
  if (record.text !== asked.content) return 'content'
  if (JSON.stringify(record.tags) !== JSON.stringify(asked.tags)) return 'tags'
  return undefined
}

function invalid(reason: RecordRejectReason, message: string): PeersetError {
  return new PeersetError('INVALID_RECORD', `createRecord: ${message}`, { reason })
}

/** A random RFC 9562 version 4 uuid (crypto.randomUUID where the platform has it). */
function randomUuidV4(): string {
  if (typeof globalThis.crypto?.randomUUID === 'function') return globalThis.crypto.randomUUID()
  // Insecure browser contexts lack randomUUID but have getRandomValues (which randomBytes uses).
  const bytes = randomBytes(16)
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80
  const hex = bytesToHex(bytes)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000)
}
