/** `createPeerset`'s options, checked and with their defaults filled in. */
import { dailyBuckets } from '../buckets/index.js'
import type { Granularity } from '../buckets/types.js'
import { PeersetError } from '../errors.js'
import { resolveSigner } from '../identity/index.js'
import type { Signer } from '../identity/types.js'
import { createModeration } from '../moderation/index.js'
import type { ModerationStrategy } from '../moderation/types.js'
import { resolveLimits } from '../record/index.js'
import type { RecordLimits } from '../record/types.js'
import { DEFAULT_CLIENT_SESSION_MS } from '../session/index.js'
import type { PeersetOptions } from '../peerset-types.js'
import { DEFAULT_CLOCK_SKEW_MS } from './time-window.js'

/** The options a running peerset works with. */
export interface ResolvedOptions {
  readonly room: string
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
  readonly signer: Signer
  /** The signer's public key (hex), checked. */
  readonly publicKey: string
  /** The retention window in seconds (for the records' NIP-40 expiration). */
  readonly retentionSeconds: number
  /** The caller's options, for what is passed through as is. */
  readonly given: PeersetOptions
}

/** Check `createPeerset`'s options and fill in the defaults; throws `INVALID_ARGUMENT` or `SIGNER_FAILED`. */
export async function resolveOptions(options: PeersetOptions): Promise<ResolvedOptions> {
  if (typeof options !== 'object' || options === null) {
    throw new PeersetError('INVALID_ARGUMENT', 'createPeerset(options): options must be an object')
  }
  const { room } = options
  if (typeof room !== 'string' || room.length === 0 || room.length > 256) {
    throw new PeersetError('INVALID_ARGUMENT', 'createPeerset: room must be a non-empty string of at most 256 characters')
  }
  const clock = options.clock ?? Date.now
  if (typeof clock !== 'function') throw new PeersetError('INVALID_ARGUMENT', 'createPeerset: clock must be a function')
  const granularity = options.granularity ?? dailyBuckets()
  const signer = resolveSigner(options.identity)
  return {
    room,
    clock,
    clockSkewMs: nonNegative(options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS, 'clockSkewMs'),
    tickIntervalMs: positive(options.tickIntervalMs ?? 60_000, 'tickIntervalMs'),
    sessionTickMs: positive(options.sessionTickMs ?? 1_000, 'sessionTickMs'),
    maxPeers: positive(options.maxPeers ?? 32, 'maxPeers'),
    maxClientSessionMs: positive(options.maxClientSessionMs ?? DEFAULT_CLIENT_SESSION_MS, 'maxClientSessionMs'),
    closeTimeoutMs: positive(options.closeTimeoutMs ?? 5_000, 'closeTimeoutMs'),
    limits: resolveLimits(options.limits),
    recordProofOfWork: options.proofOfWork?.records ?? 0,
    granularity,
    moderation: options.moderation ?? createModeration(),
    signer,
    publicKey: await signerPublicKey(signer),
    retentionSeconds: (granularity.descriptor.intervalMs * granularity.descriptor.retentionBuckets) / 1000,
    given: options,
  }
}

/** The signer's public key, checked: a signer that fails or answers garbage is a typed error. */
async function signerPublicKey(signer: Signer): Promise<string> {
  let key: unknown
  try {
    key = await signer.getPublicKey()
  } catch (cause) {
    throw new PeersetError('SIGNER_FAILED', `createPeerset: signer.getPublicKey() failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
  if (typeof key !== 'string' || !/^[0-9a-f]{64}$/.test(key)) {
    throw new PeersetError('SIGNER_FAILED', 'createPeerset: signer.getPublicKey() did not return 64 lowercase hex digits')
  }
  return key
}

function positive(value: number, name: string): number {
  if (!(Number.isFinite(value) && value > 0)) throw new PeersetError('INVALID_ARGUMENT', `createPeerset: ${name} must be a positive number`)
  return value
}

function nonNegative(value: number, name: string): number {
  if (!(Number.isFinite(value) && value >= 0)) throw new PeersetError('INVALID_ARGUMENT', `createPeerset: ${name} must be a non-negative number`)
  return value
}
