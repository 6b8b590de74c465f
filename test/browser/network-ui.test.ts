/**
 * The Network UI (examples/network-ui, built by `npm run build:ui`) in Chromium, against the embedded
 * tracker: two users log in and publish through the form and see each other's records; a reload
 * keeps the identity the user chose to remember (and only that one) and, with no other peer online,
 * every record (IndexedDB); a third user joining late receives everything from the one peer left. Screenshots of each panel go to .cache/screenshots/.
 *
 * The page's contract (followed by the UI): `?room=...&tracker=ws://...` (and `&relays=ws://...`: a
 * `<ul aria-label="Relays">` under Connection); sections headed "Client",
 * "Swarm", "Records", "Settings"; buttons "Create a new key", "Log in", "Log out", "Publish"; an input
 * labelled "nsec"; a checkbox "Remember me on this device"; fields "Text" and "Link";
 * `<ul aria-label="Recent records">` with one `<li>` per record; `<ul aria-label="Peers">`;
 * `[data-testid=connection]` containing "joined" once in the room.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createIdentity } from '../../src/index.js'
import { startNostrRelay, type Tracker } from '../../src/testing/index.js'
import { captureErrors, launchBrowser, newUser, screenshot, startStatic, startTestTracker, UI_DIR } from './harness.js'

const PANELS = ['Client', 'Swarm', 'Records', 'Settings'] as const
const NPUB = /npub1[02-9ac-hj-np-z]{58}/

let browser: Browser
let tracker: Tracker
let site: Awaited<ReturnType<typeof startStatic>>
const contexts: BrowserContext[] = []
const errors: string[] = []

beforeAll(async () => {
  if (!existsSync(join(UI_DIR, 'index.html'))) throw new Error(`no Network UI build in ${UI_DIR}: run npm run build && npm run build:ui`)
  ;[browser, tracker, site] = await Promise.all([launchBrowser(), startTestTracker(), startStatic()])
})

beforeEach(() => {
  errors.length = 0
})

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined)
  await browser?.close()
  await tracker?.close()
  await site?.close()
})

const panel = (page: Page, name: (typeof PANELS)[number]) =>
  page.locator('section').filter({ has: page.getByRole('heading', { name, exact: true }) }).first()
const recent = (page: Page) => page.locator('ul[aria-label="Recent records"] > li')

async function openUi(label: string, room: string, extraParams = ''): Promise<Page> {
  const context = await newUser(browser)
  contexts.push(context)
  const page = await context.newPage()
  captureErrors(page, label, errors)
  await page.goto(`${site.url}/ui/index.html?room=${room}&tracker=${encodeURIComponent(tracker.url)}${extraParams}`)
  for (const name of PANELS) await page.getByRole('heading', { name, exact: true }).first().waitFor({ timeout: 20_000 })
  return page
}

/** Logs in: with `nsec` typed into the form, or with a new key; `remember` ticks "Remember me on this device". */
async function logIn(page: Page, options: { nsec?: string; remember: boolean }): Promise<void> {
  if (options.remember) await page.getByLabel('Remember me on this device').check()
  if (options.nsec === undefined) await page.getByRole('button', { name: 'Create a new key' }).click()
  else await page.getByLabel('nsec', { exact: true }).fill(options.nsec)
  const logOut = page.getByRole('button', { name: 'Log out' })
  // "Create a new key" may log in by itself, or fill the field for "Log in".
  if (!(await logOut.isVisible())) await page.getByRole('button', { name: 'Log in' }).click()
  await logOut.waitFor({ timeout: 20_000 })
  await page.locator('[data-testid=connection]').filter({ hasText: 'joined' }).waitFor({ timeout: 30_000 })
}

async function publishThroughForm(page: Page, text: string, link?: string): Promise<void> {
  await page.getByLabel('Text', { exact: true }).fill(text)
  if (link !== undefined) await page.getByLabel('Link', { exact: true }).fill(link)
  await page.getByRole('button', { name: 'Publish' }).click()
}

async function waitForRecords(page: Page, label: string, wanted: string[], budgetMs = 45_000): Promise<void> {
  for (const text of wanted) {
    try {
      await recent(page).filter({ hasText: text }).first().waitFor({ timeout: budgetMs })
    } catch (cause) {
      throw new Error(`${label}: "${text}" not in Recent records after ${budgetMs} ms`, { cause })
    }
  }
}

const npubIn = async (page: Page): Promise<string | undefined> => NPUB.exec(await panel(page, 'Client').innerText())?.[0]

describe('the Network UI in Chromium', () => {
  it('two users publish through the form and see each other; a reload keeps records and the remembered identity; a late user gets everything', async () => {
    const room = `ui-${Date.now()}`
    const alice = await openUi('alice', room)
    const bob = await openUi('bob', room)
    await logIn(alice, { remember: true })
    await logIn(bob, { nsec: createIdentity().nsec, remember: false })
    await expect.poll(() => npubIn(alice), { timeout: 20_000 }).toMatch(NPUB)
    const aliceNpub = await npubIn(alice)

    const records = ['Alice: grey cat near the harbour', 'Bob: lost blue keyring']
    await publishThroughForm(alice, records[0]!, 'https://example.org/cats/1')
    await publishThroughForm(bob, records[1]!)
    await waitForRecords(alice, 'alice', records)
    await waitForRecords(bob, 'bob', records)
    await expect(alice.locator('ul[aria-label="Peers"] > li').count()).resolves.toBeGreaterThan(0)
    await screenshot(alice, 'network-ui-alice')
    for (const name of PANELS) await screenshot(alice, `network-ui-panel-${name.toLowerCase()}`, panel(alice, name))

    // Reload: Bob (not remembered) comes back logged out. Then, with Bob gone, Alice (remembered)
    // reloads: she is still logged in as herself, and both records are there with no peer to send
    // them, so they come from IndexedDB.
    await bob.reload()
    await bob.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 20_000 })
    expect(await bob.getByRole('button', { name: 'Log out' }).isVisible()).toBe(false)
    await bob.context().close()
    await alice.reload()
    await alice.getByRole('button', { name: 'Log out' }).waitFor({ timeout: 20_000 })
    await expect.poll(() => npubIn(alice), { timeout: 20_000 }).toBe(aliceNpub)
    await waitForRecords(alice, 'alice after reload', records, 20_000)

    // A third user joins late and receives both records (Bob's from Alice).
    const carol = await openUi('carol', room)
    await logIn(carol, { remember: false })
    await waitForRecords(carol, 'carol', records)
    expect(await recent(carol).count()).toBe(records.length)
    await screenshot(carol, 'network-ui-late-joiner')
    expect(errors).toEqual([])
  })

  it('with ?relays= the Connection panel shows each relay state and what it confirmed', async () => {
    const relay = await startNostrRelay()
    try {
      const page = await openUi('relay-user', `ui-relay-${Date.now()}`, `&relays=${encodeURIComponent(relay.url)}`)
      await logIn(page, { remember: false })
      await publishThroughForm(page, 'Dana: kept on the relay too')
      const relays = page.locator('ul[aria-label="Relays"] > li')
      await relays.filter({ hasText: relay.url }).filter({ hasText: 'live' }).filter({ hasText: '1 published' }).waitFor({ timeout: 30_000 })
      expect(relay.received.length).toBeGreaterThan(0)
      expect(errors).toEqual([])
    } finally {
      await relay.close()
    }
  })
})
