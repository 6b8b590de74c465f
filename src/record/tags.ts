/**
 * A record's tag layout (internal; documented on `toNostrEvent`): writing Peerset's tags and reading
 * them back from any event of {@link RECORD_KIND}.
 */
import { encodeGeohash, MAX_GEOHASH_PRECISION } from './geohash.js'
import { formatCoordinate, isRecordUuid, parseCoordinate, parseUnixSeconds } from './tag-values.js'
import type { GeoPoint, RecordLimits, VerifyResult } from './types.js'
import { RECORD_GEOHASH_PRECISION } from './constants.js'
import { ROOM_TAG_NAME } from './room.js'
import { isLowerHex } from '../identity/key-format.js'

/** A refusal, as {@link VerifyResult} reports it. */
export type Rejection = Extract<VerifyResult, { ok: false }>

/** What a record's tags say (the parts of a record that are not plain event fields). */
export interface RecordTagFields {
  uuid: string
  /** The room hash of the `h` tag (see `roomHash`), if the record has one. */
  roomHash: string | undefined
  expiresAt: number | undefined
  link: string | undefined
  geo: (GeoPoint & { geohash: string }) | undefined
  /** Whether the event is a withdrawal (a tombstone: the `["deleted"]` tag). */
  withdrawn: boolean
}

/**
 * The tag that marks a version as a withdrawal of its address (a tombstone): `["deleted"]`, no
 * value. A tombstone has empty content and no link or geolocation.
 */
export const WITHDRAWN_TAG_NAME = 'deleted'

/** What Peerset writes, in this order: d, h, expiration, deleted, r, g, geo (absent parts are left out). */
export function buildRecordTags(fields: {
  uuid: string
  /** The room hash (see `roomHash`). */
  roomHash?: string | undefined
  expiresAt: number
  link?: string | undefined
  geo?: GeoPoint | undefined
  /** A withdrawal (tombstone): the `["deleted"]` tag, after `expiration`. */
  withdrawn?: boolean | undefined
}): string[][] {
  const tags: string[][] = [['d', fields.uuid]]
  if (fields.roomHash !== undefined) tags.push([ROOM_TAG_NAME, fields.roomHash])
  tags.push(['expiration', String(fields.expiresAt)])
  if (fields.withdrawn === true) tags.push([WITHDRAWN_TAG_NAME])
  if (fields.link !== undefined) tags.push(['r', fields.link])
  if (fields.geo !== undefined) {
    const lat = formatCoordinate(fields.geo.lat)
    const lon = formatCoordinate(fields.geo.lon)
    // The geohash is computed from the written (rounded) coordinates, as a reader will check it.
    tags.push(['g', encodeGeohash(Number(lat), Number(lon), RECORD_GEOHASH_PRECISION)])
    tags.push(['geo', lat, lon])
  }
  return tags
}

const KNOWN_TAG_NAMES = ['d', ROOM_TAG_NAME, 'expiration', WITHDRAWN_TAG_NAME, 'r', 'g', 'geo'] as const
type KnownTagName = (typeof KNOWN_TAG_NAMES)[number]

const reject = (reason: Rejection['reason'], message: string): Rejection => ({ ok: false, reason, message })

/**
 * Reads Peerset's tags from an event of the record kind. Known tags are found by name (anywhere,
 * once each); unknown tags are ignored here and carried verbatim by the caller.
 * Assumes the tags are already shape-checked (arrays of clean strings within the limits).
 */
