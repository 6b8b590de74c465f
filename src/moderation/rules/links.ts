/** The `link` rule: a record's link is a well-formed URL of an allowed scheme and host. */
import { booleanOr, integerIn, invalid, optionsObject, stringList } from '../options.js'
import type { ModerationRule, RuleVerdict } from '../rule.js'

/** Options of {@link createLinkRule}. */
export interface LinkRuleOptions {
  /** Allowed URL schemes, with or without the colon. Default `['https:']`. */
  allowedSchemes?: readonly string[]
  /** Longest link, in UTF-16 characters as written. Default 2048 (the record limit). */
  maxLength?: number
  /** If given, only these hosts and their subdomains are allowed (`example.org` allows `www.example.org`). */
  allowedHosts?: readonly string[]
  /** These hosts and their subdomains are refused. */
  blockedHosts?: readonly string[]
  /** Whether a refused record strikes its author. Default false. */
  strike?: boolean
}

/** Why the `link` rule refuses a record (the verdict's `reason`). */
export type LinkReason =
  | 'link-too-long'
  | 'link-invalid'
  | 'link-scheme'
  | 'link-credentials'
  | 'link-host-not-allowed'
  | 'link-host-blocked'

/**
 * The `link` rule; a record without a link passes. In order: `link-too-long` over `maxLength`,
 * `link-invalid` if `new URL(link)` throws, `link-scheme` for a scheme not in `allowedSchemes`,
 * `link-credentials` for a `user:password@` part, `link-host-blocked` for a host in (or under)
 * `blockedHosts`, `link-host-not-allowed` for a host outside `allowedHosts` when that list is given.
 * Hosts are compared as WHATWG URL parsing writes them (lowercase, IDN as punycode, no trailing dot).
 * @example
 * ```ts
 * const moderation = createModeration({
 *   links: { allowedSchemes: ['https:', 'geo:'], blockedHosts: ['bit.ly'], strike: true },
 * })
 * ```
 */
export function createLinkRule(options?: LinkRuleOptions): ModerationRule {
  const o = optionsObject<LinkRuleOptions>('links:', options, ['allowedSchemes', 'maxLength', 'allowedHosts', 'blockedHosts', 'strike'])
  const allowedSchemes = stringList('links.allowedSchemes', o.allowedSchemes, ['https:'], normalizeScheme)
  const maxLength = integerIn('links.maxLength', o.maxLength, 1, 1_000_000, 2048)
  const allowedHosts = o.allowedHosts === undefined ? undefined : stringList('links.allowedHosts', o.allowedHosts, [], normalizeHost)
  const blockedHosts = stringList('links.blockedHosts', o.blockedHosts, [], normalizeHost)
  const strike = booleanOr('links.strike', o.strike, false)

  const refuse = (reason: LinkReason, message: string): RuleVerdict => ({ accept: false, reason, message, strike })

  return Object.freeze<ModerationRule>({
    name: 'link',
    version: '1',
    options: {
      allowedSchemes: [...allowedSchemes],
      maxLength,
      allowedHosts: allowedHosts === undefined ? null : [...allowedHosts],
      blockedHosts: [...blockedHosts],
      strike,
    },
    check(record): RuleVerdict {
      const link = record.link
      if (link === undefined) return { accept: true }
      if (link.length > maxLength) return refuse('link-too-long', `the link has ${link.length} characters, more than ${maxLength}`)
      let url: URL
      try {
        url = new URL(link)
      } catch {
        return refuse('link-invalid', 'the link is not a valid absolute URL')
      }
      if (!allowedSchemes.includes(url.protocol)) {
        return refuse('link-scheme', `the link's scheme "${url.protocol}" is not allowed (allowed: ${allowedSchemes.join(', ')})`)
      }
      if (url.username !== '' || url.password !== '') return refuse('link-credentials', 'the link carries a user name or password')
      const host = url.hostname.replace(/\.$/, '')
      if (blockedHosts.some((blocked) => isHostOrSubdomain(host, blocked))) {
        return refuse('link-host-blocked', `the link's host "${host}" is blocked`)
      }
      if (allowedHosts !== undefined && !allowedHosts.some((allowed) => isHostOrSubdomain(host, allowed))) {
        return refuse('link-host-not-allowed', `the link's host "${host}" is not in the allowed hosts`)
      }
      return { accept: true }
    },
  })
}

function isHostOrSubdomain(host: string, parent: string): boolean {
  return host === parent || host.endsWith(`.${parent}`)
}

function normalizeScheme(entry: string, label: string): string {
  const scheme = (entry.endsWith(':') ? entry : `${entry}:`).toLowerCase()
  if (!/^[a-z][a-z0-9+.-]*:$/.test(scheme)) invalid(label, `must be a URL scheme such as "https:", got ${JSON.stringify(entry)}`)
  return scheme
}

function normalizeHost(entry: string, label: string): string {
  let host = ''
  try {
    const url = new URL(`https://${entry}/`)
    if (url.host === url.hostname && url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '') host = url.hostname
  } catch {
    // reported below
  }
  host = host.replace(/\.$/, '')
  if (host === '') invalid(label, `must be a bare host name such as "example.org", got ${JSON.stringify(entry)}`)
  return host
}
