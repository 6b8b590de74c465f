/**
 * Vite for the browser examples (examples/minimal, examples/network-ui), run from the repository:
 * `import … from 'peerset'` resolves to this package's build (`npm run build` first), through its
 * package.json `exports`, exactly as in an app that installed `peerset` from npm (there no alias is needed).
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const packageRoot = fileURLToPath(new URL('..', import.meta.url))

export default defineConfig({
  // Relative asset urls: the built page works from any folder (the browser tests serve it under /ui/).
  base: './',
  resolve: { alias: [{ find: /^peerset$/, replacement: packageRoot }] },
  server: { fs: { allow: [packageRoot] } },
  build: { target: 'es2022', emptyOutDir: true },
})
