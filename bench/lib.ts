/**
 * Tiny helpers shared by the `npm run bench:*` scripts: a readable table by default, and with
 * `--json` one JSON object per scenario per line (units in the key names).
 */
import os from 'node:os'

export const jsonMode = process.argv.includes('--json')

export type Row = Record<string, string | number | boolean | null>

/** Print rows: a table for people, or JSON lines with `--json`. */
export function report(title: string, rows: Row[]): void {
  if (jsonMode) {
    for (const row of rows) console.log(JSON.stringify(row))
    return
  }
  console.log(`\n${title}`)
  console.log(machineLine())
  console.table(rows)
}

/** The machine the figures were measured on. */
export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu'
  return `node ${process.version}, ${os.cpus().length} x ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`
}

/** Run `fn` repeatedly for about `ms` milliseconds (after a warm-up) and return operations per second. */
export async function opsPerSecond(fn: () => unknown | Promise<unknown>, ms = 1500): Promise<number> {
  const warmUntil = performance.now() + Math.min(300, ms / 4)
  while (performance.now() < warmUntil) await fn()
  let n = 0
  const start = performance.now()
  let now = start
  while (now - start < ms) {
    await fn()
    n++
    now = performance.now()
  }
  return n / ((now - start) / 1000)
}

/** Round to `digits` significant decimals for display. */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}