export function readRecordTags(tags: readonly (readonly string[])[], createdAt: number, limits: RecordLimits): RecordTagFields | Rejection {
  const found: Partial<Record<KnownTagName, readonly string[]>> = {}
  let duplicate: string | undefined
  for (const tag of tags) {
    const name = tag[0] as KnownTagName
    if (!(KNOWN_TAG_NAMES as readonly string[]).includes(name)) continue
    if (found[name] !== undefined) duplicate ??= name
    else found[name] = tag
  }

  const d = found.d
  if (d === undefined) return reject('not-a-record', 'no "d" tag: a Peerset record is addressed by a uuid in its "d" tag')
  if (duplicate === 'd') return reject('invalid-field', 'the "d" tag appears more than once')
  if (!isRecordUuid(d[1])) return reject('not-a-record', 'the "d" tag is not a lowercase RFC 9562 uuid')
  if (d.length !== 2) return reject('invalid-field', `the "d" tag must have 2 values, has ${d.length}`)
  if (duplicate !== undefined) return reject('invalid-field', `the "${duplicate}" tag appears more than once`)

  const roomHash = readRoomHash(found[ROOM_TAG_NAME])
  if (typeof roomHash === 'object') return roomHash

  let expiresAt: number | undefined
  const expiration = found.expiration
  if (expiration !== undefined) {
    if (expiration.length !== 2) return reject('invalid-field', `the "expiration" tag must have 2 values, has ${expiration.length}`)
    expiresAt = parseUnixSeconds(expiration[1] as string)
    if (expiresAt === undefined) return reject('invalid-field', 'the "expiration" tag must be a decimal integer (Unix seconds) without leading zeros')
    if (expiresAt <= createdAt) return reject('invalid-field', `the "expiration" (${expiresAt}) must be after created_at (${createdAt})`)
  }

  let link: string | undefined
  const r = found.r
  if (r !== undefined) {
    if (r.length !== 2) return reject('invalid-field', `the "r" tag must have 2 values, has ${r.length}`)
    link = r[1] as string
    if (link.length === 0) return reject('invalid-field', 'the "r" tag (link) is empty')
    if (link.length > limits.maxLinkLength) return reject('too-large', `the link is ${link.length} characters, over the limit of ${limits.maxLinkLength}`)
  }

  const geo = readGeo(found.g, found.geo)
  if (geo !== undefined && 'ok' in geo) return geo
  const deleted = found[WITHDRAWN_TAG_NAME]
  if (deleted !== undefined) {
    if (deleted.length !== 1) return reject('invalid-field', `the "${WITHDRAWN_TAG_NAME}" tag (withdrawal) must have no value, has ${deleted.length - 1}`)
    if (link !== undefined || geo !== undefined) return reject('invalid-field', 'a withdrawal (the "deleted" tag) carries no link and no geolocation')
  }
  return { uuid: d[1], roomHash, expiresAt, link, geo, withdrawn: deleted !== undefined }
}

/** The room hash of an `h` tag: exactly 2 values, the second 64 lowercase hex digits. */
function readRoomHash(h: readonly string[] | undefined): string | undefined | Rejection {
  if (h === undefined) return undefined
  if (h.length !== 2) return reject('invalid-field', `the "${ROOM_TAG_NAME}" tag (room) must have 2 values, has ${h.length}`)
  const hash = h[1] as string
  if (!isLowerHex(hash, 64)) return reject('invalid-field', `the "${ROOM_TAG_NAME}" tag (room) must be a room hash: 64 lowercase hex digits`)
  return hash
}

function readGeo(g: readonly string[] | undefined, geoTag: readonly string[] | undefined): RecordTagFields['geo'] | Rejection {
  if (geoTag === undefined) {
    return g === undefined ? undefined : reject('invalid-field', 'a "g" tag (geohash) without a "geo" tag (coordinates)')
  }
  if (geoTag.length !== 3) return reject('invalid-field', `the "geo" tag must have 3 values (name, lat, lon), has ${geoTag.length}`)
  const lat = parseCoordinate(geoTag[1] as string, 90)
  const lon = parseCoordinate(geoTag[2] as string, 180)
  if (lat === undefined) return reject('invalid-field', 'the "geo" latitude must be a decimal in [-90, 90] with at most 7 decimals, no trailing zeros')
  if (lon === undefined) return reject('invalid-field', 'the "geo" longitude must be a decimal in [-180, 180] with at most 7 decimals, no trailing zeros')
  if (g === undefined) return reject('invalid-field', 'a "geo" tag needs a "g" tag (its geohash)')
  if (g.length !== 2) return reject('invalid-field', `the "g" tag must have 2 values, has ${g.length}`)
  const geohash = g[1] as string
  if (geohash.length < 1 || geohash.length > MAX_GEOHASH_PRECISION || geohash !== encodeGeohash(lat, lon, geohash.length)) {
    return reject('invalid-field', `the "g" tag is not the geohash of the "geo" coordinates (expected ${encodeGeohash(lat, lon, RECORD_GEOHASH_PRECISION)})`)
  }
  return { lat, lon, geohash }
}
