import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: the e2e suites start real servers, so keep files from fighting for them.
    maxWorkers: 2,
  },
});
