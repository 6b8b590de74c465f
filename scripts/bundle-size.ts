/**
 * What a browser app ships for Peerset: bundles a host-app entry that calls `createPeerset` with the
 * default strategies and `trysteroTransport()` from the built package (`dist/`, run `npm run build`
 * first) with esbuild for the browser, minified and code-split as an app bundler would, and prints the
 * minified and minified+gzip sizes. Fails (exit 1) if the browser bundle imports any `node:` module,
 * or with `--max-kb N` if what loads for the default transport is more than N KB gzip.
 *
 * Run: `npm run size` (table), `npm run size -- --json` (one JSON object per line).
 *
 * Rows: `first load` is what the page loads before `createPeerset` runs; `running (torrent)` is
 * everything a running peerset loads with the defaults: the first load, the chunks loaded when the
 * default transport starts (trystero's torrent strategy) and the word list the default moderation
 * always loads. Lazy chunks that always load are counted: this row is the one `--max-kb` checks and
 * issue 12's 70 KB target is about. `running (nostr)` is the same for `trysteroTransport({ strategy: 'nostr' })`.
 *
 * `npm run size -- --src` bundles `src/index.ts` instead of `dist/` (same rows, give or take
 * tsup's output) and adds the bytes of our own code per folder of src/ and its biggest files (the
 * top 20; `--files N` for N), to see what is big. The gzip
 * figures per package and per folder are estimates: gzip compresses a chunk as a whole, so each
 * chunk's gzip size is shared out over its inputs in proportion to their minified bytes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build, type Metafile, type Plugin } from 'esbuild'
import { jsonMode, machineLine, type Row } from '../bench/lib.js'

const root = resolve(import.meta.dirname, '..')

/** A host app: a peerset with the default storage and moderation, on the default trystero transport. */
const HOST_APP = `
import { createPeerset, createIdentity, trysteroTransport } from 'peerset'
const peerset = await createPeerset({ room: 'size', identity: createIdentity(), transport: trysteroTransport() })
peerset.on('record:added', (record) => console.log(record.text))
`

/** Resolves `peerset` to this checkout's `dist/` (its own node_modules has no `peerset`). */
const fromSource = process.argv.includes('--src')
const peersetFromDist: Plugin = {
  name: 'peerset-from-dist',
  setup(b) {
    b.onResolve({ filter: /^peerset$/ }, () => ({ path: join(root, fromSource ? 'src/index.ts' : 'dist/index.js') }))
  },
}

interface OutputSize {
  file: string
  minBytes: number
  gzipBytes: number
}

async function bundle(outdir: string): Promise<Metafile> {
  const result = await build({
    stdin: { contents: HOST_APP, resolveDir: root, sourcefile: 'host-app.js' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    outdir,
    metafile: true,
    absWorkingDir: root,
    logLevel: 'silent',
    // A `node:` import must not reach the browser bundle: keep it visible (external) and fail below.
    external: ['node:*'],
    plugins: [peersetFromDist],
  })
  return result.metafile
}

/** The outputs `entry` loads: itself and its static imports, transitively. */
function staticClosure(meta: Metafile, entry: string, into = new Set<string>()): Set<string> {
  if (into.has(entry)) return into
  into.add(entry)
  for (const imp of meta.outputs[entry]?.imports ?? []) {
    if (imp.kind === 'import-statement' && !imp.external) staticClosure(meta, imp.path, into)
  }
  return into
}

/** The output chunks whose inputs include a file under `packagePath` (e.g. `@trystero-p2p/torrent`). */
function chunksOf(meta: Metafile, packagePath: string): string[] {
  return chunksWith(meta, (input) => input.includes(`node_modules/${packagePath}/`))
}

/** The output chunks with an input `matches` accepts. */
function chunksWith(meta: Metafile, matches: (input: string) => boolean): string[] {
  return Object.entries(meta.outputs)
    .filter(([file, out]) => file.endsWith('.js') && Object.keys(out.inputs).some(matches))
    .map(([file]) => file)
}

/** The bad-words matcher and its word list: src/moderation/rules/bad-words-matcher.ts, or tsup's chunk of it in dist/. */
const isWordList = (input: string): boolean => /(?:^|\/)bad-words-matcher[^/]*\.[jt]s$/.test(input)

function sizeOf(file: string): OutputSize {
  const bytes = readFileSync(join(root, file))
  return { file, minBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length }
}

function total(files: Set<string>): { minBytes: number; gzipBytes: number } {
  let minBytes = 0
  let gzipBytes = 0
  for (const file of files) {
    const s = sizeOf(file)
    minBytes += s.minBytes
    gzipBytes += s.gzipBytes
  }
  return { minBytes, gzipBytes }
}

/** Minified bytes, and gzip bytes estimated by share: each output's gzip size split over its inputs in proportion to their minified bytes. */
interface Share {
  minBytes: number
  gzipBytes: number
}

/** Adds every input of every output to the entry `keyOf(input)` gives (inputs it maps to undefined are left out). */
function shares(meta: Metafile, keyOf: (input: string) => string | undefined): Map<string, Share> {
  const sizes = new Map<string, Share>()
  for (const [file, out] of Object.entries(meta.outputs)) {
    if (!file.endsWith('.js')) continue
    const inputs = Object.entries(out.inputs)
    const outputMin = inputs.reduce((sum, [, { bytesInOutput }]) => sum + bytesInOutput, 0)
    const outputGzip = sizeOf(file).gzipBytes
    for (const [input, { bytesInOutput }] of inputs) {
      const key = keyOf(input)
      if (key === undefined) continue
      const share = sizes.get(key) ?? { minBytes: 0, gzipBytes: 0 }
      share.minBytes += bytesInOutput
      share.gzipBytes += outputMin === 0 ? 0 : (outputGzip * bytesInOutput) / outputMin
      sizes.set(key, share)
    }
  }
  return sizes
}

/** Bytes of the bundle per package (`peerset` is this package's own code), all chunks. */
function byPackage(meta: Metafile): Map<string, Share> {
  return shares(meta, (input) => {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)
    return match ? match[1]! : input.includes('dist/') || input.startsWith('src/') ? 'peerset' : 'host app'
  })
}

