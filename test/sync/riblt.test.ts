import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { SymbolDecoder, SymbolSource, shortIdHalves, shortIdHex, type ShortId } from '../../src/sync/riblt.js'

const rand = (n: number): ShortId[] => Array.from({ length: n }, () => shortIdHalves(randomBytes(8).toString('hex')))

/** Streams the sender's symbols in batches until the receiver decodes; returns how many it took. */
function reconcile(sender: ShortId[], receiver: ShortId[], salt = randomBytes(8), batch = 16): { symbols: number; decoder: SymbolDecoder } {
  const enc = new SymbolSource(salt, sender)
  const dec = new SymbolDecoder(new SymbolSource(salt, receiver))
  while (!dec.done) {
    if (dec.received > 4 * (sender.length + receiver.length) + 64) throw new Error('no decode')
    dec.add(enc.symbols(dec.received, dec.received + batch))
  }
  return { symbols: dec.received, decoder: dec }
}

describe('rateless IBLT', () => {
  it.each([1, 10, 300])('recovers exactly the symmetric difference of %i elements each way, whatever the common part', (d) => {
    const common = rand(2_000)
    const onlyA = rand(d)
    const onlyB = rand(d)
    const { decoder } = reconcile([...common, ...onlyA], [...common, ...onlyB], randomBytes(8), 8)
    const plus = decoder.recovered.filter((x) => x.sign === 1).map(shortIdHex).sort()
    const minus = decoder.recovered.filter((x) => x.sign === -1).map(shortIdHex).sort()
    expect(plus).toEqual(onlyA.map(shortIdHex).sort())
    expect(minus).toEqual(onlyB.map(shortIdHex).sort())
  })

  it('needs about 1.35-1.6 symbols per difference for large differences', () => {
    const common = rand(5_000)
    const { symbols } = reconcile([...common, ...rand(1_000)], [...common, ...rand(1_000)], randomBytes(8), 50)
    expect(symbols / 2_000).toBeLessThan(1.7)
  })

  it('makes the same symbols batch after batch, after a gap asked again, and all at once', () => {
    const set = rand(3_000)
    const salt = randomBytes(8)
    const whole = new SymbolSource(salt, set).symbols(0, 200)
    const batched = new SymbolSource(salt, set)
    const parts = [...batched.symbols(0, 50), ...batched.symbols(50, 120)]
    // A gap asked again (a lost frame), then the stream goes on.
    expect(batched.symbols(30, 60)).toEqual(whole.slice(30, 60))
    parts.push(...batched.symbols(120, 200))
    expect(parts).toEqual(whole)
  })

  it('equal sets decode from the first symbol', () => {
    const common = rand(1_000)
    expect(reconcile(common, common, randomBytes(8), 1).symbols).toBe(1)
  })

  it('a recovered element carries its tag (the place of its bucket in the stream), on either side', () => {
    const tagged = (ids: ShortId[], tag: (i: number) => number) => ({
      hi: Uint32Array.from(ids, (x) => x.hi),
      lo: Uint32Array.from(ids, (x) => x.lo),
      tags: Uint8Array.from(ids, (_, i) => tag(i)),
    })
    const common = rand(500)
    const onlyA = rand(40)
    const onlyB = rand(40)
    const tagOf = new Map<string, number>()
    ;[...common, ...onlyA, ...onlyB].forEach((x, i) => tagOf.set(shortIdHex(x), i % 200))
    const tag = (list: ShortId[]) => (i: number) => tagOf.get(shortIdHex(list[i]!))!
    const a = [...common, ...onlyA]
    const b = [...common, ...onlyB]
    const salt = randomBytes(8)
    const enc = new SymbolSource(salt, tagged(a, tag(a)), 200)
    const dec = new SymbolDecoder(new SymbolSource(salt, tagged(b, tag(b)), 200))
    while (!dec.done && dec.received < 2_000) dec.add(enc.symbols(dec.received, dec.received + 16))
    expect(dec.done).toBe(true)
    expect(dec.recovered).toHaveLength(80)
    for (const x of dec.recovered) expect(x.tag).toBe(tagOf.get(shortIdHex(x)))
  })

  it('refuses a tag not below the tag count, and a receiver takes no symbol whose tag is past its own count as pure', () => {
    const one = rand(1)
    expect(() => new SymbolSource(randomBytes(8), { hi: Uint32Array.of(one[0]!.hi), lo: Uint32Array.of(one[0]!.lo), tags: Uint8Array.of(3) }, 3)).toThrow(RangeError)
    // The sender tags its only element 5; a receiver that expects 2 tags never recovers it.
    const salt = randomBytes(8)
    const enc = new SymbolSource(salt, { hi: Uint32Array.of(one[0]!.hi), lo: Uint32Array.of(one[0]!.lo), tags: Uint8Array.of(5) }, 6)
    const narrow = new SymbolDecoder(new SymbolSource(salt, [], 2))
    narrow.add(enc.symbols(0, 8))
    expect(narrow.recovered).toHaveLength(0)
    const wide = new SymbolDecoder(new SymbolSource(salt, [], 6))
    wide.add(enc.symbols(0, 8))
    expect(wide.recovered.map((x) => x.tag)).toEqual([5])
  })

  it('estimates the differences left from the counts, unbiased, whichever side holds them', () => {
    for (const [plus, minus] of [[1_000, 1_000], [2_000, 0]] as const) {
      const ratios: number[] = []
      for (let t = 0; t < 12; t++) {
        const common = rand(300)
        const dec = new SymbolDecoder(new SymbolSource(randomBytes(8).fill(t), [...common, ...rand(minus)]))
        const enc = new SymbolSource(randomBytes(8).fill(t), [...common, ...rand(plus)])
        dec.add(enc.symbols(0, 600))
        ratios.push((dec.recovered.length + dec.estimateRemaining()) / (plus + minus))
      }
      const mean = ratios.reduce((x, y) => x + y) / ratios.length
      expect(mean).toBeGreaterThan(0.85)
      expect(mean).toBeLessThan(1.15)
    }
  })
})
