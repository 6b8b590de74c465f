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
    // `verify-worker` is the script of `workerVerifier()`'s workers: its own file beside the entries,
    // found by `new URL('./verify-worker.js', import.meta.url)` from Node and by bundlers (Vite).
    entry: { index: 'src/index.ts', node: 'src/node/index.ts', testing: 'src/testing/index.ts', 'verify-worker': 'src/verify/verify-worker.ts' },
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
    // `import.meta.url` (where `workerVerifier()` finds dist/verify-worker.js) from `__filename` in CommonJS.
    shims: true,
    dts: true,
    sourcemap: true,
    target: 'es2022',
    platform: 'neutral',
    noExternal: [/.*/],
    treeshake: true,
  },
])
