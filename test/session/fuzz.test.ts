/**
 * Fuzzing: tens of thousands of random and mutated frames, ticks and engine calls fed to sessions
 * in every live (non-terminal) state. Only frames delivered to a live session count: when a frame
 * ends a session (a ban, a bye, a failed proof, a timeout), the next step pokes the ended session
 * once (it must ignore it), then a fresh session is brought back to the wanted state. No exception
 * escapes, the state is always a valid state, every pending signature settles, and nothing the
 * session or the registry holds grows without bound.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_FRAME_BYTES, MESSAGE_TYPE_CODES, PROTOCOL_VERSION } from '../../src/protocol/messages.js'
import { createIdentity, type Identity, type Signer } from '../../src/identity/index.js'
import type { NostrEvent, UnsignedEvent } from '../../src/record/index.js'
import {
  DEFAULT_SESSION_LIMITS,
  PeerRegistry,
  SESSION_STATES,
  encodeSessionMessage,
  isTerminal,
  type PeerSession,
  type SessionAction,
  type SessionState,
} from '../../src/session/index.js'
import { MAX_REANSWERS } from '../../src/session/session.js'
import { RemotePeer, SYNC_FRAME, T0, helloOf, newSession, settle } from './helpers.js'

type Mutation = { kind: 'flip'; at: number; value: number } | { kind: 'truncate'; at: number } | { kind: 'append'; bytes: Uint8Array } | { kind: 'type'; value: number }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ kind: fc.constant('type' as const), value: fc.integer({ min: 0x3c, max: 0x50 }) }),
)

function mutate(base: Uint8Array, mutations: Mutation[]): Uint8Array {
  let frame = Uint8Array.from(base)
  for (const m of mutations) {
    if (m.kind === 'flip' && frame.length > 0) frame[m.at % frame.length] = m.value
    if (m.kind === 'truncate') frame = frame.subarray(0, m.at % (frame.length + 1))
    if (m.kind === 'append') frame = Uint8Array.from([...frame, ...m.bytes])
    if (m.kind === 'type' && frame.length > 1) frame[1] = m.value
  }
  return frame
}

/** One step of the fuzz: a frame (random, oversized or a mutated valid one), a tick, or an engine call. */
type Step =
  | { kind: 'random'; bytes: Uint8Array; dtMs: number }
  | { kind: 'oversized'; extra: number; dtMs: number }
  | { kind: 'mutated'; base: number; mutations: Mutation[]; dtMs: number }
  | { kind: 'tick'; dtMs: number }
  | { kind: 'expect'; n: number; dtMs: number }

const dtMs = fc.integer({ min: 0, max: 3_000 })
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 300 }), dtMs }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('oversized' as const), extra: fc.integer({ min: 1, max: 64 }), dtMs }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('mutated' as const), base: fc.nat(), mutations: fc.array(mutation, { maxLength: 3 }), dtMs }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), dtMs }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expect' as const), n: fc.integer({ min: 0, max: 5_000_000 }), dtMs }) },
)

/** The states a session can receive frames in: every state but `closed` and `banned`. */
const LIVE_STATES: readonly SessionState[] = SESSION_STATES.filter((s) => !isTerminal(s))

/** At least this many frames must reach a session in each live state, and this many in all. */
const PER_STATE_FLOOR = 1_000
const LIVE_FLOOR = 10_000

interface Subject {
  session: PeerSession
  /** Valid frames the peer could send this session (the mutation bases). */
  frames: Uint8Array[]
  /** Ends the held proof signature: `sign` lets it complete, `fail` makes the signer throw (cheap). */
  release(how: 'sign' | 'fail'): void
  /** Frames delivered to this session. */
  delivered: number
  /** Pending signatures this session started. */
  pendings: number
}

/** A signer held until released: then it signs with `inner`, or throws. */
function heldSigner(inner: Signer): Signer & { release(how: 'sign' | 'fail'): void } {
  let release!: (how: 'sign' | 'fail') => void
  const gate = new Promise<'sign' | 'fail'>((resolve) => (release = resolve))
  return {
    getPublicKey: () => inner.getPublicKey(),
    signEvent: async (event: UnsignedEvent): Promise<NostrEvent> => {
      if ((await gate) === 'fail') throw new Error('the fuzz retired this session')
      return inner.signEvent(event)
    },
    release: (how) => release(how),
  }
}

