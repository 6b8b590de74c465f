/** Canonical JSON and the policy digest (internal). */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'

/** A JSON value as the digest sees it. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue }

/**
 * JSON with object keys sorted by UTF-16 code units and no whitespace, so equal values give equal
 * strings on every peer. Returns `undefined` for anything JSON cannot carry exactly (functions,
 * `undefined` inside arrays, non-finite numbers, cycles, class instances other than plain objects).
 * `undefined` object members are left out, as `JSON.stringify` does.
 */
export function canonicalJson(value: unknown): string | undefined {
  const seen = new Set<object>()
  const write = (v: unknown): string | undefined => {
    if (v === null) return 'null'
    if (typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v)
    if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : undefined
    if (typeof v !== 'object') return undefined
    if (seen.has(v)) return undefined
    seen.add(v)
    let out: string | undefined
    if (Array.isArray(v)) {
      const items: string[] = []
      for (const item of v as unknown[]) {
        const s = write(item)
        if (s === undefined) return undefined
        items.push(s)
      }
      out = `[${items.join(',')}]`
    } else {
      const proto: unknown = Object.getPrototypeOf(v)
      if (proto !== Object.prototype && proto !== null) return undefined
      const members: string[] = []
      for (const key of Object.keys(v).sort()) {
        const member = (v as Record<string, unknown>)[key]
        if (member === undefined) continue
        const s = write(member)
        if (s === undefined) return undefined
        members.push(`${JSON.stringify(key)}:${s}`)
      }
      out = `{${members.join(',')}}`
    }
    seen.delete(v)
    return out
  }
  return write(value)
}

/** Lowercase hex SHA-256 of a string's UTF-8 bytes. */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)))
}
