/**
 * The default transport (issue 11): in a browser `createPeerset({ room, identity })` joins with
 * `trysteroTransport()` on its public trackers; in Node it stays local, and the warning says how to
 * set up `peerset/node`. The browser is simulated with stub globals; nothing connects.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createIdentity } from '../../src/identity/index.js'
import { createPeerset, type PeersetWarning } from '../../src/peerset.js'
import { memoryStorage } from '../../src/storage/index.js'
import { defaultTransport, isBrowserEnvironment } from '../../src/transport/index.js'

afterEach(() => {
  vi.unstubAllGlobals()
})

class Stub {}

describe('the default transport', () => {
  it('in a browser (window, RTCPeerConnection and WebSocket globals) is trysteroTransport() on its public trackers', () => {
    vi.stubGlobal('window', {})
    vi.stubGlobal('RTCPeerConnection', Stub)
    vi.stubGlobal('WebSocket', Stub)
    expect(isBrowserEnvironment()).toBe(true)
    const transport = defaultTransport()
    expect(transport?.name).toBe('trystero-torrent')
    expect(transport?.isSupported()).toBe(true)
  })

  it('in Node, or anywhere without a browser’s WebRTC, is none', () => {
    expect(isBrowserEnvironment()).toBe(false)
    expect(defaultTransport()).toBeUndefined()
    // Node 22 has a WebSocket global; a web worker has no window and no RTCPeerConnection.
    expect(defaultTransport({ WebSocket: Stub })).toBeUndefined()
    expect(defaultTransport({ RTCPeerConnection: Stub, WebSocket: Stub })).toBeUndefined()
    expect(defaultTransport({ window: {}, WebSocket: Stub })).toBeUndefined()
    expect(defaultTransport({ window: {}, RTCPeerConnection: Stub, WebSocket: Stub })?.name).toBe('trystero-torrent')
  })

  it('in Node, a peerset without a transport stays local and its warning says how to set up peerset/node', async () => {
    const peerset = await createPeerset({ room: 'default', identity: createIdentity(), storage: memoryStorage() })
    try {
      const warning = peerset.status().warnings.find((w: PeersetWarning) => w.code === 'no-transport')
      expect(warning?.message).toContain('will not sync')
      expect(warning?.message).toContain("import { nodeRtc } from 'peerset/node'")
      expect(warning?.message).toContain('trysteroTransport({ ...nodeRtc() })')
      expect(warning?.message).toContain('transport: false')
      expect(peerset.status().transport).toMatchObject({ name: null, joined: false, state: null })
    } finally {
      await peerset.close()
    }
  })
})