interface Peers {
  self: Identity
  remote: Identity
  /** A proof for someone else's hello: a valid frame, but never one this session can accept. */
  staleAuth: Uint8Array
}

/**
 * A fresh session brought to `state` at `now` against a scripted peer. Our signer is held, so a
 * session in `authenticating` or `peer-verified` stays there until `release()`. Signs only what the
 * state needs (signatures are what make a fresh session expensive).
 */
async function bringTo(state: SessionState, strikeThreshold: number, now: number, peers: Peers, pending: Promise<SessionAction[]>[]): Promise<Subject> {
  const signer = heldSigner(peers.self.signer)
  const { session } = newSession({ identity: peers.self, signer, limits: { strikeThreshold } })
  const remote = new RemotePeer({ identity: peers.remote })
  const subject: Subject = { session, frames: [], release: (how) => signer.release(how), delivered: 0, pendings: 0 }
  let auth = peers.staleAuth
  if (state !== 'connecting') {
    const hello = helloOf(session.start(now))
    if (state !== 'hello-sent') {
      auth = await remote.auth(hello, now)
      const afterHello = session.receive(remote.hello(), now)
      for (const a of afterHello) if (a.type === 'pending') (pending.push(a.actions), subject.pendings++)
      if (state === 'proof-sent' || state === 'authenticated') {
        signer.release('sign')
        await settle(afterHello)
      }
      if (state === 'peer-verified' || state === 'authenticated') session.receive(auth, now)
    }
  }
  if (session.state !== state) throw new Error(`could not bring a session to ${state}: it is ${session.state}`)
  subject.frames = [
    remote.hello(),
    auth,
    encodeSessionMessage({ type: 'ping' }),
    encodeSessionMessage({ type: 'pong' }),
    encodeSessionMessage({ type: 'bye', reason: 're-auth', detail: 'x' }),
    SYNC_FRAME,
    new Uint8Array([PROTOCOL_VERSION, MESSAGE_TYPE_CODES.records, 3, 0, 0]),
  ]
  return subject
}

/** A failed invariant (plain checks in the hot loop: `expect` there costs about a second). */
function check(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(`fuzz invariant broken: ${what()}`)
}

function checkActions(actions: SessionAction[]): void {
  for (const action of actions) {
    if (action.type === 'state') check(SESSION_STATES.includes(action.to), () => `a move to an unknown state ${action.to}`)
    if (action.type === 'send') check(action.bytes.length <= MAX_FRAME_BYTES, () => `a frame of ${action.bytes.length} bytes to send`)
  }
}

