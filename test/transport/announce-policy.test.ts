/**
 * Politeness towards public trackers (issue 11): a full room (maxPeers authenticated peers) announces
 * itself once per FULL_ROOM_ANNOUNCE_MS instead of every 10-120 s; answers to other peers' offers
 * always go through. The policy is pure; the gate wraps a tracker socket's `send`.
 */
import { describe, expect, it } from 'vitest'
import { announceDecision, FULL_ROOM_ANNOUNCE_MS, gateAnnounces, isOfferingAnnounce } from '../../src/transport/announce-policy.js'

const announce = JSON.stringify({ action: 'announce', info_hash: 'x'.repeat(20), peer_id: 'p'.repeat(20), numwant: 3, offers: [{ offer_id: 'o', offer: { type: 'offer', sdp: 'v=0' } }] })
const answer = JSON.stringify({ action: 'announce', info_hash: 'x'.repeat(20), peer_id: 'p'.repeat(20), answer: { type: 'answer', sdp: 'v=0' }, offer_id: 'o', to_peer_id: 'q' })

describe('the announce policy', () => {
  it('announces on trystero’s schedule while the room has room for more peers', () => {
    for (const peers of [0, 1, 31]) expect(announceDecision({ peers, maxPeers: 32, nowMs: 1_000, lastSentMs: 999 })).toBe('send')
  })

  it('holds announces of a full room, letting one through per FULL_ROOM_ANNOUNCE_MS', () => {
    const full = { peers: 32, maxPeers: 32 }
    expect(announceDecision({ ...full, nowMs: 0, lastSentMs: undefined })).toBe('send')
    expect(announceDecision({ ...full, nowMs: FULL_ROOM_ANNOUNCE_MS - 1, lastSentMs: 0 })).toBe('hold')
    expect(announceDecision({ ...full, nowMs: FULL_ROOM_ANNOUNCE_MS, lastSentMs: 0 })).toBe('send')
    expect(announceDecision({ peers: 40, maxPeers: 32, nowMs: 10, lastSentMs: 0 })).toBe('hold')
  })

  it('tells offering announces from answers and other messages', () => {
    expect(isOfferingAnnounce(announce)).toBe(true)
    expect(isOfferingAnnounce(answer)).toBe(false)
    expect(isOfferingAnnounce('{"action":"scrape"}')).toBe(false)
    expect(isOfferingAnnounce(new Uint8Array(3))).toBe(false)
  })

  it('gates a socket: while full, one offering announce per period goes out; answers always do', () => {
    const sent: unknown[] = []
    const socket = { send: (data: unknown) => void sent.push(data) }
    let now = 0
    let full = true
    const gate = gateAnnounces(socket, (lastSentMs) => (full ? announceDecision({ peers: 1, maxPeers: 1, nowMs: now, lastSentMs }) : 'send'), () => now)
    // trystero's warm-up (0.2, 0.5, 1.3 s) and then every 10 s, for ten minutes.
    for (const t of [233, 766, 2_099]) {
      now = t
      socket.send(announce)
    }
    for (now = 12_099; now < 600_000; now += 10_000) socket.send(announce)
    socket.send(answer)
    const announces = sent.filter((d) => d === announce).length
    expect(announces).toBe(5) // at 0.2 s, then once per two minutes
    expect(sent.filter((d) => d === answer)).toHaveLength(1)
    expect(gate.held()).toBeGreaterThan(50)
    // Room again: every announce goes out.
    full = false
    socket.send(announce)
    expect(sent.filter((d) => d === announce).length).toBe(6)
    // Wrapping twice does not gate twice.
    gateAnnounces(socket, () => 'hold', () => now)
    socket.send(announce)
    expect(sent.filter((d) => d === announce).length).toBe(7)
  })
})
