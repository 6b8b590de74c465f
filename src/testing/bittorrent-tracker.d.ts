// The parts of bittorrent-tracker's server that peerset/testing uses (the package ships no types).
declare module 'bittorrent-tracker/server' {
  import type { EventEmitter } from 'node:events'
  import type { Server as HttpServer } from 'node:http'
  interface TrackerServerOptions {
    http?: boolean
    udp?: boolean
    ws?: boolean
    stats?: boolean
    /** The announce interval the server asks for, ms (WebSocket clients are told a fifth of it). */
    interval?: number
  }
  class TrackerServer extends EventEmitter {
    constructor(options?: TrackerServerOptions)
    http: HttpServer | null
    listen(port: number, hostname: string, onListening?: () => void): void
    close(callback?: (err?: unknown) => void): void
  }
  export default TrackerServer
}
