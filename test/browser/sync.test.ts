/**
 * Peerset in a real browser (Chromium), with the test page built from `dist/` (pages/peer.ts): browser
 * contexts (separate users, separate IndexedDB) sync over WebRTC through the embedded tracker on
 * 127.0.0.1; a reload keeps records and identity; a late context receives everything; a Node peer
 * (examples/node-peer, its own process) and a browser sync both ways.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startPeer, type PeerProcess } from '../../examples/node-peer/spawn.js'
import type { Tracker } from '../../src/testing/index.js'
import { captureErrors, launchBrowser, newUser, screenshot, startStatic, startTestTracker, waitInPage } from './harness.js'

let browser: Browser
let tracker: Tracker
let site: Awaited<ReturnType<typeof startStatic>>
const contexts: BrowserContext[] = []
const nodePeers: PeerProcess[] = []
const errors: string[] = []
/** Every page opened in this file, for a failing wait's message. */
const opened: Array<{ label: string; page: Page }> = []

beforeAll(async () => {
  ;[browser, tracker, site] = await Promise.all([launchBrowser(), startTestTracker(), startStatic()])
})

beforeEach(() => {
  errors.length = 0
})

afterAll(async () => {
  await Promise.all(nodePeers.map((p) => p.stop()))
  for (const context of contexts) await context.close().catch(() => undefined)
  await browser?.close()
  await tracker?.close()
  await site?.close()
})

/** Opens the test page for a new user (or in `context`) in `room`, waiting until its peerset is up. */
async function openPeer(label: string, room: string, context?: BrowserContext): Promise<Page> {
  const ctx = context ?? (await newUser(browser))
  if (!context) contexts.push(ctx)
  const page = await ctx.newPage()
  captureErrors(page, label, errors)
  opened.push({ label, page })
  await page.goto(`${site.url}/page/peer.html?room=${room}&tracker=${encodeURIComponent(tracker.url)}`)
  await waitInPage(page, `${label}'s peerset to start`, () => document.body.dataset['ready'] === 'true', undefined, 20_000)
  return page
}

const texts = (page: Page): Promise<string[]> => page.evaluate(() => window.peersetTest.texts())
const publish = (page: Page, text: string): Promise<string> => page.evaluate((t) => window.peersetTest.publish(t), text)
/** Every open page's own log: whether one met nobody, met a peer that never authenticated, or synced nothing. */
async function pageLogs(): Promise<string> {
  const logs: string[] = []
  for (const { label, page } of opened) {
    if (page.isClosed()) continue
    logs.push(`${label}'s log:\n${await page.evaluate(() => window.peersetTest.debug()).catch((e: unknown) => `(none: ${String(e)})`)}`)
  }
  return logs.join('\n')
}

// 120 s: in one CI run of several, two Chromium contexts first met only after more than 45 s (a link
// only one side's trystero reported; such a link is now dropped after a handshake time-out).
const waitForTexts = async (page: Page, label: string, expected: string[], budgetMs = 120_000): Promise<void> => {
  const started = Date.now()
  try {
    await waitInPage(page, `${label} to hold ${JSON.stringify(expected)}`, (want) => want.every((t) => window.peersetTest.texts().includes(t)), expected, budgetMs)
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await pageLogs()}`, { cause: error })
  }
  // A slow meeting passes, but says what happened (sessions, links dropped) for whoever looks into it.
  if (Date.now() - started > 10_000) console.log(`${label} took ${Date.now() - started} ms to hold ${expected.length} records\n${await pageLogs()}`)
}

describe('in Chromium', () => {
  it('two users publish, each receives the other\'s record, a reload keeps records and identity, a late third user receives everything', async () => {
    const room = `browser-${Date.now()}`
    const alice = await openPeer('alice', room)
    const bob = await openPeer('bob', room)
    await publish(alice, 'Alice: grey cat seen near the harbour')
    await publish(bob, 'Bob: lost blue keyring')
    const both = ['Alice: grey cat seen near the harbour', 'Bob: lost blue keyring']
    await waitForTexts(alice, 'alice', both)
    await waitForTexts(bob, 'bob', both)
    await screenshot(alice, 'test-page-alice')

    // Reload: the records come back from IndexedDB (before any peer could resend them) and the key from localStorage.
    const npub = await alice.evaluate(() => window.peersetTest.npub)
    await bob.context().close()
    await alice.reload()
    await waitInPage(alice, 'alice to restart', () => document.body.dataset['ready'] === 'true', undefined, 20_000)
    expect(await alice.evaluate(() => window.peersetTest.peers())).toBe(0)
    expect(await texts(alice)).toEqual(both)
    expect(await alice.evaluate(() => window.peersetTest.npub)).toBe(npub)

    // A third user joins late, with only Alice online: it gets Bob's record from her.
    const carol = await openPeer('carol', room)
    // Usually about a second. Now and then (1 run in 10-20 on a loaded machine) trystero reports the
    // link on one side only; the side that sees it drops it after a handshake time-out (10 s) and the
    // pair meets at the next announce (10 s more). The budget covers several rounds of that.
    await waitForTexts(carol, 'carol', both, 120_000)
    expect(await texts(carol)).toEqual(both)
    expect(errors).toEqual([])
  }, 400_000)

  it('a Node peer and a browser sync with each other, both ways', async () => {
    const room = `node-browser-${Date.now()}`
    const node = startPeer('node', ['--room', room, '--tracker', tracker.url, '--publish', 'Node: free apples at the gate'], { stderr: 'inherit' })
    nodePeers.push(node)
    await node.waitFor((e) => e.event === 'ready', 30_000, 'the Node peer to start')
    const page = await openPeer('browser', room)
    await publish(page, 'Browser: bike pump to lend')
    await waitForTexts(page, 'the browser', ['Node: free apples at the gate'], 60_000)
    await node.waitFor((e) => e.event === 'record:added' && e['text'] === 'Browser: bike pump to lend' && e['origin'] === 'remote', 60_000, 'the browser record')
    expect(await texts(page)).toEqual(['Browser: bike pump to lend', 'Node: free apples at the gate'])
    expect(errors).toEqual([])
  })
})
