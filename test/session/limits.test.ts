/**
 * Budgets and strikes: oversized frames, floods and junk earn strikes and then a ban; records we
 * asked for never count as a flood; moderation is not the session's business.
 */
import { describe, expect, it } from 'vitest'
import { MAX_FRAME_BYTES, MESSAGE_TYPE_CODES, PROTOCOL_VERSION } from '../../src/protocol/messages.js'
import { DEFAULT_SESSION_LIMITS, SESSION_PROTOCOL_VERSION, encodeSessionMessage, type PeerSession, type SessionAction } from '../../src/session/index.js'
import { createIdentity } from '../../src/identity/index.js'
import { RemotePeer, SYNC_FRAME, T0, authenticatedSession, deferredSigner, newSession, ofType } from './helpers.js'

const PING = encodeSessionMessage({ type: 'ping' })

/** A sync `records` frame claiming `count` records, padded to `size` bytes. */
function recordsFrame(count: number, size = 64): Uint8Array {
  const frame = new Uint8Array(size)
  frame.set([PROTOCOL_VERSION, MESSAGE_TYPE_CODES.records, count])
  return frame
}

function feed(session: PeerSession, frame: Uint8Array, times: number, nowMs: number): SessionAction[] {
  const actions: SessionAction[] = []
  for (let i = 0; i < times; i++) actions.push(...session.receive(frame, nowMs))
  return actions
}

describe('defaults', () => {
  it('are documented values', () => {
    expect(DEFAULT_SESSION_LIMITS).toEqual({
      maxFrameBytes: MAX_FRAME_BYTES,
      messagesPerSecond: 200,
      messageBurst: 1_000,
      bytesPerSecond: 1_048_576,
      byteBurst: 4_194_304,
      unsolicitedRecordsPerSecond: 20,
      unsolicitedRecordBurst: 200,
      maxExpectedRecords: 1_024,
      rateStrikeIntervalMs: 1_000,
      strikeThreshold: 3,
      banMs: 3_600_000,
    })
  })
})

describe('frame size', () => {
  it('an oversized frame is a strike and is never classified or decoded', async () => {
    let classified = 0
    const { session } = await authenticatedSession({ classify: () => (classified++, 'other') })
    const actions = session.receive(new Uint8Array(MAX_FRAME_BYTES + 1), T0)
    expect(ofType(actions, 'strike')[0]).toMatchObject({ reason: 'frame-too-large', count: 1 })
    expect(ofType(actions, 'deliver')).toEqual([])
    expect(classified).toBe(1) // only the sync frame that confirmed the handshake (see authenticatedSession)
  })

  it('three oversized frames ban the peer by transport id and proven pubkey', async () => {
    const { session, remote } = await authenticatedSession()
    const actions = feed(session, new Uint8Array(MAX_FRAME_BYTES + 1), 3, T0)
    expect(ofType(actions, 'strike').map((s) => s.count)).toEqual([1, 2, 3])
    expect(ofType(actions, 'close')[0]?.reason).toBe('banned')
    expect(ofType(actions, 'ban')).toEqual([{ type: 'ban', reason: 'frame-too-large', untilMs: T0 + 3_600_000, peerId: 'peer', pubkey: remote.identity.publicKey }])
    expect(session.state).toBe('banned')
    expect(session.receive(SYNC_FRAME, T0)).toEqual([]) // ignored from now on
  })
})

describe('rate limits', () => {
  it('a frame flood: one strike per second of flooding, a ban on the third', async () => {
    const { session } = await authenticatedSession()
    const first = feed(session, PING, 1_000 + 50, T0) // the burst, then 50 over it
    expect(ofType(first, 'send')).toHaveLength(1_000 - 3) // the peer's hello, auth and first sync frame took three of the burst
    expect(ofType(first, 'strike')).toEqual([{ type: 'strike', reason: 'rate-messages', count: 1, detail: 'over 200 frames per second' }])
    expect(ofType(feed(session, PING, 500, T0 + 1_000), 'strike').map((s) => s.count)).toEqual([2])
    const third = feed(session, PING, 500, T0 + 2_000)
    expect(ofType(third, 'ban')[0]).toMatchObject({ reason: 'rate-messages', untilMs: T0 + 2_000 + 3_600_000 })
  })

  it('a byte flood of unsolicited sync frames is a rate-bytes strike', async () => {
    const { session } = await authenticatedSession()
    const big = new Uint8Array(MAX_FRAME_BYTES)
    big.set([PROTOCOL_VERSION, 0x01])
    const actions = feed(session, big, 300, T0)
    expect(ofType(actions, 'deliver').length).toBe(Math.floor(4_194_304 / MAX_FRAME_BYTES))
    expect(ofType(actions, 'strike')[0]?.reason).toBe('rate-bytes')
  })

  it('traffic within the sustained rates is never struck', async () => {
    const { session } = await authenticatedSession()
    for (let second = 0; second < 60; second++) {
      const actions = feed(session, SYNC_FRAME, 200, T0 + second * 1_000)
      expect(ofType(actions, 'strike')).toEqual([])
    }
  })
})

