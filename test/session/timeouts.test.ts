/** Every timeout, with time passed in (no timers). */
import { describe, expect, it } from 'vitest'
import { createIdentity } from '../../src/identity/index.js'
import { DEFAULT_CLIENT_SESSION_MS, DEFAULT_SESSION_TIMEOUTS, clientSessionEndsAt, encodeSessionMessage } from '../../src/session/index.js'
import { RemotePeer, SYNC_FRAME, T0, authenticatedSession, deferredSigner, helloOf, newSession, ofType, sent, settle } from './helpers.js'

const PONG = encodeSessionMessage({ type: 'pong' })

describe('defaults', () => {
  it('are documented values', () => {
    expect(DEFAULT_SESSION_TIMEOUTS).toEqual({ handshakeMs: 15_000, challengeMs: 10_000, idleMs: 90_000, maxSessionMs: 3_600_000, proofTtlMs: 60_000 })
    expect(DEFAULT_CLIENT_SESSION_MS).toBe(6 * 3_600_000)
  })
})

describe('challenge timeout', () => {
  it('closes when no proof arrives within challengeMs of our hello (no strike)', () => {
    const { session } = newSession()
    session.start(T0)
    expect(session.nextDeadlineMs()).toBe(T0 + 10_000)
    expect(session.tick(T0 + 9_999)).toEqual([])
    const actions = session.tick(T0 + 10_000)
    expect(ofType(actions, 'close')[0]?.reason).toBe('challenge-timeout')
    expect(sent(actions)).toEqual([{ type: 'bye', reason: 'challenge-timeout', detail: expect.any(String) }])
    expect(session.strikes).toBe(0)
    expect(session.state).toBe('closed')
  })

  it('counts from our hello, even if the peer said hello late', async () => {
    const { session } = newSession()
    session.start(T0)
    await settle(session.receive(new RemotePeer().hello(), T0 + 9_000))
    expect(ofType(session.tick(T0 + 10_000), 'close')[0]?.reason).toBe('challenge-timeout')
  })
})

describe('handshake timeout', () => {
  it('closes when the peer proved itself but our own signer never finishes', async () => {
    const identity = createIdentity()
    const { session } = newSession({ identity, signer: deferredSigner(identity.signer) })
    const remote = new RemotePeer()
    const hello = helloOf(session.start(T0))
    session.receive(remote.hello(), T0)
    session.receive(await remote.auth(hello, T0), T0 + 1_000)
    expect(session.state).toBe('peer-verified')
    expect(session.tick(T0 + 10_000)).toEqual([]) // their proof came: the challenge is met
    expect(session.nextDeadlineMs()).toBe(T0 + 15_000)
    expect(ofType(session.tick(T0 + 15_000), 'close')[0]?.reason).toBe('handshake-timeout')
  })

  it('follows configured values', () => {
    const { session } = newSession({ timeouts: { handshakeMs: 3_000, challengeMs: 5_000 } })
    session.start(T0)
    expect(ofType(session.tick(T0 + 3_000), 'close')[0]?.reason).toBe('handshake-timeout')
  })
})

describe('idle timeout and keepalive', () => {
  it('pings after a third of idleMs of silence, once per third, and closes after idleMs', async () => {
    const { session } = await authenticatedSession()
    expect(session.tick(T0 + 29_999)).toEqual([])
    expect(sent(session.tick(T0 + 30_000))).toEqual([{ type: 'ping' }])
    expect(session.tick(T0 + 31_000)).toEqual([])
    expect(sent(session.tick(T0 + 60_000))).toEqual([{ type: 'ping' }])
    expect(ofType(session.tick(T0 + 90_000), 'close')[0]).toMatchObject({ reason: 'idle-timeout' })
  })

  it('any frame from the peer (a pong, a sync frame) resets the silence', async () => {
    const { session } = await authenticatedSession()
    session.tick(T0 + 30_000)
    session.receive(PONG, T0 + 31_000)
    session.receive(SYNC_FRAME, T0 + 80_000)
    expect(session.nextDeadlineMs()).toBe(T0 + 110_000)
    expect(ofType(session.tick(T0 + 120_000), 'close')).toEqual([])
    expect(ofType(session.tick(T0 + 170_000), 'close')[0]?.reason).toBe('idle-timeout')
  })

  it('answers a ping with a pong', async () => {
    const { session } = await authenticatedSession()
    expect(sent(session.receive(encodeSessionMessage({ type: 'ping' }), T0 + 1))).toEqual([{ type: 'pong' }])
  })
})

