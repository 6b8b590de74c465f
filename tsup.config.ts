import { defineConfig } from 'tsup'

// ESM for modern consumers; CJS for `require()`. Several dependencies (@noble/*, @scure/base,
// trystero) ship ESM only, so the CJS build bundles every dependency: a CommonJS consumer never
// has to load an ES module, whatever its Node version or bundler.
export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    platform: 'neutral',
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
