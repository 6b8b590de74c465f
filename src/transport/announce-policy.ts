/**
 * Politeness towards public trackers: a peer whose room is full (it has `maxPeers` authenticated
 * peers) announces itself only every {@link FULL_ROOM_ANNOUNCE_MS} instead of every 10-120 s, so a
 * big room does not keep every tracker busy with offers nobody can take. Below `maxPeers` trystero's
 * own schedule applies (a warm-up of announces at 0.2, 0.5 and 1.3 s after joining, then the
 * tracker's interval, which trystero clamps to 10-120 s).
 *
 * How: trystero 0.25 has no way to change a joined room's announce interval, so the transport wraps
 * `send` of each tracker socket and holds the announces that carry offers while the room is full
 * (answers to other peers' offers, which finish a connection already started, always go through).
 * The nostr strategy is not throttled (its announces are signed events we do not take apart).
 */

/** How often a full room still announces (to stay listed at the tracker), ms: trystero's longest interval. */
export const FULL_ROOM_ANNOUNCE_MS = 120_000

/** What {@link announceDecision} looks at. Times in ms. */
export interface AnnounceContext {
  /** Authenticated peers now. */
  peers: number
  /** The most peers the peerset wants (`maxPeers`). */
  maxPeers: number
  nowMs: number
  /** When the last announce went out on this socket, if ever. */
  lastSentMs: number | undefined
}

/**
 * Whether an announce may go out now: always while the room has room for more peers; when it is
 * full, once per {@link FULL_ROOM_ANNOUNCE_MS}. Pure.
 * @example
 * ```ts
 * announceDecision({ peers: 32, maxPeers: 32, nowMs: 60_000, lastSentMs: 0 }) // 'hold'
 * ```
 */
export function announceDecision(c: AnnounceContext): 'send' | 'hold' {
  if (c.peers < c.maxPeers) return 'send'
  if (c.lastSentMs === undefined || c.nowMs - c.lastSentMs >= FULL_ROOM_ANNOUNCE_MS) return 'send'
  return 'hold'
}

/** Whether a torrent-tracker message is an announce that offers connections (not an answer to an offer). */
export function isOfferingAnnounce(data: unknown): boolean {
  return typeof data === 'string' && data.startsWith('{"action":"announce"') && data.includes('"offers":') && !data.includes('"answer":')
}

/** A socket whose `send` can be wrapped. */
export interface SendingSocket {
  send(data: unknown): void
}

const gated = new WeakSet<object>()

/**
 * Wrap `socket.send` so announces that offer connections go out only when `decide` says so (once per
 * socket; wrapping it again does nothing). Returns how many were held so far, through `held()`.
 */
export function gateAnnounces(socket: SendingSocket, decide: (lastSentMs: number | undefined) => 'send' | 'hold', now: () => number): { held(): number } {
  let held = 0
  if (gated.has(socket)) return { held: () => held }
  gated.add(socket)
  const send = socket.send.bind(socket)
  let lastSentMs: number | undefined
  socket.send = (data: unknown): void => {
    if (isOfferingAnnounce(data)) {
      if (decide(lastSentMs) === 'hold') {
        held++
        return
      }
      lastSentMs = now()
    }
    send(data)
  }
  return { held: () => held }
}
