/** A peer must not be able to make us announce everything again and again. */
import { describe, expect, it } from 'vitest'
import { EMPTY_DIGEST } from '../../src/protocol/index.js'
import { NOW, TestPeer, granularity, hid, timeIn } from './harness.js'

describe('an empty peer', () => {
  it('costs the full side nothing but a root, whatever digests an "empty" root claims: the empty side fetches', () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ id: hid(i), createdAt: timeIn(i % 30, i) }))
    const full = new TestPeer('a-full', records)
    full.core.peerReady('z-liar', NOW)
    const window = granularity.windowAt(NOW)
    const answer = (t: number, digest: string) => full.core.receive('z-liar', { type: 'root', window, count: 0, digest, wanting: 0 }, t).send
    // The first empty root is answered once with our root (the peer may have missed ours); nothing is announced.
    expect(answer(NOW, EMPTY_DIGEST).map((o) => o.message.type)).toEqual(['root'])
    for (let i = 1; i <= 20; i++) {
      const t = NOW + i * 3_000
      expect(answer(t, hid(`lie-${i}`).slice(0, EMPTY_DIGEST.length))).toEqual([])
    }
    // A fetch is served with at most what it asks for.
    const served = full.core.receive('z-liar', { type: 'fetch', from: window.oldest, to: window.newest, after: undefined, max: 7 }, NOW).send
    expect(served).toHaveLength(1)
    const m = served[0]!.message
    expect(m.type === 'pushed' && m.events.length).toBe(7)
    expect(m.type === 'pushed' && m.exhausted).toBe(false)
  })
})
