import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global_setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start worker threads of their own; two test files at a time fit a 2-core machine.
    maxWorkers: 2,
    reporters: ['default', ['json', { outputFile: process.env.VITEST_JSON ?? '.vitest-report.json' }]],
  },
});
