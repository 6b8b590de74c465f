import { defineConfig } from 'vitest/config'

// The real-browser tests (npm run test:browser, through test/browser/run.ts): one file at a time,
// each test bounded; a browser and several WebRTC peers per file load the CPU enough.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 60_000,
  },
})
