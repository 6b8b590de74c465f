/** A peer must not be able to make us announce everything again and again. */
import { describe, expect, it } from 'vitest'
import { EMPTY_DIGEST } from '../../src/protocol/index.js'
import { NOW, TestPeer, granularity, hid, timeIn } from './harness.js'

describe('announcing everything to an empty peer', () => {
  it('happens once per change of our set, whatever digests an "empty" root claims', () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ id: hid(i), createdAt: timeIn(i % 30, i) }))
    const full = new TestPeer('a-full', records)
    full.core.peerReady('z-liar', NOW)
    const window = granularity.windowAt(NOW)
    const haves = (t: number, digest: string): number =>
      full.core
        .receive('z-liar', { type: 'root', window, count: 0, digest, wanting: 0 }, t)
        .send.filter((o) => o.message.type === 'have').length
    expect(haves(NOW, EMPTY_DIGEST)).toBeGreaterThan(0)
    // Every 3 s a new claimed digest, alternating with non-empty roots that start other rounds: no
    // second full announcement while our set is unchanged.
    for (let i = 1; i <= 20; i++) {
      const t = NOW + i * 6_000
      full.core.receive('z-liar', { type: 'root', window, count: 7, digest: hid(`other-${i}`).slice(0, EMPTY_DIGEST.length), wanting: 0 }, t)
      expect(haves(t + 3_000, hid(`lie-${i}`).slice(0, EMPTY_DIGEST.length))).toBe(0)
    }
    // Our set changes: the next empty root gets a full announcement again.
    full.addLocal({ id: hid('new'), createdAt: timeIn(0, 7) })
    expect(haves(NOW + 130_000, EMPTY_DIGEST)).toBeGreaterThan(0)
  })
})
