import { configDefaults, defineConfig } from 'vitest/config'

// Two groups, run one after the other: the in-process tests, then the tests over the real network
// (child processes, WebRTC on 127.0.0.1), one file at a time. The network tests load the CPU with
// several peer processes; running them beside the timing-sensitive in-process tests would make both flaky.
const network = ['test/e2e/**/*.test.ts', 'test/transport/trystero.test.ts', 'test/transport/trystero-state.test.ts']

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    setupFiles: ['test/setup-bad-words.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...network, 'test/browser/**'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'network', include: network, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
})
