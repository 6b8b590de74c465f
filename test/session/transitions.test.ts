/**
 * The state machine, walked exhaustively: every (state, incoming frame kind) pair is fed to a real
 * session brought to that state. Allowed pairs move to the state the specification below names;
 * every other pair is a `wrong-state` strike that leaves the state alone; ended sessions ignore all.
 */
import { describe, expect, it } from 'vitest'
import { createIdentity } from '../../src/identity/index.js'
import {
  SESSION_EVENTS,
  SESSION_STATES,
  TRANSITIONS,
  encodeSessionMessage,
  nextState,
  type PeerSession,
  type SessionEvent,
  type SessionState,
} from '../../src/session/index.js'
import { RemotePeer, SYNC_FRAME, T0, deferredSigner, helloOf, newSession, ofType, settle } from './helpers.js'

type FrameKind = 'hello' | 'auth' | 'ping' | 'pong' | 'bye' | 'sync'
const FRAME_KINDS: FrameKind[] = ['hello', 'auth', 'ping', 'pong', 'bye', 'sync']

/**
 * Frames an honest peer can still send where they are not allowed (stale frames of a previous
 * session; frames of a peer whose proof was lost; copies and reordered frames): dropped, no strike,
 * no state change. The hello here is a copy of the one the session holds (same epoch); the auth in
 * `hello-sent` is a proof that came before its hello (kept until the hello comes).
 */
const TOLERATED_SPEC: Partial<Record<SessionState, FrameKind[]>> = {
  'hello-sent': ['sync', 'ping', 'pong', 'auth'],
  authenticating: ['sync', 'ping', 'pong', 'hello'],
  'proof-sent': ['sync', 'ping', 'pong', 'hello'],
  'peer-verified': ['sync', 'ping', 'pong', 'hello', 'auth'],
  authenticated: ['hello', 'auth'],
}

/** The specification: where each allowed frame leads. Anything missing and not tolerated is a violation. */
const SPEC: Record<SessionState, Partial<Record<FrameKind, SessionState>> | 'ignores everything'> = {
  connecting: { bye: 'closed' },
  'hello-sent': { hello: 'authenticating', bye: 'closed' },
  // A newer hello (higher epoch) before authentication is answered in the same session.
  authenticating: { hello: 'authenticating', auth: 'peer-verified', bye: 'closed' },
  'proof-sent': { hello: 'authenticating', auth: 'authenticated', bye: 'closed' },
  'peer-verified': { hello: 'authenticating', bye: 'closed' },
  authenticated: { ping: 'authenticated', pong: 'authenticated', sync: 'authenticated', bye: 'closed' },
  closed: 'ignores everything',
  banned: 'ignores everything',
}

/** A session in `state`, the remote peer facing it, and the frame of each kind that peer would send. */
async function sessionIn(state: SessionState): Promise<{ session: PeerSession; frames: Record<FrameKind, Uint8Array> }> {
  const identity = createIdentity()
  const signer = deferredSigner(identity.signer)
  const { session } = newSession({ identity, signer })
  const remote = new RemotePeer()
  const frames: Record<FrameKind, Uint8Array> = {
    hello: remote.hello(),
    auth: await remote.auth({ ...remote.helloMessage(), nonce: '00'.repeat(32) }, T0), // bound to no real session
    ping: encodeSessionMessage({ type: 'ping' }),
    pong: encodeSessionMessage({ type: 'pong' }),
    bye: encodeSessionMessage({ type: 'bye', reason: 'local', detail: '' }),
    sync: SYNC_FRAME,
  }
  if (state === 'connecting') return { session, frames }
  const started = session.start(T0)
  frames.auth = await remote.auth(helloOf(started), T0)
  if (state === 'closed') session.close()
  if (state === 'banned') for (let i = 0; i < 3; i++) session.strike('test', T0)
  if (state === 'hello-sent' || state === 'closed' || state === 'banned') return { session, frames }
  const signing = session.receive(remote.hello(), T0) // -> authenticating, our proof waits for the signer
  if (state === 'authenticating') return { session, frames }
  if (state === 'peer-verified') {
    session.receive(frames.auth, T0)
    return { session, frames }
  }
  signer.release()
  await settle(signing) // -> proof-sent
  if (state === 'authenticated') session.receive(frames.auth, T0)
  return { session, frames }
}

