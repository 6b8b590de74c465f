/**
 * Fuzzing: tens of thousands of random and mutated frames, ticks and engine calls fed to sessions
 * in every phase. No exception escapes, the state is always a valid state, every pending signature
 * settles, and nothing the session or the registry holds grows without bound.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_FRAME_BYTES, MESSAGE_TYPE_CODES } from '../../src/protocol/messages.js'
import {
  DEFAULT_SESSION_LIMITS,
  PeerRegistry,
  SESSION_STATES,
  encodeSessionMessage,
  type PeerSession,
  type SessionAction,
} from '../../src/session/index.js'
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

/** A session in a given phase and the valid frames its peer could send it. */
async function subject(phase: 'started' | 'authenticated', lenient: boolean): Promise<{ session: PeerSession; frames: Uint8Array[] }> {
  const { session } = newSession({ limits: lenient ? { strikeThreshold: 1_000_000 } : {} })
  const remote = new RemotePeer()
  const hello = helloOf(session.start(T0))
  const auth = await remote.auth(hello, T0)
  if (phase === 'authenticated') {
    await settle(session.receive(remote.hello(), T0))
    session.receive(auth, T0)
  }
  const records = new Uint8Array([1, MESSAGE_TYPE_CODES.records, 3, 0, 0])
  const frames = [
    remote.hello(),
    auth,
    encodeSessionMessage({ type: 'ping' }),
    encodeSessionMessage({ type: 'pong' }),
    encodeSessionMessage({ type: 'bye', reason: 're-auth', detail: 'x' }),
    SYNC_FRAME,
    records,
  ]
  return { session, frames }
}

describe('fuzzing a session', () => {
  it('survives at least 10 000 random and mutated frames in every phase', async () => {
    let frames = 0
    const pending: Promise<SessionAction[]>[] = []
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('started' as const, 'authenticated' as const),
        fc.boolean(),
        fc.array(step, { minLength: 100, maxLength: 160 }),
        async (phase, lenient, steps) => {
          const { session, frames: valid } = await subject(phase, lenient)
          let now = T0
          for (const s of steps) {
            now += s.dtMs
            let actions: SessionAction[]
            if (s.kind === 'tick') actions = session.tick(now)
            else if (s.kind === 'expect') {
              session.expectRecords(s.n)
              actions = []
            } else {
              const bytes =
                s.kind === 'random' ? s.bytes : s.kind === 'oversized' ? new Uint8Array(MAX_FRAME_BYTES + s.extra) : mutate(valid[s.base % valid.length]!, s.mutations)
              actions = session.receive(bytes, now)
              frames++
            }
            expect(SESSION_STATES).toContain(session.state)
            const snapshot = session.snapshot()
            expect(snapshot.expectedRecords).toBeLessThanOrEqual(DEFAULT_SESSION_LIMITS.maxExpectedRecords)
            expect(snapshot.strikes).toBeLessThanOrEqual(frames)
            for (const action of actions) {
              if (action.type === 'pending') pending.push(action.actions)
              if (action.type === 'state') expect(SESSION_STATES).toContain(action.to)
              if (action.type === 'send') expect(action.bytes.length).toBeLessThanOrEqual(MAX_FRAME_BYTES)
            }
          }
        },
      ),
      { numRuns: 100 },
    )
    expect(frames).toBeGreaterThanOrEqual(10_000)
    // Every signature a fuzzed hello started settles, and never rejects.
    const settled = await Promise.allSettled(pending)
    expect(settled.every((r) => r.status === 'fulfilled')).toBe(true)
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
