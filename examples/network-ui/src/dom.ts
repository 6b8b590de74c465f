/** Small DOM helpers: no framework. */

type Child = Node | string | number | false | null | undefined
type Attrs = Record<string, string | number | boolean | ((event: Event) => void) | undefined>

/** An element with attributes (`on…` functions become listeners, `false`/`undefined` are left out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value)
    else if (value === true) el.setAttribute(name, '')
    else el.setAttribute(name, String(value))
  }
  append(el, children)
  return el
}

function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue
    el.append(typeof child === 'number' ? String(child) : child)
  }
}

/** Replace the children of `el`. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren()
  append(el, children)
}

/** A `<dl>` from label/value pairs. */
export function facts(rows: Array<[string, Child]>): HTMLDListElement {
  const dl = h('dl')
  for (const [label, value] of rows) dl.append(h('dt', {}, label), h('dd', {}, value))
  return dl
}

/** `npub1abcd…wxyz`. */
export function short(text: string | undefined, keep = 10): string {
  if (text === undefined) return '—'
  return text.length <= keep * 2 + 1 ? text : `${text.slice(0, keep)}…${text.slice(-6)}`
}

/** A byte count for people. */
export function bytes(n: number | undefined): string {
  if (n === undefined) return 'unknown'
  const units = ['B', 'KB', 'MB', 'GB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`
}

/** A time as local date and time. */
export function when(ms: number): string {
  return new Date(ms).toLocaleString()
}

/** A message for an error of any kind. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message.replace(/^peerset: /, '') : String(error)
}
