/** The Records section: the publish/edit form, sync progress, records per bucket, recent records, refusals. */
import { npubEncode, type PeersetRecord, type RecordDraft } from 'peerset'
import type { App } from './app.js'
import { describeError, fill, h, short, when } from './dom.js'

const RECENT = 50

export function recordsView(app: App, section: HTMLElement): { refresh(): void } {
  const form = publishForm(app)
  const sync = h('p', { class: 'muted' })
  const chart = h('div')
  const recent = h('ul', { 'aria-label': 'Recent records' })
  const refusals = h('div')
  section.append(h('h3', {}, 'Publish or edit'), form.element, h('h3', {}, 'Sync'), sync, chart, h('h3', {}, 'Recent records'), recent, h('h3', {}, 'Moderation refusals'), refusals)

  const renderRecords = (): void => {
    const peerset = app.peerset
    const records = peerset?.records({ limit: RECENT }) ?? []
    // Keep focus on a button that is redrawn: note which record it belonged to.
    const focused = document.activeElement instanceof HTMLElement && recent.contains(document.activeElement) ? document.activeElement.dataset.focusKey : undefined
    fill(recent, ...records.map((r) => recordItem(app, r)))
    if (records.length === 0) recent.append(h('li', { class: 'muted' }, peerset ? 'No records yet.' : 'Log in to see the room’s records.'))
    if (focused) recent.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focused)}"]`)?.focus()
    fill(
      refusals,
      app.rejections.length === 0
        ? h('p', { class: 'muted' }, 'None since the peerset started.')
        : h(
            'ul',
            { 'aria-label': 'Moderation refusals' },
            ...app.rejections.map((r) =>
              h('li', {}, h('span', { class: 'badge' }, r.rule ?? r.reason), ' ', r.message, h('div', { class: 'record-meta' }, `${r.origin}${r.peerId ? ` from ${short(r.peerId, 6)}` : ''} · ${r.permanent ? 'permanent' : 'may be accepted later'}`)),
            ),
          ),
    )
  }

  const refreshStatus = (): void => {
    const peerset = app.peerset
    if (!peerset) {
      sync.textContent = '—'
      fill(chart)
      return
    }
    const s = app.sync
    const syncing = peerset.peers().filter((p) => p.state === 'authenticated').length
    sync.textContent =
      s.state === 'syncing'
        ? `Catching up: ${s.wanted} record(s) wanted from peers…`
        : s.state === 'idle'
          ? `In sync with the peers (${s.added} record(s) added in the last catch-up).`
          : syncing > 0
            ? `Compared with ${syncing} peer(s): nothing to fetch so far.`
            : 'Waiting for peers to compare records with.'
    fill(chart, bucketChart(app))
  }

  app.onChange((what) => {
    if (what === 'records' || what === 'peerset') {
      renderRecords()
      refreshStatus()
    }
    if (what === 'peerset') form.reset()
  })
  renderRecords()
  return { refresh: refreshStatus }
}

/** Records per bucket across the retention window, oldest to newest, as bars. */
function bucketChart(app: App): HTMLElement {
  const status = app.peerset!.status()
  const { oldest, newest } = status.buckets
  const { intervalMs } = status.granularity
  const counts = new Map<number, number>()
  for (const r of app.peerset!.records()) {
    const bucket = Math.floor((r.createdAt * 1000) / intervalMs)
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1)
  }
  const n = newest - oldest + 1
  // At most 120 bars: neighbouring buckets are summed.
  const per = Math.max(1, Math.ceil(n / 120))
  const bars: number[] = []
  for (let b = oldest; b <= newest; b += per) {
    let sum = 0
    for (let i = b; i < b + per && i <= newest; i++) sum += counts.get(i) ?? 0
    bars.push(sum)
  }
  const max = Math.max(1, ...bars)
  const busiest = Math.max(0, ...bars)
  const label = `${status.records} records in ${status.buckets.nonEmpty} of ${n} buckets of ${describeInterval(intervalMs)}, from ${when(oldest * intervalMs)} to now${busiest > 0 ? `; the busiest bar holds ${busiest}` : ''}.`
  return h(
    'figure',
    { style: 'margin:0' },
    h('div', { class: 'chart', 'aria-hidden': 'true' }, ...bars.map((count) => h('span', { class: count === 0 ? 'empty' : undefined, style: `height:${Math.round((count / max) * 100)}%`, title: String(count) }))),
    h('figcaption', { class: 'note' }, label),
  )
}

function describeInterval(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} day(s)`
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} hour(s)`
  return `${Math.round(ms / 1000)} s`
}

