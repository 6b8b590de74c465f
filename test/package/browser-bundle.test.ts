/**
 * The browser entry bundles for browsers: esbuild (as an app bundler would, platform `browser`, every
 * dynamic import followed) finds no `node:` module and no Node built-in anywhere in what `peerset`
 * can load. `npm run size` checks the same on the built `dist/` and reports the sizes.
 */
import { resolve } from 'node:path'
import { build } from 'esbuild'
import { expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../..')

it('the browser entry and every chunk it can load import no node: module', async () => {
  const result = await build({
    stdin: {
      contents: `import { createPeerset, createIdentity, trysteroTransport } from './src/index.ts'
        await createPeerset({ room: 'r', identity: createIdentity(), transport: trysteroTransport({ strategy: globalThis.s }) })`,
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    outdir: 'out',
    metafile: true,
    logLevel: 'silent',
    external: ['node:*'], // visible in the metafile instead of a resolve error
  })
  const outputs = Object.values(result.metafile.outputs)
  const imports = outputs.flatMap((out) => out.imports.map((imp) => imp.path))
  const inputs = outputs.flatMap((out) => Object.keys(out.inputs))
  // The input reaches the lazily loaded parts: the bad-words matcher with its word list, and both
  // trystero strategies; obscenity (the list's source, used only to generate and test it) is not shipped.
  expect(inputs.some((i) => i.endsWith('src/moderation/rules/bad-words-matcher.ts'))).toBe(true)
  expect(inputs.some((i) => i.endsWith('src/moderation/rules/bad-words-list.ts'))).toBe(true)
  expect(inputs.filter((i) => i.includes('node_modules/obscenity/'))).toEqual([])
  expect(inputs.some((i) => i.includes('node_modules/@trystero-p2p/torrent/'))).toBe(true)
  expect(inputs.some((i) => i.includes('node_modules/@trystero-p2p/nostr/'))).toBe(true)
  expect(imports.filter((path) => path.startsWith('node:'))).toEqual([])
}, 60_000)
