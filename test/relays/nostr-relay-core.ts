/**
 * An independent relay implementation for the relay tests: `@nostr-relay/core` (CodyTseng) with its
 * SQLite repository in memory and its validator, in-process on 127.0.0.1 and a free port (the setup
 * measured in /work/shared/facts/relays.md). It checks signatures, so it never stores a forged event.
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { NostrRelay } from '@nostr-relay/core'
import { createOutgoingNoticeMessage, LogLevel } from '@nostr-relay/common'
import { EventRepositorySqlite } from '@nostr-relay/event-repository-sqlite'
import { Validator } from '@nostr-relay/validator'
import { WebSocketServer } from 'ws'

export interface CoreRelay {
  url: string
  close(): Promise<void>
}

export async function startCoreRelay(): Promise<CoreRelay> {
  const repo = new EventRepositorySqlite(':memory:', { defaultLimit: 1000 } as never)
  await repo.init()
  // Without the result cache a re-query right after a replacement sees the new version.
  const relay = new NostrRelay(repo, { filterResultCacheTtl: 0, logLevel: LogLevel.ERROR } as never)
  const validator = new Validator()
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  wss.on('connection', (ws) => {
    relay.handleConnection(ws as never)
    ws.on('message', async (data) => {
      try {
        await relay.handleMessage(ws as never, await validator.validateIncomingMessage(data as never))
      } catch (error) {
        ws.send(JSON.stringify(createOutgoingNoticeMessage((error as Error).message)))
      }
    })
    ws.on('close', () => relay.handleDisconnect(ws as never))
  })
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`
  return {
    url,
    async close() {
      for (const ws of wss.clients) ws.terminate()
      await new Promise((resolve) => wss.close(resolve))
      await repo.destroy()
    },
  }
}