describe('the transition table', () => {
  it('is the specification', () => {
    for (const state of SESSION_STATES) {
      const spec = SPEC[state]
      for (const kind of FRAME_KINDS) {
        expect(nextState(state, kind), `${state} + ${kind}`).toBe(spec === 'ignores everything' ? undefined : spec[kind])
      }
    }
  })

  it('moves on local events only where they make sense', () => {
    const local: [SessionState, SessionEvent, SessionState | undefined][] = [
      ['connecting', 'start', 'hello-sent'],
      ['hello-sent', 'start', undefined],
      ['authenticating', 'proof-sent', 'proof-sent'],
      ['peer-verified', 'proof-sent', 'authenticated'],
      ['hello-sent', 'proof-sent', undefined],
      ['authenticated', 'proof-sent', undefined],
    ]
    for (const [state, event, to] of local) expect(nextState(state, event), `${state} + ${event}`).toBe(to)
    for (const state of SESSION_STATES) {
      const live = state !== 'closed' && state !== 'banned'
      expect(nextState(state, 'close')).toBe(live ? 'closed' : undefined)
      expect(nextState(state, 'ban')).toBe(live ? 'banned' : undefined)
    }
  })

  it('lists no event outside SESSION_EVENTS', () => {
    for (const row of Object.values(TRANSITIONS)) for (const event of Object.keys(row)) expect(SESSION_EVENTS).toContain(event)
  })
})

describe('every (state, frame) pair on a live session', () => {
  for (const state of SESSION_STATES) {
    for (const kind of FRAME_KINDS) {
      const spec = SPEC[state]
      const to = spec === 'ignores everything' ? undefined : spec[kind]
      const tolerated = TOLERATED_SPEC[state]?.includes(kind) ?? false
      const title =
        spec === 'ignores everything' || tolerated
          ? `${state} ignores ${kind}`
          : to === undefined
            ? `${state} + ${kind} is a violation`
            : `${state} + ${kind} -> ${to}`
      it(title, async () => {
        const { session, frames } = await sessionIn(state)
        expect(session.state).toBe(state)
        const strikesBefore = session.strikes
        const actions = session.receive(frames[kind], T0)
        if (spec === 'ignores everything' || tolerated) {
          expect(actions).toEqual([])
          expect(session.state).toBe(state)
        } else if (to === undefined) {
          expect(ofType(actions, 'strike')).toEqual([
            { type: 'strike', reason: 'wrong-state', count: strikesBefore + 1, detail: `a ${kind} frame is not allowed in state ${state}` },
          ])
          expect(session.state).toBe(state)
        } else {
          expect(ofType(actions, 'strike')).toEqual([])
          expect(session.state).toBe(to)
          if (to !== state) expect(ofType(actions, 'state')).toEqual([{ type: 'state', from: state, to }])
        }
      })
    }
  }
})

describe('local calls', () => {
  it('start() is allowed once, in connecting', () => {
    const { session } = newSession()
    session.start(T0)
    expect(() => session.start(T0)).toThrow(/already started/)
  })

  it('close() ends every live state with a bye; it does nothing once ended', async () => {
    for (const state of SESSION_STATES) {
      const { session } = await sessionIn(state)
      const actions = session.close('local', 'leaving')
      if (state === 'closed' || state === 'banned') {
        expect(actions).toEqual([])
        continue
      }
      expect(session.state).toBe('closed')
      expect(actions.map((a) => a.type)).toEqual(['state', 'send', 'close'])
      expect(ofType(actions, 'close')[0]).toEqual({ type: 'close', reason: 'local', detail: 'leaving' })
    }
  })
})
