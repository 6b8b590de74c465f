import { describe, expect, it } from 'vitest'
import { MAX_AUTHORS_REFUSED_FOR_NOW, MAX_REFUSED_FOR_NOW_PER_AUTHOR, RETRY_PER_REMOVAL, RefusedForNow } from '../../src/engine/refused-for-now.js'

describe('RefusedForNow (ids refused for now, asked again when their author loses a record)', () => {
  it('gives back an author’s ids once, oldest first, with every peer that sent them', () => {
    const m = new RefusedForNow()
    m.remember('alice', 'a1', 7, 'p1')
    m.remember('alice', 'a1', 7, 'p2')
    m.remember('alice', 'a2', 7, 'p1')
    m.remember('bob', 'b1', 7, 'p1')
    expect(m.take('alice', 1)).toEqual([
      { id: 'a1', bucket: 7, peerIds: ['p1', 'p2'] },
      { id: 'a2', bucket: 7, peerIds: ['p1'] },
    ])
    expect(m.take('alice', 1)).toEqual([])
    expect(m.size).toBe(1)
    // Removals are counted per author: a refusal judged while one went is retried at once by the router.
    expect(m.removalsOf('alice')).toBe(2)
    expect(m.removalsOf('bob')).toBe(0)
  })

  it('stays bounded whatever an author floods it with: a few ids per removal, a few per author, a few authors', () => {
    const m = new RefusedForNow()
    for (let i = 0; i < 10_000; i++) m.remember('mallory', `m${i}`, 1, 'p')
    expect(m.size).toBe(MAX_REFUSED_FOR_NOW_PER_AUTHOR)
    const first = m.take('mallory', 1)
    expect(first).toHaveLength(RETRY_PER_REMOVAL)
    expect(first[0]!.id).toBe(`m${10_000 - MAX_REFUSED_FOR_NOW_PER_AUTHOR}`)
    for (let i = 0; i < 10_000; i++) m.remember(`author${i}`, `x${i}`, 1, 'p')
    expect(m.size).toBe(MAX_AUTHORS_REFUSED_FOR_NOW)
    expect(m.take('mallory', 100)).toEqual([])
  })
})
