/**
 * Shared pieces of the real-browser tests: Debian's Chromium through playwright-core, a static server
 * for the pages on 127.0.0.1, the embedded tracker, and bounded waits. Run them with
 * `npm run test:browser` (test/browser/run.ts), which prefers a loopback-only network namespace.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, resolve } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core'
import { startTracker, type Tracker } from '../../src/testing/index.js'

export const root = resolve(import.meta.dirname, '../..')
/** Where test/browser/run.ts builds the test page. */
export const PAGE_DIR = join(root, '.cache', 'browser-page')
/** The Network UI's build (`npm run build:ui`); PEERSET_UI_DIR points elsewhere (another checkout's build). */
export const UI_DIR = process.env['PEERSET_UI_DIR'] ?? join(root, 'examples', 'network-ui', 'dist')
export const SCREENSHOT_DIR = join(root, '.cache', 'screenshots')
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

/** Whether run.ts put us in a loopback-only network namespace (`unshare -n`). */
export const inNamespace = process.env['PEERSET_BROWSER_NETNS'] === '1'

const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // WebRTC between pages of this host: loopback candidates, and real addresses instead of mDNS names.
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  // Nothing but 127.0.0.1 resolves: no request can leave the machine.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
]

/** Launches headless Chromium with the flags WebRTC needs on loopback. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (never playwright install)`)
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 })
}

/** A fresh context (its own storage: a separate user) that may use WebRTC on loopback. */
export async function newUser(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } })
  // Granting the microphone makes Chromium expose host candidates (needed inside `unshare -n`).
  await context.grantPermissions(['microphone'])
  return context
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json', '.map': 'application/json' }

/** A static server on 127.0.0.1: `/page/...` serves the test page, `/ui/...` the Network UI build. */
export async function startStatic(): Promise<{ url: string; close(): Promise<void> }> {
  const mounts: Record<string, string> = { '/page/': PAGE_DIR, '/ui/': UI_DIR }
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    if (path === '/favicon.ico') {
      res.writeHead(204).end()
      return
    }
    const mount = Object.keys(mounts).find((m) => path.startsWith(m))
    const rel = mount === undefined ? undefined : normalize(path.slice(mount.length) || 'index.html')
    const file = mount === undefined || rel === undefined || rel.startsWith('..') ? undefined : join(mounts[mount]!, rel.endsWith('/') ? `${rel}index.html` : rel)
    if (file === undefined || !existsSync(file)) {
      res.writeHead(404).end('not found')
      return
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(readFileSync(file))
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  }
}

/** The tracker for a test file: announces every 10 s (trystero's floor), so a late joiner waits at most that. */
export function startTestTracker(): Promise<Tracker> {
  return startTracker({ intervalMs: 10_000 })
}

/** Polls `check` in the page until it returns true, or fails after `budgetMs` naming `what`. */
export async function waitInPage<A>(page: Page, what: string, check: (arg: A) => boolean, arg: A, budgetMs = 30_000): Promise<void> {
  try {
    await page.waitForFunction(check as (arg: unknown) => boolean, arg as unknown, { timeout: budgetMs, polling: 100 })
  } catch (cause) {
    throw new Error(`timed out after ${budgetMs} ms waiting for ${what}`, { cause })
  }
}

/** Writes a screenshot to .cache/screenshots/<name>.png (gitignored: a test artifact). */
export async function screenshot(page: Page, name: string, part?: Locator): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const path = join(SCREENSHOT_DIR, `${name}.png`)
  if (part === undefined) await page.screenshot({ path, fullPage: true })
  else await part.screenshot({ path })
  return path
}

/** trystero logs this when a peer that left closes its data channel: the expected end of a session. */
const BENIGN_CONSOLE_ERRORS = /^Trystero peer error: OperationError: User-Initiated Abort, reason=Close called$/

/** Appends the page's console errors and uncaught exceptions to `errors` (a test expects none). */
export function captureErrors(page: Page, label: string, errors: string[]): void {
  page.on('pageerror', (error) => errors.push(`${label}: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error' && !BENIGN_CONSOLE_ERRORS.test(message.text())) errors.push(`${label} console: ${message.text()}`)
  })
}
