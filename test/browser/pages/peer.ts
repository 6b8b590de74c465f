/**
 * The browser tests' own page (not the Network UI): a peerset from the built package (`dist/`, bundled
 * by esbuild as a host app would) with IndexedDB storage and the trystero transport on the tracker
 * given in the query (`?room=...&tracker=ws://...`). It keeps its key in localStorage so a reload comes
 * back as the same author, and exposes `window.peersetTest` for the tests to drive and read.
 */
import { createIdentity, createPeerset, identityFromNsec, indexedDbStorage, trysteroTransport } from 'peerset'

const params = new URLSearchParams(location.search)
const room = params.get('room') ?? 'browser-test'
const tracker = params.get('tracker')
if (tracker === null) throw new Error('peer.html needs ?tracker=ws://...')

// What happened in this page, for a failing test's message: sessions, transport and sync events.
const started = Date.now()
const log: string[] = []
const note = (line: string): void => {
  log.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${line}`)
  if (log.length > 200) log.splice(0, log.length - 200)
}
// trystero reports some trouble only as console warnings: keep them in the log too.
for (const level of ['warn', 'error'] as const) {
  const original = console[level].bind(console)
  console[level] = (...args: unknown[]) => {
    note(`console.${level} ${args.map(String).join(' ').slice(0, 300)}`)
    original(...args)
  }
}

// A test page may keep its key in localStorage; an app should not (see docs/getting-started.md).
const saved = localStorage.getItem('peerset-test-nsec')
const identity = saved === null ? createIdentity() : identityFromNsec(saved)
localStorage.setItem('peerset-test-nsec', identity.nsec)

const peerset = await createPeerset({
  room,
  identity,
  storage: indexedDbStorage(),
  // The same app id as examples/node-peer, so a Node peer and this page meet.
  transport: trysteroTransport({ appId: params.get('app') ?? 'peerset-node-peer', relayUrls: [tracker], rtcConfig: { iceServers: [] } }),
  reconnectCooldownMs: 2_000,
})

const list = document.getElementById('records')!
const render = (): void => {
  list.replaceChildren(...peerset.records().map((r) => Object.assign(document.createElement('li'), { textContent: r.text })))
  document.getElementById('state')!.textContent = `${peerset.records().length} records, ${authenticated()} peers`
}
const authenticated = (): number => peerset.peers().filter((p) => p.state === 'authenticated').length
peerset.on('record:added', render)
peerset.on('record:removed', render)
peerset.on('peer:joined', render)
peerset.on('peer:left', render)
render()

const short = (id: string): string => id.slice(0, 8)
peerset.on('transport:state', (s) => note(`transport ${s.signalling.map((x) => x.state).join(',')} peers ${s.peers}${s.lastError ? ` ${s.lastError}` : ''}`))
peerset.on('peer:state', ({ peerId, from, to }) => note(`peer ${short(peerId)} ${from} -> ${to}`))
peerset.on('peer:strike', (...args) => note(`strike ${JSON.stringify(args).slice(0, 200)}`))
peerset.on('peer:banned', (...args) => note(`banned ${JSON.stringify(args).slice(0, 200)}`))
peerset.on('sync:started', (...args) => note(`sync:started ${JSON.stringify(args).slice(0, 200)}`))
peerset.on('sync:idle', (...args) => note(`sync:idle ${JSON.stringify(args).slice(0, 200)}`))
peerset.on('record:added', (r, info) => note(`added ${r.text} ${JSON.stringify(info).slice(0, 120)}`))
peerset.on('record:rejected', (...args) => note(`rejected ${JSON.stringify(args).slice(0, 200)}`))

declare global {
  interface Window {
    peersetTest: {
      npub: string
      publish(text: string): Promise<string>
      texts(): string[]
      peers(): number
      /** This page's event log and its peers now, for a failing test's message. */
      debug(): string
    }
  }
}
window.peersetTest = {
  npub: identity.npub,
  publish: async (text) => (await peerset.publish({ text })).id,
  texts: () => peerset.records().map((r) => r.text).sort(),
  peers: authenticated,
  debug: () => [...log, `now ${((Date.now() - started) / 1000).toFixed(1)}s self ${short(peerset.status().transport.selfId ?? '?')} sessions ${JSON.stringify(peerset.peers().map((p) => ({ id: short(p.peerId), state: p.state, strikes: p.strikes })))}`].join('\n'),
}
document.body.dataset['ready'] = 'true'
