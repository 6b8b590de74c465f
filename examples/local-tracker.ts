/**
 * A BitTorrent WebSocket tracker on 127.0.0.1 for the browser examples, so two tabs find each other
 * without the internet: `npm run tracker`, then open an example with `?tracker=<the url it prints>`.
 */
import { startTracker } from '../src/testing/index.js'

const port = Number(process.env.PORT ?? 8000)
const tracker = await startTracker({ port, intervalMs: 2_000 })
console.log(`tracker: ${tracker.url}`)
console.log(`  minimal example:  http://localhost:5173/?tracker=${tracker.url}`)
console.log(`  network UI:       http://localhost:5174/?tracker=${tracker.url}`)
process.on('SIGINT', () => void tracker.close().then(() => process.exit(0)))
