/**
 * Peerset network UI: a demo and a debugging tool for host-app developers, on the public API only
 * (`import … from 'peerset'`). Query parameters: `room`, `tracker` (comma-separated ws:// urls;
 * default: public trackers), and the room settings `granularity`, `retention` (days), `moderation`.
 */
import { App } from './app.js'
import { clientView, resumeRemembered } from './client.js'
import { recordsView } from './records.js'
import { settingsView } from './settings.js'
import { swarmView } from './swarm.js'

const app = new App(new URLSearchParams(location.search))
const section = (id: string): HTMLElement => document.getElementById(id)!
const client = clientView(app, section('client'))
const swarm = swarmView(app, section('swarm'))
const records = recordsView(app, section('records'))
settingsView(app, section('settings'))

const connection = document.getElementById('connection')!
function connectionLine(): string {
  const peerset = app.peerset
  if (!app.login) return 'Not logged in: log in to join the room.'
  if (!peerset) return app.startError ? `Could not start: ${app.startError}` : `Starting the peerset for room “${app.room}”…`
  const t = peerset.status().transport
  if (!t.joined) return `Joining room “${app.room}”…`
  const authenticated = peerset.peers().filter((p) => p.state === 'authenticated').length
  return `Room “${app.room}” joined, ${authenticated} peer(s) syncing.`
}

let scheduled = false
function refresh(): void {
  // The status line at once (only a real change is written, so screen readers announce changes, not the clock).
  const line = connectionLine()
  if (connection.textContent !== line) connection.textContent = line
  connection.classList.toggle('joined', app.peerset?.status().transport.joined === true)
  if (scheduled) return
  scheduled = true
  requestAnimationFrame(() => {
    scheduled = false
    client.refresh()
    swarm.refresh()
    records.refresh()
  })
}
app.onChange(refresh)
setInterval(refresh, 1_000)
refresh()
resumeRemembered(app)
addEventListener('pagehide', () => void app.peerset?.close())
