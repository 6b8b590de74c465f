/** The Swarm section: peers with their session state, key, strikes, records received and sent; bans. */
import type { App } from './app.js'
import { fill, h, short, when } from './dom.js'

export function swarmView(app: App, section: HTMLElement): { refresh(): void } {
  const summary = h('p', { class: 'muted' })
  const peers = h('ul', { 'aria-label': 'Peers' })
  const bans = h('div')
  section.append(summary, peers, h('h3', {}, 'Bans'), bans)

  const refresh = (): void => {
    const peerset = app.peerset
    const list = peerset?.peers() ?? []
    const authenticated = list.filter((p) => p.state === 'authenticated').length
    summary.textContent = peerset ? `${list.length} peer session(s), ${authenticated} authenticated (syncing).` : 'Not in a room.'
    fill(
      peers,
      ...list.map((p) =>
        h(
          'li',
          {},
          h('strong', {}, p.npub ? short(p.npub) : 'key not proven yet'),
          ' ',
          h('span', { class: 'badge' }, p.state),
          h(
            'div',
            { class: 'record-meta' },
            `peer ${short(p.peerId, 6)} · strikes ${p.strikes} · records received ${p.recordsReceived}, sent ${p.recordsSent} · round trip ${p.rttMs === undefined ? '—' : `${Math.round(p.rttMs)} ms`} · connected ${when(p.connectedAt)}`,
          ),
        ),
      ),
    )
    if (list.length === 0 && peerset) peers.append(h('li', { class: 'muted' }, 'No peers yet. Open this page in another tab or browser, on the same room.'))
    const now = Date.now()
    const peerBans = app.peerBans.filter((b) => b.untilMs > now)
    const authorBans = app.authorBans.filter((b) => b.untilMs > now)
    fill(
      bans,
      peerBans.length + authorBans.length === 0
        ? h('p', { class: 'muted' }, 'None seen since the peerset started.')
        : h(
            'ul',
            { 'aria-label': 'Bans' },
            ...peerBans.map((b) => h('li', {}, `Peer ${short(b.peerId, 6)}${b.pubkey ? ` (key ${short(b.pubkey, 8)})` : ''} until ${when(b.untilMs)}: ${b.reason}`)),
            ...authorBans.map((b) => h('li', {}, `Author ${short(b.author, 8)} until ${when(b.untilMs)}`)),
          ),
    )
  }
  return { refresh }
}
