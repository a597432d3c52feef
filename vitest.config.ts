import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // tfjs' wasm backend is per process: forks keep test files isolated; two workers = two cores.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default', './test/summary-reporter.ts'],
    setupFiles: ['./test/helpers/event-loop-watch.ts'],
    env: { NESTLAB_PROGRESS: 'silent' },
  },
});
