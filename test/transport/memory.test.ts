import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isPeersetError } from '../../src/errors.js'
import { MAX_FRAME_BYTES, createMemoryNetwork, type MemoryNetwork, type TransportRoom } from '../../src/transport/index.js'

/** Records every callback a peer gets, as readable strings. */
function recorder() {
  const events: string[] = []
  const frames: { from: string; data: Uint8Array }[] = []
  return {
    events,
    frames,
    handlers: {
      onPeerJoin: (id: string) => void events.push(`join ${id}`),
      onPeerLeave: (id: string) => void events.push(`leave ${id}`),
      onMessage: (from: string, data: Uint8Array) => {
        frames.push({ from, data })
        events.push(`msg ${from} ${[...data].join(',')}`)
      },
    },
  }
}

/**
 * Let `ms` of VIRTUAL time pass, then let the deliveries due by then run: the network's clock and
 * timers are faked (see `beforeEach`), its per-delivery macrotasks (`setImmediate`) are real and
 * run in a deterministic order. What a test sees after `settle(ms)` does not depend on how busy the
 * machine is, so "nothing arrived yet" is as reliable as "it arrived".
 */
async function settle(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms)
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve))
  await vi.advanceTimersByTimeAsync(0)
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve))
}

function expectError(fn: () => unknown, code: string): void {
  try {
    fn()
  } catch (err) {
    expect(isPeersetError(err, code as never), String(err)).toBe(true)
    return
  }
  throw new Error(`expected a PeersetError ${code}`)
}

let network: MemoryNetwork
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] })
})
afterEach(() => {
  network?.close()
  vi.useRealTimers()
})

async function joinAll(net: MemoryNetwork, ids: string[], room = 'lobby') {
  const peers: { id: string; room: TransportRoom; rec: ReturnType<typeof recorder> }[] = []
  for (const id of ids) {
    const rec = recorder()
    peers.push({ id, room: await net.transport({ peerId: id }).join(room, rec.handlers), rec })
  }
  await settle()
  return peers
}

