/**
 * A careless host app: objects whose fields throw when read, proxies, async listeners that reject,
 * a listener that is not a function, room names that are not well-formed. Each gets a typed
 * rejection or an `error` event: never a synchronous throw of a foreign error, a promise that never
 * settles, or an unhandled rejection.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createIdentity, createPeerset, memoryStorage, PeersetError, roomHash, type Peerset } from '../../src/index.js'

const opened: Peerset[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((p) => p.close()))
})

async function open(): Promise<Peerset> {
  const p = await createPeerset({ room: 'careless', identity: createIdentity(), storage: memoryStorage(), transport: false })
  opened.push(p)
  return p
}

/** Runs `body` and collects the process's unhandled rejections meanwhile (after a macrotask turn). */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = []
  const listener = (reason: unknown): void => void seen.push(reason)
  process.on('unhandledRejection', listener)
  try {
    await body()
    await new Promise((resolve) => setTimeout(resolve, 0))
    await new Promise((resolve) => setTimeout(resolve, 0))
  } finally {
    process.off('unhandledRejection', listener)
  }
  return seen
}

describe('importRecord with objects that throw when read', () => {
  const hostile: Array<[string, () => unknown]> = [
    [
      'a getter that throws',
      () => ({
        get id(): string {
          throw new Error('boom')
        },
        kind: 37515,
      }),
    ],
    [
      'a proxy whose traps throw',
      () =>
        new Proxy(
          {},
          {
            has: () => {
              throw new Error('x')
            },
            get: () => {
              throw new Error('y')
            },
            ownKeys: () => {
              throw new Error('z')
            },
          },
        ),
    ],
    [
      'a revoked proxy',
      () => {
        const { proxy, revoke } = Proxy.revocable({}, {})
        revoke()
        return proxy
      },
    ],
  ]
  for (const [name, make] of hostile) {
    it(`${name}: resolves rejected (malformed), stores nothing, leaves nothing unhandled`, async () => {
      const p = await open()
      let outcome: unknown
      const unhandled = await unhandledDuring(async () => {
        outcome = await p.importRecord(make())
      })
      expect(outcome).toMatchObject({ status: 'rejected', reason: 'malformed' })
      expect(unhandled).toEqual([])
      expect(p.records()).toEqual([])
      // And the peerset still works.
      expect((await p.publish({ text: 'still here' })).text).toBe('still here')
    })
  }
})

describe('listeners', () => {
  it('an async listener that rejects becomes an error event, not an unhandled rejection', async () => {
    const p = await open()
    const errors: unknown[] = []
    p.on('error', (e) => errors.push(e))
    p.on('record:added', async () => {
      throw new Error('bug in the host app')
    })
    const unhandled = await unhandledDuring(async () => {
      await p.publish({ text: 'one' })
      await p.publish({ text: 'two' })
    })
    expect(unhandled).toEqual([])
    expect(errors).toHaveLength(2)
    expect(String((errors[0] as { cause?: unknown }).cause ?? errors[0])).toMatch(/bug in the host app/)
  })

  it('a listener that is not a function is a PeersetError naming the event', async () => {
    const p = await open()
    let thrown: unknown
    try {
      p.on('record:added', 5 as never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(PeersetError)
    expect(thrown).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('record:added') })
  })
})

describe('room names', () => {
  it('a room name with a lone surrogate is refused (it would share its hash with other names)', async () => {
    expect(roomHash('a\ufffd')).toMatch(/^[0-9a-f]{64}$/)
    for (const room of ['a\ud800', 'a\udfff', '\udc00b']) {
      expect(() => roomHash(room)).toThrow(PeersetError)
      await expect(createPeerset({ room, identity: createIdentity(), storage: memoryStorage(), transport: false })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('room'),
      })
    }
    // A well-formed pair is fine.
    expect(roomHash('a\ud83d\ude00')).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('edits', () => {
  it('an edit published in the same second as the version it edits replaces it (it does not lose the tie)', async () => {
    const now = 1_790_000_000_000
    const p = await createPeerset({ room: 'careless', identity: createIdentity(), storage: memoryStorage(), transport: false, clock: () => now })
    opened.push(p)
    for (let i = 0; i < 10; i++) {
      const first = await p.publish({ text: `version ${i}.0` })
      const edited = await p.publish({ text: `version ${i}.1`, uuid: first.uuid })
      const again = await p.publish({ text: `version ${i}.2`, uuid: first.uuid })
      expect(edited.createdAt).toBe(first.createdAt + 1)
      expect(again.createdAt).toBe(first.createdAt + 2)
      expect(p.get(first.id)).toBeUndefined()
      expect(p.records().filter((r) => r.uuid === first.uuid).map((r) => r.text)).toEqual([`version ${i}.2`])
    }
  })
})
