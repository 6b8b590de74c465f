/** Two sessions authenticate each other; settings mismatches end the handshake with a precise reason. */
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { createIdentity, npubEncode, type Identity, type Signer } from '../../src/identity/index.js'
import type { NostrEvent, UnsignedEvent } from '../../src/record/index.js'
import {
  createPeerSession,
  encodeSessionMessage,
  type PeerSession,
  type PeerSessionOptions,
  type SessionAction,
  type SessionSettings,
} from '../../src/session/index.js'
import { waitFor } from '../helpers.js'
import { ROOM, RemotePeer, SETTINGS, SYNC_FRAME, T0, deferredSigner, helloOf, link, newSession, ofType, sent, settle } from './helpers.js'

function pair(a: Partial<PeerSessionOptions> & { identity?: Identity } = {}, b: Partial<PeerSessionOptions> & { identity?: Identity } = {}) {
  const alice = a.identity ?? createIdentity()
  const bob = b.identity ?? createIdentity()
  const make = (me: Identity, selfId: string, peerId: string, extra: Partial<PeerSessionOptions>) =>
    createPeerSession({ room: ROOM, selfId, peerId, signer: me.signer, selfPubkey: me.publicKey, settings: SETTINGS, ...extra })
  const { identity: _a, ...aOptions } = a
  const { identity: _b, ...bOptions } = b
  return { alice, bob, a: make(alice, 'alice-id', 'bob-id', aOptions), b: make(bob, 'bob-id', 'alice-id', bOptions) }
}

function expectAuthenticatedAs(log: SessionAction[], who: Identity): void {
  expect(ofType(log, 'authenticated')).toEqual([{ type: 'authenticated', pubkey: who.publicKey, npub: npubEncode(who.publicKey) }])
  expect(ofType(log, 'strike')).toEqual([])
  expect(ofType(log, 'close')).toEqual([])
}

describe('two sessions wired together', () => {
  for (const signing of ['eager', 'late'] as const) {
    it(`authenticate each other (signatures settled ${signing === 'eager' ? 'before' : 'after'} the next frame)`, async () => {
      const { alice, bob, a, b } = pair()
      const log = await link(a, b, T0, signing)
      expect(a.state).toBe('authenticated')
      expect(b.state).toBe('authenticated')
      expectAuthenticatedAs(log.get(a)!, bob)
      expectAuthenticatedAs(log.get(b)!, alice)
      expect(a.peerPubkey).toBe(bob.publicKey)
      expect(sent(log.get(a)!).map((m) => m.type)).toEqual(['hello', 'auth'])
    })
  }

  it('pass the states in order: hello-sent, authenticating, proof-sent or peer-verified, authenticated', async () => {
    const { a, b } = pair()
    const log = await link(a, b, T0, 'late')
    const path = ofType(log.get(a)!, 'state').map((s) => s.to)
    expect(path[0]).toBe('hello-sent')
    expect(path[1]).toBe('authenticating')
    expect(['proof-sent', 'peer-verified']).toContain(path[2])
    expect(path[3]).toBe('authenticated')
  })

  it('a side whose signer is slow verifies the peer first (peer-verified), then authenticates when its proof goes out', async () => {
    const slow = createIdentity()
    const signer = deferredSigner(slow.signer)
    const { a, b } = pair({ identity: slow, signer })
    const done = link(a, b, T0, 'late')
    // b's own proof goes out while a's signer is held: wait for it (not for a fixed time).
    await waitFor(() => b.state === 'proof-sent', 5_000, 'b to send its proof')
    expect(a.state).toBe('peer-verified')
    signer.release()
    const log = await done
    expect(ofType(log.get(a)!, 'state').map((s) => s.to)).toEqual(['hello-sent', 'authenticating', 'peer-verified', 'authenticated'])
    expect(b.state).toBe('authenticated')
  })

  it('deliver sync frames both ways once authenticated, never session frames', async () => {
    const { a, b } = pair()
    await link(a, b, T0)
    expect(a.receive(SYNC_FRAME, T0 + 1)).toEqual([{ type: 'deliver', bytes: SYNC_FRAME }])
    expect(b.receive(SYNC_FRAME, T0 + 1)).toEqual([{ type: 'deliver', bytes: SYNC_FRAME }])
    expect(a.receive(encodeSessionMessage({ type: 'ping' }), T0 + 2).map((x) => x.type)).toEqual(['send'])
  })

  it('work with a NIP-07-shaped signer made by another library (nostr-tools)', async () => {
    const secret = generateSecretKey()
    const pubkey = getPublicKey(secret)
    const nip07: Signer = {
      getPublicKey: async () => pubkey,
      signEvent: async (event: UnsignedEvent) => finalizeEvent({ kind: event.kind, created_at: event.created_at, tags: event.tags, content: event.content }, secret) as NostrEvent,
    }
    const bob = createIdentity()
    const a = createPeerSession({ room: ROOM, selfId: 'x', peerId: 'y', signer: nip07, selfPubkey: pubkey, settings: SETTINGS })
    const b = createPeerSession({ room: ROOM, selfId: 'y', peerId: 'x', signer: bob.signer, selfPubkey: bob.publicKey, settings: SETTINGS })
    const log = await link(a, b, T0)
    expect(ofType(log.get(b)!, 'authenticated')[0]?.pubkey).toBe(pubkey)
    expect(a.state).toBe('authenticated')
  })

  it('mine and check proof of work when a side asks for it', async () => {
    const { a, b } = pair({ proofOfWork: { requireDifficulty: 8 } })
    const log = await link(a, b, T0)
    expect(a.state).toBe('authenticated')
    const proof = sent(log.get(b)!).find((m) => m.type === 'auth')
    expect(proof?.type === 'auth' && proof.proof.id.startsWith('00')).toBe(true)
  })

  it('end with pow-too-hard when the peer asks for more work than we mine', async () => {
    const { a, b } = pair({ proofOfWork: { requireDifficulty: 12 } }, { proofOfWork: { maxMineDifficulty: 10 } })
    const log = await link(a, b, T0)
    expect(ofType(log.get(b)!, 'close')[0]?.reason).toBe('pow-too-hard')
    expect(ofType(log.get(a)!, 'close')[0]?.reason).toBe('peer-closed')
  })
})

