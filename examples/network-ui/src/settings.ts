/**
 * The Settings section: this peer's own tuning, applied to the running peerset with
 * `peerset.configure()`; and the settings the room must share, which restart the peerset.
 */
import { DEFAULT_SESSION_LIMITS, DEFAULT_SESSION_TIMEOUTS, type PeersetSettings, type PeersetSettingsChange } from 'peerset'
import type { App, RoomSettings } from './app.js'
import { describeError, h } from './dom.js'

const TIMEOUT_LABELS: Record<keyof typeof DEFAULT_SESSION_TIMEOUTS, string> = {
  handshakeMs: 'Handshake timeout (ms)',
  challengeMs: 'Challenge timeout (ms)',
  idleMs: 'Idle timeout (ms)',
  maxSessionMs: 'Longest peer session (ms)',
  proofTtlMs: 'Proof time tolerance (ms)',
}

const LIMIT_LABELS: Partial<Record<keyof typeof DEFAULT_SESSION_LIMITS, string>> = {
  messagesPerSecond: 'Messages per second',
  bytesPerSecond: 'Bytes per second',
  unsolicitedRecordsPerSecond: 'Unasked-for records per second',
  strikeThreshold: 'Peer strikes before a ban',
  banMs: 'Peer ban (ms)',
}

const ROOM_LABELS = { maxPeers: 'Most peers', maxClientSessionMs: 'Stay in the room before rejoining (ms)', closeTimeoutMs: 'Close timeout (ms)' } as const

export function settingsView(app: App, section: HTMLElement): void {
  const live = liveForm(app)
  const room = roomForm(app)
  section.append(h('h3', {}, 'This peer (applied at once)'), live.element, h('h3', {}, 'The room (must match across peers)'), room)
  app.onChange((what) => {
    if (what === 'peerset') live.load()
  })
  live.load()
}

function numberField(id: string, label: string): { row: HTMLElement; input: HTMLInputElement } {
  const input = h('input', { type: 'number', id, min: 0, step: 'any', inputmode: 'numeric' })
  return { row: h('div', {}, h('label', { for: id }, label), input), input }
}

function liveForm(app: App): { element: HTMLFormElement; load(): void } {
  const timeouts = Object.entries(TIMEOUT_LABELS).map(([key, label]) => ({ key, ...numberField(`set-${key}`, label) }))
  const limits = Object.entries(LIMIT_LABELS).map(([key, label]) => ({ key, ...numberField(`set-${key}`, label as string) }))
  const room = Object.entries(ROOM_LABELS).map(([key, label]) => ({ key, ...numberField(`set-${key}`, label) }))
  const message = h('p', { 'aria-live': 'polite' })
  const apply = h('button', { type: 'submit' }, 'Apply')
  const element = h(
    'form',
    {},
    h('fieldset', {}, h('legend', {}, 'Peer session timeouts'), h('div', { class: 'settings-grid' }, ...timeouts.map((f) => f.row))),
    h('fieldset', {}, h('legend', {}, 'Peer limits'), h('div', { class: 'settings-grid' }, ...limits.map((f) => f.row))),
    h('fieldset', {}, h('legend', {}, 'Room'), h('div', { class: 'settings-grid' }, ...room.map((f) => f.row))),
    h('p', { class: 'note' }, 'Timeouts and limits apply to peer sessions that start after the change; the room size and the stay apply at once. See docs/strategies.md, “Changing settings while running”.'),
    h('div', { class: 'row' }, apply),
    message,
  )
  const load = (): void => {
    const current = app.peerset?.configure({})
    for (const f of [...timeouts, ...limits, ...room]) {
      f.input.disabled = current === undefined
      if (current) f.input.value = String(valueOf(current, f.key))
    }
    apply.disabled = current === undefined
    message.textContent = current ? '' : 'Log in to change the running peerset.'
    message.className = 'muted'
  }
  element.addEventListener('submit', (event) => {
    event.preventDefault()
    const peerset = app.peerset
    if (!peerset) return
    const change: PeersetSettingsChange = {
      sessionTimeouts: Object.fromEntries(timeouts.map((f) => [f.key, Number(f.input.value)])),
      sessionLimits: Object.fromEntries(limits.map((f) => [f.key, Number(f.input.value)])),
    }
    for (const f of room) (change as Record<string, number>)[f.key] = Number(f.input.value)
    try {
      peerset.configure(change)
      load()
      message.className = 'muted'
      message.textContent = 'Applied.'
    } catch (e) {
      message.className = 'error'
      message.textContent = describeError(e)
    }
  })
  return { element, load }
}

function valueOf(settings: PeersetSettings, key: string): number {
  if (key in settings.sessionTimeouts) return settings.sessionTimeouts[key as keyof PeersetSettings['sessionTimeouts']]
  if (key in settings.sessionLimits) return settings.sessionLimits[key as keyof PeersetSettings['sessionLimits']]
  return settings[key as 'maxPeers' | 'maxClientSessionMs' | 'closeTimeoutMs']
}

function roomForm(app: App): HTMLFormElement {
  const granularity = h(
    'select',
    { id: 'room-granularity' },
    h('option', { value: 'daily' }, 'Daily buckets'),
    h('option', { value: 'quarter-day' }, 'Quarter-day buckets'),
    h('option', { value: 'hourly' }, 'Hourly buckets'),
  )
  const retention = h('input', { type: 'number', id: 'room-retention', min: 1, max: 365, step: 1, required: true })
  const moderation = h(
    'select',
    { id: 'room-moderation' },
    h('option', { value: 'default' }, 'Default (content, bad words, links, duplicates, 5 records per author)'),
    h('option', { value: 'accept-all' }, 'Accept every valid record'),
  )
  const message = h('p', { 'aria-live': 'polite' })
  const show = (s: RoomSettings): void => {
    granularity.value = s.granularity
    retention.value = String(s.retentionDays)
    moderation.value = s.moderation
  }
  show(app.roomSettings)
  const form = h(
    'form',
    {},
    h('div', { class: 'settings-grid' }, h('div', {}, h('label', { for: 'room-granularity' }, 'Granularity'), granularity), h('div', {}, h('label', { for: 'room-retention' }, 'Retention (days)'), retention)),
    h('label', { for: 'room-moderation' }, 'Moderation policy'),
    moderation,
    h('p', { class: 'note' }, 'Peers compare these when they meet: a peer on other settings ends the session and does not sync with this one. Changing them restarts the peerset (records outside the new window are pruned).'),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'secondary' }, 'Restart with these settings')),
    message,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const next: RoomSettings = {
      granularity: granularity.value as RoomSettings['granularity'],
      retentionDays: Number(retention.value),
      moderation: moderation.value as RoomSettings['moderation'],
    }
    if (!(Number.isInteger(next.retentionDays) && next.retentionDays >= 1 && next.retentionDays <= 365)) {
      message.className = 'error'
      message.textContent = 'Retention must be a whole number of days from 1 to 365.'
      return
    }
    message.className = 'muted'
    message.textContent = 'Restarting… peers on the previous settings will no longer sync with this one.'
    await app.changeRoomSettings(next)
    message.textContent = app.login ? 'Restarted with the new settings. Peers on other settings will not sync with this one.' : 'Saved: they apply when you log in.'
  })
  return form
}
