/**
 * The newest version of each (author, uuid) whose kept version left the store without being
 * replaced (evicted by moderation, or by a ban). An older version of that address must not come
 * back: peers that saw the versions in another order refuse it as superseded, so this peer must
 * too. Kept (author, uuid)s need no entry: the record index knows their version.
 *
 * Bounded two ways: an entry is forgotten once its version has left the retention window (any
 * older version is then expired too), and at most {@link MAX_REMEMBERED_VERSIONS} entries are
 * kept (the oldest go first). Persisted in the store's metadata, in the same transaction as the
 * records whose removal made it change, and reloaded on open.
 */

/** A version: its id and creation time (Unix seconds). */
export interface VersionStamp {
  readonly id: string
  readonly createdAt: number
}

/** Most remembered versions. */
export const MAX_REMEMBERED_VERSIONS = 10_000

/** The key of a record's address. */
export function addressOf(author: string, uuid: string): string {
  return `${author}:${uuid}`
}

export class VersionMemory {
  readonly #entries = new Map<string, VersionStamp>()
  readonly #max: number

  constructor(max = MAX_REMEMBERED_VERSIONS) {
    this.#max = max
  }

  get size(): number {
    return this.#entries.size
  }

  get(address: string): VersionStamp | undefined {
    return this.#entries.get(address)
  }

  /** Apply a batch's changes (`null` forgets an address); then trim to the bound. */
  apply(changes: ReadonlyMap<string, VersionStamp | null>): void {
    for (const [address, stamp] of changes) {
      if (stamp === null) this.#entries.delete(address)
      else this.#entries.set(address, stamp)
    }
    if (this.#entries.size > this.#max) {
      const oldestFirst = [...this.#entries].sort(([, a], [, b]) => a.createdAt - b.createdAt)
      for (const [address] of oldestFirst.slice(0, this.#entries.size - this.#max)) this.#entries.delete(address)
    }
  }

  /** The addresses whose remembered version was created before `createdAt` (Unix seconds): they may be forgotten. */
  olderThan(createdAt: number): string[] {
    const out: string[] = []
    for (const [address, stamp] of this.#entries) if (stamp.createdAt < createdAt) out.push(address)
    return out
  }

  /** A copy (to compute a batch's result before the batch commits). */
  clone(): VersionMemory {
    const copy = new VersionMemory(this.#max)
    for (const [address, stamp] of this.#entries) copy.#entries.set(address, stamp)
    return copy
  }

  /** Plain JSON for the store's metadata. */
  toJSON(): Array<[string, string, number]> {
    return [...this.#entries].map(([address, { id, createdAt }]) => [address, id, createdAt])
  }

  /** Restore from {@link toJSON}'s output; anything malformed is skipped (it is a cache of refusals, not data). */
  static fromJSON(value: unknown, max = MAX_REMEMBERED_VERSIONS): VersionMemory {
    const memory = new VersionMemory(max)
    if (!Array.isArray(value)) return memory
    const changes = new Map<string, VersionStamp>()
    for (const entry of value) {
      if (!Array.isArray(entry) || entry.length !== 3) continue
      const [address, id, createdAt] = entry as unknown[]
      if (typeof address !== 'string' || typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id)) continue
      if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt)) continue
      changes.set(address, { id, createdAt })
    }
    memory.apply(changes)
    return memory
  }
}
