import { describe, expect, it, vi } from 'vitest'
import { isPeersetError } from '../../src/errors.js'
import { createLinkRule, createModeration, type LinkRuleOptions } from '../../src/moderation/index.js'
import { contextOf, fakeRecord, reasonOf, sync } from './helpers.js'

const reasonFor = (link: string | undefined, options?: LinkRuleOptions) =>
  reasonOf(sync(createLinkRule(options).check(fakeRecord(link === undefined ? {} : { link }), contextOf())))

describe('link rule', () => {
  it('accepts a record without a link and an ordinary https link', () => {
    expect(reasonFor(undefined)).toBe('accept')
    expect(reasonFor('https://example.org/lost-cat?id=3#photo')).toBe('accept')
  })

  it('refuses what does not parse as an absolute URL as link-invalid', () => {
    expect(reasonFor('not a url')).toBe('link-invalid')
    expect(reasonFor('/relative/path')).toBe('link-invalid')
    expect(reasonFor('https://exa mple.org')).toBe('link-invalid')
  })

  it('refuses schemes outside allowedSchemes as link-scheme (default https only)', () => {
    expect(reasonFor('http://example.org')).toBe('link-scheme')
    expect(reasonFor('javascript:alert(1)')).toBe('link-scheme')
    expect(reasonFor('HTTPS://example.org')).toBe('accept')
    expect(reasonFor('http://example.org', { allowedSchemes: ['https', 'http:'] })).toBe('accept')
  })

  it('refuses user names and passwords as link-credentials', () => {
    expect(reasonFor('https://user@example.org')).toBe('link-credentials')
    expect(reasonFor('https://user:secret@example.org')).toBe('link-credentials')
  })

  it('refuses links longer than maxLength as link-too-long', () => {
    expect(reasonFor(`https://example.org/${'a'.repeat(40)}`, { maxLength: 40 })).toBe('link-too-long')
  })

  it('matches allowed and blocked hosts with their subdomains, after URL normalization', () => {
    const options = { allowedHosts: ['example.org'], blockedHosts: ['bad.example.org'] }
    expect(reasonFor('https://example.org', options)).toBe('accept')
    expect(reasonFor('https://WWW.Example.org./x', options)).toBe('accept')
    expect(reasonFor('https://notexample.org', options)).toBe('link-host-not-allowed')
    expect(reasonFor('https://example.org.evil.com', options)).toBe('link-host-not-allowed')
    expect(reasonFor('https://bad.example.org', options)).toBe('link-host-blocked')
    expect(reasonFor('https://x.bad.example.org', options)).toBe('link-host-blocked')
    expect(reasonFor('https://bücher.example', { blockedHosts: ['BÜCHER.example'] })).toBe('link-host-blocked')
  })

  it('strikes only when configured to', () => {
    const verdict = sync(createLinkRule({ strike: true }).check(fakeRecord({ link: 'ftp://x.org' }), contextOf()))
    expect(verdict).toMatchObject({ accept: false, reason: 'link-scheme', strike: true })
    expect(sync(createLinkRule().check(fakeRecord({ link: 'ftp://x.org' }), contextOf()))).toMatchObject({ strike: false })
  })

  it('validates its options with labelled errors', () => {
    const bad: unknown[] = [{ allowedSchemes: ['ht tp'] }, { allowedHosts: ['https://example.org/path'] }, { blockedHosts: [''] }, { maxLength: 0 }, { hosts: [] }]
    for (const options of bad) {
      let error: unknown
      try {
        createLinkRule(options as never)
      } catch (e) {
        error = e
      }
      expect(isPeersetError(error, 'INVALID_ARGUMENT'), JSON.stringify(options)).toBe(true)
      expect((error as Error).message).toMatch(/^peerset: links/)
    }
  })
})

describe('linkCheck hook (local verdicts)', () => {
  const record = fakeRecord({ link: 'https://example.org/x' })

  it('is asked with the link and the record, and accepts on true or { ok: true }', async () => {
    const linkCheck = vi.fn(async () => true)
    expect(await createModeration({ linkCheck }).review(record, contextOf())).toEqual({ accept: true })
    expect(linkCheck).toHaveBeenCalledWith('https://example.org/x', record)
    expect(await createModeration({ linkCheck: async () => ({ ok: true }) }).review(record, contextOf())).toEqual({ accept: true })
  })

  it('refuses transiently and without a strike on false, { ok: false }, a throw or a timeout', async () => {
    const checks = [
      async () => false,
      async () => ({ ok: false, reason: 'on a phishing list' }),
      async () => {
        throw new Error('service down')
      },
      () => new Promise<boolean>(() => {}),
    ]
    const messages: string[] = []
    for (const linkCheck of checks) {
      const verdict = await createModeration({ linkCheck, linkCheckTimeoutMs: 20 }).review(record, contextOf())
      expect(verdict).toMatchObject({ accept: false, reason: 'link-check', rule: 'link-check', strike: false, transient: true })
      if (!verdict.accept) messages.push(verdict.message ?? '')
    }
    expect(messages[1]).toContain('on a phishing list')
    expect(messages[2]).toContain('service down')
    expect(messages[3]).toContain('20 ms')
  })

  it('is not asked when the record has no link or an earlier rule refused it', async () => {
    const linkCheck = vi.fn(async () => true)
    const moderation = createModeration({ linkCheck })
    expect(sync(moderation.review(fakeRecord(), contextOf()))).toEqual({ accept: true })
    expect(await moderation.review(fakeRecord({ link: 'http://example.org' }), contextOf())).toMatchObject({ reason: 'link-scheme' })
    expect(linkCheck).not.toHaveBeenCalled()
  })

  it('does not change the policy digest (it is local)', () => {
    expect(createModeration({ linkCheck: async () => true }).digest).toBe(createModeration().digest)
  })
})
