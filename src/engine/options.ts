/** `createPeerset`'s options, checked and with their defaults filled in. */
import { dailyBuckets } from '../buckets/index.js'
import type { Granularity } from '../buckets/types.js'
import { isPeersetError, PeersetError } from '../errors.js'
import { MAX_FRAME_BYTES } from '../protocol/messages.js'
import { resolveSigner } from '../identity/index.js'
import { OPEN_STEP_TIMEOUT_MS, withinDeadline } from './deadline.js'
import type { Signer } from '../identity/types.js'
import type { StrikeLedgerOptions } from '../moderation/index.js'
import type { ModerationStrategy } from '../moderation/types.js'
import { MAX_WITHDRAWALS_PER_AUTHOR, resolveLimits, roomHash } from '../record/index.js'
import { isWellFormed } from '../record/room.js'
import type { RecordLimits } from '../record/types.js'
import { createModeration, createStrikeLedger, DEFAULT_STRIKE_LEDGER_OPTIONS } from '../moderation/index.js'
import { DEFAULT_CLIENT_SESSION_MS, MAX_POW_DIFFICULTY, resolveSessionTuning } from '../session/index.js'
import type { PeersetOptions } from '../peerset-types.js'
import { DEFAULT_CLOCK_SKEW_MS } from './time-window.js'
import { mainThreadVerifier } from '../verify/main-thread.js'
import type { VerifierStrategy } from '../verify/types.js'

/** The options a running peerset works with. */
export interface ResolvedOptions {
  readonly room: string
  /** `roomHash(room)`: the `h` tag every record of this peerset carries. */
  readonly roomHash: string
  readonly clock: () => number
  readonly clockSkewMs: number
  readonly tickIntervalMs: number
  readonly sessionTickMs: number
  readonly maxPeers: number
  readonly maxClientSessionMs: number
  readonly closeTimeoutMs: number
  readonly limits: RecordLimits
  readonly recordProofOfWork: number
  readonly granularity: Granularity
  readonly moderation: ModerationStrategy
  /** Checks record signatures; closed with the peerset. */
  readonly verifier: VerifierStrategy
  readonly signer: Signer
  /** The signer's public key (hex), checked. */
  readonly publicKey: string
  /** The retention window in seconds (for the records' NIP-40 expiration). */
  readonly retentionSeconds: number
  /** The caller's options, for what is passed through as is. */
  readonly given: PeersetOptions
}

/** Every option `createPeerset` knows; any other key is refused. */
export const PEERSET_OPTION_KEYS: readonly (keyof PeersetOptions)[] = [
  'room',
  'identity',
  'storage',
  'transport',
  'granularity',
  'moderation',
  'verifier',
  'strikes',
  'limits',
  'clockSkewMs',
  'clock',
  'tickIntervalMs',
  'sessionTickMs',
  'sessionTimeouts',
  'sessionLimits',
  'maxPeers',
  'maxClientSessionMs',
  'reconnectCooldownMs',
  'proofOfWork',
  'closeTimeoutMs',
  'relays',
]

/** Longest delay a timer takes (2^31 - 1 ms, about 24.8 days): a longer one would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647

/**
 * Check `createPeerset`'s options and fill in the defaults; throws `INVALID_ARGUMENT` (naming the
 * option) or `SIGNER_FAILED`. Every option is checked here, before anything is opened or joined,
 * including those only a later part uses (session limits and timeouts, strikes, the cool-down).
 */
export async function resolveOptions(options: PeersetOptions): Promise<ResolvedOptions> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new PeersetError('INVALID_ARGUMENT', 'createPeerset(options): options must be an object')
  }
  knownKeys(options, PEERSET_OPTION_KEYS, 'options')
  const { room } = options
  if (typeof room !== 'string' || room.length === 0 || room.length > 256) {
    throw new PeersetError('INVALID_ARGUMENT', 'createPeerset: room must be a non-empty string of at most 256 characters')
  }
  if (!isWellFormed(room)) {
    throw new PeersetError('INVALID_ARGUMENT', 'createPeerset: room must be well-formed UTF-16 (no lone surrogates: different names would share a room)')
  }
  const clock = checkClock(options.clock ?? Date.now)
  const granularity = checkStrategies(options)
  const recordProofOfWork = checkDeferred(options)
  const signer = resolveSigner(options.identity)
  return {
    room,
    roomHash: roomHash(room),
    clock,
    clockSkewMs: nonNegative(options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS, 'clockSkewMs'),
    tickIntervalMs: timerMs(options.tickIntervalMs ?? 60_000, 'tickIntervalMs'),
    sessionTickMs: timerMs(options.sessionTickMs ?? 1_000, 'sessionTickMs'),
    maxPeers: positiveInteger(options.maxPeers ?? 32, 'maxPeers'),
    maxClientSessionMs: timerMs(options.maxClientSessionMs ?? DEFAULT_CLIENT_SESSION_MS, 'maxClientSessionMs'),
    closeTimeoutMs: timerMs(options.closeTimeoutMs ?? 5_000, 'closeTimeoutMs'),
    limits: resolveLimits(options.limits),
    recordProofOfWork,
    granularity,
    moderation: options.moderation ?? createModeration(),
    verifier: options.verifier ?? mainThreadVerifier(),
    signer,
    publicKey: await signerPublicKey(signer),
    retentionSeconds: (granularity.descriptor.intervalMs * granularity.descriptor.retentionBuckets) / 1000,
    given: options,
  }
}

