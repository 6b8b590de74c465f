/**
 * Every error Peerset throws is a {@link PeersetError} with a machine-readable `code`, so host apps
 * can branch on `err.code` instead of parsing messages. Messages start with `peerset:` and say what
 * was wrong and where.
 */
export type PeersetErrorCode =
  /** An argument had the wrong type, range or shape. */
  | 'INVALID_ARGUMENT'
  /** A NIP-19 string (npub/nsec) failed to decode: wrong prefix, checksum, length or case. */
  | 'INVALID_NIP19'
  /** A secret or public key is not a valid secp256k1 key. */
  | 'INVALID_KEY'
  /** A record or event failed validation (see the `reason` on the error). */
  | 'INVALID_RECORD'
  /** The signer refused or failed to sign, or returned an event that does not verify. */
  | 'SIGNER_FAILED'
  /** The storage backend failed (quota exceeded, transaction aborted, blocked upgrade...). */
  | 'STORAGE_FAILED'
  /** The transport failed to join, send or leave. */
  | 'TRANSPORT_FAILED'
  /** A wire frame could not be decoded or broke the protocol. */
  | 'PROTOCOL'
  /** The peerset (or store) was used after `close()`. */
  | 'CLOSED'
  /** A signature verifier could not answer (a worker crashed or failed to start); the engine then verifies on the calling thread. */
  | 'VERIFIER_FAILED'

/** The one error class of the library. `code` says what kind of failure it is. */
export class PeersetError extends Error {
  override readonly name = 'PeersetError'
  readonly code: PeersetErrorCode
  /** A finer reason, e.g. the {@link RecordRejectReason} of an invalid record. */
  readonly reason: string | undefined

  constructor(code: PeersetErrorCode, message: string, options?: { reason?: string; cause?: unknown }) {
    super(`peerset: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.reason = options?.reason
  }
}

/**
 * Whether `value` is a {@link PeersetError}, optionally of one `code`.
 * @example
 * ```ts
 * try {
 *   await peerset.publish({ text })
 * } catch (error) {
 *   if (isPeersetError(error, 'INVALID_RECORD')) showProblem(error.reason, error.message) // refused: say why
 *   else throw error
 * }
 * ```
 */
export function isPeersetError(value: unknown, code?: PeersetErrorCode): value is PeersetError {
  return value instanceof PeersetError && (code === undefined || value.code === code)
}

/**
 * Refuses an options object with a key not in `known`, so a typo (`{ name }` for `{ databaseName }`)
 * fails loudly with `INVALID_ARGUMENT` instead of silently keeping the default. `undefined` passes.
 * Internal: the strategy factories call it first.
 */
export function assertKnownOptions(where: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new PeersetError('INVALID_ARGUMENT', `${where}: options must be an object`)
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const list = known.length === 0 ? 'it takes no options' : `known: ${known.join(', ')}`
      throw new PeersetError('INVALID_ARGUMENT', `${where}: unknown option "${key}" (${list})`)
    }
  }
}