describe('fuzzing a session', () => {
  it(`delivers at least ${LIVE_FLOOR} random and mutated frames to live sessions, at least ${PER_STATE_FLOOR} in every live state`, async () => {
    const perState = Object.fromEntries(SESSION_STATES.map((s) => [s, 0])) as Record<SessionState, number>
    const endings: Record<string, number> = {}
    let respawns = 0
    const pending: Promise<SessionAction[]>[] = []
    const remote = createIdentity()
    const staleAuth = await new RemotePeer({ identity: remote }).auth({ ...new RemotePeer().helloMessage(), nonce: 'ab'.repeat(32) }, T0)
    const peers: Peers = { self: createIdentity(), remote, staleAuth }
    await fc.assert(
      fc.asyncProperty(
        // A low threshold bans within a few bad frames; the lenient one lets a session live on them.
        fc.constantFrom(10, 1_000_000, 1_000_000),
        fc.array(fc.array(step, { minLength: 80, maxLength: 120 }), { minLength: LIVE_STATES.length, maxLength: LIVE_STATES.length }),
        async (strikeThreshold, chunks) => {
          let now = T0
          for (const [i, state] of LIVE_STATES.entries()) {
            let subject = await bringTo(state, strikeThreshold, now, peers, pending)
            let poked = false
            for (const s of chunks[i]!) {
              now += s.dtMs
              const { session } = subject
              if (isTerminal(session.state) && !poked) {
                // The session ended on the previous step: it ignores everything, and this frame does not count as live.
                poked = true
              } else if (session.state !== state) {
                // Ended (and poked) or moved on to another live state: bring a fresh one back to `state`.
                subject.release('fail')
                subject = await bringTo(state, strikeThreshold, now, peers, pending)
                poked = false
                respawns++
              }
              const target = subject.session
              const before = target.state
              let actions: SessionAction[]
              if (s.kind === 'tick') actions = target.tick(now)
              else if (s.kind === 'expect') {
                target.expectRecords(s.n)
                actions = []
              } else {
                const bytes =
                  s.kind === 'random' ? s.bytes : s.kind === 'oversized' ? new Uint8Array(MAX_FRAME_BYTES + s.extra) : mutate(subject.frames[s.base % subject.frames.length]!, s.mutations)
                actions = target.receive(bytes, now)
                perState[before]++
                subject.delivered++
              }
              if (isTerminal(before)) {
                check(actions.length === 0 && target.state === before, () => `an ended session acted on a ${s.kind} step: ${JSON.stringify(actions)}`)
              } else if (isTerminal(target.state)) {
                const close = actions.find((a) => a.type === 'close')
                const ending = `${target.state}:${close?.type === 'close' ? close.reason : '?'}`
                endings[ending] = (endings[ending] ?? 0) + 1
              }
              check(SESSION_STATES.includes(target.state), () => `unknown state ${target.state}`)
              const snapshot = target.snapshot()
              check(snapshot.expectedRecords <= DEFAULT_SESSION_LIMITS.maxExpectedRecords, () => `${snapshot.expectedRecords} expected records`)
              check(snapshot.strikes <= subject.delivered, () => `${snapshot.strikes} strikes after ${subject.delivered} frames`)
              for (const action of actions) {
                if (action.type === 'pending') (pending.push(action.actions), subject.pendings++)
              }
              // One proof per hello it answers: the first, and at most MAX_REANSWERS newer hellos of the
              // peer's next sessions (a mutated hello can carry a higher epoch).
              check(subject.pendings <= 1 + MAX_REANSWERS, () => `${subject.pendings} proofs signed by one session`)
              checkActions(actions)
            }
            subject.release('fail')
          }
        },
      ),
      // No shrinking: each shrink step re-signs proofs, and a failure would take many minutes to report.
      { numRuns: 26, endOnFailure: true },
    )
    const live = LIVE_STATES.reduce((sum, s) => sum + perState[s], 0)
    console.log(`session fuzz: frames per state at delivery ${JSON.stringify(perState)}; live ${live}; fresh sessions ${respawns}; endings ${JSON.stringify(endings)}`)
    for (const state of LIVE_STATES) expect(perState[state], `frames delivered in state ${state}`).toBeGreaterThanOrEqual(PER_STATE_FLOOR)
    expect(live).toBeGreaterThanOrEqual(LIVE_FLOOR)
    // The fuzz still ends sessions both ways, and pokes the ended ones.
    expect(perState.closed + perState.banned).toBeGreaterThan(0)
    expect(Object.keys(endings).some((k) => k.startsWith('banned:'))).toBe(true)
    expect(Object.keys(endings).some((k) => k.startsWith('closed:'))).toBe(true)
    // Every signature a fuzzed hello started settles, never rejects, and what follows is valid.
    const settled = await Promise.allSettled(pending)
    expect(settled.every((r) => r.status === 'fulfilled')).toBe(true)
    for (const r of settled) if (r.status === 'fulfilled') checkActions(await settle(r.value))
  }, 120_000)
})

describe('fuzzing the registry', () => {
  it('stays within maxEntries per table whatever it is fed', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            op: fc.constantFrom('ban', 'drop', 'check'),
            id: fc.string({ minLength: 1, maxLength: 8 }),
            key: fc.option(fc.string({ minLength: 1, maxLength: 64 }), { nil: undefined }),
            dt: fc.integer({ min: 0, max: 60_000 }),
            strikes: fc.integer({ min: 0, max: 5 }),
          }),
          { maxLength: 300 },
        ),
        (ops) => {
          const registry = new PeerRegistry({ maxEntries: 20 })
          let now = T0
          for (const o of ops) {
            now += o.dt
            if (o.op === 'ban') registry.ban(o.id, o.key, now + o.dt * 10)
            if (o.op === 'drop') registry.drop(o.id, now, { pubkey: o.key, strikes: o.strikes })
            if (o.op === 'check') registry.canConnect(o.id, o.key, now)
            const size = registry.size
            expect(size.bans).toBeLessThanOrEqual(40)
            expect(size.strikes).toBeLessThanOrEqual(40)
            expect(size.cooldowns).toBeLessThanOrEqual(20)
          }
          expect(PeerRegistry.fromJSON(JSON.parse(JSON.stringify(registry)), { maxEntries: 20 }).toJSON()).toEqual(registry.toJSON())
        },
      ),
      { numRuns: 200 },
    )
  })
})
