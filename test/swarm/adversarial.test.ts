/**
 * A malicious peer in a room of three honest peers, on virtual time (see `virtualTime`). It joins
 * through the memory network's transport (no Peerset) and, except in the first test, AUTHENTICATES
 * like anyone with a key (a real session: hello, signed proof), so its forged records and lies pass
 * the handshake and reach the honest peers' sync layer; when honest peers ban it, it comes back
 * under a fresh peer id and key (a sybil). Each test counts what got past the handshake: the sync
 * frames the attacker sent while its session with each honest peer was authenticated, and effects
 * only the sync layer produces (`want`s and `ranges` in reply, `record:rejected` from the attacker,
 * strikes for what it forwarded), and asserts a floor on them.
 *
 * What must hold under attack: honest peers keep exactly the records they should (no loss, no
 * forgery stored), keep syncing among themselves, report no `error`, and answer the attacker with
 * a bounded number of frames (no storm, no loop).
 *
 * The last test uses a malicious Peerset instead (built from the public API with a rigged store).
 */
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createMemoryNetwork,
  memoryStorage,
  recordFromNostrEvent,
  type MemoryNetwork,
  type NostrEvent,
  type Peerset,
  type PeersetWarning,
  type RejectedRecord,
  type StorageStrategy,
} from '../../src/index.js'
import { encodeMessage } from '../../src/protocol/index.js'
import { FIXTURE_ROOM, loadFixtures } from '../helpers.js'
import { Attacker, flipHex, haveGroups, wire, type Behaviour } from './attacker.js'
import {
  TrafficCounter,
  allHold,
  drive,
  expectedIds,
  idsOf,
  importAll,
  openPeer,
  prng,
  realTime,
  shuffled,
  sleep,
  virtualClock,
  virtualTime,
  waitFor,
} from './harness.js'

const ROOM = FIXTURE_ROOM
/** Sorts between the honest peers' random ids: it leads some pairs and follows in others. */
const ATTACKER_ID = 'Mallory0000000000000'
const TICK_MS = 100
/** The window of sustained attack, in virtual time. */
const WINDOW_MS = 10_000

interface World {
  network: MemoryNetwork
  honest: Peerset[]
  honestIds: string[]
  attacker: Attacker
  /** Every genuine record given to honest peers. */
  offered: NostrEvent[]
  /** The ids every honest peer must end with. */
  expected: string[]
  /** Genuine fixtures no honest peer ever gets: material for the attacker. */
  material: NostrEvent[]
  /** Genuine fixtures the honest peers hold (some on one peer only). */
  honestEvents: NostrEvent[]
  errors: unknown[]
  warnings: PeersetWarning[]
  /** Records honest peers refused, with the honest peer that refused them. */
  rejections: Array<RejectedRecord & { at: number; by: string }>
  /** Strikes honest peers gave, with the honest peer that gave them. */
  strikes: Array<{ by: string; peerId: string; reason: string; detail: string }>
  /** Bans honest peers pronounced. */
  bans: Array<{ by: string; peerId: string; reason: string }>
  /** Peers each honest peer authenticated (`peer:joined`). */
  joined: Array<{ by: string; peerId: string }>
  /** Record what an honest peer reports (`by` is its peer id). */
  observe(p: Peerset, by: string): void
}

let world: World | undefined

afterEach(async () => {
  if (world) {
    const w = world
    world = undefined
    await drive(w.attacker.leave())
    await drive(Promise.all(w.honest.map((p) => p.close())))
    w.network.close()
  }
  realTime()
})

/**
 * Three honest peers hold overlapping shares of 300 fixtures, cut off from each other; the attacker
 * joins, the network heals (so the honest peers must reconcile while attacked), and a few new
 * records are imported on one honest peer mid-attack (so announcements must flow too).
 */