function recordItem(app: App, r: PeersetRecord): HTMLLIElement {
  const mine = r.author === app.peerset?.publicKey
  const li = h(
    'li',
    {},
    h('p', { class: 'record-text' }, r.text),
    r.link && h('p', { class: 'record-text' }, h('a', { href: safeLink(r.link), target: '_blank', rel: 'noopener noreferrer nofollow ugc' }, r.link)),
    h('div', { class: 'record-meta' }, `${mine ? 'you' : short(npubEncode(r.author))} · ${when(r.createdAt * 1000)}`),
  )
  const actions = h('div', { class: 'row' })
  if (r.geo) {
    const geo = r.geo
    const place = h('span', { class: 'record-meta', 'aria-live': 'polite' })
    actions.append(
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          'data-focus-key': `geo:${r.id}`,
          onclick: () => fill(place, h('a', { href: `https://www.openstreetmap.org/?mlat=${geo.lat}&mlon=${geo.lon}#map=14/${geo.lat}/${geo.lon}`, target: '_blank', rel: 'noopener noreferrer' }, `${geo.lat.toFixed(5)}, ${geo.lon.toFixed(5)}`)),
        },
        'Show location',
      ),
      place,
    )
  }
  if (mine) {
    const error = h('span', { class: 'error', role: 'alert' })
    actions.append(
      h('button', { type: 'button', class: 'secondary', 'data-focus-key': `edit:${r.id}`, onclick: () => app.startEditing(r) }, 'Edit'),
      h(
        'button',
        {
          type: 'button',
          class: 'danger',
          'data-focus-key': `withdraw:${r.id}`,
          onclick: async (event: Event) => {
            ;(event.currentTarget as HTMLButtonElement).disabled = true
            try {
              await app.peerset?.withdraw(r.id)
            } catch (e) {
              error.textContent = describeError(e)
            }
          },
        },
        'Withdraw',
      ),
      error,
    )
  }
  if (actions.childElementCount > 0) li.append(actions)
  return li
}

/** Only http(s) links are clickable (a record's link is anyone's text). */
function safeLink(link: string): string {
  try {
    const url = new URL(link)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : '#'
  } catch {
    return '#'
  }
}

function publishForm(app: App): { element: HTMLFormElement; reset(): void } {
  const text = h('textarea', { id: 'publish-text', name: 'text', required: true, maxlength: 2000 })
  const link = h('input', { type: 'url', id: 'publish-link', name: 'link', placeholder: 'https://…' })
  const geo = h('input', { type: 'checkbox', id: 'publish-geo' })
  const editing = h('p', { class: 'note', 'aria-live': 'polite' })
  const message = h('p', { 'aria-live': 'polite' })
  const submit = h('button', { type: 'submit' }, 'Publish')
  const cancel = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Cancel edit')
  const element = h(
    'form',
    {},
    h('label', { for: 'publish-text' }, 'Text'),
    text,
    h('label', { for: 'publish-link' }, 'Link'),
    link,
    h('label', { class: 'inline', for: 'publish-geo' }, geo, 'Add my location'),
    h('p', { class: 'note' }, 'Your location is asked of the browser only when you publish with this ticked, and is then public in the record.'),
    editing,
    h('div', { class: 'row' }, submit, cancel),
    message,
  )
  const reset = (): void => {
    app.editing = undefined
    element.reset()
    editing.textContent = ''
    cancel.hidden = true
  }
  cancel.addEventListener('click', () => {
    reset()
    text.focus()
  })
  app.startEditing = (record) => {
    app.editing = record
    text.value = record.text
    link.value = record.link ?? ''
    geo.checked = false
    editing.textContent = `Editing your record of ${when(record.createdAt * 1000)}: publishing replaces it on every peer.`
    cancel.hidden = false
    text.focus()
  }
  element.addEventListener('submit', async (event) => {
    event.preventDefault()
    const peerset = app.peerset
    if (!peerset) {
      message.className = 'error'
      message.textContent = 'Log in first.'
      return
    }
    submit.disabled = true
    message.className = 'muted'
    message.textContent = 'Publishing…'
    try {
      const draft: RecordDraft = { text: text.value }
      if (link.value.trim()) draft.link = link.value.trim()
      if (geo.checked) draft.geo = await currentPosition()
      if (app.editing) draft.uuid = app.editing.uuid
      await peerset.publish(draft)
      message.textContent = app.editing ? 'Edited.' : 'Published.'
      reset()
    } catch (e) {
      message.className = 'error'
      message.textContent = describeError(e)
    } finally {
      submit.disabled = false
    }
  })
  return { element, reset }
}

function currentPosition(): Promise<{ lat: number; lon: number }> {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) {
      reject(new Error('this browser cannot tell your location'))
      return
    }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude }),
      (e) => reject(new Error(`your location is not available (${e.message || 'permission denied'})`)),
      { timeout: 15_000, maximumAge: 60_000 },
    )
  })
}
