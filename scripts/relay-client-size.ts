/**
 * What a relay client adds to a browser app (issue 15's choice of client): esbuild bundles, for the
 * browser and minified, of `createPeerset` from the built package alone and with each relay client,
 * and prints the added minified+gzip KB. Run `npm run build` first.
 *
 *   npm run size:relays [-- --json]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { report, round, type Row } from '../bench/lib.js'

const root = resolve(import.meta.dirname, '..')
const base = `import { createPeerset } from ${JSON.stringify(join(root, 'dist', 'index.js'))}\nglobalThis.x = [createPeerset`
const options: Array<[string, string, string]> = [
  ['createPeerset alone', '', ''],
  ['+ nostrRelays (ours, NIP-77 included)', `import { nostrRelays } from ${JSON.stringify(join(root, 'dist', 'index.js'))}\n`, ', nostrRelays'],
  ['+ nostr-tools AbstractRelay', "import { AbstractRelay } from 'nostr-tools/abstract-relay'\n", ', AbstractRelay'],
  ['+ nostr-tools Relay', "import { Relay } from 'nostr-tools/relay'\n", ', Relay'],
  ['+ nostr-tools SimplePool', "import { SimplePool } from 'nostr-tools/pool'\n", ', SimplePool'],
  ['+ nostr-tools AbstractRelay + nip77', "import { AbstractRelay } from 'nostr-tools/abstract-relay'\nimport { nip77 } from 'nostr-tools'\n", ', AbstractRelay, nip77'],
]

const dir = mkdtempSync(join(tmpdir(), 'relay-size-'))
const rows: Row[] = []
try {
  let alone = 0
  for (const [scenario, imports, names] of options) {
    const entry = join(dir, 'entry.js')
    writeFileSync(entry, `${imports}${base}${names}]\n`)
    const out = await build({ entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, nodePaths: [join(root, 'node_modules')], logLevel: 'silent' })
    const gzipKB = gzipSync(out.outputFiles[0]!.contents, { level: 9 }).length / 1024
    if (rows.length === 0) alone = gzipKB
    rows.push({ scenario, minGzipKB: round(gzipKB), addedGzipKB: round(gzipKB - alone) })
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
report('relay clients in a browser bundle (esbuild, minified, one file, gzip -9)', rows)