async function setup(
  seed: number,
  behaviour: (w: Pick<World, 'material' | 'honestEvents'>) => Behaviour,
  { authenticate = true }: { authenticate?: boolean } = {},
): Promise<World> {
  virtualTime()
  const random = prng(seed)
  const network = createMemoryNetwork({ latencyMs: 2, jitterMs: 3, seed })
  const transports = [0, 1, 2].map(() => network.transport())
  network.partition(transports.map((t) => [t.peerId]))
  const honest = await drive(Promise.all(transports.map((t) => openPeer({ room: ROOM, transport: t }))))
  const honestIds = transports.map((t) => t.peerId)
  const errors: unknown[] = []
  const warnings: PeersetWarning[] = []
  const rejections: World['rejections'] = []
  const strikes: World['strikes'] = []
  const bans: World['bans'] = []
  const joined: World['joined'] = []
  const observe = (p: Peerset, by: string): void => {
    p.on('error', (e) => errors.push(e))
    p.on('warning', (w) => warnings.push(w))
    p.on('record:rejected', (r) => rejections.push({ ...r, at: Date.now(), by }))
    p.on('peer:strike', (x) => strikes.push({ by, peerId: x.peerId, reason: x.reason, detail: x.detail }))
    p.on('peer:banned', (x) => bans.push({ by, peerId: x.peerId, reason: x.reason }))
    p.on('peer:joined', (x) => joined.push({ by, peerId: x.peerId }))
  }
  honest.forEach((p, i) => observe(p, honestIds[i]!))

  const fixtures = shuffled(loadFixtures().records, random)
  const honestEvents = fixtures.slice(0, 300)
  const live = fixtures.slice(300, 310)
  const material = fixtures.slice(310)
  const shares: NostrEvent[][] = [[], [], []]
  for (const e of honestEvents) {
    const first = Math.floor(random() * 3)
    shares[first]!.push(e)
    if (random() < 0.3) shares[(first + 1) % 3]!.push(e)
  }
  await drive(Promise.all(honest.map((p, i) => importAll(p, shares[i]!))))

  const attacker = await drive(Attacker.join(network, ROOM, ATTACKER_ID, behaviour({ material, honestEvents }), { random, clock: virtualClock, authenticate }))
  attacker.start(TICK_MS)
  network.heal()
  world = { network, honest, honestIds, attacker, offered: [...honestEvents, ...live], expected: expectedIds([...honestEvents, ...live]), material, honestEvents, errors, warnings, rejections, strikes, bans, joined, observe }
  if (authenticate) await waitFor(() => attacker.authenticatedWith.size === 3, 15_000, 'the attacker to authenticate with the honest peers')
  else await waitFor(() => attacker.peers.size === 3, 5_000, 'the attacker to see the honest peers')
  await sleep(300)
  await drive(importAll(honest[0]!, live))
  return world
}

/** Counts of a list by a key, as `key n, key n`. */
function tally<T>(items: readonly T[], key: (item: T) => string): string {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1)
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'
}

/** The checks every attack must pass; the honest peers must converge within `budgetMs` of virtual time. */
async function judge(w: World, what: string, budgetMs = 300_000): Promise<void> {
  const started = Date.now()
  await waitFor(() => allHold(w.honest, w.expected), budgetMs, `the honest peers to converge (${what})`, 50)
  const converged = Date.now() - started

  // A window of sustained attack (virtual time): the honest peers keep their sets, and answer the
  // attacker with no more frames than it sends them (plus a few roots): no amplification, no storm.
  const sent0 = w.attacker.framesSent
  const received0 = w.attacker.framesReceived
  const bytes0 = w.attacker.bytesReceived
  const sessions0 = w.joined.length
  await sleep(WINDOW_MS)
  const fromAttacker = w.attacker.framesSent - sent0
  const toAttacker = w.attacker.framesReceived - received0
  const bytesToAttacker = w.attacker.bytesReceived - bytes0
  /** Sessions honest peers authenticated with a new identity of the attacker during the window. */
  const sessions = w.joined.length - sessions0
  for (const p of w.honest) expect(idsOf(p)).toEqual(w.expected)

  // The attack stops: within a second the honest peers send it hardly anything (no loop).
  w.attacker.stop()
  await sleep(500)
  const quiet0 = w.attacker.framesReceived
  await sleep(1_000)
  const afterStop = w.attacker.framesReceived - quiet0
  for (const p of w.honest) expect(idsOf(p)).toEqual(w.expected)

  const a = w.attacker
  const fromMe = <T extends { peerId?: string | undefined }>(xs: readonly T[]): T[] => xs.filter((x) => a.isMe(x.peerId))
  console.log(
    `${what}: converged ${(converged / 1000).toFixed(1)} s (virtual) after setup; in ${WINDOW_MS / 1000} s of attack the attacker sent ${fromAttacker} frames ` +
      `and got ${toAttacker} (${bytesToAttacker} bytes), over ${sessions} new sessions; ${afterStop} in 1 s after it stopped.\n` +
      `  past the handshake: ${a.syncPastHandshake} sync frames sent over authenticated sessions (per honest peer ${w.honestIds.map((id) => a.syncSentAuthenticated.get(id) ?? 0).join(' / ')}), ` +
      `${a.withheld} withheld for want of one; ${a.ids.length} identities; honest peers authenticated it ${fromMe(w.joined).length} times.\n` +
      `  received in all: ${[...a.receivedByType].map(([t, n]) => `${t} ${n}`).join(', ')}.\n` +
      `  rejections: ${tally(w.rejections, (r) => `${r.reason}${a.isMe(r.peerId) ? ' (from attacker)' : ''}`)}; strikes: ${tally(fromMe(w.strikes), (x) => x.reason)}; bans: ${fromMe(w.bans).length}`,
  )

  expect(w.errors).toEqual([])
  // Warnings about failing storage or transport would mean bad input broke something.
  expect(w.warnings.filter((x) => ['storage-fallback', 'transport-failed', 'no-transport'].includes(x.code))).toEqual([])
  // Honest peers never blame each other: between them only stale versions are refused.
  const honestIds = new Set(w.honestIds)
  for (const r of w.rejections) {
    if (r.origin === 'remote' && honestIds.has(r.peerId ?? '')) expect(r.reason, `rejection between honest peers: ${r.message}`).toBe('superseded')
    if (r.origin === 'import') expect(r.reason).toBe('superseded')
  }
  for (const x of w.strikes) expect(honestIds.has(x.peerId), `an honest peer struck: ${x.reason} ${x.detail}`).toBe(false)
  // Each identity it comes back with costs an honest peer one handshake more than the attacker
  // (hello, proof, bye, and the root that starts sync): allowed, and bounded by the sybil rate.
  expect(toAttacker).toBeLessThanOrEqual(fromAttacker + 30 * w.honest.length + 4 * sessions)
  expect(afterStop).toBeLessThanOrEqual(10 * w.honest.length)
}

