/**
 * The session proof: a short-lived signed Nostr event, in the manner of NIP-42, by which each peer
 * proves it holds the key it named in its hello. It binds the purpose, the room, both transport peer
 * ids (prover's and verifier's), both hello nonces and the settings digest, so it is worthless in
 * any other session, room, pair, direction or time.
 */
import { PeersetError } from '../errors.js'
import type { Signer } from '../identity/types.js'
import { verifyEventSignature } from '../record/verify.js'
import type { NostrEvent, UnsignedEvent } from '../record/types.js'
import { hasProofOfWork } from '../record/pow.js'
import { mineInSlices } from './mine.js'

/**
 * Kind of the proof event: 22515, a Peerset-specific kind in NIP-01's ephemeral range (relays do
 * not store it). Not NIP-42's 22242, so a proof can never pass as a relay AUTH event, nor the
 * other way round, and a NIP-07 extension shows the user a distinct kind.
 * @example
 * ```ts
 * proof.kind === SESSION_PROOF_KIND // 22515
 * ```
 */
export const SESSION_PROOF_KIND = 22_515

/** Value of the proof's `purpose` tag. */
export const SESSION_PROOF_PURPOSE = 'peerset-session/1'

/** What a proof binds. Nonces and the digest are 64 lowercase hex digits. */
export interface SessionProofContext {
  /** The room name. */
  room: string
  /** Transport id of the peer that signs the proof. */
  proverId: string
  /** Transport id of the peer that checks it. */
  verifierId: string
  /** The prover's hello nonce. */
  proverNonce: string
  /** The verifier's hello nonce: the challenge. */
  verifierNonce: string
  /** The settings digest both hellos carried. */
  settingsDigest: string
}

/**
 * The binding tags of a proof, in order:
 * `purpose`, `room`, `prover`, `verifier`, `prover-nonce`, `verifier-nonce`, `settings`.
 * @example
 * ```ts
 * sessionProofTags(context)[0] // ['purpose', 'peerset-session/1']
 * ```
 */
export function sessionProofTags(context: SessionProofContext): string[][] {
  return [
    ['purpose', SESSION_PROOF_PURPOSE],
    ['room', context.room],
    ['prover', context.proverId],
    ['verifier', context.verifierId],
    ['prover-nonce', context.proverNonce],
    ['verifier-nonce', context.verifierNonce],
    ['settings', context.settingsDigest],
  ]
}

/** Options of {@link createSessionProof}. */
export interface CreateSessionProofOptions {
  /** The key the signer must sign with (lowercase hex). */
  pubkey: string
  /** `created_at`, Unix seconds. */
  createdAt: number
  /** NIP-13 bits to mine (a `nonce` tag is appended). Default 0: none. Mined in slices that yield. */
  powDifficulty?: number
  /** Asked between slices of mining and before signing; `false` stops (rejects with `CLOSED`). */
  isWanted?: () => boolean
}

/**
 * Builds, optionally mines, and signs a proof through `signer` (so a NIP-07 extension works), then
 * checks what the signer returned. Throws `PeersetError` `SIGNER_FAILED` if the signer fails, signs
 * as another key, or returns an event that is not exactly the proof or does not verify.
 * @example
 * ```ts
 * const proof = await createSessionProof(me.signer, context, { pubkey: me.publicKey, createdAt: Math.floor(Date.now() / 1000) })
 * ```
 */
export async function createSessionProof(signer: Signer, context: SessionProofContext, options: CreateSessionProofOptions): Promise<NostrEvent> {
  const difficulty = options.powDifficulty ?? 0
  let template: UnsignedEvent = { created_at: options.createdAt, kind: SESSION_PROOF_KIND, tags: sessionProofTags(context), content: '' }
  const isWanted = options.isWanted ?? (() => true)
  if (difficulty > 0) template = await mineInSlices({ ...template, pubkey: options.pubkey }, difficulty, { isWanted })
  if (!isWanted()) throw new PeersetError('CLOSED', 'createSessionProof: no longer wanted')
  const { pubkey: _minedWith, ...unsigned } = template
  let signed: NostrEvent
  try {
    signed = await signer.signEvent(unsigned)
  } catch (error) {
    throw new PeersetError('SIGNER_FAILED', `createSessionProof: the signer failed (${String(error)})`, { cause: error })
  }
  const problem = describeSignerResult(signed, unsigned, options.pubkey, difficulty)
  if (problem !== undefined) throw new PeersetError('SIGNER_FAILED', `createSessionProof: ${problem}`)
  return signed
}

/** Why a proof failed. Checks run cheapest first; `signature` is last. */
export type ProofFailure = 'malformed' | 'kind' | 'pubkey' | 'content' | 'binding' | 'expired' | 'pow' | 'signature'

