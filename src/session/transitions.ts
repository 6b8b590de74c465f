/**
 * The session's one transition table. A (state, event) pair that is not listed is not allowed: for
 * an incoming frame that is a protocol violation (a strike); `closed` and `banned` are terminal and
 * ignore everything.
 */
import type { SessionEvent, SessionState } from './types.js'

/**
 * Every state, live ones first.
 * @example
 * ```ts
 * SESSION_STATES.includes(session.state) // true, always
 * ```
 */
export const SESSION_STATES: readonly SessionState[] = [
  'connecting',
  'hello-sent',
  'authenticating',
  'proof-sent',
  'peer-verified',
  'authenticated',
  'closed',
  'banned',
]

/**
 * Every event: the incoming frame kinds, then the local ones.
 * @example
 * ```ts
 * SESSION_EVENTS.filter((e) => nextState('authenticated', e) !== undefined) // ['ping', 'pong', 'bye', 'sync', 'close', 'ban']
 * ```
 */
export const SESSION_EVENTS: readonly SessionEvent[] = ['hello', 'auth', 'ping', 'pong', 'bye', 'sync', 'start', 'proof-sent', 'close', 'ban']

/** Ends every live state may reach: a bye from the peer, a local close, a ban. */
const ENDINGS = { bye: 'closed', close: 'closed', ban: 'banned' } as const

/**
 * The transition table: `TRANSITIONS[state][event]` is the next state; a missing entry means the
 * event is not allowed in that state.
 * @example
 * ```ts
 * TRANSITIONS['hello-sent'].hello // 'authenticating'
 * TRANSITIONS['hello-sent'].sync  // undefined: a sync frame before authentication is a violation
 * ```
 */
export const TRANSITIONS: Readonly<Record<SessionState, Readonly<Partial<Record<SessionEvent, SessionState>>>>> = Object.freeze({
  connecting: { start: 'hello-sent', ...ENDINGS },
  'hello-sent': { hello: 'authenticating', ...ENDINGS },
  authenticating: { hello: 'authenticating', auth: 'peer-verified', 'proof-sent': 'proof-sent', ...ENDINGS },
  'proof-sent': { hello: 'authenticating', auth: 'authenticated', ...ENDINGS },
  'peer-verified': { hello: 'authenticating', 'proof-sent': 'authenticated', ...ENDINGS },
  authenticated: { ping: 'authenticated', pong: 'authenticated', sync: 'authenticated', ...ENDINGS },
  closed: {},
  banned: {},
})

const LEFTOVERS: ReadonlySet<SessionEvent> = new Set<SessionEvent>(['sync', 'ping', 'pong'])

/**
 * Frames that are not allowed in a state but that an honest peer can still send there, so they are
 * dropped without a strike (and without changing state): before authentication, sync frames, pings
 * and pongs, which may be left over from a previous session with the same peer (in flight when it
 * ended, or reordered), or come from a peer that verified our proof while its own was lost.
 * Hellos and proofs are not in this table: the session checks which session they belong to (a
 * leftover is dropped without a strike). Budgets still apply. Everything else not in
 * {@link TRANSITIONS} is a violation.
 * @example
 * ```ts
 * isTolerated('proof-sent', 'sync') // true
 * isTolerated('authenticated', 'start') // false
 * ```
 */
export const TOLERATED: Readonly<Partial<Record<SessionState, ReadonlySet<SessionEvent>>>> = Object.freeze({
  'hello-sent': LEFTOVERS,
  authenticating: LEFTOVERS,
  'proof-sent': LEFTOVERS,
  'peer-verified': LEFTOVERS,
})

/** Whether `event` in `state` is dropped silently (see {@link TOLERATED}). */
export function isTolerated(state: SessionState, event: SessionEvent): boolean {
  return TOLERATED[state]?.has(event) ?? false
}

/**
 * The state after `event` in `state`, or `undefined` if the event is not allowed there.
 * @example
 * ```ts
 * nextState('proof-sent', 'auth') // 'authenticated'
 * nextState('authenticated', 'hello') // undefined
 * ```
 */
export function nextState(state: SessionState, event: SessionEvent): SessionState | undefined {
  return TRANSITIONS[state][event]
}

/**
 * Whether a state is terminal (`closed` or `banned`).
 * @example
 * ```ts
 * isTerminal('banned') // true
 * ```
 */
export function isTerminal(state: SessionState): boolean {
  return state === 'closed' || state === 'banned'
}
