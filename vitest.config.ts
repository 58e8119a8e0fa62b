import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Docker and subprocess tests start real containers and processes; generous, but never retried.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    retry: 0,
  },
});