/** The verdict on a proof. */
export type ProofVerdict = { ok: true } | { ok: false; reason: ProofFailure; message: string }

/** What the verifier expects of a proof. */
export interface VerifySessionProofOptions {
  /** The pubkey the prover's hello named. */
  pubkey: string
  /** The verifier's clock, ms. */
  nowMs: number
  /** Largest allowed distance between `created_at` and `nowMs`, either way, ms. */
  ttlMs: number
  /** NIP-13 bits the verifier requires. Default 0. */
  powDifficulty?: number
}

/**
 * Verifies a peer's proof: kind, pubkey (the hello's), empty content, the binding tags exactly and in
 * order (optionally followed by one NIP-13 `nonce` tag), `created_at` within the TTL, the required
 * proof of work, and last the id and Schnorr signature. Never throws.
 * @example
 * ```ts
 * const verdict = verifySessionProof(proof, context, { pubkey: hello.pubkey, nowMs: Date.now(), ttlMs: 60_000 })
 * if (!verdict.ok) console.warn(verdict.reason, verdict.message) // e.g. 'binding' 'tag "verifier-nonce" ...'
 * ```
 */
export function verifySessionProof(event: unknown, context: SessionProofContext, options: VerifySessionProofOptions): ProofVerdict {
  const fail = (reason: ProofFailure, message: string): ProofVerdict => ({ ok: false, reason, message })
  if (typeof event !== 'object' || event === null) return fail('malformed', 'the proof is not an event object')
  const e = event as Partial<NostrEvent>
  if (!Array.isArray(e.tags) || typeof e.created_at !== 'number') return fail('malformed', 'the proof has no tags or created_at')
  if (e.kind !== SESSION_PROOF_KIND) return fail('kind', `expected kind ${SESSION_PROOF_KIND}, got ${String(e.kind)}`)
  if (e.pubkey !== options.pubkey) return fail('pubkey', 'the proof is signed by another key than the hello named')
  if (e.content !== '') return fail('content', 'the proof content must be empty')
  const binding = describeTags(e.tags, sessionProofTags(context))
  if (binding !== undefined) return fail('binding', binding)
  const skewMs = Math.abs(e.created_at * 1000 - options.nowMs)
  if (!(skewMs <= options.ttlMs)) {
    return fail('expired', `created_at is ${Math.round(skewMs / 1000)} s from our clock (allowed: ${options.ttlMs / 1000} s)`)
  }
  const difficulty = options.powDifficulty ?? 0
  if (difficulty > 0 && !hasProofOfWork(e as NostrEvent, difficulty)) return fail('pow', `the proof id lacks ${difficulty} bits of proof of work`)
  if (!verifyEventSignature(event)) return fail('signature', 'the proof id or signature does not verify')
  return { ok: true }
}

/** Why `tags` are not exactly `expected` (plus an optional trailing nonce tag), or `undefined`. */
function describeTags(tags: unknown[], expected: string[][]): string | undefined {
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i]!
    const got = tags[i]
    if (!Array.isArray(got) || got.length !== 2 || got[0] !== want[0] || got[1] !== want[1]) {
      return `tag ${i} should be ${JSON.stringify(want)}, got ${truncate(JSON.stringify(got) ?? 'nothing')}`
    }
  }
  if (tags.length === expected.length) return undefined
  const extra = tags[expected.length]
  const isNonce =
    tags.length === expected.length + 1 &&
    Array.isArray(extra) &&
    extra.length === 3 &&
    extra[0] === 'nonce' &&
    isDecimal(extra[1]) &&
    isDecimal(extra[2])
  return isNonce ? undefined : 'the only tag allowed after the binding tags is one ["nonce", n, target]'
}

function describeSignerResult(signed: unknown, unsigned: UnsignedEvent, pubkey: string, difficulty: number): string | undefined {
  if (typeof signed !== 'object' || signed === null) return 'the signer returned no event'
  const s = signed as NostrEvent
  if (s.pubkey !== pubkey) return `the signer signed as ${String(s.pubkey)}, expected ${pubkey}`
  const same =
    s.kind === unsigned.kind &&
    s.created_at === unsigned.created_at &&
    s.content === unsigned.content &&
    JSON.stringify(s.tags) === JSON.stringify(unsigned.tags)
  if (!same) return 'the signer changed the event it was asked to sign'
  if (!verifyEventSignature(s)) return 'the signer returned an event whose id or signature does not verify'
  if (difficulty > 0 && !hasProofOfWork(s, difficulty)) return 'the signed event lost its proof of work'
  return undefined
}

function isDecimal(value: unknown): boolean {
  return typeof value === 'string' && /^[0-9]{1,20}$/.test(value)
}

function truncate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text
}