/** Bytes of our own code per folder of src/ (only with `--src`). */
function bySourceFolder(meta: Metafile): Map<string, Share> {
  return shares(meta, (input) => {
    if (!input.startsWith('src/')) return undefined
    return input.split('/').length > 2 ? input.split('/').slice(0, 2).join('/') : 'src/*.ts'
  })
}

/** Bytes of our own code per file of src/ (only with `--src`). */
function bySourceFile(meta: Metafile): Map<string, Share> {
  return shares(meta, (input) => (input.startsWith('src/') ? input : undefined))
}

/** Every `node:` module the bundle imports (must be none). */
function nodeImports(meta: Metafile): string[] {
  const found = new Set<string>()
  for (const out of Object.values(meta.outputs)) {
    for (const imp of out.imports) if (imp.path.startsWith('node:')) found.add(imp.path)
  }
  return [...found].sort()
}

const kb = (bytes: number): number => Math.round(bytes / 102.4) / 10

async function main(): Promise<void> {
  const maxIndex = process.argv.indexOf('--max-kb')
  const maxKb = maxIndex === -1 ? undefined : Number(process.argv[maxIndex + 1])
  const outdir = mkdtempSync(join(tmpdir(), 'peerset-size-'))
  try {
    const meta = await bundle(outdir)
    const entry = Object.keys(meta.outputs).find((file) => meta.outputs[file]!.entryPoint !== undefined)!
    const initial = staticClosure(meta, entry)
    const lazy = chunksWith(meta, isWordList)
    if (lazy.length === 0) throw new Error('bundle-size: no chunk holds the bad-words word list (bad-words-matcher): the running rows would leave it out')
    const withStrategy = (pkg: string): Set<string> => {
      const files = new Set(initial)
      for (const chunk of [...chunksOf(meta, pkg), ...lazy]) staticClosure(meta, chunk, files)
      return files
    }
    const sets: [string, Set<string>][] = [
      ['first load (before the transport starts)', initial],
      ['running (torrent: default transport + word list)', withStrategy('@trystero-p2p/torrent')],
      ['running (nostr: trysteroTransport({ strategy: "nostr" }))', withStrategy('trystero')],
    ]
    const rows: Row[] = sets.map(([scenario, files]) => {
      const t = total(files)
      return { scenario, files: files.size, minKB: kb(t.minBytes), minGzipKB: kb(t.gzipBytes) }
    })
    const packages = [...byPackage(meta)].sort((a, b) => b[1].minBytes - a[1].minBytes)
    const folders = [...bySourceFolder(meta)].sort((a, b) => b[1].minBytes - a[1].minBytes)
    const filesIndex = process.argv.indexOf('--files')
    const topFiles = filesIndex === -1 ? 20 : Number(process.argv[filesIndex + 1])
    const files = [...bySourceFile(meta)].sort((a, b) => b[1].gzipBytes - a[1].gzipBytes).slice(0, topFiles)
    const table = (entries: [string, Share][]): Record<string, { minKB: number; gzipKBEstimated: number }> =>
      Object.fromEntries(entries.map(([name, share]) => [name, { minKB: kb(share.minBytes), gzipKBEstimated: kb(share.gzipBytes) }]))
    const forbidden = nodeImports(meta)
    if (jsonMode) {
      for (const row of rows) console.log(JSON.stringify(row))
      const flat = (entries: [string, Share][]): Record<string, number> =>
        Object.fromEntries(entries.flatMap(([name, share]) => [[`${name} minKB`, kb(share.minBytes)], [`${name} gzipKBEstimated`, kb(share.gzipBytes)]]))
      console.log(JSON.stringify({ scenario: 'bytes by package', ...flat(packages) }))
      if (fromSource) console.log(JSON.stringify({ scenario: 'bytes by src folder', ...flat(folders) }))
      if (fromSource) console.log(JSON.stringify({ scenario: 'bytes by src file', ...flat(files) }))
    } else {
      console.log(`\nbundle size: a browser app with createPeerset + trysteroTransport (esbuild, minified, gzip -9, from ${fromSource ? 'src/' : 'dist/'})`)
      console.log(machineLine())
      console.table(rows)
      console.log('KB by package, all chunks (gzip estimated: each chunk\'s gzip size shared out by minified bytes):')
      console.table(table(packages))
      if (fromSource) {
        console.log('KB of our own code by src folder (gzip estimated likewise):')
        console.table(table(folders))
        console.log(`KB of our own code, the ${files.length} biggest files of src/ by gzip (estimated likewise):`)
        console.table(table(files))
      }
      console.log(`outputs in ${relative(root, outdir) || outdir}: ${Object.keys(meta.outputs).filter((f) => f.endsWith('.js')).length} files`)
    }
    let failed = false
    if (forbidden.length > 0) {
      console.error(`bundle-size: the browser bundle imports node: modules: ${forbidden.join(', ')}`)
      failed = true
    }
    const shipped = Number(rows[1]!.minGzipKB)
    if (maxKb !== undefined && shipped > maxKb) {
      console.error(`bundle-size: ${shipped} KB gzip with the default transport, more than --max-kb ${maxKb}`)
      failed = true
    }
    if (failed) process.exitCode = 1
  } finally {
    rmSync(outdir, { recursive: true, force: true })
  }
}

await main()