/**
 * The attack reached the sync layer of every honest peer: each authenticated the attacker, and the
 * attacker sent each at least `floor` sync frames while their session was authenticated.
 */
function expectPastHandshake(w: World, floor: number): void {
  for (const id of w.honestIds) {
    expect(w.joined.some((j) => j.by === id && w.attacker.isMe(j.peerId)), `${id} authenticated the attacker`).toBe(true)
    expect(w.attacker.syncSentAuthenticated.get(id) ?? 0, `sync frames sent to ${id} while authenticated`).toBeGreaterThanOrEqual(floor)
  }
}

/**
 * A fourth honest peer, holding ten genuine records of its own that nobody was told about, joins
 * the room under attack: only a reconciliation round can bring its records and the room's together.
 * It becomes one of `w.honest`, and the expected set grows by its records.
 */
async function newcomerArrives(w: World): Promise<void> {
  const transport = w.network.transport()
  w.network.partition([[transport.peerId]])
  const newcomer = await drive(openPeer({ room: ROOM, transport }))
  const own = w.material.slice(0, 10)
  await drive(importAll(newcomer, own))
  w.observe(newcomer, transport.peerId)
  w.honest.push(newcomer)
  w.honestIds.push(transport.peerId)
  w.expected = expectedIds([...w.offered, ...own])
  w.network.heal()
}

/** Sync messages of a type that honest peers sent the attacker (only authenticated peers are synced with). */
const answered = (w: World, type: string): number => w.attacker.receivedByType.get(type) ?? 0

/** Coded symbols of random words (they never decode), with plausible counts. */
function garbageSymbols(a: Attacker, from: number, n: number, total: number): Array<{ count: number; hi: number; lo: number; check: number }> {
  const word = () => Math.floor(a.random() * 0x1_0000_0000)
  return Array.from({ length: n }, (_, k) => ({ count: Math.min(total, Math.round((total * 2) / (from + k + 2))), hi: word(), lo: word(), check: word() }))
}

/** Random bytes, and frames that are broken in ways a decoder must survive. */
function garbage(a: Attacker): Uint8Array[] {
  const [want] = encodeMessage({ type: 'want', ids: Array.from({ length: 4 }, () => a.hex(32)) })
  return [
    new Uint8Array([PROTOCOL_VERSION, 1 + Math.floor(a.random() * 7), ...a.bytes(Math.floor(a.random() * 120))]), // sync types, garbage body
    want!.subarray(0, want!.length - 5), // truncated
    new Uint8Array([...want!, 0]), // trailing byte
  ]
}

describe('an unauthenticated peer (never says hello)', () => {
  it('sending random bytes, broken frames and session garbage gets nothing past the handshake gate and changes nothing', async () => {
    const w = await setup(
      31,
      () => ({
        tick(a, peer) {
          a.sendBytes(peer, a.bytes(Math.floor(a.random() * 200)))
          for (const frame of garbage(a)) a.sendBytes(peer, frame)
          a.sendBytes(peer, new Uint8Array([1, 0x40 + Math.floor(a.random() * 5), ...a.bytes(Math.floor(a.random() * 120))])) // session types
          a.sendBytes(peer, new Uint8Array([9, 4, 0])) // unknown version
        },
      }),
      { authenticate: false },
    )
    await judge(w, 'unauthenticated garbage')
    // The gate held: no honest peer authenticated it or sent it a single sync frame, and whatever
    // strikes it earned are the session layer's (the sync layer never saw its frames).
    expect(w.joined.filter((j) => w.attacker.isMe(j.peerId))).toEqual([])
    expect([...w.attacker.receivedByType.keys()]).toEqual(['session'])
    expect(w.attacker.framesSent).toBeGreaterThan(100)
  }, 120_000)
})

