/** The Client section: identity (create, log in, extension, log out), connection, storage. */
import { createIdentity, identityFromNsec, type PeersetStatus } from 'peerset'
import type { App } from './app.js'
import { bytes, describeError, facts, fill, h, short, when } from './dom.js'
import { extensionSigner, forgetNsec, rememberedNsec, rememberNsec } from './keys.js'

export function clientView(app: App, section: HTMLElement): { refresh(): void } {
  const identity = h('div')
  const connection = h('div')
  const storage = h('div')
  const warnings = h('div')
  section.append(h('h3', {}, 'Identity'), identity, h('h3', {}, 'Connection'), connection, h('h3', {}, 'Storage'), storage, warnings)

  const renderIdentity = (): void => (app.login ? fill(identity, ...loggedIn(app)) : fill(identity, ...loggedOut(app)))
  app.onChange((what) => {
    if (what === 'login' || what === 'peerset') renderIdentity()
    if (what === 'records') refreshEstimate()
  })
  renderIdentity()

  const persistButton = h('button', { type: 'button', class: 'secondary' }, 'Keep storage (persist)')
  const persistNote = h('p', { class: 'note', 'aria-live': 'polite' })
  persistButton.addEventListener('click', async () => {
    if (!app.peerset) return
    persistButton.disabled = true
    const answer = await app.peerset.requestPersistence().catch(() => undefined)
    persistNote.textContent =
      answer === true ? 'The browser will keep this data under storage pressure.' : answer === false ? 'The browser refused: records may be evicted when space runs low.' : 'Persistence does not apply to this storage.'
    persistButton.disabled = false
    refresh()
  })
  let estimate: { usage?: number; quota?: number } | undefined
  function refreshEstimate(): void {
    void navigator.storage
      ?.estimate?.()
      .then((e) => (estimate = e))
      .catch(() => undefined)
  }
  refreshEstimate()
  setInterval(refreshEstimate, 10_000)

  const refresh = (): void => {
    const peerset = app.peerset
    if (!peerset) {
      fill(connection, h('p', { class: 'muted' }, app.login ? (app.startError ? '' : 'Starting…') : 'Log in to join the room.'), app.startError && h('p', { class: 'error', role: 'alert' }, app.startError))
      fill(storage, h('p', { class: 'muted' }, '—'))
      fill(warnings)
      return
    }
    const status = peerset.status()
    fill(connection, connectionFacts(status, app))
    fill(
      storage,
      facts([
        ['Store', `${status.storage.name} (${status.storage.state}${status.storage.lastError ? `: ${status.storage.lastError}` : ''})`],
        ['Records', `${status.records} live, ${status.withdrawals} withdrawn, ${status.authors} authors`],
        ['Used', estimate ? `${bytes(estimate.usage)} of ${bytes(estimate.quota)} (this origin)` : 'unknown'],
        ['Persistent', !status.storage.persistent ? 'no (memory)' : status.storage.persisted === true ? 'yes: kept under storage pressure' : status.storage.persisted === false ? 'not yet: may be evicted when space runs low' : 'unknown'],
      ]),
      status.storage.persistent && status.storage.persisted !== true ? h('div', { class: 'row' }, persistButton) : false,
      persistNote,
    )
    fill(
      warnings,
      status.warnings.length > 0 && h('h3', {}, 'Warnings'),
      status.warnings.length > 0 && h('ul', { 'aria-label': 'Warnings' }, ...status.warnings.slice(-8).map((w) => h('li', {}, h('span', { class: 'badge' }, w.code), ' ', w.message))),
    )
  }
  return { refresh }
}

function connectionFacts(status: PeersetStatus, app: App): HTMLElement {
  const t = status.transport
  const servers = t.state?.signalling ?? []
  return facts([
    ['Room', status.room],
    ['Transport', t.name ?? 'none'],
    ['In the room', t.joined ? `yes, as ${short(t.selfId ?? undefined, 6)}` : 'not yet'],
    ['Peers', `${t.peers} (${t.state?.peers ?? 0} connected at the transport)`],
    [
      'Signalling',
      servers.length === 0
        ? app.trackers
          ? app.trackers.join(', ')
          : 'public trackers'
        : h('ul', { 'aria-label': 'Signalling servers' }, ...servers.map((s) => h('li', {}, h('code', {}, s.url), ` ${s.state} since ${when(s.since)}`, s.lastError ? ` (${s.lastError})` : ''))),
    ],
    ...(status.relays.length === 0 ? [] : [['Relays', relayList(status)] as [string, HTMLElement]]),
  ])
}

