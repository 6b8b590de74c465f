/** Shared helpers of the session tests: sessions, a scripted remote peer, and a two-session link. */
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { createIdentity } from '../../src/identity/index.js'
import type { Identity, Signer } from '../../src/identity/index.js'
import type { NostrEvent, UnsignedEvent } from '../../src/record/index.js'
import {
  createPeerSession,
  createSessionProof,
  decodeSessionMessage,
  encodeSessionMessage,
  settingsDigest,
  type HelloMessage,
  type PeerSession,
  type PeerSessionOptions,
  type SessionAction,
  type SessionMessage,
  type SessionSettings,
} from '../../src/session/index.js'

export const ROOM = 'peerset-test-room'
/** A fixed clock origin (ms). */
export const T0 = 1_800_000_000_000
export const SETTINGS: SessionSettings = { granularity: { intervalMs: 86_400_000, retentionBuckets: 90 }, moderationDigest: 'default/1' }
/** A frame of the sync codec (type 0x01, `root`): the session only routes it. */
export const SYNC_FRAME = new Uint8Array([PROTOCOL_VERSION, 0x01, 0, 0, 0])

/** A session of `identity` (default: a fresh one) as 'self' talking to 'peer'. */
export function newSession(options: Partial<PeerSessionOptions> & { identity?: Identity } = {}): { session: PeerSession; identity: Identity } {
  const { identity = createIdentity(), ...rest } = options
  const session = createPeerSession({
    room: ROOM,
    selfId: 'self',
    peerId: 'peer',
    signer: identity.signer,
    selfPubkey: identity.publicKey,
    settings: SETTINGS,
    ...rest,
  })
  return { session, identity }
}

/** The actions with every `pending` replaced by what it resolved to (in order). */
export async function settle(actions: SessionAction[]): Promise<SessionAction[]> {
  const out: SessionAction[] = []
  for (const action of actions) {
    if (action.type === 'pending') out.push(...(await settle(await action.actions)))
    else out.push(action)
  }
  return out
}

/** The session messages among the `send` actions. */
export function sent(actions: SessionAction[]): SessionMessage[] {
  return actions.flatMap((a) => (a.type === 'send' ? [decodeSessionMessage(a.bytes)] : []))
}

/** The hello a session sent on `start()`. */
export function helloOf(actions: SessionAction[]): HelloMessage {
  const hello = sent(actions).find((m) => m.type === 'hello')
  if (hello?.type !== 'hello') throw new Error('no hello in these actions')
  return hello
}

export function ofType<T extends SessionAction['type']>(actions: SessionAction[], type: T): Extract<SessionAction, { type: T }>[] {
  return actions.filter((a): a is Extract<SessionAction, { type: T }> => a.type === type)
}

/** A signer whose signatures wait until `release()` (to hold a session in a signing state). */
export function deferredSigner(inner: Signer): Signer & { release(): void } {
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  return {
    getPublicKey: () => inner.getPublicKey(),
    signEvent: async (event: UnsignedEvent): Promise<NostrEvent> => {
      await gate
      return inner.signEvent(event)
    },
    release: () => release(),
  }
}

/** The other side of a session, scripted by hand: its own identity, transport id and nonce. */
export class RemotePeer {
  readonly identity: Identity
  readonly id: string
  /** The transport id of the session it talks to. */
  readonly sessionId: string
  readonly nonce = bytesToHex(globalThis.crypto.getRandomValues(new Uint8Array(32)))
  /** The epoch its hellos carry. */
  epoch = 1

  constructor(options: { identity?: Identity; id?: string; sessionId?: string } = {}) {
    this.identity = options.identity ?? createIdentity()
    this.id = options.id ?? 'peer'
    this.sessionId = options.sessionId ?? 'self'
  }