describe('joining and leaving', () => {
  it('peers in a room see each other join, on both sides', async () => {
    network = createMemoryNetwork()
    const [a, b, c] = await joinAll(network, ['a', 'b', 'c'])
    expect(a!.rec.events.sort()).toEqual(['join b', 'join c'])
    expect(b!.rec.events.sort()).toEqual(['join a', 'join c'])
    expect(c!.rec.events.sort()).toEqual(['join a', 'join b'])
    expect(network.peers('lobby')).toEqual(['a', 'b', 'c'])
    expect(network.peers('elsewhere')).toEqual([])
  })

  it('leave() is seen by the others, is idempotent, and silences the leaver', async () => {
    network = createMemoryNetwork()
    const [a, b] = await joinAll(network, ['a', 'b'])
    await a!.room.leave()
    await a!.room.leave()
    await settle()
    expect(b!.rec.events).toEqual(['join a', 'leave a'])
    expect(a!.rec.events).toEqual(['join b'])
    expect(network.peers()).toEqual(['b'])
    b!.room.send('a', new Uint8Array([1]))
    a!.room.send('b', new Uint8Array([1])) // ignored after leave
    await settle()
    expect(a!.rec.frames).toHaveLength(0)
    expect(b!.rec.frames).toHaveLength(0)
  })

  it('rooms are separate', async () => {
    network = createMemoryNetwork()
    const a = recorder()
    const b = recorder()
    await network.transport({ peerId: 'a' }).join('one', a.handlers)
    await network.transport({ peerId: 'b' }).join('two', b.handlers)
    await settle()
    expect([...a.events, ...b.events]).toEqual([])
  })

  it('one transport is one peer: joining a room twice throws until it left; it can be in several rooms', async () => {
    network = createMemoryNetwork()
    const transport = network.transport()
    expect(transport.peerId).toMatch(/^[0-9a-zA-Z]{20}$/)
    const first = await transport.join('lobby', recorder().handlers)
    expect(first.selfId).toBe(transport.peerId)
    await expect(transport.join('lobby', recorder().handlers)).rejects.toMatchObject({ code: 'TRANSPORT_FAILED' })
    const other = await transport.join('other', recorder().handlers)
    expect(other.selfId).toBe(transport.peerId)
    await first.leave()
    const again = await transport.join('lobby', recorder().handlers)
    expect(again.selfId).toBe(transport.peerId)
  })

  it('rejects taken peer ids and bad arguments', async () => {
    network = createMemoryNetwork()
    network.transport({ peerId: 'a' })
    expectError(() => network.transport({ peerId: 'a' }), 'INVALID_ARGUMENT')
    expectError(() => network.transport({ peerId: '' }), 'INVALID_ARGUMENT')
    const t = network.transport()
    await expect(t.join('', recorder().handlers)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(t.join('lobby', { onPeerJoin() {} } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    const room = await t.join('lobby', recorder().handlers)
    expectError(() => room.send('a', [1, 2] as never), 'INVALID_ARGUMENT')
    expectError(() => room.send(5 as never, new Uint8Array(1)), 'INVALID_ARGUMENT')
    for (const bad of [{ latencyMs: -1 }, { jitterMs: Number.NaN }, { loss: 2 }, { duplicate: -0.1 }, { reorder: 1.5 }, { seed: 1.5 }, { maxFrameBytes: 0 }]) {
      expectError(() => createMemoryNetwork(bad), 'INVALID_ARGUMENT')
    }
  })
})

describe('delivery', () => {
  it('is never synchronous, not even with zero latency', async () => {
    network = createMemoryNetwork()
    const [a, b] = await joinAll(network, ['a', 'b'])
    a!.room.send('b', new Uint8Array([1]))
    expect(b!.rec.frames).toHaveLength(0)
    await Promise.resolve()
    expect(b!.rec.frames).toHaveLength(0)
    // A handler that sends back does not re-enter: the reply arrives in a later task.
    const c = recorder()
    const cRoom = await network.transport({ peerId: 'c' }).join('lobby', {
      ...c.handlers,
      onMessage: (from, data) => {
        c.handlers.onMessage(from, data)
        cRoom.send(from, data)
        expect(b!.rec.frames.some((f) => f.from === 'c')).toBe(false)
      },
    })
    await settle()
    b!.room.send('c', new Uint8Array([9]))
    await settle()
    expect(b!.rec.events).toContain('msg c 9')
  })

  it('keeps the order of frames on a link, and frame boundaries', async () => {
    network = createMemoryNetwork({ latencyMs: 2, jitterMs: 5, seed: 1 })
    const [a, b] = await joinAll(network, ['a', 'b'])
    for (let i = 0; i < 100; i++) a!.room.send('b', new Uint8Array([i, i]))
    await settle(30)
    expect(b!.rec.frames.map((f) => f.data[0])).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(b!.rec.frames.every((f) => f.data.length === 2 && f.from === 'a')).toBe(true)
  })

  it('copies frames on send', async () => {
    network = createMemoryNetwork()
    const [a, b] = await joinAll(network, ['a', 'b'])
    const buffer = new Uint8Array([1, 2, 3])
    a!.room.send('b', buffer)
    buffer.fill(0)
    await settle()
    expect([...b!.rec.frames[0]!.data]).toEqual([1, 2, 3])
    expect(b!.rec.frames[0]!.data.buffer).not.toBe(buffer.buffer)
  })

  it('refuses a frame over maxFrameBytes with TRANSPORT_FAILED', async () => {
    network = createMemoryNetwork()
    const [a] = await joinAll(network, ['a', 'b'])
    a!.room.send('b', new Uint8Array(MAX_FRAME_BYTES))
    expectError(() => a!.room.send('b', new Uint8Array(MAX_FRAME_BYTES + 1)), 'TRANSPORT_FAILED')
    const small = createMemoryNetwork({ maxFrameBytes: 10 })
    const room = await small.transport().join('lobby', recorder().handlers)
    expectError(() => room.send('x', new Uint8Array(11)), 'TRANSPORT_FAILED')
    small.close()
  })

  it('loss = 1 drops every frame (but not joins and leaves)', async () => {
    network = createMemoryNetwork({ loss: 1 })
    const [a, b] = await joinAll(network, ['a', 'b'])
    for (let i = 0; i < 10; i++) a!.room.send('b', new Uint8Array([i]))
    await settle()
    expect(b!.rec.events).toEqual(['join a'])
    expect(network.stats()).toMatchObject({ framesSent: 10, framesDelivered: 0, framesDropped: 10, bytesSent: 10 })
  })

  it('duplicate = 1 delivers every frame twice, as separate copies', async () => {
    network = createMemoryNetwork({ duplicate: 1 })
    const [a, b] = await joinAll(network, ['a', 'b'])
    a!.room.send('b', new Uint8Array([1]))
    a!.room.send('b', new Uint8Array([2]))
    await settle()
    expect(b!.rec.events.slice(1)).toEqual(['msg a 1', 'msg a 1', 'msg a 2', 'msg a 2'])
    expect(b!.rec.frames[0]!.data).not.toBe(b!.rec.frames[1]!.data)
    expect(network.stats()).toMatchObject({ framesSent: 2, framesDelivered: 4 })
  })

  it('reorder lets frames overtake, reproducibly for a seed', async () => {
    const run = async (seed: number) => {
      const net = createMemoryNetwork({ reorder: true, seed })
      const [a, b] = await joinAll(net, ['a', 'b'])
      for (let i = 0; i < 50; i++) a!.room.send('b', new Uint8Array([i]))
      await settle(20)
      net.close()
      return b!.rec.frames.map((f) => f.data[0])
    }
    const order = await run(42)
    expect([...order].sort((x, y) => x! - y!)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(order).not.toEqual([...order].sort((x, y) => x! - y!))
  })

  it('a seed makes loss and peer ids reproducible', async () => {
    const run = async () => {
      const net = createMemoryNetwork({ loss: 0.5, seed: 7 })
      const [ta, tb] = [net.transport(), net.transport()]
      const rec = recorder()
      const a = await ta.join('lobby', recorder().handlers)
      await tb.join('lobby', rec.handlers)
      await settle()
      for (let i = 0; i < 40; i++) a.send(tb.peerId, new Uint8Array([i]))
      await settle()
      net.close()
      return { ids: [ta.peerId, tb.peerId], got: rec.frames.map((f) => f.data[0]) }
    }
    const [first, second] = [await run(), await run()]
    expect(second).toEqual(first)
    expect(first.got.length).toBeGreaterThan(5)
    expect(first.got.length).toBeLessThan(35)
  })

  it('applies latency to frames and to join notices', async () => {
    network = createMemoryNetwork({ latencyMs: 40 })
    const [a, b] = await joinAll(network, ['a', 'b'])
    expect(b!.rec.events).toEqual([]) // the join notice is still on its way
    await settle(60)
    expect(b!.rec.events).toEqual(['join a'])
    const sent = performance.now()
    a!.room.send('b', new Uint8Array([1]))
    await settle(20)
    expect(b!.rec.frames).toHaveLength(0)
    await settle(40)
    expect(b!.rec.frames).toHaveLength(1)
    expect(performance.now() - sent).toBeGreaterThanOrEqual(39)
  })

  it('drops frames to peers not in the room and counts traffic per link', async () => {
    network = createMemoryNetwork()
    const [a, b] = await joinAll(network, ['a', 'b'])
    a!.room.send('nobody', new Uint8Array(3))
    a!.room.send('b', new Uint8Array(5))
    a!.room.send('b', new Uint8Array(5))
    b!.room.send('a', new Uint8Array(1))
    await settle()
    const stats = network.stats()
    expect(stats).toMatchObject({ framesSent: 4, framesDelivered: 3, framesDropped: 1, bytesSent: 14 })
    expect(stats.perLink.get('a->b')).toEqual({ frames: 2, bytes: 10 })
    expect(stats.perLink.get('b->a')).toEqual({ frames: 1, bytes: 1 })
    stats.perLink.clear()
    expect(network.stats().perLink.size).toBe(3)
  })
})

describe('partitions', () => {
  it('cut links look like leaves on both sides; heal looks like joins', async () => {
    network = createMemoryNetwork()
    const [a, b, c] = await joinAll(network, ['a', 'b', 'c'])
    for (const p of [a, b, c]) p!.rec.events.length = 0
    network.partition([['a', 'b'], ['c']])
    await settle()
    expect(a!.rec.events).toEqual(['leave c'])
    expect(b!.rec.events).toEqual(['leave c'])
    expect(c!.rec.events.sort()).toEqual(['leave a', 'leave b'])
    a!.room.send('c', new Uint8Array([1]))
    a!.room.send('b', new Uint8Array([2]))
    await settle()
    expect(c!.rec.frames).toHaveLength(0)
    expect(b!.rec.frames).toHaveLength(1)
    for (const p of [a, b, c]) p!.rec.events.length = 0
    network.heal()
    await settle()
    expect(a!.rec.events).toEqual(['join c'])
    expect(c!.rec.events.sort()).toEqual(['join a', 'join b'])
    a!.room.send('c', new Uint8Array([3]))
    await settle()
    expect(c!.rec.events).toContain('msg a 3')
  })

  it('peers in no group form one more group, and later joiners obey the partition', async () => {
    network = createMemoryNetwork()
    network.partition([['a']])
    const [a, b, c] = await joinAll(network, ['a', 'b', 'c'])
    expect(a!.rec.events).toEqual([])
    expect(b!.rec.events).toEqual(['join c'])
    expect(c!.rec.events).toEqual(['join b'])
    expectError(() => network.partition([['a'], ['a']]), 'INVALID_ARGUMENT')
    expectError(() => network.partition('a' as never), 'INVALID_ARGUMENT')
  })

  it('frames sent before a cut are not delivered after the receiver saw the leave', async () => {
    network = createMemoryNetwork({ reorder: true, seed: 3 })
    const [a, b] = await joinAll(network, ['a', 'b'])
    for (let i = 0; i < 20; i++) a!.room.send('b', new Uint8Array([i]))
    network.partition([['a'], ['b']])
    await settle(20)
    const leaveAt = b!.rec.events.indexOf('leave a')
    expect(leaveAt).toBeGreaterThan(0)
    expect(b!.rec.events.slice(leaveAt + 1)).toEqual([])
    const stats = network.stats()
    expect(stats.framesDelivered + stats.framesDropped).toBe(20)
  })
})

describe('close', () => {
  it('stops deliveries and refuses new joins', async () => {
    network = createMemoryNetwork({ latencyMs: 5 })
    const [a, b] = await joinAll(network, ['a', 'b'])
    await settle(10)
    a!.room.send('b', new Uint8Array([1]))
    network.close()
    network.close()
    await settle(20)
    expect(b!.rec.frames).toHaveLength(0)
    expectError(() => network.transport(), 'CLOSED')
    expectError(() => network.heal(), 'CLOSED')
    await a!.room.leave()
    expect(network.peers()).toEqual([])
  })
})
