/**
 * Persistent storage is the host app's call (`peerset.requestPersistence()`, from a user gesture):
 * opening a peerset never asks for it (Chromium refuses without a gesture, Firefox may prompt), and
 * `status().storage.persisted` tells the truth before and after asking.
 */
import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createIdentity, createPeerset, indexedDbStorage, memoryStorage, type Peerset } from '../../src/index.js'
import { FIXTURE_ROOM } from '../helpers.js'

let opened: Peerset[] = []
afterEach(async () => {
  await Promise.all(opened.map((p) => p.close()))
  opened = []
  vi.unstubAllGlobals()
})

/** A browser's `navigator.storage` that grants or refuses `persist()`, and counts the calls. */
function stubStorageManager(grants: boolean, alreadyPersisted = false) {
  let granted = alreadyPersisted
  const persist = vi.fn(async () => {
    granted = grants
    return grants
  })
  const persisted = vi.fn(async () => granted)
  vi.stubGlobal('navigator', { storage: { persist, persisted } })
  return { persist, persisted }
}

let databases = 0
async function open(storage = indexedDbStorage({ databaseName: (room) => `persistence-test-${databases++}:${room}` })): Promise<Peerset> {
  const peerset = await createPeerset({ room: FIXTURE_ROOM, identity: createIdentity(), storage, transport: false })
  opened.push(peerset)
  await peerset.settled()
  return peerset
}

describe('requestPersistence', () => {
  it('is never called by opening a peerset; status reports the current state without asking', async () => {
    const manager = stubStorageManager(true)
    const peerset = await open()
    await vi.waitFor(() => expect(peerset.status().storage.persisted).toBe(false))
    expect(manager.persisted).toHaveBeenCalled()
    expect(manager.persist).not.toHaveBeenCalled()
    expect(peerset.status().warnings.map((w) => w.code)).not.toContain('persistence-denied')
  })

  it('asks when the host app calls it, and status follows the answer', async () => {
    const manager = stubStorageManager(true)
    const peerset = await open()
    expect(await peerset.requestPersistence()).toBe(true)
    expect(manager.persist).toHaveBeenCalledTimes(1)
    expect(peerset.status().storage.persisted).toBe(true)
  })

  it('a refusal resolves false with a persistence-denied warning', async () => {
    stubStorageManager(false)
    const peerset = await open()
    const warnings: string[] = []
    peerset.on('warning', (w) => warnings.push(w.code))
    expect(await peerset.requestPersistence()).toBe(false)
    expect(peerset.status().storage.persisted).toBe(false)
    expect(warnings).toEqual(['persistence-denied'])
  })

  it('reports an origin that is already persisted', async () => {
    stubStorageManager(true, true)
    const peerset = await open()
    await vi.waitFor(() => expect(peerset.status().storage.persisted).toBe(true))
  })

  it('does not apply to memory storage, and rejects CLOSED after close()', async () => {
    const manager = stubStorageManager(true)
    const peerset = await open(memoryStorage())
    expect(await peerset.requestPersistence()).toBeUndefined()
    expect(peerset.status().storage.persisted).toBeUndefined()
    expect(manager.persist).not.toHaveBeenCalled()
    await peerset.close()
    await expect(peerset.requestPersistence()).rejects.toMatchObject({ code: 'CLOSED' })
  })
})