describe('records: flow control, not punishment', () => {
  it('unsolicited records beyond their budget are a record-flood strike', async () => {
    const { session } = await authenticatedSession()
    const actions = feed(session, recordsFrame(10), 21, T0) // 210 records, burst 200
    expect(ofType(actions, 'deliver')).toHaveLength(20)
    expect(ofType(actions, 'strike')[0]).toMatchObject({ reason: 'record-flood' })
  })

  it('records we asked for never count: a catch-up of 100 000 records in one instant is never struck', async () => {
    const { session } = await authenticatedSession({ limits: { maxExpectedRecords: 100_000 } })
    session.expectRecords(100_000)
    const frame = recordsFrame(20, MAX_FRAME_BYTES) // 5 000 full frames, 80 MB at once
    const actions = feed(session, frame, 5_000, T0)
    expect(ofType(actions, 'strike')).toEqual([])
    expect(ofType(actions, 'deliver')).toHaveLength(5_000)
    expect(session.snapshot().expectedRecords).toBe(0)
    // ...and the unsolicited budget is still whole afterwards
    expect(ofType(feed(session, recordsFrame(10), 20, T0), 'strike')).toEqual([])
  })

  it('only the records beyond what we asked for are charged', async () => {
    const { session } = await authenticatedSession({ limits: { unsolicitedRecordBurst: 5, unsolicitedRecordsPerSecond: 1 } })
    session.expectRecords(10)
    expect(ofType(session.receive(recordsFrame(15), T0), 'deliver')).toHaveLength(1) // 10 asked for + 5 unsolicited
    expect(ofType(session.receive(recordsFrame(1), T0), 'strike')[0]?.reason).toBe('record-flood')
  })

  it('cancelExpectedRecords withdraws what we no longer wait for', async () => {
    const { session } = await authenticatedSession()
    session.expectRecords(50)
    session.cancelExpectedRecords(20)
    expect(session.snapshot().expectedRecords).toBe(30)
    session.cancelExpectedRecords()
    expect(session.snapshot().expectedRecords).toBe(0)
    session.expectRecords(5_000_000)
    expect(session.snapshot().expectedRecords).toBe(DEFAULT_SESSION_LIMITS.maxExpectedRecords)
    expect(() => session.expectRecords(-1)).toThrow(/non-negative integer/)
  })

  it('the engine can tell the session how records are framed', async () => {
    const { session } = await authenticatedSession({
      classify: (bytes) => (bytes[1] === 0x30 ? 'records' : 'other'),
      countRecords: (bytes) => bytes[2]! * 100,
      limits: { unsolicitedRecordBurst: 250 },
    })
    expect(ofType(session.receive(new Uint8Array([PROTOCOL_VERSION, 0x30, 2]), T0), 'deliver')).toHaveLength(1)
    expect(ofType(session.receive(new Uint8Array([PROTOCOL_VERSION, 0x30, 1]), T0), 'strike')[0]?.reason).toBe('record-flood')
  })
})

describe('junk and wrong-state frames', () => {
  it('random bytes during the handshake: strikes, then a ban by transport id only (the pubkey is unproven)', () => {
    const { session } = newSession()
    session.start(T0)
    const junk = [new Uint8Array([]), new Uint8Array([1, 0x4f, 9, 9]), new Uint8Array([SESSION_PROTOCOL_VERSION, 0x40, 1, 2, 3])]
    const actions = junk.flatMap((frame) => session.receive(frame, T0))
    expect(ofType(actions, 'strike').map((s) => s.reason)).toEqual(['malformed', 'malformed', 'malformed'])
    expect(ofType(actions, 'ban')).toEqual([{ type: 'ban', reason: 'malformed', untilMs: T0 + 3_600_000, peerId: 'peer', pubkey: undefined }])
  })

  it('sync frames before the hello exchange are dropped (possibly stale), never delivered', () => {
    const { session } = newSession()
    session.start(T0)
    const actions = feed(session, SYNC_FRAME, 3, T0)
    expect(actions).toEqual([])
    expect(session.state).toBe('hello-sent')
  })

  it('sync frames after hellos but before our proof went out are dropped (possibly left over from a dead session), never delivered', async () => {
    const identity = createIdentity()
    const { session } = newSession({ identity, signer: deferredSigner(identity.signer) })
    const remote = new RemotePeer()
    session.start(T0)
    session.receive(remote.hello(), T0)
    expect(session.state).toBe('authenticating')
    const actions = feed(session, SYNC_FRAME, 3, T0)
    expect(actions).toEqual([])
    expect(session.state).toBe('authenticating')
  })

  it('a sync frame of another version is malformed', async () => {
    const { session } = await authenticatedSession()
    expect(ofType(session.receive(new Uint8Array([9, 0x01]), T0), 'strike')[0]?.reason).toBe('malformed')
  })
})

describe('strikes from the engine', () => {
  it('a bad record signature counts; the third strike bans; strikes after the end are ignored', async () => {
    const { session, remote } = await authenticatedSession()
    expect(session.strike('bad-signature', T0)).toEqual([{ type: 'strike', reason: 'bad-signature', count: 1, detail: '' }])
    session.strike('bad-signature', T0)
    const third = session.strike('bad-signature', T0 + 5, 'record abc')
    expect(ofType(third, 'ban')[0]).toEqual({ type: 'ban', reason: 'bad-signature', untilMs: T0 + 5 + 3_600_000, peerId: 'peer', pubkey: remote.identity.publicKey })
    expect(session.strike('bad-signature', T0)).toEqual([])
  })

  it('prior strikes carry over from the registry', async () => {
    const { session } = await authenticatedSession({ priorStrikes: 2 })
    expect(ofType(session.strike('bad-signature', T0), 'ban')).toHaveLength(1)
  })

  it('a configurable threshold and ban time', async () => {
    const { session } = await authenticatedSession({ limits: { strikeThreshold: 1, banMs: 60_000 } })
    expect(ofType(session.strike('bad-signature', T0), 'ban')[0]?.untilMs).toBe(T0 + 60_000)
  })
})
