import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { DEFAULT_MAX_FUNCTION_LINES, formatTable, measureFunctions, measureSource, tooLong } from '../../scripts/function-lengths.js'

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url))

describe('function lengths', () => {
  it(`no function in src/ is ${DEFAULT_MAX_FUNCTION_LINES} lines or longer`, () => {
    const measured = measureFunctions(PROJECT_ROOT, 'src', [])
    expect(measured.length).toBeGreaterThan(100)
    const over = tooLong(measured)
    expect(over, `too long:\n${formatTable(over)}`).toEqual([])
  })

  it('counts a factory whole, closures included, and names methods and arrows', () => {
    const source = [
      'export function makeThing() {', // 1
      '  const inner = () => {', // 2
      '    return 1', // 3
      '  }', // 4
      '  return { run() { return inner() } }', // 5
      '}', // 6
      'class Box {', // 7
      '  #size(): number {', // 8
      '    return 0', // 9
      '  }', // 10
      '}', // 11
    ].join('\n')
    const found = measureSource('x.ts', source)
    expect(found.map((f) => [f.name, f.line, f.lines])).toEqual([
      ['makeThing', 1, 6],
      ['makeThing > inner', 2, 3],
      ['makeThing > run', 5, 1],
      ['Box.#size', 8, 3],
    ])
  })
})
