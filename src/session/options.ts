/** Validation of `createPeerSession` options, with defaults filled in (internal). */
import { PeersetError } from '../errors.js'
import { isSigner } from '../identity/keys.js'
import { MAX_FRAME_BYTES, MESSAGE_TYPE_CODES } from '../protocol/messages.js'
import { MAX_AUTH_FRAME_BYTES } from './codec.js'
import { DEFAULT_PROOF_OF_WORK, DEFAULT_SESSION_LIMITS, DEFAULT_SESSION_TIMEOUTS, MAX_POW_DIFFICULTY } from './defaults.js'
import { assertSettings } from './settings.js'
import type { PeerSessionOptions, ProofOfWorkOptions, SessionLimits, SessionTimeouts } from './types.js'
import { encodeUtf8 as utf8, isWellFormedText, peekVarint } from '../protocol/bytes.js'

/** Options with every default applied. */
export interface ResolvedSessionOptions extends Required<Omit<PeerSessionOptions, 'limits' | 'timeouts' | 'proofOfWork'>> {
  limits: SessionLimits
  timeouts: SessionTimeouts
  proofOfWork: ProofOfWorkOptions
}

const FN = 'createPeerSession'

/** Longest room name, UTF-8 bytes. */
export const MAX_ROOM_BYTES = 256
/** Longest transport peer id, UTF-8 bytes. */
export const MAX_PEER_ID_BYTES = 128

/**
 * The default record classifier: byte 1 is the sync codec's `records` type.
 * @example
 * ```ts
 * defaultClassify(frame) // 'records' | 'other'
 * ```
 */
export function defaultClassify(bytes: Uint8Array): 'records' | 'other' {
  return bytes[1] === MESSAGE_TYPE_CODES.records || bytes[1] === MESSAGE_TYPE_CODES.pushed ? 'records' : 'other'
}

/**
 * The default record count of a `records` frame: the varint after the header (the sync codec's
 * layout; after the flags byte in a `pushed` frame), else 1.
 * @example
 * ```ts
 * defaultCountRecords(new Uint8Array([2, 6, 20])) // 20
 * ```
 */
export function defaultCountRecords(bytes: Uint8Array): number {
  return peekVarint(bytes, bytes[1] === MESSAGE_TYPE_CODES.pushed ? 3 : 2) ?? 1
}

