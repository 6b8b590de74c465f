/**
 * When to try a relay again: exponential backoff between `minMs` and `maxMs`, with up to 20% random
 * extra (so peers that lost the same relay do not come back in step). Pure: time and chance passed in.
 */
export interface BackoffOptions {
  /** The first delay, ms. */
  minMs: number
  /** The longest delay, ms. */
  maxMs: number
}

/** The delay before attempt number `failures + 1` after `failures` failures in a row (failures >= 1). */
export function backoffDelay(failures: number, { minMs, maxMs }: BackoffOptions, random: number = Math.random()): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30)
  const base = Math.min(maxMs, minMs * 2 ** exponent)
  return Math.round(base * (1 + 0.2 * Math.min(Math.max(random, 0), 1)))
}

/**
 * The reasons a relay gives (NIP-01 `OK false` and `CLOSED`) start with a machine-readable prefix.
 * These are the ones that change what we do; any other refusal is final for that event or subscription.
 */
export type RelayReasonKind = 'duplicate' | 'auth-required' | 'rate-limited' | 'other'

/** The kind of a relay's reason string (`"rate-limited: slow down"` is `rate-limited`). */
export function reasonKind(reason: string): RelayReasonKind {
  const prefix = reason.split(':', 1)[0]!.trim()
  if (prefix === 'duplicate' || prefix === 'auth-required' || prefix === 'rate-limited') return prefix
  return 'other'
}
