/**
 * Session-specific byte helpers (internal). The byte reader/writer, varints and UTF-8 live in
 * `../protocol/bytes.js`, shared with the sync codec; this module only names the session's error
 * label and re-exports what other session modules import from here.
 */
import { PeersetError } from '../errors.js'
import { protocolError } from '../protocol/bytes.js'

export { encodeUtf8 as utf8, isWellFormedText, peekVarint } from '../protocol/bytes.js'

/** Message prefix of `PROTOCOL` errors about session frames. */
export const SESSION_ERROR_LABEL = 'session'

/** A `PeersetError` `PROTOCOL` about a session frame, with a short machine-readable `reason`. */
export function sessionProtocolError(reason: string, message: string): PeersetError {
  return protocolError(reason, message, SESSION_ERROR_LABEL)
}