describe('an authenticated malicious peer (a fresh key and peer id after each ban)', () => {
  it('sending broken sync frames is struck and banned by the sync layer, and changes nothing', async () => {
    const w = await setup(30, () => ({
      tick(a, peer) {
        for (const frame of garbage(a)) a.sendSync(peer, frame)
      },
    }))
    await judge(w, 'authenticated garbage')
    expectPastHandshake(w, 10)
    // Frames the session layer delivered and the sync codec refused: `malformed` strikes, bans, new identities.
    const struck = w.strikes.filter((x) => w.attacker.isMe(x.peerId))
    expect(struck.length).toBeGreaterThanOrEqual(3 * w.honest.length)
    // `malformed` from the sync codec; a garbage body under the `records` type byte also counts as unsolicited records.
    expect(struck.filter((x) => !['malformed', 'record-flood'].includes(x.reason))).toEqual([])
    for (const id of w.honestIds) expect(struck.filter((x) => x.by === id && x.reason === 'malformed').length, `malformed strikes by ${id}`).toBeGreaterThanOrEqual(3)
    for (const id of w.honestIds) expect(w.bans.filter((b) => b.by === id && w.attacker.isMe(b.peerId)).length, `bans by ${id}`).toBeGreaterThanOrEqual(1)
    expect(w.attacker.ids.length).toBeGreaterThan(1)
  }, 120_000)

  it('sending forged records (bad signatures, edited content, wrong kind or key) stores none of them', async () => {
    const forged: Array<ReturnType<typeof wire>> = []
    const w = await setup(32, ({ material }) => {
      for (const e of material) {
        forged.push(wire({ ...e, sig: flipHex(e.sig) })) // genuine id, wrong signature
        forged.push(wire({ ...e, content: `${e.content} (edited)` })) // content that the signature does not cover
        forged.push(wire({ ...e, kind: 1 })) // not a record
        forged.push(wire({ ...e, pubkey: flipHex(e.pubkey, 63) })) // someone else's key
      }
      const byId = new Map(forged.map((f) => [f.id, f]))
      return {
        joined(a, peer) {
          a.send(peer, { type: 'have', groups: haveGroups(forged) })
        },
        message(a, peer, m) {
          if (m.type !== 'want') return
          const events = m.ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!.event] : []))
          if (events.length > 0) a.send(peer, { type: 'records', events })
        },
        tick(a, peer) {
          // Re-offer everything, push forged records unasked, and claim to hold much more.
          const pick = forged.filter(() => a.random() < 0.1)
          a.send(peer, { type: 'have', groups: haveGroups(pick) })
          a.send(peer, { type: 'records', events: pick.slice(0, 20).map((f) => f.event) })
          a.send(peer, { type: 'root', window: a.window(), count: 1_000 + pick.length, digest: a.hex(16), wanting: 0 })
          const window = a.window()
          const claimed = [...new Set(pick.map((f) => f.bucket))].filter((b) => b >= window.oldest && b <= window.newest).sort((x, y) => x - y)
          a.send(peer, {
            type: 'summary',
            window,
            count: 1_000,
            digest: a.hex(16),
            from: window.oldest,
            to: window.newest,
            salt: a.hex(8),
            buckets: claimed.map((bucket) => ({ bucket, count: 1 + Math.floor(a.random() * 50), digest: a.hex(3) })),
          })
        },
      }
    })
    await judge(w, 'forged records')
    for (const p of w.honest) for (const f of forged) expect(p.get(f.id)).toBeUndefined()
    expectPastHandshake(w, 10)
    // The forgeries reached the sync layer and the ingest path: honest peers asked for them (a
    // `want` answers a `have` only over an authenticated session), refused them as forged, and
    // struck and banned the identities that forwarded them.
    expect(answered(w, 'want')).toBeGreaterThanOrEqual(w.honest.length)
    const refused = w.rejections.filter((r) => w.attacker.isMe(r.peerId))
    for (const id of w.honestIds) expect(refused.filter((r) => r.by === id && r.reason === 'bad-signature').length, `forgeries ${id} refused`).toBeGreaterThan(0)
    expect(refused.filter((r) => r.reason === 'bad-signature').length).toBeGreaterThanOrEqual(3 * w.honest.length)
    expect(w.strikes.filter((x) => w.attacker.isMe(x.peerId) && x.reason === 'bad-signature').length).toBeGreaterThanOrEqual(w.honest.length)
    for (const id of w.honestIds) expect(w.bans.filter((b) => b.by === id && w.attacker.isMe(b.peerId)).length, `bans by ${id}`).toBeGreaterThanOrEqual(1)
    // Each forgery was refused at most once per honest peer and attacker identity: refused ids are
    // not pulled again from the peer that served them. (A bad signature is not a permanent verdict
    // on the id, a NIP-01 id does not cover the signature, so a new identity may be asked again.)
    const perPeerAndId = new Map<string, number>()
    for (const r of refused) perPeerAndId.set(`${r.by} ${r.peerId} ${r.id}`, (perPeerAndId.get(`${r.by} ${r.peerId} ${r.id}`) ?? 0) + 1)
    expect(Math.max(0, ...perPeerAndId.values())).toBeLessThanOrEqual(1)
  }, 120_000)

  it('lying in roots, summaries, ranges and rejects does not stall honest sync', async () => {
    const w = await setup(33, () => ({
      message(a, peer, m) {
        if (m.type === 'summary') {
          // Claim every bucket it mentions differs, with made-up children.
          const entries = m.buckets.slice(0, 30).map((b) => ({
            bucket: b.bucket,
            prefix: '',
            kind: 'split' as const,
            children: Array.from({ length: 16 }, () => ({ count: 1 + Math.floor(a.random() * 9), digest: a.hex(8) })),
          }))
          if (entries.length > 0) a.send(peer, { type: 'ranges', entries })
          // And coded symbols that never decode (random words), over the buckets of the summary.
          const buckets = m.buckets.slice(0, 30).map((b) => b.bucket)
          if (buckets.length > 0) a.send(peer, { type: 'symbols', salt: a.hex(8), buckets, total: 1_000, from: 0, end: 64, symbols: garbageSymbols(a, 0, 64, 1_000) })
        } else if (m.type === 'more') {
          // Asked for more: more garbage, as much as asked (up to a frame's worth).
          const n = Math.min(m.count, 500)
          a.send(peer, { type: 'symbols', salt: m.salt, buckets: [a.window().newest], total: 1_000, from: m.from, end: m.from + n, symbols: garbageSymbols(a, m.from, n, 1_000) })
        } else if (m.type === 'symbols') {
          // An honest follower's symbols: ask for made-up ids in its buckets, as a decoding leader
          // would, and for a flood of symbols.
          a.send(peer, { type: 'gossip', op: 'want', groups: [{ bucket: m.buckets[0]!, ids: Array.from({ length: 20 }, () => a.hex(8)) }] })
          a.send(peer, { type: 'more', salt: m.salt, from: 0, count: 1_000_000 })
        } else if (m.type === 'ranges') {
          const entries = m.entries.slice(0, 50).map((e) =>
            e.kind === 'split'
              ? { bucket: e.bucket, prefix: e.prefix, kind: 'ids' as const, shortIds: Array.from({ length: 5 }, () => a.hex(8)) }
              : { bucket: e.bucket, prefix: e.prefix, kind: 'need' as const, shortIds: Array.from({ length: 3 }, () => a.hex(8)) },
          )
          if (entries.length > 0) a.send(peer, { type: 'ranges', entries })
        }
      },
      tick(a, peer) {
        const window = a.window()
        a.send(peer, { type: 'root', window, count: 5_000 + Math.floor(a.random() * 100), digest: a.hex(16), wanting: 0 })
        const buckets = Array.from({ length: window.newest - window.oldest + 1 }, (_, i) => window.oldest + i)
        a.send(peer, {
          type: 'summary',
          window,
          count: 5_000,
          digest: a.hex(16),
          from: window.oldest,
          to: window.newest,
          salt: a.hex(8),
          buckets: buckets.map((bucket) => ({ bucket, count: 1 + Math.floor(a.random() * 100), digest: a.hex(3) })),
        })
        a.send(peer, { type: 'reject', items: [{ id: a.hex(32), reason: 'invalid', permanent: true }] })
      },
    }))
    await waitFor(() => w.honestIds.every((id) => (w.attacker.syncSentAuthenticated.get(id) ?? 0) >= 10), 10_000, 'ten lies to each honest peer')
    // Reconciliation must work while it lies: a newcomer with unannounced records arrives.
    await newcomerArrives(w)
    await judge(w, 'lies')
    expectPastHandshake(w, 30)
    // The honest peers' sync layers took the lies up: they answered its summaries (with coded
    // symbols, the default reconciler's answer, or ranges).
    expect(answered(w, 'symbols') + answered(w, 'ranges')).toBeGreaterThanOrEqual(w.honest.length)
  }, 120_000)

  // Was a known stall: an attacker that keeps announcing ids (`have`) and never answers the `want`
  // kept every honest peer's `wanting` above zero, and a reconciliation round started only when
  // both sides wanted nothing at all, so a newcomer with records nobody was told about was never
  // reconciled with. Now a round waits only while one side pulls from the other.
  it('announcing ids it never delivers does not keep a newcomer from syncing (known stall: withheld announcements)', async () => {
    const w = await setup(36, () => ({
      tick(a, peer) {
        const window = a.window()
        const buckets = Array.from({ length: window.newest - window.oldest + 1 }, (_, i) => window.oldest + i)
        // Ids it does not have, in buckets the honest peers accept; a `want` is never answered.
        const pick = () => buckets[Math.floor(a.random() * buckets.length)]!
        a.send(peer, { type: 'have', groups: haveGroups(Array.from({ length: 20 }, () => ({ id: a.hex(32), bucket: pick() }))) })
      },
    }))
    // The announcements get past the handshake (ten to each honest peer), and honest peers ask for the ids.
    const a = w.attacker
    await waitFor(() => w.honestIds.every((id) => (a.syncSentAuthenticated.get(id) ?? 0) >= 10), 10_000, 'ten announcements to each honest peer')
    expectPastHandshake(w, 10)
    expect(answered(w, 'want')).toBeGreaterThanOrEqual(w.honest.length)

    // A fourth honest peer with records nobody was told about arrives while the attacker withholds.
    await newcomerArrives(w)
    // Without the announcements the newcomer converges in under a second (virtual); two minutes is
    // four root periods and twelve request time-outs.
    await judge(w, 'withheld announcements', 120_000)
  }, 120_000)

  // The same with gossip ids (8 bytes, as new records are announced): the ids are asked of it by
  // gossip id, it never answers (neither records nor `gone`), and the honest peers still sync.
  it('announcing gossip ids it never delivers does not keep a newcomer from syncing', async () => {
    const w = await setup(38, () => ({
      tick(a, peer) {
        const window = a.window()
        const buckets = Array.from({ length: window.newest - window.oldest + 1 }, (_, i) => window.oldest + i)
        const groups = Array.from({ length: 4 }, () => ({ bucket: buckets[Math.floor(a.random() * buckets.length)]!, ids: Array.from({ length: 5 }, () => a.hex(8)) }))
        a.send(peer, { type: 'gossip', op: 'have', groups: [...new Map(groups.map((g) => [g.bucket, g])).values()].sort((x, y) => x.bucket - y.bucket) })
      },
    }))
    const a = w.attacker
    await waitFor(() => w.honestIds.every((id) => (a.syncSentAuthenticated.get(id) ?? 0) >= 10), 10_000, 'ten announcements to each honest peer')
    expectPastHandshake(w, 10)
    // The honest peers asked for the gossip ids (a `gossip` want each, at least).
    expect(answered(w, 'gossip-want')).toBeGreaterThanOrEqual(w.honest.length)
    await newcomerArrives(w)
    await judge(w, 'withheld gossip announcements', 120_000)
  }, 120_000)

  // The issue's last step: a peer that keeps announcing ids and never delivers them is struck
  // (`undelivered`), though only after several reports in a row (at least 12 request time-outs of
  // silence while it keeps talking): honest peers on a lossy link get a first report, never that many.
  it('a peer that keeps announcing ids and never delivers them is struck (undelivered) by every honest peer, and honest peers strike nobody', async () => {
    const w = await setup(40, () => ({
      tick(a, peer) {
        const window = a.window()
        const bucket = window.oldest + Math.floor(a.random() * (window.newest - window.oldest + 1))
        a.send(peer, { type: 'have', groups: haveGroups(Array.from({ length: 4 }, () => ({ id: a.hex(32), bucket }))) })
      },
    }))
    const a = w.attacker
    await waitFor(() => w.honestIds.every((id) => (a.syncSentAuthenticated.get(id) ?? 0) >= 10), 10_000, 'ten announcements to each honest peer')
    expectPastHandshake(w, 10)
    const started = virtualClock()
    const undelivered = () => w.strikes.filter((x) => a.isMe(x.peerId) && x.reason === 'undelivered')
    await waitFor(() => w.honestIds.every((id) => undelivered().some((x) => x.by === id)), 600_000, 'every honest peer to strike the attacker as undelivered')
    const elapsed = virtualClock() - started
    console.log(`undelivered: first strikes after ${(elapsed / 1000).toFixed(0)} s (virtual); ${answered(w, 'want')} wants reached the attacker; ${undelivered()[0]!.detail}`)
    // The wants reached it (past the handshake), and the strike waited for many request time-outs.
    expect(answered(w, 'want')).toBeGreaterThanOrEqual(w.honest.length * 4)
    expect(elapsed).toBeGreaterThanOrEqual(120_000)
    expect(w.strikes.filter((x) => !a.isMe(x.peerId))).toEqual([])
    await judge(w, 'announced and never delivered')
  }, 180_000)

  it('serving bad-signature copies of genuine records does not keep the genuine ones from honest peers', async () => {
    // The attacker knows the ids the honest peers are about to exchange (here: all of them; in a
    // real room it hears them announced) and races to offer them first, with corrupted signatures.
    const w = await setup(34, ({ honestEvents }) => {
      const corrupt = new Map(honestEvents.map((e) => [e.id, wire({ ...e, sig: flipHex(e.sig, 100) })]))
      return {
        joined(a, peer) {
          a.send(peer, { type: 'have', groups: haveGroups([...corrupt.values()]) })
        },
        message(a, peer, m) {
          if (m.type !== 'want') return
          const events = m.ids.flatMap((id) => (corrupt.has(id) ? [corrupt.get(id)!.event] : []))
          if (events.length > 0) a.send(peer, { type: 'records', events })
        },
      }
    })
    await judge(w, 'bad-signature copies of genuine records')
    expectPastHandshake(w, 2)
    // Honest peers pulled corrupted copies of genuine ids from it and refused them as forged.
    expect(answered(w, 'want')).toBeGreaterThanOrEqual(w.honest.length)
    const refused = w.rejections.filter((r) => w.attacker.isMe(r.peerId) && r.reason === 'bad-signature')
    expect(refused.length).toBeGreaterThanOrEqual(w.honest.length)
    const genuine = new Set(w.honestEvents.map((e) => e.id))
    expect(refused.every((r) => genuine.has(r.id ?? ''))).toBe(true)
  }, 300_000)
  it('serving tampered copies of genuine records (content edited, announced id kept) is struck and banned, and stores none of them', async () => {
    // The attacker announces genuine ids the honest peers lack, and answers each `want` with the
    // record's content edited: the bytes hash to an id nobody asked for. Honest peers must strike
    // it for each such record (an honest peer sends only what it was asked for) and ban it.
    const tampered: Array<{ id: string; bucket: number; event: ReturnType<typeof wire>['event'] }> = []
    const w = await setup(37, ({ material }) => {
      for (const e of material.slice(0, 40)) {
        const genuine = wire(e)
        tampered.push({ id: genuine.id, bucket: genuine.bucket, event: { ...genuine.event, content: `${e.content} (send money to mallory)` } })
      }
      const byId = new Map(tampered.map((t) => [t.id, t]))
      return {
        joined(a, peer) {
          a.send(peer, { type: 'have', groups: haveGroups(tampered) })
        },
        message(a, peer, m) {
          if (m.type !== 'want') return
          const events = m.ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!.event] : []))
          if (events.length > 0) a.send(peer, { type: 'records', events })
        },
      }
    })
    await judge(w, 'tampered copies of genuine records')
    expectPastHandshake(w, 2)
    expect(answered(w, 'want')).toBeGreaterThanOrEqual(w.honest.length)
    for (const p of w.honest) for (const t of tampered) expect(p.get(t.id)).toBeUndefined()
    for (const p of w.honest) for (const t of tampered) expect(p.get(wire(t.event).id)).toBeUndefined()
    const struck = w.strikes.filter((x) => w.attacker.isMe(x.peerId) && x.reason === 'unrequested-record')
    for (const id of w.honestIds) expect(struck.filter((x) => x.by === id).length, `unrequested-record strikes by ${id}`).toBeGreaterThanOrEqual(3)
    for (const id of w.honestIds) expect(w.bans.filter((b) => b.by === id && w.attacker.isMe(b.peerId)).length, `bans by ${id}`).toBeGreaterThanOrEqual(1)
  }, 120_000)
})