/** The strategies' shapes (storage, transport, granularity, moderation, verifier); returns the granularity. */
function checkStrategies(options: PeersetOptions): Granularity {
  const { storage, transport, moderation } = options
  if (storage !== undefined && !hasShape(storage, ['isSupported', 'open'])) {
    throw invalid('storage must be a storage strategy ({ name, isSupported(), open(room) }), e.g. memoryStorage()')
  }
  if (transport !== undefined && transport !== false && !hasShape(transport, ['isSupported', 'join'])) {
    throw invalid('transport must be a transport strategy ({ name, isSupported(), join(room, handlers) }) or false')
  }
  if (moderation !== undefined && !(hasShape(moderation, ['review']) && typeof moderation.digest === 'string' && moderation.digest.length > 0)) {
    throw invalid('moderation must be a moderation strategy ({ name, digest, review(record, context) }), e.g. createModeration()')
  }
  if (options.verifier !== undefined && !(hasShape(options.verifier, ['verify', 'close']) && typeof options.verifier.name === 'string')) {
    throw invalid('verifier must be a verifier strategy ({ name, verify(checks), close() }), e.g. workerVerifier({ size: 2 })')
  }
  if (options.relays !== undefined && !(hasShape(options.relays, ['start']) && Array.isArray(options.relays.urls))) {
    throw invalid('relays must be a relay strategy ({ name, urls, start(host) }), e.g. nostrRelays({ urls })')
  }
  const granularity = options.granularity ?? dailyBuckets()
  const d = (granularity as Partial<Granularity> | null)?.descriptor
  if (!hasShape(granularity, ['bucketOf', 'rangeOf', 'windowAt']) || typeof d !== 'object' || d === null || !isPositiveInteger(d.intervalMs) || !isPositiveInteger(d.retentionBuckets)) {
    throw invalid('granularity must be a granularity strategy ({ descriptor, bucketOf, rangeOf, windowAt }), e.g. dailyBuckets()')
  }
  return granularity
}

/**
 * The options that later parts use (session limits and timeouts, session and record proof of work,
 * author strikes, the reconnect cool-down), checked now by those parts' own checks, so a bad value
 * fails here and not at the first peer. Returns the record proof of work.
 */
function checkDeferred(options: PeersetOptions): number {
  const pow = options.proofOfWork
  if (pow !== undefined) {
    if (typeof pow !== 'object' || pow === null || Array.isArray(pow)) throw invalid('proofOfWork must be an object { session?, records? }')
    knownKeys(pow, ['session', 'records'], 'proofOfWork')
  }
  const records = pow?.records ?? 0
  if (!Number.isSafeInteger(records) || records < 0 || records > MAX_POW_DIFFICULTY) {
    throw invalid(`proofOfWork.records must be an integer in 0..${MAX_POW_DIFFICULTY}, got ${String(records)}`)
  }
  const session = pow?.session ?? 0
  if (!Number.isSafeInteger(session) || session < 0 || session > MAX_POW_DIFFICULTY) {
    throw invalid(`proofOfWork.session must be an integer in 0..${MAX_POW_DIFFICULTY}, got ${String(session)}`)
  }
  resolveSessionTuning({ limits: options.sessionLimits, timeouts: options.sessionTimeouts }, 'createPeerset', {
    limits: 'sessionLimits',
    timeouts: 'sessionTimeouts',
    proofOfWork: 'proofOfWork',
  })
  assertFullFrames(options.sessionLimits?.maxFrameBytes, 'createPeerset')
  if (options.strikes !== undefined) {
    try {
      createStrikeLedger(options.strikes)
    } catch (cause) {
      throw invalid(`strikes: ${cause instanceof Error ? cause.message.replace(/^peerset: /, '') : String(cause)}`)
    }
  }
  if (options.reconnectCooldownMs !== undefined) nonNegative(options.reconnectCooldownMs, 'reconnectCooldownMs')
  return records
}

