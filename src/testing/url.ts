/** The `ws://` url of a server listening on `host` (an IPv6 address in brackets) and `port`. */
export function wsUrl(host: string, port: number): string {
  return `ws://${host.includes(':') ? `[${host}]` : host}:${port}`
}
