import { describe, expect, it, vi } from 'vitest'
import { createEmitter } from '../src/events.js'

type Events = { ping: [n: number]; pair: [a: string, b: number]; error: [e: unknown] }

describe('createEmitter', () => {
  it('calls every listener of an event in subscription order with its arguments', () => {
    const events = createEmitter<Events>()
    const calls: string[] = []
    events.on('pair', (a, b) => calls.push(`1:${a}${b}`))
    events.on('pair', (a, b) => calls.push(`2:${a}${b}`))
    expect(events.emit('pair', 'x', 1)).toBe(true)
    expect(calls).toEqual(['1:x1', '2:x1'])
  })

  it('returns false when nobody listens', () => {
    expect(createEmitter<Events>().emit('ping', 1)).toBe(false)
  })

  it('unsubscribes with the returned function and with off()', () => {
    const events = createEmitter<Events>()
    const a = vi.fn()
    const b = vi.fn()
    const offA = events.on('ping', a)
    events.on('ping', b)
    offA()
    events.off('ping', b)
    events.emit('ping', 1)
    expect(a).not.toHaveBeenCalled()
    expect(b).not.toHaveBeenCalled()
    expect(events.listenerCount('ping')).toBe(0)
  })

  it('once() fires a single time', () => {
    const events = createEmitter<Events>()
    const fn = vi.fn()
    events.once('ping', fn)
    events.emit('ping', 1)
    events.emit('ping', 2)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(fn).toHaveBeenCalledWith(1)
  })

  it('a throwing listener does not stop the others and is reported', () => {
    const reported: unknown[] = []
    const events = createEmitter<Events>((error, event) => reported.push([event, (error as Error).message]))
    const after = vi.fn()
    events.on('ping', () => {
      throw new Error('boom')
    })
    events.on('ping', after)
    expect(() => events.emit('ping', 1)).not.toThrow()
    expect(after).toHaveBeenCalledWith(1)
    expect(reported).toEqual([['ping', 'boom']])
  })

  it('an error reporter that re-emits into a throwing listener does not recurse forever', () => {
    const events: ReturnType<typeof createEmitter<Events>> = createEmitter<Events>((error) => events.emit('error', error))
    events.on('error', () => {
      throw new Error('error listener fails too')
    })
    events.on('ping', () => {
      throw new Error('boom')
    })
    expect(() => events.emit('ping', 1)).not.toThrow()
  })

  it('listeners added or removed during an emit take effect from the next emit', () => {
    const events = createEmitter<Events>()
    const late = vi.fn()
    events.on('ping', () => {
      events.on('ping', late)
    })
    events.emit('ping', 1)
    expect(late).not.toHaveBeenCalled()
    events.emit('ping', 2)
    expect(late).toHaveBeenCalledWith(2)
  })

  it('refuses a listener that is not a function', () => {
    const events = createEmitter<Events>()
    expect(() => events.on('ping', 42 as never)).toThrow(/must be a function/)
  })
})
