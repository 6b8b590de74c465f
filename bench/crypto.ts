/**
 * Crypto and record costs on one core. Run: `npx tsx bench/crypto.ts` (table) or `--json` (lines).
 */
import { schnorr } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { createIdentity } from '../src/identity/index.js'
import { acceptAll, createPeerset, memoryStorage } from '../src/index.js'
import { computeEventId, serializeEvent, createRecord, toNostrEvent, verifyRecord, type NostrEvent } from '../src/record/index.js'
import { opsPerSecond, report, round, type Row } from './lib.js'

const me = createIdentity()
const draft = { text: 'Grey cat seen near the harbour this morning, very friendly. 😺', link: 'https://example.org/cats/42', geo: { lat: 57.64911, lon: 10.40744 } }
const sample: NostrEvent = toNostrEvent(await createRecord(draft, me.signer, { room: 'bench' }))
const sampleBytes = Buffer.byteLength(JSON.stringify(sample))

function row(scenario: string, ops: number): Row {
  return { scenario, opsPerSecond: round(ops, 0), usPerOp: round(1e6 / ops, 1) }
}

const sig = hexToBytes(sample.sig)
const id = hexToBytes(sample.id)
const pubkey = hexToBytes(sample.pubkey)
const serialized = utf8ToBytes(serializeEvent(sample))
const rows: Row[] = [
  row('noble schnorr.verify', await opsPerSecond(() => schnorr.verify(sig, id, pubkey))),
  row('createRecord (signed and self-verified)', await opsPerSecond(() => createRecord(draft, me.signer, { room: 'bench' }))),
  row(`verifyRecord (${sampleBytes} B event, signature checked)`, await opsPerSecond(() => verifyRecord(sample))),
  row('verifyRecord (checkSignature: false)', await opsPerSecond(() => verifyRecord(sample, { checkSignature: false }))),
  row('computeEventId (checks + serialize + sha256)', await opsPerSecond(() => computeEventId(sample))),
  row(`noble sha256 alone (${serialized.length} B serialization)`, await opsPerSecond(() => sha256(serialized))),
  // ---- LEAD: add the full publish path scenario here (createPeerset -> publish -> stored + event). ----
  row('full local publish path (peerset.publish: sign, verify, store, event)', await publishPerSecond()),
]

/**
 * records/s of `peerset.publish({ text })` on a local-only peerset (memory storage, no transport,
 * every valid record kept): draft checks, signing, self-verification, the ingest queue, one storage
 * write and the `record:added` event. Each publish gets a distinct text.
 */
async function publishPerSecond(): Promise<number> {
  const peerset = await createPeerset({ room: 'bench', identity: createIdentity(), storage: memoryStorage(), transport: false, moderation: acceptAll() })
  let added = 0
  peerset.on('record:added', () => void added++)
  let n = 0
  const ops = await opsPerSecond(() => peerset.publish({ text: `${draft.text} #${n++}` }))
  await peerset.close()
  if (added !== n) throw new Error(`bench: ${n} publishes but ${added} record:added events`)
  return ops
}

report('bench/crypto: records and signatures, one core', rows)
