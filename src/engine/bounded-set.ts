/**
 * Adds `value` to `set`, first forgetting its oldest entry (in insertion order) when it already
 * holds `max`: a memory that stays bounded whatever a peer sends.
 */
export function addBounded(set: Set<string>, value: string, max: number): void {
  if (set.size >= max) {
    const oldest = set.values().next().value
    if (oldest !== undefined) set.delete(oldest)
  }
  set.add(value)
}