describe('maximum peer session', () => {
  const keepAlive = { idleMs: 100 * 3_600_000 }

  it('the initiator (smaller transport id) closes with re-auth at maxSessionMs', async () => {
    const { session } = await authenticatedSession({ selfId: 'a', peerId: 'b', timeouts: keepAlive })
    expect(ofType(session.tick(T0 + 3_600_000 - 1), 'close')).toEqual([])
    const actions = session.tick(T0 + 3_600_000)
    expect(ofType(actions, 'close')[0]?.reason).toBe('re-auth')
    expect(sent(actions)).toEqual([{ type: 'bye', reason: 're-auth', detail: expect.any(String) }])
  })

  it("the other side waits one handshakeMs longer (for the initiator's bye) before closing itself", async () => {
    const { session } = await authenticatedSession({ selfId: 'b', peerId: 'a', timeouts: keepAlive })
    expect(ofType(session.tick(T0 + 3_600_000), 'close')).toEqual([])
    expect(ofType(session.tick(T0 + 3_615_000), 'close')[0]?.reason).toBe('re-auth')
  })
})

describe('ended sessions', () => {
  it('do nothing on tick and have no deadline', () => {
    const { session } = newSession()
    expect(session.tick(T0)).toEqual([]) // not started
    session.start(T0)
    session.close()
    expect(session.tick(T0 + 1_000_000)).toEqual([])
    expect(session.nextDeadlineMs()).toBeUndefined()
  })
})

describe('maximum client session', () => {
  it('ends 6 h after joining by default; jitter shortens it by up to 10%', () => {
    expect(clientSessionEndsAt(T0)).toBe(T0 + 6 * 3_600_000)
    expect(clientSessionEndsAt(T0, { jitter: 0.5 })).toBe(T0 + 0.95 * 6 * 3_600_000)
    expect(clientSessionEndsAt(T0, { maxMs: 60_000 })).toBe(T0 + 60_000)
    expect(() => clientSessionEndsAt(T0, { jitter: 1 })).toThrow(/jitter/)
  })
})

describe('a proof the peer may not have received', () => {
  /** Authenticated, and the peer has sent nothing since: our proof may have been lost. */
  async function unconfirmed() {
    const { session } = newSession()
    const remote = new RemotePeer({ id: session.peerId, sessionId: session.selfId })
    const started = session.start(T0)
    const answered = await settle(session.receive(remote.hello(), T0))
    const ourAuth = ofType(answered, 'send').find((a) => sent([a])[0]?.type === 'auth')!.bytes
    session.receive(await remote.auth(helloOf(started), T0), T0)
    expect(session.state).toBe('authenticated')
    return { session, ourAuth }
  }

  it('is sent again (the same bytes, with a ping) at 1, 2, 4 and 8 s until the peer confirms', async () => {
    const { session, ourAuth } = await unconfirmed()
    const resent: number[] = []
    for (let t = T0; t < T0 + 9_000; t += 100) {
      const actions = ofType(session.tick(t), 'send')
      if (actions.length === 0) continue
      expect(actions[0]!.bytes).toEqual(ourAuth)
      expect(sent(actions.slice(1))).toEqual([{ type: 'ping' }])
      resent.push(t - T0)
    }
    expect(resent).toEqual([1_000, 2_000, 4_000, 8_000])
  })

  it('the session closes with challenge-timeout if the peer never confirms (no half-open session), with no strike', async () => {
    const { session } = await unconfirmed()
    expect(session.nextDeadlineMs()).toBe(T0 + 1_000)
    for (let t = T0; t < T0 + 10_000; t += 500) expect(ofType(session.tick(t), 'close')).toEqual([])
    expect(ofType(session.tick(T0 + 10_000), 'close')[0]?.reason).toBe('challenge-timeout')
    expect(session.strikes).toBe(0)
  })

  it('a pong (or any sync frame or ping) confirms: no more copies, and the usual keepalive', async () => {
    const { session } = await unconfirmed()
    session.tick(T0 + 1_000)
    session.receive(PONG, T0 + 1_050)
    expect(session.rttMs).toBe(50)
    expect(session.tick(T0 + 2_000)).toEqual([])
    expect(session.tick(T0 + 20_000)).toEqual([])
    expect(sent(session.tick(T0 + 1_050 + 30_000))).toEqual([{ type: 'ping' }])
  })
})
