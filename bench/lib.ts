/**
 * Tiny helpers shared by the `npm run bench:*` scripts: a readable table by default, and with
 * `--json` one JSON object per scenario per line (units in the key names).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { schnorr } from '@noble/curves/secp256k1.js'
import { hexToBytes } from '@noble/hashes/utils.js'
import { join } from 'node:path'
import { createIdentity } from '../src/identity/index.js'
import { createRecord, roomHash } from '../src/record/index.js'
import type { PeersetRecord } from '../src/record/types.js'

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
export async function opsPerSecond(fn: () => unknown | Promise<unknown>, ms = 1500, warmMs = Math.min(300, ms / 4)): Promise<number> {
  const warmUntil = performance.now() + warmMs
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

/**
 * `n` signed records of `room` from 100 authors, cached in .cache/<cache>/ (regenerated when older
 * than 30 days; the file name carries the room hash, so another room never reuses them).
 */
export async function cachedFixtures(cache: string, n: number, room: string, text: string, say: (line: string) => void): Promise<PeersetRecord[]> {
  const dir = join(import.meta.dirname, '..', '.cache', cache)
  const file = join(dir, `records-${n}-room-${roomHash(room).slice(0, 16)}.json`)
  if (existsSync(file) && Date.now() - statSync(file).mtimeMs < 30 * 86_400_000) return JSON.parse(readFileSync(file, 'utf8')) as PeersetRecord[]
  say(`generating ${n} signed fixtures into ${file} (once)...`)
  const authors = Array.from({ length: 100 }, () => createIdentity())
  const records: PeersetRecord[] = []
  for (let i = 0; i < n; i++) records.push(await createRecord({ text: `${text} #${i}: a short sighting with some words in it` }, authors[i % 100]!.signer, { room }))
  mkdirSync(dir, { recursive: true })
  writeFileSync(file, JSON.stringify(records))
  return records
}

/**
 * The raw `schnorr.verify` rate of this thread: `rounds` rounds of `msPerRound` each, over (up to)
 * the first 2,000 of `records` (distinct signatures, so no round repeats a few cached inputs), after
 * a 500 ms warm-up. The median round is the rate; min and max show how steady the machine was.
 */
export async function rawVerifyRate(records: readonly PeersetRecord[], rounds = 5, msPerRound = 1_000): Promise<RawVerify> {
  const sample = records.slice(0, 2_000).map((r) => ({ sig: hexToBytes(r.sig), id: hexToBytes(r.id), pub: hexToBytes(r.author) }))
  let k = 0
  const one = (): void => {
    const s = sample[k++ % sample.length]!
    schnorr.verify(s.sig, s.id, s.pub)
  }
  const warmUntil = performance.now() + 500
  while (performance.now() < warmUntil) one()
  const perRound: number[] = []
  const cpu0 = process.cpuUsage()
  const k0 = k
  for (let r = 0; r < rounds; r++) perRound.push(await opsPerSecond(one, msPerRound, 0))
  const cpu = process.cpuUsage(cpu0)
  const cpuMsPerVerify = (cpu.user + cpu.system) / 1000 / (k - k0)
  return { perSec: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), rounds: perRound, sample: sample.length, cpuMsPerVerify }
}

/** A raw verify rate: the median of its rounds, with the spread. */
export interface RawVerify {
  perSec: number
  min: number
  max: number
  rounds: number[]
  sample: number
  /** CPU ms of the process per verify over the rounds: on a loaded machine it moves far less than the rate. */
  cpuMsPerVerify: number
}

/** Two raw verify measurements (before and after the scenarios) as one: the median of all rounds. */
export function combineRaw(a: RawVerify, b: RawVerify): RawVerify {
  const rounds = [...a.rounds, ...b.rounds]
  return { perSec: median(rounds), min: Math.min(a.min, b.min), max: Math.max(a.max, b.max), rounds, sample: a.sample, cpuMsPerVerify: (a.cpuMsPerVerify + b.cpuMsPerVerify) / 2 }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * CPU time this process spent (all its threads: main and workers, user + system) while `run` ran,
 * in ms, with the wall time. On a loaded machine the wall time swells; the CPU time much less.
 */
export async function cpuAccounted<T>(run: () => Promise<T>): Promise<{ value: T; cpuMs: number; wallMs: number }> {
  const cpu0 = process.cpuUsage()
  const wall0 = performance.now()
  const value = await run()
  const cpu = process.cpuUsage(cpu0)
  return { value, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - wall0 }
}

/**
 * Shape-correct fakes of what `createRecord` writes for the room whose hash is `hash` (bench:store, bench/open-time.ts): d, h (room), expiration, g and
 * geo tags, about 450 B each, one author per record (the worst case for per-author structures).
 */
export function fakeRecords(n: number, hash: string): PeersetRecord[] {
  const pool = randomBytes(n * 160).toString('hex')
  const now = Math.floor(Date.now() / 1000)
  return Array.from({ length: n }, (_, i) => {
    const hex = pool.slice(i * 320, (i + 1) * 320)
    const uuid = randomUUID()
    // Spread evenly over the 90-day window (about 1,100 records a day).
    const createdAt = now - Math.floor((i * 7_776_000) / n)
    const expiresAt = createdAt + 7_776_000
    return {
      id: hex.slice(0, 64),
      author: hex.slice(64, 128),
      uuid,
      roomHash: hash,
      createdAt,
      text: `Sighting #${i}: ${hex.slice(0, 120)}`,
      geo: { lat: 48.85, lon: 2.35, geohash: 'u09tvw0f' },
      expiresAt,
      tags: [['d', uuid], ['h', hash], ['expiration', String(expiresAt)], ['g', 'u09tvw0f'], ['geo', '48.85', '2.35']],
      sig: hex.slice(128, 256),
    }
  })
}
