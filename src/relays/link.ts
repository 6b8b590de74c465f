/**
 * One relay, as an always-on peer that is never trusted: connect, back-fill the room's records since
 * the last finished sync (or the start of the retention window), stay subscribed, and publish this
 * peer's records. Every event it serves goes to the host's ingest path. A relay that refuses
 * (`OK false`, `CLOSED`), asks for authentication (NIP-42), rate-limits or sends garbage is reported
 * in its state and retried with exponential backoff: never a retry storm, never a throw.
 */
import type { NostrEvent } from '../record/types.js'
import { backoffDelay, reasonKind, type BackoffOptions } from './backoff.js'
import { parseRelayMessage, type RelayMessage } from './messages.js'
import { Negentropy, negentropyItems } from './negentropy.js'
import type { RelayHost, RelayState, WebSocketConstructor, WebSocketLike } from './types.js'

/** How one link behaves (filled in by `nostrRelays`). */
export interface RelayLinkOptions {
  url: string
  WebSocket: WebSocketConstructor
  backoff: BackoffOptions
  /** Invalid events or messages on one connection before it is dropped and backed off. */
  maxFaults: number
  /** `limit` of each back-fill page. */
  pageSize: number
  /** How far before the last sync (or now, for the live subscription) to ask, seconds: clock skew between writers. */
  sinceMarginSeconds: number
  /** How long to wait for a relay's `OK`, ms. */
  publishTimeoutMs: number
  /** Most records waiting to be published to one relay; the oldest go first when full. */
  maxQueue: number
  /** Try NIP-77 (negentropy) first; fall back to `REQ` with `since` if the relay refuses it. */
  negentropy: boolean
  /** Publish every record held that the relay lacks (found by NIP-77), not only this user's. */
  publishKept: boolean
}

/** Back-fill pages asked for at most per sync (a relay that always answers something cannot keep us paging). */
const MAX_PAGES = 1000
const OPEN = 1

interface Page {
  /** A page of ids found by NIP-77, rather than a time range. */
  ids?: true
  subId: string
  until: number | undefined
  count: number
  oldest: number
}

/** One relay's connection, subscriptions and publications. */
export class RelayLink {
  readonly #o: RelayLinkOptions
  readonly #host: RelayHost
  readonly #state: RelayState
  #socket: WebSocketLike | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #pageTimer: ReturnType<typeof setTimeout> | undefined
  /** This connection's NIP-77 reconciliation, while open; then the ids it found missing here. */
  #neg: { subId: string; session: Negentropy; replied: boolean } | undefined
  #needed: string[] = []
  #failures = 0
  #closed = false
  /** Per connection: */
  #faults = 0
  #challenge: string | undefined
  /** This connection's NIP-42 attempt (at most one), shared by everything waiting for it. */
  #auth: Promise<boolean> | undefined
  #liveSub: string | undefined
  #page: Page | undefined
  #pages = 0
  #syncStartSeconds = 0
  #pending: Promise<unknown>[] = []
  /** Event ids served on this connection: a record served twice (live and back-fill) is judged once. */
  readonly #seen = new Set<string>()
  #seq = 0
  /** Records to publish, unconfirmed; those sent and waiting for an `OK` are in `#inFlight`. */
  readonly #queue = new Map<string, NostrEvent>()
  readonly #inFlight = new Map<string, ReturnType<typeof setTimeout>>()
  readonly #confirmed = new Set<string>()
  readonly #authWaiters = new Map<string, (ok: boolean) => void>()
  /** Publishing paused after a rate limit, until the backoff timer resumes it. */
  #paused = false
  #rateLimits = 0
  #flushWaiter: (() => void) | undefined

  constructor(options: RelayLinkOptions, host: RelayHost) {
    this.#o = options
    this.#host = host
    this.#state = { url: options.url, state: 'connecting', received: 0, accepted: 0, faults: 0, published: 0, refused: 0, authenticated: false, syncedUntil: undefined, negentropy: undefined }
  }

