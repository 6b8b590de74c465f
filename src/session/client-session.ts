/** The maximum client session: how long a peerset stays in a room before it leaves and rejoins. */
import { PeersetError } from '../errors.js'
import { DEFAULT_CLIENT_SESSION_MS } from './defaults.js'

/** Options of {@link clientSessionEndsAt}. */
export interface ClientSessionOptions {
  /** Longest stay in a room, ms. Default `DEFAULT_CLIENT_SESSION_MS` (6 h). */
  maxMs?: number
  /**
   * A number in [0, 1) (e.g. `Math.random()`) that shortens the stay by up to 10%, so peers that
   * joined together do not all leave together. Default 0.
   */
  jitter?: number
}

/**
 * When a peerset that joined a room at `joinedAtMs` should leave it and rejoin (with a fresh
 * transport id and fresh sessions). Rejoining bounds how long any one transport identity and any
 * set of sessions live, and lets the swarm's topology refresh.
 * @example
 * ```ts
 * const rejoinAt = clientSessionEndsAt(joinedAtMs, { jitter: Math.random() })
 * if (Date.now() >= rejoinAt) await rejoin()
 * ```
 */
export function clientSessionEndsAt(joinedAtMs: number, options: ClientSessionOptions = {}): number {
  const maxMs = options.maxMs ?? DEFAULT_CLIENT_SESSION_MS
  const jitter = options.jitter ?? 0
  if (!Number.isFinite(joinedAtMs)) throw new PeersetError('INVALID_ARGUMENT', 'clientSessionEndsAt: joinedAtMs must be a finite number')
  if (!Number.isFinite(maxMs) || maxMs <= 0) throw new PeersetError('INVALID_ARGUMENT', 'clientSessionEndsAt: maxMs must be a positive number')
  if (!(jitter >= 0 && jitter < 1)) throw new PeersetError('INVALID_ARGUMENT', 'clientSessionEndsAt: jitter must be in [0, 1)')
  return joinedAtMs + Math.round(maxMs * (1 - 0.1 * jitter))
}
