import { defineConfig } from 'tsup'

// ESM for modern consumers; CJS for `require()`. Several dependencies (@noble/*, @scure/base,
// trystero) ship ESM only, so the CJS build bundles every dependency: a CommonJS consumer never
// has to load an ES module, whatever its Node version or bundler.
//
// `peerset/node` and `peerset/testing` are ESM only, built with the root entry in one ESM build:
// code splitting then gives all three entries one shared copy of our classes (PeersetError...), so
// `isPeersetError()` from `peerset` recognises an error thrown by `levelStorage()`. A separate CJS
// build of them would carry its own copies (tsup splits ESM only), and Node >= 20.19 (our engines
// range) can `require()` the ESM entries anyway. Their Node-only packages (node-datachannel, ws,
// classic-level, bittorrent-tracker) stay external: optional peer dependencies, never in the browser bundle.
const nodeOnly = ['node-datachannel', 'node-datachannel/polyfill', 'ws', 'classic-level', 'bittorrent-tracker', 'bittorrent-tracker/server', /^node:/]

export default defineConfig([
  {
    entry: { index: 'src/index.ts', node: 'src/node/index.ts', testing: 'src/testing/index.ts' },
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    platform: 'node',
    splitting: true,
    external: nodeOnly,
    treeshake: true,
  },
  {
    entry: { index: 'src/index.ts' },
    format: ['cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
    platform: 'neutral',
    noExternal: [/.*/],
    treeshake: true,
  },
])
