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

declare global {
  interface Window {
    peersetTest: {
      npub: string
      publish(text: string): Promise<string>
      texts(): string[]
      peers(): number
    }
  }
}
window.peersetTest = {
  npub: identity.npub,
  publish: async (text) => (await peerset.publish({ text })).id,
  texts: () => peerset.records().map((r) => r.text).sort(),
  peers: authenticated,
}
document.body.dataset['ready'] = 'true'
