/** The `link-check` rule: the host app's own, local, asynchronous opinion of a link. */
import type { PeersetRecord } from '../../record/types.js'
import type { ModerationRule, RuleVerdict } from '../rule.js'

/**
 * A host app's link check, e.g. a lookup in a safe-browsing list. Resolve `true` / `{ ok: true }`
 * to let the record through, `false` / `{ ok: false, reason }` to hide it on this peer.
 */
export type LinkCheck = (url: string, record: PeersetRecord) => Promise<boolean | { ok: boolean; reason?: string }>

/**
 * The `link-check` rule (reason `link-check`). Its verdicts are LOCAL: they depend on the host
 * app's service, not only on the record, so another peer may decide otherwise. A refusal is
 * therefore `transient` and never strikes: the record is hidden here and not forwarded from here,
 * but it is not a fact of the swarm. A check that throws, or does not settle within `timeoutMs`,
 * refuses the same way (the record is offered again later). The rule does not feed the digest.
 * @example
 * ```ts
 * const moderation = createModeration({
 *   linkCheck: async (url) => !(await myBlocklist.has(new URL(url).hostname)),
 * })
 * ```
 */
export function createLinkCheckRule(check: LinkCheck, timeoutMs: number): ModerationRule {
  const refuse = (message: string): RuleVerdict => ({ accept: false, reason: 'link-check', message, strike: false, transient: true })
  return Object.freeze<ModerationRule>({
    name: 'link-check',
    version: '1',
    options: { timeoutMs },
    check(record): RuleVerdict | Promise<RuleVerdict> {
      return record.link === undefined ? { accept: true } : ask(record.link, record)
    },
  })

  async function ask(link: string, record: PeersetRecord): Promise<RuleVerdict> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs)
    })
    try {
      const answer = await Promise.race([Promise.resolve().then(() => check(link, record)), timeout])
      if (answer === 'timeout') return refuse(`the link check did not answer within ${timeoutMs} ms`)
      if (answer === true) return { accept: true }
      if (answer === false) return refuse('the link check refused the link')
      if (typeof answer === 'object' && answer !== null && typeof answer.ok === 'boolean') {
        if (answer.ok) return { accept: true }
        return refuse(`the link check refused the link${typeof answer.reason === 'string' ? `: ${answer.reason}` : ''}`)
      }
      return refuse('the link check returned neither a boolean nor { ok }')
    } catch (cause) {
      return refuse(`the link check failed: ${cause instanceof Error ? cause.message : String(cause)}`)
    } finally {
      clearTimeout(timer)
    }
  }
}
