import { describe, expect, it } from 'vitest'
import { isPeersetError } from '../../src/errors.js'
import { createContentRule } from '../../src/moderation/index.js'
import { contextOf, fakeRecord, reasonOf, sync } from './helpers.js'

const check = (rule: ReturnType<typeof createContentRule>, overrides: Parameters<typeof fakeRecord>[0]) =>
  sync(rule.check(fakeRecord(overrides), contextOf()))

describe('content rule', () => {
  const rule = createContentRule()

  it('accepts ordinary text with newlines and tabs', () => {
    expect(check(rule, { text: 'Lost cat\n\tgrey, answers to Mia' })).toEqual({ accept: true })
  })

  it('refuses empty or whitespace-only text as empty-text', () => {
    expect(reasonOf(check(rule, { text: '' }))).toBe('empty-text')
    expect(reasonOf(check(rule, { text: ' \n\t ' }))).toBe('empty-text')
  })

  it('refuses text of only invisible characters (zero-width spaces, joiners, soft hyphens, fillers) as empty-text', () => {
    for (const text of ['\u200B\u200B', ' \u200C\u200D ', '\u2060\uFEFF', '\u00AD', '\u3164', '\uFE0F\u180E']) {
      expect(reasonOf(check(rule, { text })), JSON.stringify(text)).toBe('empty-text')
    }
    expect(check(rule, { text: 'a\u200B' }).accept).toBe(true)
    expect(check(rule, { text: '\u{1F468}\u200D\u{1F469}' }).accept).toBe(true)
  })

  it('refuses control characters other than newline and tab, but reads CRLF as a newline', () => {
    expect(reasonOf(check(rule, { text: 'bell\u0007' }))).toBe('control-character')
    expect(reasonOf(check(rule, { text: 'esc \u001b[31m red' }))).toBe('control-character')
    expect(reasonOf(check(rule, { text: 'c1 \u0085 next line' }))).toBe('control-character')
    expect(reasonOf(check(rule, { text: 'lone \r return' }))).toBe('control-character')
    expect(check(rule, { text: 'windows\r\nline' })).toEqual({ accept: true })
  })

  it('counts characters as code points after NFC and trimming', () => {
    const five = createContentRule({ maxLength: 5 })
    expect(check(five, { text: '  e\u0301e\u0301e\u0301e\u0301e\u0301  ' })).toEqual({ accept: true }) // 5 x é after NFC
    expect(check(five, { text: '😀😀😀😀😀' })).toEqual({ accept: true }) // 10 UTF-16 units, 5 characters
    const verdict = check(five, { text: 'abcdef' })
    expect(verdict).toMatchObject({ accept: false, reason: 'text-too-long', strike: false })
  })

  it('refuses text shorter than minLength as text-too-short', () => {
    const rule3 = createContentRule({ minLength: 3 })
    expect(reasonOf(check(rule3, { text: 'hi' }))).toBe('text-too-short')
    expect(reasonOf(check(rule3, { text: '' }))).toBe('empty-text')
  })

  it('allows empty text when minLength is 0', () => {
    expect(check(createContentRule({ minLength: 0 }), { text: '' })).toEqual({ accept: true })
  })

  it('refuses a geolocation off the earth as geo-out-of-range', () => {
    expect(check(rule, { geo: { lat: 52.5, lon: 13.4, geohash: 'u33dc0cpp' } })).toEqual({ accept: true })
    expect(reasonOf(check(rule, { geo: { lat: 91, lon: 0, geohash: 'x' } }))).toBe('geo-out-of-range')
    expect(reasonOf(check(rule, { geo: { lat: 0, lon: -180.5, geohash: 'x' } }))).toBe('geo-out-of-range')
    expect(reasonOf(check(rule, { geo: { lat: Number.NaN, lon: 0, geohash: 'x' } }))).toBe('geo-out-of-range')
  })

  it('strikes only when configured to', () => {
    expect(check(createContentRule({ strike: true }), { text: '' })).toMatchObject({ accept: false, strike: true })
  })

  it('validates its options with labelled errors', () => {
    const bad: unknown[] = [{ maxLength: 0 }, { minLength: -1 }, { minLength: 10, maxLength: 5 }, { maxLenght: 5 }, { strike: 'yes' }, 'short']
    for (const options of bad) {
      let error: unknown
      try {
        createContentRule(options as never)
      } catch (e) {
        error = e
      }
      expect(isPeersetError(error, 'INVALID_ARGUMENT'), JSON.stringify(options)).toBe(true)
      expect((error as Error).message).toMatch(/^peerset: content/)
    }
  })
})