describe('settings must agree', () => {
  const cases: [string, SessionSettings, string, RegExp][] = [
    ['bucket interval', { ...SETTINGS, granularity: { intervalMs: 3_600_000, retentionBuckets: 90 } }, 'granularity', /bucket interval differs/],
    ['retention', { ...SETTINGS, granularity: { intervalMs: 86_400_000, retentionBuckets: 30 } }, 'granularity', /retention differs/],
    ['moderation policy', { ...SETTINGS, moderationDigest: 'strict/2' }, 'moderation-policy', /moderation policy digest differs/],
  ]
  for (const [what, theirs, reason, detail] of cases) {
    it(`a different ${what} closes both sides with reason ${reason}, without strikes`, async () => {
      const { a, b } = pair({}, { settings: theirs })
      const log = await link(a, b, T0)
      for (const s of [a, b]) {
        expect(s.state).toBe('closed')
        const close = ofType(log.get(s)!, 'close')[0]!
        expect(close.reason).toBe(reason)
        expect(close.detail).toMatch(detail)
        expect(ofType(log.get(s)!, 'strike')).toEqual([])
        expect(ofType(log.get(s)!, 'authenticated')).toEqual([])
      }
    })
  }

  it('a hello of another protocol version closes with protocol-version, without a strike', () => {
    const { session } = newSession()
    session.start(T0)
    const hello = new RemotePeer().hello()
    hello[0] = 1 // version 1 had no epoch
    const actions = session.receive(hello, T0)
    expect(ofType(actions, 'close')[0]).toMatchObject({ reason: 'protocol-version', detail: expect.stringMatching(/version 1/) })
    expect(ofType(actions, 'strike')).toEqual([])
    expect(sent(actions)).toEqual([{ type: 'bye', reason: 'protocol-version', detail: expect.any(String) }])
  })

  it('a hello whose digest does not match its settings is malformed', () => {
    const { session } = newSession()
    session.start(T0)
    const remote = new RemotePeer()
    const lying = encodeSessionMessage({ ...remote.helloMessage(), moderationDigest: 'other' })
    expect(ofType(session.receive(lying, T0), 'strike')[0]).toMatchObject({ reason: 'malformed', detail: expect.stringMatching(/digest/) })
    expect(session.state).toBe('hello-sent')
  })
})

