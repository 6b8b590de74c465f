import { afterEach, describe, expect, it, vi } from 'vitest'
import { verifyHere } from '../../src/verify/main-thread.js'
import { loadFixtures } from '../helpers.js'

afterEach(() => vi.restoreAllMocks())

describe('the main-thread verifier lets the event loop run without a timer delay', () => {
  it('yields through setImmediate in Node, never a zero-delay timer (1 ms idle each time in Node, 4 ms in browsers)', async () => {
    const { records } = loadFixtures()
    const checks = records.slice(0, 3).map((e) => ({ id: e.id, pubkey: e.pubkey, sig: e.sig }))
    const immediate = vi.spyOn(globalThis, 'setImmediate')
    const timeout = vi.spyOn(globalThis, 'setTimeout')
    // yieldEveryMs 0: a yield after every verify.
    expect(await verifyHere(checks, 0)).toEqual([true, true, true])
    expect(immediate).toHaveBeenCalledTimes(3)
    expect(timeout).not.toHaveBeenCalled()
  })
})
