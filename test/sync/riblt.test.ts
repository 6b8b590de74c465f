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
})