describe('the handshake refuses', () => {
  it('a pubkey the admit hook refuses (e.g. banned), before any signing', async () => {
    const remote = new RemotePeer()
    const { session } = newSession({ admit: (pubkey) => pubkey !== remote.identity.publicKey })
    session.start(T0)
    const actions = session.receive(remote.hello(), T0)
    expect(ofType(actions, 'close')[0]?.reason).toBe('refused')
    expect(ofType(actions, 'pending')).toEqual([])
  })

  it('our own signer failing ends the session with signer-failed (no strike for the peer)', async () => {
    const failing: Signer = { getPublicKey: async () => 'ab'.repeat(32), signEvent: async () => Promise.reject(new Error('user said no')) }
    const { session } = newSession({ signer: failing, selfPubkey: 'ab'.repeat(32) })
    session.start(T0)
    const actions = await settle(session.receive(new RemotePeer().hello(), T0))
    expect(ofType(actions, 'close')[0]).toMatchObject({ reason: 'signer-failed', detail: expect.stringMatching(/user said no/) })
    expect(session.strikes).toBe(0)
  })

  it('a signer that signs as another key than selfPubkey', async () => {
    const { session } = newSession({ signer: createIdentity().signer })
    session.start(T0)
    const actions = await settle(session.receive(new RemotePeer().hello(), T0))
    expect(ofType(actions, 'close')[0]).toMatchObject({ reason: 'signer-failed', detail: expect.stringMatching(/signed as/) })
  })

  it('a proof made for another session of the same two peers (a replay, or a leftover) is dropped: no strike, no signature check', async () => {
    const remote = new RemotePeer()
    const first = newSession()
    const firstHello = helloOf(first.session.start(T0))
    const replayed = await remote.auth(firstHello, T0)

    const { session } = newSession()
    session.start(T0)
    await settle(session.receive(remote.hello(), T0))
    const actions = session.receive(replayed, T0)
    expect(actions).toEqual([])
    expect(session.state).toBe('proof-sent') // still waiting for a proof of this session; the challenge timeout ends it
    expect(ofType(session.tick(T0 + 10_000), 'close')[0]?.reason).toBe('challenge-timeout')
  })

  it('a proof out of time (a clock that differs from ours) ends the session without a strike', async () => {
    const { session } = newSession()
    const remote = new RemotePeer()
    const hello = helloOf(session.start(T0))
    await settle(session.receive(remote.hello(), T0))
    const actions = session.receive(await remote.auth(hello, T0 - 61_000), T0)
    expect(ofType(actions, 'strike')).toEqual([])
    expect(ofType(actions, 'close')[0]).toMatchObject({ reason: 'auth-failed', detail: expect.stringMatching(/^our clocks differ too much: created_at is 61 s/) })
    expect(session.state).toBe('closed')
  })
})

describe('re-authentication', () => {
  it('the initiator ends an expired session with re-auth; the other side follows on its bye', async () => {
    const { a, b } = pair({ timeouts: { idleMs: 10 * 3_600_000 } }, { timeouts: { idleMs: 10 * 3_600_000 } })
    await link(a, b, T0)
    for (const s of [a, b]) s.receive(SYNC_FRAME, T0) // each peer shows it accepted the other's proof
    const [initiator, responder]: PeerSession[] = a.selfId < b.selfId ? [a, b] : [b, a]
    expect(responder!.tick(T0 + 3_600_000)).toEqual([])
    const ended = initiator!.tick(T0 + 3_600_000)
    expect(ofType(ended, 'close')[0]?.reason).toBe('re-auth')
    const bye = ofType(ended, 'send')[0]!.bytes
    expect(ofType(responder!.receive(bye, T0 + 3_600_000), 'close')[0]).toMatchObject({ reason: 're-auth' })
  })
})