/** The signer's public key, checked: a signer that fails or answers garbage is a typed error. */
async function signerPublicKey(signer: Signer): Promise<string> {
  let key: unknown
  try {
    key = await withinDeadline(Promise.resolve().then(() => signer.getPublicKey()), () => new PeersetError('SIGNER_FAILED', `createPeerset: signer.getPublicKey() did not answer within ${OPEN_STEP_TIMEOUT_MS / 1000} s`, { reason: 'timeout' }))
  } catch (cause) {
    if (isPeersetError(cause, 'SIGNER_FAILED')) throw cause
    throw new PeersetError('SIGNER_FAILED', `createPeerset: signer.getPublicKey() failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
  if (typeof key !== 'string' || !/^[0-9a-f]{64}$/.test(key)) {
    throw new PeersetError('SIGNER_FAILED', 'createPeerset: signer.getPublicKey() did not return 64 lowercase hex digits')
  }
  return key
}

/** `INVALID_ARGUMENT` about an option of `where` (`createPeerset`, or `configure` for live-settings.ts). */
export function invalid(message: string, where = 'createPeerset'): PeersetError {
  return new PeersetError('INVALID_ARGUMENT', `${where}: ${message}`)
}

/** Refuses keys of `object` that are not in `known`, listing the known ones. */
function knownKeys(object: object, known: readonly string[], what: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw invalid(`unknown option ${what === 'options' ? '' : `${what}.`}"${key}" (known: ${known.join(', ')})`)
  }
}

function hasShape(value: unknown, methods: readonly string[]): boolean {
  return typeof value === 'object' && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function')
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}

/** A delay for a timer: positive, and at most {@link MAX_TIMER_MS}. */
export function timerMs(value: unknown, name: string, where?: string): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= MAX_TIMER_MS)) {
    throw invalid(`${name} must be a positive number of ms, at most ${MAX_TIMER_MS}, got ${String(value)}`, where)
  }
  return value
}

/** A positive safe integer, else `INVALID_ARGUMENT` naming `name`. */
export function positiveInteger(value: unknown, name: string, where?: string): number {
  if (!isPositiveInteger(value)) throw invalid(`${name} must be a positive integer, got ${String(value)}`, where)
  return value
}

function nonNegative(value: unknown, name: string): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) throw invalid(`${name} must be a non-negative number, got ${String(value)}`)
  return value
}

/**
 * The settings besides granularity (retention included) and the moderation policy that change
 * which records a peer keeps, by option name, agreed in the hello: the record limits, the record
 * proof of work, the clock skew and the author strike rules. Two peers that differ in one end their
 * session naming it, instead of syncing and quietly keeping different records. Session limits
 * (rates, the peer strike threshold and ban time) are local: they decide whom we talk to, not
 * which records exist.
 */
export function keptSetRules(config: ResolvedOptions): Record<string, number> {
  return keptSetRulesOf({ ...config, strikes: config.given.strikes })
}

/** {@link keptSetRules} from the settings themselves (defaults: `keptSetRulesOf({})`, as a default peerset sends). */
export function keptSetRulesOf(settings: { clockSkewMs?: number; recordProofOfWork?: number; limits?: RecordLimits; strikes?: StrikeLedgerOptions | undefined }): Record<string, number> {
  const strikes = { ...DEFAULT_STRIKE_LEDGER_OPTIONS, ...definedOnly(settings.strikes ?? {}) }
  const rules: Record<string, number> = {
    clockSkewMs: Math.round(settings.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS),
    'proofOfWork.records': settings.recordProofOfWork ?? 0,
    'strikes.threshold': strikes.threshold,
    'strikes.banSeconds': strikes.banSeconds,
    'strikes.strikeSeconds': strikes.strikeSeconds,
    // Peers exchange the records that earned strikes (evidence frames, format 1): a peer that does
    // not would keep a set that depends on who received what, so it ends the session instead.
    'strikes.evidence': 1,
    // Tombstones (withdrawals) are kept, at most this many per author: a peer of an older build
    // would keep withdrawn records instead, so it must not sync with this one.
    'withdrawals.maxPerAuthor': MAX_WITHDRAWALS_PER_AUTHOR,
    // Past the cap, the oldest kept tombstone is the author's horizon: nothing of the author older
    // than it is kept (docs/moderation.md). A build without this rule kept such records.
    'withdrawals.horizon': 1,
  }
  for (const [key, value] of Object.entries(settings.limits ?? resolveLimits())) rules[`limits.${key}`] = value
  return rules
}

/** The entries of `value` (none if undefined) whose value is not undefined. */
export function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>
}

/**
 * A peerset accepts frames up to the wire's largest (`MAX_FRAME_BYTES`): peers pack records and
 * announcements into frames up to that size whatever limit the receiver set, so a lower
 * `sessionLimits.maxFrameBytes` would strike honest peers (`frame-too-large`) and end in bans.
 */
export function assertFullFrames(maxFrameBytes: unknown, fn: string): void {
  if (maxFrameBytes === undefined || maxFrameBytes === MAX_FRAME_BYTES) return
  throw new PeersetError(
    'INVALID_ARGUMENT',
    `${fn}: sessionLimits.maxFrameBytes must be ${MAX_FRAME_BYTES} (the wire's largest frame), got ${String(maxFrameBytes)}: peers pack frames up to that size, so a lower limit would strike honest peers`,
  )
}

/** A clock must be a function that answers a finite number of ms: asked once here, so one that throws is a typed error at once. */
function checkClock(clock: unknown): () => number {
  if (typeof clock !== 'function') throw new PeersetError('INVALID_ARGUMENT', 'createPeerset: clock must be a function')
  let now: unknown
  try {
    now = clock()
  } catch (cause) {
    throw new PeersetError('INVALID_ARGUMENT', `createPeerset: clock() threw: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new PeersetError('INVALID_ARGUMENT', `createPeerset: clock() must return a finite number of ms, got ${String(now)}`)
  return clock as () => number
}
