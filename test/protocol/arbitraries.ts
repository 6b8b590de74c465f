/** fast-check arbitraries of every sync message, and helpers to reassemble split messages. */
import fc from 'fast-check'
import { decodeMessage } from '../../src/protocol/decode.js'
import {
  EMPTY_CHILD_DIGEST,
  MAX_FETCH_RECORDS,
  MAX_FINGERPRINT_COUNT,
  type BucketWindow,
  type RangeEntry,
  type SyncMessage,
  type WireEvent,
} from '../../src/protocol/messages.js'

const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex')
export const hexBytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map(toHex)
export const idArb = hexBytes(32)
export const shortIdArb = hexBytes(8)
export const digestArb = hexBytes(16)
const countArb = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: MAX_FINGERPRINT_COUNT }))
const bucketArb = fc.integer({ min: -1_000_000, max: 2 ** 40 })

export const windowArb: fc.Arbitrary<BucketWindow> = fc
  .tuple(fc.integer({ min: -100_000, max: 2 ** 40 }), fc.integer({ min: 0, max: 2_000 }))
  .map(([oldest, span]) => ({ oldest, newest: oldest + span }))

export const rootArb = fc.record({
  type: fc.constant('root' as const),
  window: windowArb,
  count: countArb,
  digest: digestArb,
  wanting: countArb,
})

export const summaryArb = windowArb.chain((window) =>
  fc
    .tuple(fc.integer({ min: window.oldest, max: window.newest }), fc.integer({ min: window.oldest, max: window.newest }))
    .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const)
    .chain(([from, to]) =>
      fc.record({
        type: fc.constant('summary' as const),
        window: fc.constant(window),
        count: countArb,
        digest: digestArb,
        from: fc.constant(from),
        to: fc.constant(to),
        salt: hexBytes(8),
        buckets: fc
          .uniqueArray(fc.integer({ min: from, max: to }), { maxLength: 60 })
          .chain((bs) =>
            fc.tuple(...bs.sort((x, y) => x - y).map((bucket) => fc.record({ bucket: fc.constant(bucket), count: fc.integer({ min: 1, max: MAX_FINGERPRINT_COUNT }), digest: hexBytes(3) }))),
          ),
      }),
    ),
)

const prefixArb = (maxLength: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength })

const childArb = fc.oneof(
  fc.constant({ count: 0, digest: EMPTY_CHILD_DIGEST }),
  fc.record({ count: fc.integer({ min: 1, max: MAX_FINGERPRINT_COUNT }), digest: hexBytes(8) }),
)

export const rangeEntryArb: fc.Arbitrary<RangeEntry> = fc.oneof(
  fc.record({
    bucket: bucketArb,
    prefix: prefixArb(7),
    kind: fc.constant('split' as const),
    children: fc.array(childArb, { minLength: 16, maxLength: 16 }),
  }),
  fc.record({ bucket: bucketArb, prefix: prefixArb(8), kind: fc.constantFrom('ids' as const, 'need' as const), shortIds: fc.array(shortIdArb, { maxLength: 40 }) }),
)

export const rangesArb = fc.record({ type: fc.constant('ranges' as const), entries: fc.array(rangeEntryArb, { maxLength: 20 }) })

export const haveArb = fc.record({
  type: fc.constant('have' as const),
  groups: fc.array(fc.record({ bucket: bucketArb, ids: fc.array(idArb, { minLength: 1, maxLength: 10 }) }), { maxLength: 10 }),
})

export const gossipArb = fc.record({
  type: fc.constant('gossip' as const),
  op: fc.constantFrom('have' as const, 'want' as const, 'gone' as const),
  groups: fc.array(fc.record({ bucket: bucketArb, ids: fc.array(shortIdArb, { minLength: 1, maxLength: 10 }) }), { maxLength: 10 }),
})

export const wantArb = fc.record({ type: fc.constant('want' as const), ids: fc.array(idArb, { maxLength: 30 }) })

const textArb = fc.string({ unit: 'binary', maxLength: 40 })
export const wireEventArb: fc.Arbitrary<WireEvent> = fc.record({
  pubkey: hexBytes(32),
  created_at: fc.oneof(fc.integer({ min: 0, max: 2 ** 32 }), fc.maxSafeNat()),
  kind: fc.integer({ min: 0, max: 65_535 }),
  tags: fc.array(fc.array(textArb, { maxLength: 4 }), { maxLength: 5 }),
  content: fc.string({ unit: 'binary', maxLength: 300 }),
  sig: hexBytes(64),
})

export const recordsArb = fc.record({ type: fc.constant('records' as const), events: fc.array(wireEventArb, { maxLength: 5 }) })

export const rejectArb = fc.record({
  type: fc.constant('reject' as const),
  items: fc.array(
    fc.record({
      id: idArb,
      reason: fc.constantFrom('invalid', 'expired', 'future', 'superseded', 'moderation', 'quota', 'other' as const),
      permanent: fc.boolean(),
    }),
    { maxLength: 10 },
  ),
})

