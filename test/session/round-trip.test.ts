/** `PeerSession.rttMs`: the handshake's round trip, then each keepalive's (time passed in). */
import { describe, expect, it } from 'vitest'
import { encodeSessionMessage } from '../../src/session/index.js'
import { RemotePeer, SYNC_FRAME, T0, helloOf, newSession, sent, settle } from './helpers.js'

const PONG = encodeSessionMessage({ type: 'pong' })

describe('round-trip time', () => {
  it('is unknown before the proof, then our hello to the verified proof, then each ping to its pong', async () => {
    const { session } = newSession()
    const remote = new RemotePeer({ id: session.peerId, sessionId: session.selfId })
    const started = session.start(T0)
    await settle(session.receive(remote.hello(), T0 + 40))
    expect(session.rttMs).toBeUndefined()
    session.receive(await remote.auth(helloOf(started), T0 + 90), T0 + 90)
    expect(session.state).toBe('authenticated')
    expect(session.rttMs).toBe(90)
    session.receive(SYNC_FRAME, T0 + 90) // the peer accepted our proof

    expect(sent(session.tick(T0 + 90 + 30_000))).toEqual([{ type: 'ping' }])
    session.receive(PONG, T0 + 90 + 30_000 + 125)
    expect(session.rttMs).toBe(125)
  })
})
