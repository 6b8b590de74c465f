/** The verifier strategy: how a peerset checks the Schnorr signatures of the records peers send. */

/**
 * One signature to check: BIP-340 Schnorr `sig` over the 32-byte `id` by the x-only `pubkey`, all
 * lowercase hex (128, 64 and 64 digits). The id was already recomputed from the record's fields:
 * a verifier checks the signature only.
 */
export interface SignatureCheck {
  /** The record's id (the SHA-256 of its NIP-01 serialization), 64 hex digits. */
  readonly id: string
  /** The author's x-only public key, 64 hex digits. */
  readonly pubkey: string
  /** The signature, 128 hex digits. */
  readonly sig: string
}

/**
 * Checks signatures in batches. The engine runs the cheap checks of an ingest batch first and hands
 * the survivors' signatures to `verify` in one call. Made by `mainThreadVerifier()` (the default) or
 * `workerVerifier({ size })`; a custom one (e.g. on compiled libsecp256k1) fits the same shape.
 * @example
 * ```ts
 * const verifier = workerVerifier({ size: 2 })
 * const peerset = await createPeerset({ room: 'demo', verifier })
 * // ...
 * await peerset.close() // also closes the verifier
 * ```
 */
export interface VerifierStrategy {
  /** A short name for status and logs, e.g. `main-thread` or `workers`. */
  readonly name: string
  /**
   * `true` when `verify` runs off the calling thread (workers): the engine then checks the
   * signatures of the records queued behind the batch it is judging meanwhile, so the verifier is
   * kept busy. Leave it out for a verifier that works on the calling thread.
   */
  readonly concurrent?: boolean
  /**
   * One answer per check, in the same order: `true` when the signature verifies. Malformed input
   * answers `false`, never throws. Must reject (never hang) if it cannot answer, e.g. after `close()`
   * (`PeersetError` `CLOSED`) or when a worker fails (`VERIFIER_FAILED`); the engine then verifies
   * that batch on the calling thread, so a failing verifier costs speed, never a wrong verdict. After a
   * failure or a time-out it is not asked again for 30 s (doubling to 10 min while it keeps failing).
   */
  verify(checks: readonly SignatureCheck[]): Promise<boolean[]>
  /** Release what it holds (workers). Later `verify` calls reject with `CLOSED`. `peerset.close()` calls it. */
  close(): Promise<void>
}