export const evidenceArb = fc.record({ type: fc.constant('evidence' as const), events: fc.array(wireEventArb, { maxLength: 5 }) })

export const fetchArb = fc
  .tuple(bucketArb, fc.integer({ min: 0, max: 2_000 }))
  .chain(([from, span]) =>
    fc.record({
      type: fc.constant('fetch' as const),
      from: fc.constant(from),
      to: fc.constant(from + span),
      after: fc.option(fc.record({ bucket: fc.integer({ min: from, max: from + span }), id: hexBytes(6) }), { nil: undefined }),
      max: fc.integer({ min: 0, max: MAX_FETCH_RECORDS }),
    }),
  )

export const pushedArb = fc
  .record({ events: fc.array(wireEventArb, { maxLength: 5 }), exhausted: fc.boolean() })
  .map(({ events, exhausted }) => ({ type: 'pushed' as const, events, last: true, exhausted }))

export const offerArb = fc
  .uniqueArray(bucketArb, { maxLength: 90 })
  .map((bs) => ({ type: 'offer' as const, buckets: bs.sort((x, y) => x - y) }))

const u32Arb = fc.integer({ min: 0, max: 0xffff_ffff })
export const symbolsArb = fc
  .record({ total: fc.integer({ min: 0, max: 100_000 }), from: fc.integer({ min: 0, max: 50_000 }), extra: fc.integer({ min: 0, max: 10 }), n: fc.integer({ min: 0, max: 40 }) })
  .chain(({ total, from, extra, n }) =>
    fc.record({
      type: fc.constant('symbols' as const),
      salt: hexBytes(8),
      buckets: fc.uniqueArray(bucketArb, { minLength: 1, maxLength: 90 }).map((bs) => bs.sort((x, y) => x - y)),
      total: fc.constant(total),
      from: fc.constant(from),
      end: fc.constant(from + n + extra),
      symbols: fc.array(fc.record({ count: fc.integer({ min: 0, max: total }), hi: u32Arb, lo: u32Arb, check: u32Arb }), { minLength: n, maxLength: n }),
    }),
  )
export const moreArb = fc.record({ type: fc.constant('more' as const), salt: hexBytes(8), from: fc.integer({ min: 0, max: 1_000_000 }), count: fc.integer({ min: 1, max: 100_000 }) })

export const messageArb: fc.Arbitrary<SyncMessage> = fc.oneof(
  rootArb,
  summaryArb,
  rangesArb,
  haveArb,
  wantArb,
  recordsArb,
  rejectArb,
  evidenceArb,
  fetchArb,
  pushedArb,
  offerArb,
  symbolsArb,
  moreArb,
  gossipArb,
)

/** Decode frames and merge the parts of one split message back into one message. */
export function decodeAll(frames: readonly Uint8Array[]): SyncMessage {
  const parts = frames.map((f) => decodeMessage(f))
  const first = parts[0]!
  switch (first.type) {
    case 'root':
      return first
    case 'summary': {
      const ps = parts as (typeof first)[]
      return { ...first, to: ps[ps.length - 1]!.to, buckets: ps.flatMap((p) => p.buckets) }
    }
    case 'ranges':
      return { type: 'ranges', entries: (parts as (typeof first)[]).flatMap((p) => p.entries) }
    case 'have':
      return { type: 'have', groups: (parts as (typeof first)[]).flatMap((p) => p.groups) }
    case 'want':
      return { type: 'want', ids: (parts as (typeof first)[]).flatMap((p) => p.ids) }
    case 'records':
      return { type: 'records', events: (parts as (typeof first)[]).flatMap((p) => p.events) }
    case 'reject':
      return { type: 'reject', items: (parts as (typeof first)[]).flatMap((p) => p.items) }
    case 'evidence':
      return { type: 'evidence', events: (parts as (typeof first)[]).flatMap((p) => p.events) }
    case 'gossip':
      return { type: 'gossip', op: first.op, groups: (parts as (typeof first)[]).flatMap((p) => p.groups) }
    case 'fetch':
    case 'offer':
    case 'more':
      return first
    case 'symbols': {
      const ps = parts as (typeof first)[]
      return { ...first, symbols: ps.flatMap((p) => p.symbols) }
    }
    case 'pushed': {
      const ps = parts as (typeof first)[]
      const last = ps[ps.length - 1]!
      return { type: 'pushed', events: ps.flatMap((p) => p.events), last: last.last, exhausted: last.exhausted }
    }
  }
}

/** A `have` message as (bucket, id) pairs, so split groups compare equal to the original. */
export function havePairs(m: SyncMessage): string[] {
  if (m.type !== 'have' && m.type !== 'gossip') return []
  return m.groups.flatMap((g) => g.ids.map((id) => `${g.bucket}:${id}`))
}
