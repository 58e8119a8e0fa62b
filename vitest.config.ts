import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The CLI and package tests run dist/: rebuilt here when a source is newer.
    globalSetup: ['tests/helpers/build.ts'],
    // After the usual summary, one line naming the groups skipped for want of a system part.
    reporters: ['default', './tests/helpers/system-reporter.ts'],
    // Docker and subprocess tests start real containers and processes; generous, but never retried.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    retry: 0,
    // Most test time is spent waiting on child processes, containers and servers, so more files
    // than cores run at once (measured on 2 cores: 265 s with 4 workers against 357 s with 2).
    maxWorkers: 4,
  },
});
