/**
 * The settings a running peerset can change (`peerset.configure()`): each peer's own tuning of its
 * sessions and its room, never what decides which records exist. Settings the room must agree on
 * (granularity, retention, moderation, strikes, record limits, clock skew, proof of work) and what
 * the peerset was built from (room, identity, storage, transport, clock, timers) need a new peerset.
 */
import { PeersetError } from '../errors.js'
import type { PeersetSettings, PeersetSettingsChange } from '../peerset-types.js'
import { DEFAULT_SESSION_LIMITS, DEFAULT_SESSION_TIMEOUTS, resolveSessionTuning, type SessionLimits, type SessionTimeouts } from '../session/index.js'
import { assertFullFrames, definedOnly, invalid as invalidOption, positiveInteger, timerMs, type ResolvedOptions } from './options.js'
import { MAX_EXPECTED_RECORDS } from './peer-table.js'

/** The options `configure()` changes on a running peerset. */
export const LIVE_SETTING_KEYS: readonly (keyof PeersetSettingsChange)[] = ['sessionTimeouts', 'sessionLimits', 'maxPeers', 'maxClientSessionMs', 'closeTimeoutMs']

/** `createPeerset` options every peer of a room must share: changing one means a new peerset that only syncs with peers on the same setting. */
export const ROOM_WIDE_SETTING_KEYS: readonly string[] = ['granularity', 'moderation', 'strikes', 'limits', 'clockSkewMs', 'proofOfWork']

/** `createPeerset` options the peerset is built from: changing one means a new peerset. */
export const FIXED_SETTING_KEYS: readonly string[] = ['room', 'identity', 'storage', 'transport', 'clock', 'tickIntervalMs', 'sessionTickMs', 'reconnectCooldownMs', 'verifier', 'relays']

/** What the engine runs with: the caller's session tuning as given (the engine fills in its own defaults), and the room's tuning. */
export interface LiveTuning {
  sessionTimeouts: Partial<SessionTimeouts>
  sessionLimits: Partial<SessionLimits>
  maxPeers: number
  maxClientSessionMs: number
  closeTimeoutMs: number
}

/** The tuning a peerset starts with, from its checked options. */
export function initialTuning(config: ResolvedOptions): LiveTuning {
  return {
    // A proof's time may differ from ours as much as a record's may (at least the session default):
    // honest peers whose clocks differ by less than `clockSkewMs` must authenticate.
    sessionTimeouts: { proofTtlMs: Math.max(DEFAULT_SESSION_TIMEOUTS.proofTtlMs, config.clockSkewMs), ...definedOnly(config.given.sessionTimeouts) },
    sessionLimits: { ...definedOnly(config.given.sessionLimits) },
    maxPeers: config.maxPeers,
    maxClientSessionMs: config.maxClientSessionMs,
    closeTimeoutMs: config.closeTimeoutMs,
  }
}

/**
 * `current` changed by `change`, checked: unknown keys, and the room-wide or fixed options named as
 * such, are refused with `INVALID_ARGUMENT` (nothing changes then); nested objects merge key by key.
 */
export function applyChange(current: LiveTuning, change: unknown): LiveTuning {
  if (typeof change !== 'object' || change === null || Array.isArray(change)) throw invalid('settings must be an object')
  // Own keys only: `{ __proto__: { maxPeers: 3 } }` has none, and must change nothing.
  const own = Object.fromEntries(Object.entries(change)) as Record<string, unknown>
  const keys = Object.keys(own)
  const roomWide = keys.filter((k) => ROOM_WIDE_SETTING_KEYS.includes(k))
  if (roomWide.length > 0) {
    throw new PeersetError(
      'INVALID_ARGUMENT',
      `configure: ${roomWide.join(', ')} must match across the room and cannot change on a running peerset: close it and create a new one (peers on other settings will not sync with it)`,
      { reason: 'room-wide-setting' },
    )
  }
  const fixed = keys.filter((k) => FIXED_SETTING_KEYS.includes(k))
  if (fixed.length > 0) throw new PeersetError('INVALID_ARGUMENT', `configure: ${fixed.join(', ')} cannot change on a running peerset: close it and create a new one`, { reason: 'fixed-setting' })
  for (const key of keys) {
    if (!(LIVE_SETTING_KEYS as readonly string[]).includes(key)) throw invalid(`unknown option "${key}" (known: ${LIVE_SETTING_KEYS.join(', ')})`)
  }
  const c = own as PeersetSettingsChange
  const next: LiveTuning = {
    sessionTimeouts: { ...current.sessionTimeouts, ...definedOnly(checkObject(c.sessionTimeouts, 'sessionTimeouts')) },
    sessionLimits: { ...current.sessionLimits, ...definedOnly(checkObject(c.sessionLimits, 'sessionLimits')) },
    maxPeers: c.maxPeers === undefined ? current.maxPeers : positiveInteger(c.maxPeers, 'maxPeers', 'configure'),
    maxClientSessionMs: c.maxClientSessionMs === undefined ? current.maxClientSessionMs : timerMs(c.maxClientSessionMs, 'maxClientSessionMs', 'configure'),
    closeTimeoutMs: c.closeTimeoutMs === undefined ? current.closeTimeoutMs : timerMs(c.closeTimeoutMs, 'closeTimeoutMs', 'configure'),
  }
  // The sessions' own checks (ranges, unknown keys), with the names `configure` takes.
  resolveSessionTuning({ limits: next.sessionLimits, timeouts: next.sessionTimeouts }, 'configure', { limits: 'sessionLimits', timeouts: 'sessionTimeouts', proofOfWork: 'proofOfWork' })
  assertFullFrames(next.sessionLimits.maxFrameBytes, 'configure')
  return next
}

/** The tuning as the host app sees it: every value, defaults filled in as the engine fills them. */
export function settingsOf(tuning: LiveTuning): PeersetSettings {
  return {
    sessionTimeouts: { ...DEFAULT_SESSION_TIMEOUTS, ...tuning.sessionTimeouts },
    sessionLimits: { ...DEFAULT_SESSION_LIMITS, maxExpectedRecords: MAX_EXPECTED_RECORDS, ...tuning.sessionLimits },
    maxPeers: tuning.maxPeers,
    maxClientSessionMs: tuning.maxClientSessionMs,
    closeTimeoutMs: tuning.closeTimeoutMs,
  }
}

const invalid = (message: string): PeersetError => invalidOption(message, 'configure')

function checkObject<T extends object>(value: T | undefined, name: string): T | undefined {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) throw invalid(`${name} must be an object`)
  return value
}
