/**
 * The package as a consumer gets it: `npm pack`, unpacked into a consumer project's node_modules,
 * imported from ESM and required from CommonJS, and type-checked from both module systems.
 * The consumer lives inside this repository so its dependencies resolve to ours: no network.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../..')
const consumer = join(root, '.cache', 'consumer')
const run = (cmd: string, args: string[], cwd = root): string =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

beforeAll(() => {
  run('npm', ['run', 'build', '--silent'])
  rmSync(consumer, { recursive: true, force: true })
  const pkgDir = join(consumer, 'node_modules', 'peerset')
  mkdirSync(pkgDir, { recursive: true })
  const packed = JSON.parse(run('npm', ['pack', '--json', '--silent', '--pack-destination', consumer])) as Array<{ filename: string }>
  run('tar', ['-xzf', join(consumer, packed[0]!.filename), '-C', pkgDir, '--strip-components=1'])
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
}, 120_000)

const script = `
  const alice = createIdentity()
  const peerset = await createPeerset({ room: 'consumer', identity: alice, transport: false })
  const record = await peerset.publish({ text: 'hello from a consumer' })
  const out = { npub: alice.npub.slice(0, 5), text: peerset.get(record.id).text, count: peerset.records().length }
  await peerset.close()
  console.log(JSON.stringify(out))
`

describe('the packed package', () => {
  it('ships only dist, README and LICENSE', () => {
    const files = readdirSync(join(consumer, 'node_modules', 'peerset')).sort()
    expect(files).toEqual(['LICENSE', 'README.md', 'dist', 'package.json'])
  })

  it('imports from ESM', () => {
    writeFileSync(join(consumer, 'esm.mjs'), `import { createPeerset, createIdentity } from 'peerset'\n${script}`)
    expect(JSON.parse(run('node', ['esm.mjs'], consumer))).toEqual({ npub: 'npub1', text: 'hello from a consumer', count: 1 })
  })

  it('requires from CommonJS', () => {
    writeFileSync(
      join(consumer, 'cjs.cjs'),
      `const { createPeerset, createIdentity } = require('peerset')\n;(async () => {${script}})()`,
    )
    expect(JSON.parse(run('node', ['cjs.cjs'], consumer))).toEqual({ npub: 'npub1', text: 'hello from a consumer', count: 1 })
  })

  it('the root entry (the browser bundle) loads no node: module and no Node-only package', () => {
    const dist = join(consumer, 'node_modules', 'peerset', 'dist')
    const seen = new Set<string>()
    const imports: string[] = []
    const visit = (file: string): void => {
      if (seen.has(file)) return
      seen.add(file)
      const code = readFileSync(join(dist, file), 'utf8')
      for (const [, spec] of code.matchAll(/(?:from\s*|import\s*\(?\s*)['"]([^'"]+)['"]/g)) {
        if (spec!.startsWith('./')) visit(spec!.slice(2))
        else imports.push(spec!)
      }
    }
    visit('index.js')
    expect(imports.filter((s) => /^node:|^(node-datachannel|ws|classic-level|bittorrent-tracker)(\/|$)/.test(s))).toEqual([])
    expect(imports).toContain('@trystero-p2p/torrent')
  })

  it('imports peerset/node and peerset/testing from ESM, sharing the root entry\'s error class', () => {
    writeFileSync(
      join(consumer, 'node-entry.mjs'),
      `import { isPeersetError } from 'peerset'
import { levelStorage, nodeRtc } from 'peerset/node'
import { startTracker } from 'peerset/testing'
const tracker = await startTracker()
let shared = false
try { levelStorage({}) } catch (e) { shared = isPeersetError(e, 'INVALID_ARGUMENT') }
console.log(JSON.stringify({ url: tracker.url.startsWith('ws://127.0.0.1:'), rtc: typeof nodeRtc().rtcPolyfill, shared }))
await tracker.close()
`,
    )
    expect(JSON.parse(run('node', ['node-entry.mjs'], consumer))).toEqual({ url: true, rtc: 'function', shared: true })
  }, 60_000)

  // workerVerifier() finds dist/verify-worker.js from the installed package, from both module systems:
  // a mixed batch answered in order, and a peerset that imports through the pool.
  const poolScript = `
  const alice = createIdentity()
  const a = await createRecord({ text: 'one' }, alice.signer, { room: 'consumer' })
  const b = await createRecord({ text: 'two' }, alice.signer, { room: 'consumer' })
  const forged = { ...b, sig: (b.sig[0] === '0' ? '1' : '0') + b.sig.slice(1) }
  const pool = workerVerifier({ size: 2, minChunk: 1 })
  const checks = [a, forged, b, a].map((r) => ({ id: r.id, pubkey: r.author, sig: r.sig }))
  const answers = await pool.verify(checks)
  await pool.close()
  const verifier = workerVerifier({ size: 2 })
  const peerset = await createPeerset({ room: 'consumer', identity: alice, transport: false, verifier })
  const outcomes = await Promise.all([toNostrEvent(a), toNostrEvent(forged)].map((e) => peerset.importRecord(e)))
  await peerset.close()
  const closed = await verifier.verify(checks).then(() => 'open', (e) => e.code)
  console.log(JSON.stringify({ answers, outcomes: outcomes.map((o) => o.reason ?? o.status), closed }))
`
  const poolAnswer = { answers: [true, false, true, true], outcomes: ['added', 'bad-signature'], closed: 'CLOSED' }

  it('verifies through workerVerifier() (worker_threads) from ESM', () => {
    writeFileSync(join(consumer, 'pool-esm.mjs'), `import { createPeerset, createIdentity, createRecord, toNostrEvent, workerVerifier } from 'peerset'\n${poolScript}`)
    expect(JSON.parse(run('node', ['pool-esm.mjs'], consumer))).toEqual(poolAnswer)
  }, 60_000)

  it('verifies through workerVerifier() (worker_threads) from CommonJS', () => {
    writeFileSync(
      join(consumer, 'pool-cjs.cjs'),
      `const { createPeerset, createIdentity, createRecord, toNostrEvent, workerVerifier } = require('peerset')\n;(async () => {${poolScript}})()`,
    )
    expect(JSON.parse(run('node', ['pool-cjs.cjs'], consumer))).toEqual(poolAnswer)
  }, 60_000)

  it('a Vite build of a page using workerVerifier() emits the worker, and the page verifies through Web Workers in Chromium', async () => {
    const web = join(consumer, 'web')
    mkdirSync(web, { recursive: true })
    writeFileSync(join(web, 'index.html'), '<!doctype html><html><body><pre id="out"></pre><script type="module" src="./main.js"></script></body></html>')
    writeFileSync(
      join(web, 'main.js'),
      `import { createIdentity, createRecord, workerVerifier } from 'peerset'
const alice = createIdentity()
const a = await createRecord({ text: 'one' }, alice.signer, { room: 'web' })
const forged = { ...a, sig: (a.sig[0] === '0' ? '1' : '0') + a.sig.slice(1) }
const pool = workerVerifier({ size: 2, minChunk: 1 })
const answers = await pool.verify([a, forged, a].map((r) => ({ id: r.id, pubkey: r.author, sig: r.sig })))
await pool.close()
document.getElementById('out').textContent = JSON.stringify({ answers })
`,
    )
    const { build } = await import('vite')
    const outDir = join(consumer, 'web-dist')
    await build({ root: web, logLevel: 'silent', build: { outDir, emptyOutDir: true } })
    expect(readdirSync(join(outDir, 'assets')).some((f) => f.startsWith('verify-worker'))).toBe(true)

    const server = createServer((req, res) => {
      const file = join(outDir, req.url === '/' ? 'index.html' : (req.url ?? '').split('?')[0]!)
      if (!existsSync(file)) return void res.writeHead(404).end()
      res.writeHead(200, { 'content-type': file.endsWith('.html') ? 'text/html' : 'text/javascript' }).end(readFileSync(file))
    })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    const { chromium } = await import('playwright-core')
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] })
    try {
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(String(e)))
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
      await page.waitForFunction(() => document.getElementById('out')!.textContent !== '', null, { timeout: 60_000 })
      expect(JSON.parse((await page.textContent('#out'))!)).toEqual({ answers: [true, false, true] })
      expect(errors).toEqual([])
    } finally {
      await browser.close()
      server.close()
    }
  }, 120_000)

  it('type-checks from ESM and CommonJS consumers', () => {
    const source = `import { createPeerset, createIdentity, type PeersetRecord } from 'peerset'
const id = createIdentity()
export const p: Promise<unknown> = createPeerset({ room: 'x', identity: id })
export const r: PeersetRecord | undefined = undefined
`
    writeFileSync(join(consumer, 'esm.mts'), source)
    writeFileSync(join(consumer, 'cjs.cts'), source.replace("Promise<unknown> = createPeerset", "unknown = createPeerset"))
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    const common = ['--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--types', 'node', '--typeRoots', join(root, 'node_modules', '@types')]
    expect(() => run('node', [tsc, ...common, 'esm.mts'], consumer)).not.toThrow()
    expect(() => run('node', [tsc, ...common, 'cjs.cts'], consumer)).not.toThrow()
  }, 180_000) // two full tsc runs: minutes on a loaded machine
})