  /** Load the persisted sync point, then connect. */
  async start(): Promise<void> {
    try {
      this.#state.syncedUntil = await this.#host.loadSince(this.#o.url)
    } catch {
      // Unreadable: back-fill the whole window.
    }
    if (!this.#closed) this.#connect()
  }

  get url(): string {
    return this.#o.url
  }

  status(): RelayState {
    return { ...this.#state }
  }

  /** Publish a record (queued while disconnected, confirmed by the relay's `OK`). */
  publish(event: NostrEvent): void {
    if (this.#closed || this.#confirmed.has(event.id)) return
    if (this.#queue.size >= this.#o.maxQueue) this.#queue.delete(this.#queue.keys().next().value!)
    this.#queue.set(event.id, event)
    this.#flush()
  }

  /** Wait at most `timeoutMs` for the queue to be confirmed, then disconnect for good. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#timer)
    // Connected or connecting (not backed off): give the relay a chance to confirm what is queued.
    if (this.#socket !== undefined && this.#queue.size > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs)
        this.#flushWaiter = () => {
          clearTimeout(t)
          resolve()
        }
      })
    }
    this.#drop()
    this.#set({ state: 'closed', retryAtMs: undefined })
  }

  #connect(): void {
    this.#set({ state: 'connecting', retryAtMs: undefined })
    let socket: WebSocketLike
    try {
      socket = new this.#o.WebSocket(this.#o.url)
    } catch (error) {
      this.#fail(`cannot connect: ${error instanceof Error ? error.message : String(error)}`)
      return
    }
    this.#socket = socket
    socket.onopen = () => this.#opened()
    socket.onmessage = (event) => this.#message(parseRelayMessage(event.data))
    socket.onerror = () => undefined // a close follows
    socket.onclose = () => {
      if (this.#socket === socket) this.#fail('the connection closed')
    }
  }

  #opened(): void {
    this.#faults = 0
    this.#seen.clear()
    this.#auth = undefined
    this.#challenge = undefined
    this.#set({ state: 'syncing', authenticated: false })
    this.#subscribe()
    for (const event of this.#host.ownRecords()) this.publish(event)
    this.#flush()
  }

  /** The live subscription (from a little before now) and the first back-fill page (since the last sync). */
  #subscribe(): void {
    const nowSeconds = Math.floor(this.#host.clock() / 1000)
    this.#syncStartSeconds = nowSeconds
    this.#pages = 0
    this.#pending = []
    this.#liveSub = `live:${++this.#seq}`
    this.#send(['REQ', this.#liveSub, { ...this.#filter(), since: nowSeconds - this.#o.sinceMarginSeconds }])
    if (this.#o.negentropy && this.#state.negentropy !== false) this.#openNegentropy()
    else this.#requestPage(undefined)
  }

  /** NIP-77: reconcile the whole retention window with the relay, instead of downloading since the last sync. */
  #openNegentropy(): void {
    const since = Math.ceil(this.#host.windowStartSeconds())
    const session = new Negentropy(negentropyItems(this.#host.heldSince(since)), true)
    this.#page = undefined
    this.#needed = []
    this.#neg = { subId: `neg:${++this.#seq}`, session, replied: false }
    this.#send(['NEG-OPEN', this.#neg.subId, { ...this.#filter(), since }, session.initiate()])
    this.#watchPage()
  }

  #negMessage(subId: string, message: string): void {
    const neg = this.#neg
    if (neg === undefined || subId !== neg.subId) return
    let step: ReturnType<Negentropy['reconcile']>
    try {
      step = neg.session.reconcile(message)
    } catch (error) {
      this.#fault(`a malformed NEG-MSG (${(error as Error).message})`)
      return this.#negRefused('malformed NEG-MSG')
    }
    neg.replied = true
    this.#set({ negentropy: true })
    this.#needed.push(...step.need)
    for (const id of step.have) {
      const held = this.#host.heldEvent(id)
      if (held && (held.own || this.#o.publishKept)) this.publish(held.event)
    }
    if (step.next !== undefined) {
      this.#send(['NEG-MSG', neg.subId, step.next])
      this.#watchPage()
      return
    }
    this.#send(['NEG-CLOSE', neg.subId])
    this.#neg = undefined
    this.#requestIds()
  }

  /** `NEG-ERR`: authenticate and try again if the relay asks for it (NIP-42); otherwise, back-fill by `REQ`. */
  #negError(subId: string, reason: string): void {
    const neg = this.#neg
    if (neg === undefined || subId !== neg.subId) return
    if (reasonKind(reason) !== 'auth-required') return this.#negRefused(`NEG-ERR: ${reason}`)
    void this.#authenticate().then((ok) => {
      if (this.#neg !== neg) return
      if (ok) this.#openNegentropy()
      else this.#fail(`NEG-ERR: ${reason} (authentication failed)`)
    })
  }

  /** The relay does not do NIP-77 (NEG-ERR, a NOTICE, silence): back-fill with `REQ` since the last sync instead, from now on. */
  #negRefused(reason: string): void {
    if (this.#neg === undefined) return
    this.#send(['NEG-CLOSE', this.#neg.subId])
    this.#neg = undefined
    this.#set({ negentropy: false, lastError: `NIP-77: ${reason}` })
    this.#requestPage(undefined)
  }

  /** Fetch what NIP-77 found missing here, a page of ids at a time; then the sync is done. */
  #requestIds(): void {
    const ids = this.#needed.splice(0, this.#o.pageSize)
    if (ids.length === 0) return this.#finishSync()
    this.#page = { ids: true, subId: `ids:${++this.#seq}`, until: undefined, count: 0, oldest: Infinity }
    this.#watchPage()
    this.#send(['REQ', this.#page.subId, { ...this.#filter(), ids }])
  }

  #filter(): Record<string, unknown> {
    return { kinds: [this.#host.kind], '#h': [this.#host.roomHash] }
  }

  #since(): number {
    const windowStart = Math.ceil(this.#host.windowStartSeconds())
    const last = this.#state.syncedUntil
    return last === undefined ? windowStart : Math.max(windowStart, last - this.#o.sinceMarginSeconds)
  }

  #requestPage(until: number | undefined): void {
    this.#page = { subId: `sync:${++this.#seq}`, until, count: 0, oldest: Infinity }
    this.#watchPage()
    const filter = { ...this.#filter(), since: this.#since(), limit: this.#o.pageSize, ...(until === undefined ? {} : { until }) }
    this.#send(['REQ', this.#page.subId, filter])
  }

  #message(message: RelayMessage): void {
    switch (message.type) {
      case 'EVENT':
        return this.#event(message.subId, message.event)
      case 'EOSE':
        if (message.subId === this.#page?.subId) this.#pageDone(this.#page)
        return
      case 'CLOSED':
        return this.#subscriptionClosed(message.subId, message.reason)
      case 'OK':
        return this.#ok(message.id, message.ok, message.reason)
      case 'AUTH':
        this.#challenge = message.challenge
        return
      case 'NOTICE':
        // A relay without NIP-77 answers NEG-OPEN with a NOTICE (it cannot name the subscription).
        if (this.#neg !== undefined && !this.#neg.replied) this.#negRefused(`NOTICE: ${message.message}`)
        return
      case 'NEG-MSG':
        return this.#negMessage(message.subId, message.message)
      case 'NEG-ERR':
        return this.#negError(message.subId, message.reason)
      case 'garbage':
        return this.#fault(message.why)
    }
  }

  #event(subId: string, event: unknown): void {
    const page = this.#page
    const ofPage = subId === page?.subId
    if (!ofPage && subId !== this.#liveSub) return // a subscription we closed: nothing to judge
    const { id, created_at: createdAt } = (typeof event === 'object' && event !== null ? event : {}) as { id?: unknown; created_at?: unknown }
    // Paging counts what the page served, even if the live subscription served it first.
    if (ofPage) {
      this.#watchPage()
      page.count++
      if (typeof createdAt === 'number') page.oldest = Math.min(page.oldest, createdAt)
    }
    if (typeof id === 'string' && this.#seen.has(id)) return
    if (typeof id === 'string' && this.#seen.size < 200_000) this.#seen.add(id)
    this.#state.received++
    const judged = this.#host.submit(event, this.#o.url).then(
      ({ accepted, fault }) => {
        if (accepted) this.#state.accepted++
        if (fault) this.#fault('it served an invalid event (malformed, forged or of another room)')
      },
      () => undefined,
    )
    this.#pending.push(judged)
  }

  /** A back-fill page ended: ask for the next (older) one, or finish the sync once everything served is judged. */
  #pageDone(page: Page): void {
    clearTimeout(this.#pageTimer)
    this.#send(['CLOSE', page.subId])
    if (page.ids) return this.#requestIds()
    if (page.count > 0 && page.oldest < (page.until ?? Infinity) && page.oldest >= this.#since() && ++this.#pages < MAX_PAGES) {
      this.#requestPage(page.oldest)
      return
    }
    this.#finishSync()
  }

  /** Every page served: once all of it is judged, the relay is live and the sync point is saved. */
  #finishSync(): void {
    this.#page = undefined
    const socket = this.#socket
    const pending = this.#pending
    this.#pending = []
    void Promise.all(pending).then(async () => {
      if (this.#socket !== socket || this.#closed) return
      this.#failures = 0
      this.#set({ state: 'live', syncedUntil: this.#syncStartSeconds })
      await this.#host.saveSince(this.#o.url, this.#syncStartSeconds).catch(() => undefined)
    })
  }

  #subscriptionClosed(subId: string, reason: string): void {
    if (subId !== this.#liveSub && subId !== this.#page?.subId) return
    if (reasonKind(reason) === 'auth-required') {
      void this.#authenticate().then((ok) => {
        // Both subscriptions are refused at once: the first to get here subscribes again, for both.
        if (subId !== this.#liveSub && subId !== this.#page?.subId) return
        if (ok) this.#subscribe()
        else this.#fail(`CLOSED: ${reason} (authentication failed)`)
      })
      return
    }
    this.#fail(`CLOSED: ${reason}`)
  }

  #ok(id: string, ok: boolean, reason: string): void {
    const waiter = this.#authWaiters.get(id)
    if (waiter) return waiter(ok)
    if (!this.#inFlight.has(id)) return
    clearTimeout(this.#inFlight.get(id))
    this.#inFlight.delete(id)
    const kind = reasonKind(reason)
    if (ok || kind === 'duplicate') {
      this.#state.published++
      this.#rateLimits = 0
      this.#done(id)
    } else if (kind === 'auth-required') {
      void this.#authenticate().then((authed) => (authed ? this.#flush() : this.#fail(`OK false: ${reason} (authentication failed)`)))
    } else if (kind === 'rate-limited') {
      const delay = backoffDelay(++this.#rateLimits, this.#o.backoff)
      this.#paused = true
      this.#set({ lastError: `OK false: ${reason}` })
      this.#later(() => {
        this.#paused = false
        this.#flush()
      }, delay)
    } else {
      this.#state.refused++
      this.#set({ lastError: `OK false: ${reason}` })
      this.#done(id)
    }
  }

  #done(id: string): void {
    this.#queue.delete(id)
    if (this.#confirmed.size >= 100_000) this.#confirmed.clear() // at worst a few records are sent again
    this.#confirmed.add(id)
    if (this.#queue.size === 0) this.#flushWaiter?.()
  }

  /** NIP-42, once per connection, with the user's signer, and only when the relay asks for it. */
  #authenticate(): Promise<boolean> {
    const challenge = this.#challenge
    if (challenge === undefined || !this.#isOpen()) return Promise.resolve(false)
    this.#auth ??= this.#signAndSendAuth(challenge)
    return this.#auth
  }

  async #signAndSendAuth(challenge: string): Promise<boolean> {
    let event: NostrEvent
    try {
      const tags = [['relay', this.#o.url], ['challenge', challenge]]
      event = await this.#host.signer.signEvent({ kind: 22242, created_at: Math.floor(this.#host.clock() / 1000), tags, content: '' } as Parameters<RelayHost['signer']['signEvent']>[0])
    } catch {
      return false
    }
    const ok = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), this.#o.publishTimeoutMs)
      this.#authWaiters.set(event.id, (answer) => {
        clearTimeout(t)
        resolve(answer)
      })
      this.#send(['AUTH', event])
    })
    this.#authWaiters.delete(event.id)
    if (ok) this.#set({ authenticated: true })
    return ok
  }

  /** Send what is queued and not in flight, unless rate-limited or disconnected. */
  #flush(): void {
    if (!this.#isOpen() || this.#paused) return
    for (const [id, event] of this.#queue) {
      if (this.#inFlight.has(id)) continue
      // Unanswered: left queued, and sent again on the next flush or connection.
      this.#inFlight.set(id, setTimeout(() => this.#inFlight.delete(id), this.#o.publishTimeoutMs))
      this.#send(['EVENT', event])
    }
  }

  #fault(why: string): void {
    this.#state.faults++
    this.#faults++
    if (this.#faults >= this.#o.maxFaults) this.#fail(`it sent ${this.#faults} invalid events or messages (last: ${why})`)
    else this.#set({ lastError: `invalid: ${why}` })
  }

  /** Drop the connection and try again after the backoff. */
  #fail(reason: string): void {
    this.#drop()
    if (this.#closed) return
    const delay = backoffDelay(++this.#failures, this.#o.backoff)
    this.#set({ state: 'backoff', lastError: reason, retryAtMs: this.#host.clock() + delay })
    this.#later(() => this.#connect(), delay)
  }

  /** A back-fill page that goes silent (no event, no EOSE) for `publishTimeoutMs` fails the connection: the sync would never finish. */
  #watchPage(): void {
    clearTimeout(this.#pageTimer)
    const page = this.#page
    const neg = this.#neg
    this.#pageTimer = setTimeout(() => {
      if (neg !== undefined && this.#neg === neg) this.#negRefused(`no answer within ${this.#o.publishTimeoutMs} ms`)
      else if (this.#page === page && page !== undefined) this.#fail(`no EOSE: the back-fill went silent for ${this.#o.publishTimeoutMs} ms`)
    }, this.#o.publishTimeoutMs)
    ;(this.#pageTimer as { unref?: () => void }).unref?.()
  }

  #drop(): void {
    clearTimeout(this.#pageTimer)
    const socket = this.#socket
    this.#neg = undefined
    this.#paused = false
    this.#socket = undefined
    this.#page = undefined
    this.#liveSub = undefined
    for (const t of this.#inFlight.values()) clearTimeout(t)
    this.#inFlight.clear()
    for (const waiter of this.#authWaiters.values()) waiter(false)
    this.#flushWaiter?.()
    if (!socket) return
    socket.onopen = socket.onmessage = socket.onclose = null
    try {
      socket.close()
    } catch {
      // already closed
    }
  }

  #later(run: () => void, ms: number): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      if (!this.#closed) run()
    }, Math.max(0, ms))
    ;(this.#timer as { unref?: () => void }).unref?.()
  }

  #isOpen(): boolean {
    return this.#socket !== undefined && this.#socket.readyState === OPEN
  }

  #send(message: unknown[]): void {
    if (this.#isOpen()) this.#socket!.send(JSON.stringify(message))
  }

  #set(change: Partial<RelayState>): void {
    const before = this.#state
    const changed = Object.entries(change).some(([k, v]) => before[k as keyof RelayState] !== v)
    Object.assign(this.#state, change)
    if (change.retryAtMs === undefined && 'retryAtMs' in change) delete this.#state.retryAtMs
    if (changed) this.#host.stateChanged(this.status())
  }
}