describe('a malicious Peerset (a rigged store)', () => {
  it('serving bad-signature copies of genuine records cannot keep them from honest peers', async () => {
    // The malicious peer is a Peerset (so it authenticates like anyone with a key) whose store is
    // rigged: it holds half of Alice's records with corrupted signatures (a NIP-01 id does not
    // cover the signature, so each copy carries the genuine record's id). Bob meets it first and
    // refuses every copy (and strikes and bans it); then Alice, who holds all the genuine records,
    // arrives: Bob must take every one of them from her.
    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 2, jitterMs: 3, seed: 35 })
    const traffic = new TrafficCounter()
    const genuine = expectedIds(loadFixtures().records.slice(0, 60))
    const events = loadFixtures().records.filter((e) => genuine.includes(e.id))
    const poisoned = events.slice(0, Math.floor(events.length / 2))
    const rigged: StorageStrategy = memoryStorage()
    const store = await drive(rigged.open(ROOM))
    await drive(store.write({ put: poisoned.map((e) => ({ ...recordFromNostrEvent(e), sig: flipHex(e.sig, 100) })) }))
    await drive(store.close())

    const [alice, bob, mallory] = [network.transport(), network.transport(), network.transport()]
    network.partition([[bob.peerId, mallory.peerId]])
    const peers = await drive(
      Promise.all([
        openPeer({ room: ROOM, transport: traffic.wrap(alice) }),
        openPeer({ room: ROOM, transport: traffic.wrap(bob) }),
        openPeer({ room: ROOM, transport: traffic.wrap(mallory), extra: { storage: rigged } }),
      ]),
    )
    const [a, b, m] = peers as [Peerset, Peerset, Peerset]
    try {
      expect(m.status().records).toBe(poisoned.length)
      const refused: RejectedRecord[] = []
      const errors: unknown[] = []
      b.on('record:rejected', (r) => refused.push(r))
      b.on('error', (e) => errors.push(e))
      await drive(importAll(a, events))
      await waitFor(() => refused.length > 0, 20_000, 'Bob to be offered the corrupted copies')
      await waitFor(() => performance.now() - traffic.lastActivity > 500, 20_000, 'Bob and Mallory to go quiet (500 ms of virtual time without a frame)')
      expect(b.status().records).toBe(0)
      expect(refused.every((r) => r.reason === 'bad-signature' && r.peerId === mallory.peerId)).toBe(true)

      network.heal()
      await waitFor(() => b.status().records === genuine.length, 15_000, 'Bob to get the genuine records from Alice').catch(() => undefined)
      const missing = genuine.filter((id) => !b.get(id))
      const poisonedIds = new Set(poisoned.map((e) => e.id))
      console.log(
        `bad-signature copies: Mallory offered ${poisoned.length}, Bob refused ${refused.length}; after meeting Alice, Bob holds ` +
          `${b.status().records}/${genuine.length}, missing ${missing.length} (${missing.filter((id) => poisonedIds.has(id)).length} of them poisoned ids)`,
      )
      expect(missing, 'genuine records Bob never took from Alice').toEqual([])
      expect(idsOf(b)).toEqual(genuine)
      expect(errors).toEqual([])
    } finally {
      await drive(Promise.all(peers.map((p) => p.close())))
      network.close()
    }
  }, 60_000)

  it('serving records tampered with in its store (text edited, id and signature kept) gets none accepted and ends banned', async () => {
    // The in-memory twin of test/e2e/forged.test.ts: Mallory is a Peerset whose store was edited
    // behind its back. Bob asks for the ids Mallory announces; every copy hashes to another id.
    virtualTime()
    const network = createMemoryNetwork({ latencyMs: 2, jitterMs: 3, seed: 38 })
    const events = loadFixtures().records.filter((e) => expectedIds(loadFixtures().records.slice(0, 12)).includes(e.id))
    const rigged: StorageStrategy = memoryStorage()
    const store = await drive(rigged.open(ROOM))
    await drive(store.write({ put: events.map((e) => ({ ...recordFromNostrEvent(e), text: `${e.content} (forged: send money to mallory)` })) }))
    await drive(store.close())

    const [bob, mallory] = [network.transport(), network.transport()]
    const peers = await drive(Promise.all([openPeer({ room: ROOM, transport: bob }), openPeer({ room: ROOM, transport: mallory, extra: { storage: rigged } })]))
    const [b, m] = peers as [Peerset, Peerset]
    try {
      expect(m.status().records).toBe(events.length)
      const strikes: Array<{ peerId: string; reason: string }> = []
      const bans: Array<{ peerId: string; reason: string }> = []
      const added: string[] = []
      const errors: unknown[] = []
      b.on('peer:strike', (x) => strikes.push(x))
      b.on('peer:banned', (x) => bans.push(x))
      b.on('record:added', (r) => added.push(r.id))
      b.on('error', (e) => errors.push(e))
      await waitFor(() => bans.length > 0, 30_000, 'Bob to ban Mallory').catch(() => undefined)
      await sleep(1_000)
      console.log(`tampered store: Mallory served ${events.length} edited records; Bob struck ${strikes.length} times (${tally(strikes, (x) => x.reason)}), banned ${bans.length}, added ${added.length}`)
      expect(added).toEqual([])
      expect(b.status().records).toBe(0)
      // Bob has nothing, so he fetches Mallory's buckets whole (no ids announced): each edited copy is
      // then a record whose signature does not cover it (when ids were announced first, it hashed
      // to an id nobody asked for: unrequested-record). Either way, a strike each.
      expect(strikes.filter((x) => x.peerId === mallory.peerId && (x.reason === 'unrequested-record' || x.reason === 'bad-signature')).length).toBeGreaterThanOrEqual(3)
      expect(bans.map((x) => x.peerId)).toEqual([mallory.peerId])
      expect(errors).toEqual([])
    } finally {
      await drive(Promise.all(peers.map((p) => p.close())))
      network.close()
    }
  }, 60_000)
})