/** `status().relays`: each relay's state and counts (only when the peerset has `relays`). */
function relayList(status: PeersetStatus): HTMLElement {
  return h(
    'ul',
    { 'aria-label': 'Relays' },
    ...status.relays.map((r) =>
      h(
        'li',
        {},
        h('code', {}, r.url),
        ` ${r.state}${r.negentropy ? ' (NIP-77)' : ''}: ${r.received} received, ${r.accepted} kept, ${r.published} published, ${r.refused} refused`,
        r.lastError ? ` (${r.lastError})` : '',
      ),
    ),
  )
}

function loggedIn(app: App): Node[] {
  const login = app.login!
  const npub = app.peerset?.npub
  const out: Node[] = [
    facts([
      ['Signed in with', login.kind === 'extension' ? 'a browser extension (NIP-07)' : login.remembered ? 'a key remembered on this device' : 'a key held in this page only'],
      ['npub', npub ? h('code', {}, npub) : 'starting…'],
    ]),
  ]
  if (login.kind === 'key') {
    out.push(
      h(
        'details',
        {},
        h('summary', {}, 'Show my secret key (nsec)'),
        h('p', { class: 'note' }, 'Anyone with it can publish as you. Keep a copy somewhere safe: it is the only way back to this identity.'),
        h('code', {}, login.identity.nsec),
      ),
    )
  }
  const logOut = h('button', { type: 'button', class: 'danger' }, 'Log out')
  logOut.addEventListener('click', () => {
    forgetNsec()
    void app.logOut()
    document.getElementById('nsec')?.focus()
  })
  out.push(h('div', { class: 'row' }, logOut), h('p', { class: 'note' }, 'Logging out closes the peerset and forgets a remembered key on this device. Records stay in this browser for the room.'))
  return out
}

function loggedOut(app: App): Node[] {
  const error = h('p', { class: 'error', role: 'alert' })
  const remember = h('input', { type: 'checkbox', id: 'remember' })
  const nsecInput = h('input', { type: 'password', id: 'nsec', name: 'nsec', autocomplete: 'off', spellcheck: 'false', placeholder: 'nsec1…' })
  const start = (make: () => Parameters<App['logIn']>[0]): void => {
    error.textContent = ''
    try {
      const login = make()
      void app.logIn(login)
    } catch (e) {
      error.textContent = describeError(e)
    }
  }
  const keyLogin = (identity: ReturnType<typeof createIdentity>): Parameters<App['logIn']>[0] => {
    if (remember.checked) rememberNsec(identity.nsec)
    return { kind: 'key', identity, remembered: remember.checked }
  }
  const form = h(
    'form',
    {
      onsubmit: (event: Event) => {
        event.preventDefault()
        start(() => keyLogin(identityFromNsec(nsecInput.value.trim())))
      },
    },
    h('label', { for: 'nsec' }, 'nsec'),
    nsecInput,
    h('label', { class: 'inline', for: 'remember' }, remember, 'Remember me on this device'),
    h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Log in'), h('button', { type: 'button', class: 'secondary', onclick: () => start(() => keyLogin(createIdentity())) }, 'Create a new key')),
    h('p', { class: 'note' }, 'Your nsec stays in this page’s memory and is never written to storage, unless you tick “Remember me”: then it is stored unencrypted in this browser (localStorage) until you log out.'),
  )
  const signer = extensionSigner()
  return [
    form,
    signer
      ? h('div', { class: 'row' }, h('button', { type: 'button', class: 'secondary', onclick: () => start(() => ({ kind: 'extension', signer })) }, 'Use my browser extension (NIP-07)'))
      : h('p', { class: 'note' }, 'No NIP-07 browser extension (window.nostr) found on this page.'),
    error,
    h(
      'p',
      { class: 'note' },
      'Get your keys: only you hold your Nostr keys, but ',
      h('a', { href: 'https://nstart.me/', target: '_blank', rel: 'noopener noreferrer' }, 'nstart.me'),
      ' offers their recovery via your email address, for free.',
    ),
  ]
}

/** Log in with a remembered key, if there is one. */
export function resumeRemembered(app: App): void {
  const nsec = rememberedNsec()
  if (!nsec) return
  try {
    void app.logIn({ kind: 'key', identity: identityFromNsec(nsec), remembered: true })
  } catch {
    forgetNsec()
  }
}
