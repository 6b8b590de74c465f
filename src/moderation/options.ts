/** Option checks shared by the moderation factories (internal). Each throws a labelled `INVALID_ARGUMENT`. */
import { PeersetError } from '../errors.js'

/** Throws `INVALID_ARGUMENT` with `label` in front of `problem`. */
export function invalid(label: string, problem: string): never {
  throw new PeersetError('INVALID_ARGUMENT', `${label} ${problem}`)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return typeof value
}

/**
 * `value` as an options object (`undefined` gives `{}`), refusing unknown keys so a typo such as
 * `maxRecord` fails loudly instead of silently keeping the default.
 */
export function optionsObject<T extends object>(label: string, value: unknown, known: readonly (keyof T & string)[]): Partial<T> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid(label, `must be an options object, got ${describe(value)}`)
  }
  for (const key of Object.keys(value)) {
    if (!(known as readonly string[]).includes(key)) {
      invalid(label, `has an unknown option "${key}" (known: ${known.join(', ')})`)
    }
  }
  return value as Partial<T>
}

/** An integer in [min, max], or `fallback` when undefined. */
export function integerIn(label: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    invalid(label, `must be an integer from ${min} to ${max}, got ${describe(value)}`)
  }
  return value
}

/** A boolean, or `fallback` when undefined. */
export function booleanOr(label: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') invalid(label, `must be a boolean, got ${describe(value)}`)
  return value
}

/** A non-empty string of at most `maxLength` characters. */
export function shortString(label: string, value: unknown, maxLength: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    invalid(label, `must be a non-empty string of at most ${maxLength} characters, got ${describe(value)}`)
  }
  return value
}

/** An array of strings (each checked by `item`), or `fallback` when undefined. */
export function stringList(
  label: string,
  value: unknown,
  fallback: readonly string[],
  item: (entry: string, entryLabel: string) => string = (entry, entryLabel) => shortString(entryLabel, entry, 256),
): readonly string[] {
  if (value === undefined) return fallback
  if (!Array.isArray(value)) invalid(label, `must be an array of strings, got ${describe(value)}`)
  return value.map((entry: unknown, i) => {
    const entryLabel = `${label}[${i}]`
    if (typeof entry !== 'string') invalid(entryLabel, `must be a string, got ${describe(entry)}`)
    return item(entry, entryLabel)
  })
}

/** A function, or `undefined`. */
export function optionalFunction<F>(label: string, value: unknown): F | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') invalid(label, `must be a function, got ${describe(value)}`)
  return value as F
}
