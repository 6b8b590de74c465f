/**
 * `npm run test:browser`: builds the test page from `dist/` and runs test/browser/*.test.ts in Debian's
 * Chromium. Prefers a loopback-only network namespace (`unshare -n`, lo up), so nothing can reach the
 * internet; where `unshare` is not permitted it runs in the normal namespace (the pages still resolve
 * nothing but 127.0.0.1). Extra arguments go to vitest (e.g. a file name). Exits non-zero on failure;
 * the whole run is bounded (RUN_BUDGET_MS).
 */
import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { PAGE_DIR, root } from './harness.js'

const RUN_BUDGET_MS = 15 * 60_000

function buildPackageIfMissing(): void {
  if (existsSync(join(root, 'dist', 'index.js'))) return
  console.log('test:browser: no dist/, running npm run build')
  const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' })
  if (built.status !== 0) process.exit(built.status ?? 1)
}

/** Rebuilds the Network UI from the current `dist/` (examples/network-ui/dist), if this checkout has it. */
function buildNetworkUi(): void {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {}
  if (scripts['build:ui'] === undefined) return
  const built = spawnSync('npm', ['run', 'build:ui', '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 })
  if (built.status !== 0) {
    console.error('test:browser: npm run build:ui failed')
    process.exit(built.status ?? 1)
  }
}

/** The test page, bundled from the built package as a host app would bundle it. */
async function buildTestPage(): Promise<void> {
  mkdirSync(PAGE_DIR, { recursive: true })
  copyFileSync(join(root, 'test/browser/pages/peer.html'), join(PAGE_DIR, 'peer.html'))
  await build({
    entryPoints: [join(root, 'test/browser/pages/peer.ts')],
    outdir: PAGE_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
    alias: { peerset: join(root, 'dist', 'index.js') },
  })
}

/** Whether this process may make a network namespace with a working loopback. */
function canUnshare(): boolean {
  if (process.env['PEERSET_BROWSER_NETNS'] === '0') return false
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore', timeout: 10_000 })
  return probe.status === 0
}

buildPackageIfMissing()
buildNetworkUi()
await buildTestPage()
const vitest = ['npx', 'vitest', 'run', '--config', 'test/browser/vitest.config.ts', ...process.argv.slice(2)]
const isolated = canUnshare()
console.log(isolated ? 'test:browser: in a loopback-only network namespace (unshare -n)' : 'test:browser: unshare -n not permitted, using the normal network namespace')
const [command, ...args] = isolated ? ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...vitest] : vitest
const child = spawn(command!, args, { cwd: root, stdio: 'inherit', env: { ...process.env, PEERSET_BROWSER_NETNS: isolated ? '1' : '0' } })
const budget = setTimeout(() => {
  console.error(`test:browser: still running after ${RUN_BUDGET_MS / 60_000} min, stopping`)
  child.kill('SIGKILL')
}, RUN_BUDGET_MS)
child.on('exit', (code, signal) => {
  clearTimeout(budget)
  process.exit(code ?? (signal ? 1 : 0))
})
