/**
 * Host-supplied functions that throw are typed errors, never a stray `Error`: a `clock` that throws
 * or answers no number at createPeerset, a draft whose getter throws at publish.
 */
import { describe, expect, it } from 'vitest'
import { isPeersetError } from '../../src/errors.js'
import { openPeerset } from '../helpers.js'

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => 'resolved', (e: unknown) => e)
}

describe('host functions that throw', () => {
  it('a clock that throws: createPeerset rejects with INVALID_ARGUMENT, the error as cause', async () => {
    const tick = new Error('tick')
    const e = await rejection(openPeerset({ clock: () => { throw tick } }))
    expect(isPeersetError(e, 'INVALID_ARGUMENT')).toBe(true)
    expect((e as Error).cause).toBe(tick)
  })

  it('a clock that answers no number: INVALID_ARGUMENT naming clock()', async () => {
    for (const value of [NaN, 'now', undefined]) {
      const e = await rejection(openPeerset({ clock: () => value as never }))
      expect(isPeersetError(e, 'INVALID_ARGUMENT') && (e as Error).message).toContain('clock()')
    }
  })

  it.each(['text', 'uuid', 'geo'])('a draft whose %s getter throws: publish rejects with INVALID_ARGUMENT', async (field) => {
    const peerset = await openPeerset()
    try {
      const draft = { text: 'hello' } as Record<string, unknown>
      Object.defineProperty(draft, field, { enumerable: true, get: () => { throw new Error('getter') } })
      const e = await rejection(peerset.publish(draft as never))
      expect(isPeersetError(e, 'INVALID_ARGUMENT'), String(e)).toBe(true)
      expect(peerset.status().records).toBe(0)
    } finally {
      await peerset.close()
    }
  })

  it('a draft whose geo.lat getter throws: INVALID_ARGUMENT', async () => {
    const peerset = await openPeerset()
    try {
      const geo = { lon: 0 } as Record<string, unknown>
      Object.defineProperty(geo, 'lat', { enumerable: true, get: () => { throw new Error('getter') } })
      expect(isPeersetError(await rejection(peerset.publish({ text: 'x', geo } as never)), 'INVALID_ARGUMENT')).toBe(true)
    } finally {
      await peerset.close()
    }
  })
})
