/**
 * A two-party transport over a `MessagePort` (bench only): lets a peerset in a worker thread and one
 * in the main thread meet as two peers would over a network, each on its own thread and heap, so a
 * bench measures what one side spends without the other side's work on the same thread.
 *
 * Protocol on the port: `{ t: 'here' }` when a side has joined (answered once by the other side, so
 * the order of the two joins does not matter), `{ t: 'frame', data }` for a frame, `{ t: 'bye' }` on leave.
 */
import type { MessagePort } from 'node:worker_threads'
import type { TransportHandlers, TransportRoom, TransportStrategy } from '../src/transport/types.js'

type PortMessage = { t: 'here' } | { t: 'bye' } | { t: 'frame'; data: Uint8Array }

/** A transport whose only peer, `remoteId`, is on the other end of `port`. */
export function portTransport(port: MessagePort, selfId: string, remoteId: string): TransportStrategy {
  return {
    name: 'port',
    isSupported: () => true,
    async join(_room: string, handlers: TransportHandlers): Promise<TransportRoom> {
      let present = false
      let left = false
      const onMessage = (message: PortMessage): void => {
        if (left) return
        if (message.t === 'here') {
          if (present) return
          present = true
          port.postMessage({ t: 'here' } satisfies PortMessage)
          handlers.onPeerJoin(remoteId)
        } else if (message.t === 'bye') {
          if (!present) return
          present = false
          handlers.onPeerLeave(remoteId)
        } else if (present) {
          handlers.onMessage(remoteId, message.data)
        }
      }
      port.on('message', onMessage)
      port.postMessage({ t: 'here' } satisfies PortMessage)
      return {
        selfId,
        send(peerId: string, data: Uint8Array): void {
          if (left || !present || peerId !== remoteId) return
          // A copy of its own (frames may be views of a larger buffer), moved rather than cloned.
          const copy = data.slice()
          port.postMessage({ t: 'frame', data: copy } satisfies PortMessage, [copy.buffer])
        },
        async leave(): Promise<void> {
          if (left) return
          left = true
          port.postMessage({ t: 'bye' } satisfies PortMessage)
          port.off('message', onMessage)
        },
      }
    },
  }
}
