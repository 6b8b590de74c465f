/**
 * A relay's messages (NIP-01, NIP-42), parsed from untrusted text. Anything else is `garbage`:
 * counted against the relay, never thrown.
 */
export type RelayMessage =
  | { type: 'EVENT'; subId: string; event: unknown }
  | { type: 'EOSE'; subId: string }
  | { type: 'CLOSED'; subId: string; reason: string }
  | { type: 'OK'; id: string; ok: boolean; reason: string }
  | { type: 'AUTH'; challenge: string }
  | { type: 'NOTICE'; message: string }
  /** NIP-77 negentropy. */
  | { type: 'NEG-MSG'; subId: string; message: string }
  | { type: 'NEG-ERR'; subId: string; reason: string }
  | { type: 'garbage'; why: string }

/** Longest frame read from a relay; a longer one is garbage (a record is at most a few KB). */
export const MAX_RELAY_FRAME_CHARS = 256 * 1024

/** Parse one frame from a relay. */
export function parseRelayMessage(data: unknown): RelayMessage {
  if (typeof data !== 'string') return { type: 'garbage', why: 'not a text frame' }
  if (data.length > MAX_RELAY_FRAME_CHARS) return { type: 'garbage', why: `a frame of ${data.length} characters` }
  let message: unknown
  try {
    message = JSON.parse(data)
  } catch {
    return { type: 'garbage', why: 'not JSON' }
  }
  if (!Array.isArray(message) || typeof message[0] !== 'string') return { type: 'garbage', why: 'not a message array' }
  const [type, a, b, c] = message as [string, unknown, unknown, unknown]
  const text = (v: unknown): v is string => typeof v === 'string'
  switch (type) {
    case 'EVENT':
      if (text(a)) return { type, subId: a, event: b }
      break
    case 'EOSE':
      if (text(a)) return { type, subId: a }
      break
    case 'CLOSED':
      if (text(a)) return { type, subId: a, reason: text(b) ? b : '' }
      break
    case 'OK':
      if (text(a) && typeof b === 'boolean') return { type, id: a, ok: b, reason: text(c) ? c : '' }
      break
    case 'AUTH':
      if (text(a)) return { type, challenge: a }
      break
    case 'NOTICE':
      return { type, message: text(a) ? a : '' }
    case 'NEG-MSG':
      if (text(a) && text(b)) return { type, subId: a, message: b }
      break
    case 'NEG-ERR':
      if (text(a)) return { type, subId: a, reason: text(b) ? b : '' }
      break
  }
  return { type: 'garbage', why: `a malformed or unknown "${type.slice(0, 20)}" message` }
}