/** Validates `options` and fills in defaults. Throws `PeersetError` `INVALID_ARGUMENT`. */
export function resolveSessionOptions(options: PeerSessionOptions): ResolvedSessionOptions {
  if (typeof options !== 'object' || options === null) throw fail('options must be an object')
  const { room, selfId, peerId, signer, selfPubkey, settings } = options
  checkText(room, MAX_ROOM_BYTES, 'room')
  checkText(selfId, MAX_PEER_ID_BYTES, 'selfId')
  checkText(peerId, MAX_PEER_ID_BYTES, 'peerId')
  if (selfId === peerId) throw fail('peerId must differ from selfId')
  if (!isSigner(signer)) throw fail('signer must have getPublicKey() and signEvent() (a NIP-07-shaped signer)')
  if (typeof selfPubkey !== 'string' || !/^[0-9a-f]{64}$/.test(selfPubkey)) throw fail('selfPubkey must be 64 lowercase hex digits')
  assertSettings(settings, FN)
  const { limits, timeouts, proofOfWork } = resolveSessionTuning(options)
  const priorStrikes = options.priorStrikes ?? 0
  if (!Number.isSafeInteger(priorStrikes) || priorStrikes < 0) throw fail('priorStrikes must be a non-negative integer')
  const epoch = options.epoch ?? 0
  const peerEpochFloor = options.peerEpochFloor ?? 0
  for (const [what, value] of [['epoch', epoch], ['peerEpochFloor', peerEpochFloor]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw fail(`${what} must be a non-negative integer`)
  }
  return {
    room,
    selfId,
    peerId,
    signer,
    selfPubkey,
    settings: { granularity: { ...settings.granularity }, moderationDigest: settings.moderationDigest, ...(settings.rules ? { rules: { ...settings.rules } } : {}) },
    limits,
    timeouts,
    proofOfWork,
    priorStrikes,
    epoch,
    peerEpochFloor,
    admit: checkFunction(options.admit, 'admit') ?? (() => true),
    priorStrikesOfKey: checkFunction(options.priorStrikesOfKey, 'priorStrikesOfKey') ?? (() => 0),
    classify: checkFunction(options.classify, 'classify') ?? defaultClassify,
    countRecords: checkFunction(options.countRecords, 'countRecords') ?? defaultCountRecords,
  }
}

/** The tuning options of a session (limits, timeouts, proof of work), each optional. */
export interface SessionTuning {
  limits?: Partial<SessionLimits> | undefined
  timeouts?: Partial<SessionTimeouts> | undefined
  proofOfWork?: Partial<ProofOfWorkOptions> | undefined
}

/**
 * Checks a session's limits, timeouts and proof of work, and fills in the defaults. `fn` and
 * `names` say how errors name the function and the options (`createPeerset` checks its own
 * `sessionLimits` / `sessionTimeouts` with this, up front). Throws `PeersetError` `INVALID_ARGUMENT`.
 * @example
 * ```ts
 * resolveSessionTuning({ timeouts: { idleMs: -5 } }) // throws: timeouts.idleMs must be a finite number >= 1
 * ```
 */
export function resolveSessionTuning(
  tuning: SessionTuning,
  fn = FN,
  names: { limits: string; timeouts: string; proofOfWork: string } = { limits: 'limits', timeouts: 'timeouts', proofOfWork: 'proofOfWork' },
): { limits: SessionLimits; timeouts: SessionTimeouts; proofOfWork: ProofOfWorkOptions } {
  const fail = (message: string) => new PeersetError('INVALID_ARGUMENT', `${fn}: ${message}`)
  const limits = withDefaults(DEFAULT_SESSION_LIMITS, checkObject(tuning.limits, names.limits, fail), names.limits, fail)
  for (const [key, value] of Object.entries(limits)) checkLimit(key, value, `${names.limits}.${key}`, fail)
  if (limits.maxFrameBytes < MAX_AUTH_FRAME_BYTES) throw fail(`${names.limits}.maxFrameBytes must be at least ${MAX_AUTH_FRAME_BYTES} (an auth frame)`)
  if (limits.maxFrameBytes > MAX_FRAME_BYTES) throw fail(`${names.limits}.maxFrameBytes must be at most ${MAX_FRAME_BYTES} (the largest frame on the wire)`)
  const timeouts = withDefaults(DEFAULT_SESSION_TIMEOUTS, checkObject(tuning.timeouts, names.timeouts, fail), names.timeouts, fail)
  for (const [key, value] of Object.entries(timeouts)) {
    checkNumber(value, `${names.timeouts}.${key}`, 1, fail)
    checkAtMost(value as number, MAX_SESSION_MS, `${names.timeouts}.${key}`, fail)
  }
  const proofOfWork = withDefaults(DEFAULT_PROOF_OF_WORK, checkObject(tuning.proofOfWork, names.proofOfWork, fail), names.proofOfWork, fail)
  for (const [key, value] of Object.entries(proofOfWork)) {
    if (!Number.isSafeInteger(value) || value < 0 || value > MAX_POW_DIFFICULTY) throw fail(`${names.proofOfWork}.${key} must be an integer in 0..${MAX_POW_DIFFICULTY}`)
  }
  return { limits, timeouts, proofOfWork }
}

/** `defaults` overridden by the defined values of `overrides` (an `undefined` keeps the default). */
function withDefaults<T extends object>(defaults: Readonly<T>, overrides: Partial<T> | undefined, what: string, failWith = fail): T {
  const out = { ...defaults } as T
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (!(key in defaults)) throw failWith(`unknown option ${what}.${key} (known: ${Object.keys(defaults).join(', ')})`)
    if (value !== undefined) (out as Record<string, unknown>)[key] = value
  }
  return out
}

function fail(message: string): PeersetError {
  return new PeersetError('INVALID_ARGUMENT', `${FN}: ${message}`)
}

function checkText(value: unknown, maxBytes: number, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || !isWellFormedText(value) || utf8(value).length > maxBytes) {
    throw fail(`${what} must be a non-empty well-formed string of at most ${maxBytes} UTF-8 bytes`)
  }
}

function checkObject<T>(value: T | undefined, what: string, failWith = fail): T | undefined {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) throw failWith(`${what} must be an object`)
  return value
}

/**
 * Longest duration a session setting (a timeout, `banMs`, `rateStrikeIntervalMs`) may have: 2^31 - 1 ms
 * (about 24.8 days), the longest delay a timer takes.
 */
const MAX_SESSION_MS = 2_147_483_647

/** One session limit: `*PerSecond` rates are numbers >= 0, durations (`*Ms`) at most {@link MAX_SESSION_MS}, every other limit a count (an integer >= 1). */
function checkLimit(key: string, value: unknown, what: string, failWith: (message: string) => PeersetError): void {
  checkNumber(value, what, key === 'rateStrikeIntervalMs' || key.includes('PerSecond') ? 0 : 1, failWith)
  if (key.endsWith('Ms')) checkAtMost(value as number, MAX_SESSION_MS, what, failWith)
  else if (!key.includes('PerSecond') && !Number.isSafeInteger(value)) throw failWith(`${what} must be an integer, got ${String(value)}`)
}

function checkAtMost(value: number, max: number, what: string, failWith: (message: string) => PeersetError): void {
  if (value > max) throw failWith(`${what} must be at most ${max}, got ${String(value)}`)
}

function checkNumber(value: unknown, what: string, min: number, failWith = fail): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) throw failWith(`${what} must be a finite number >= ${min}, got ${String(value)}`)
}

function checkFunction<T>(value: T | undefined, what: string): T | undefined {
  if (value !== undefined && typeof value !== 'function') throw fail(`${what} must be a function`)
  return value
}