  helloMessage(settings: SessionSettings = SETTINGS, powDifficulty = 0): HelloMessage {
    return {
      type: 'hello',
      pubkey: this.identity.publicKey,
      nonce: this.nonce,
      settingsDigest: settingsDigest(settings),
      powDifficulty,
      granularity: settings.granularity,
      moderationDigest: settings.moderationDigest,
      epoch: this.epoch,
    }
  }

  hello(settings?: SessionSettings, powDifficulty = 0): Uint8Array {
    return encodeSessionMessage(this.helloMessage(settings, powDifficulty))
  }

  /** A proof for the session that sent `theirHello`, made at `nowMs` (overrides change what is bound). */
  proof(
    theirHello: HelloMessage,
    nowMs: number,
    overrides: { room?: string; proverId?: string; verifierId?: string; verifierNonce?: string; powDifficulty?: number } = {},
  ): Promise<NostrEvent> {
    return createSessionProof(
      this.identity.signer,
      {
        room: overrides.room ?? ROOM,
        proverId: overrides.proverId ?? this.id,
        verifierId: overrides.verifierId ?? this.sessionId,
        proverNonce: this.nonce,
        verifierNonce: overrides.verifierNonce ?? theirHello.nonce,
        settingsDigest: settingsDigest(SETTINGS),
      },
      { pubkey: this.identity.publicKey, createdAt: Math.floor(nowMs / 1000), powDifficulty: overrides.powDifficulty ?? 0 },
    )
  }

  async auth(theirHello: HelloMessage, nowMs: number, overrides?: Parameters<RemotePeer['proof']>[2]): Promise<Uint8Array> {
    return encodeSessionMessage({ type: 'auth', proof: await this.proof(theirHello, nowMs, overrides) })
  }
}

/** A session brought to `authenticated` against a scripted remote peer, at time `T0`. */
export async function authenticatedSession(options: Partial<PeerSessionOptions> = {}): Promise<{ session: PeerSession; remote: RemotePeer; log: SessionAction[] }> {
  const { session } = newSession(options)
  const remote = new RemotePeer({ id: session.peerId, sessionId: session.selfId })
  const started = session.start(T0)
  const log = [...started, ...(await settle(session.receive(remote.hello(), T0)))]
  log.push(...session.receive(await remote.auth(helloOf(started), T0), T0))
  if (session.state !== 'authenticated') throw new Error(`expected authenticated, got ${session.state}`)
  // The peer's first sync frame shows it accepted our proof (else the session sends it again, then closes).
  session.receive(SYNC_FRAME, T0)
  return { session, remote, log }
}

/**
 * Runs two sessions against each other until nothing is left to deliver. `signing: 'eager'` settles
 * each signature before the next frame; `'late'` delivers every queued frame first (so a proof may
 * arrive while the receiver is still signing its own).
 */
export async function link(a: PeerSession, b: PeerSession, nowMs: number, signing: 'eager' | 'late' = 'eager'): Promise<Map<PeerSession, SessionAction[]>> {
  const log = new Map<PeerSession, SessionAction[]>([
    [a, []],
    [b, []],
  ])
  const queue: [PeerSession, Uint8Array][] = []
  const pending = new Set<Promise<void>>()
  const other = (s: PeerSession) => (s === a ? b : a)
  const apply = (self: PeerSession, actions: SessionAction[]): void => {
    for (const action of actions) {
      log.get(self)!.push(action)
      if (action.type === 'send') queue.push([other(self), action.bytes])
      if (action.type === 'pending') {
        const done: Promise<void> = action.actions.then((later) => {
          pending.delete(done)
          apply(self, later)
        })
        pending.add(done)
      }
    }
  }
  apply(a, a.start(nowMs))
  apply(b, b.start(nowMs))
  while (queue.length > 0 || pending.size > 0) {
    while (queue.length > 0) {
      const [to, bytes] = queue.shift()!
      apply(to, to.receive(bytes, nowMs))
      if (signing === 'eager') await Promise.all([...pending])
    }
    if (pending.size > 0) await Promise.race([...pending]) // a slow signer does not hold up the other side
  }
  return log
}
