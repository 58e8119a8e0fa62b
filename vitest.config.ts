import { dirname } from 'node:path';
import { defineConfig } from 'vitest/config';
import { pythonInstall } from './src/sandbox/python-install.js';
import LongestFirst from './tests/helpers/sequencer.js';

/**
 * PATH with the real interpreter's directory first. Tests start python3 hundreds of times (harnesses,
 * oracles, workers); through a version manager's shim (pyenv here) each start costs about half a
 * second of CPU, which was a third of the suite. The sandboxes resolve the shim themselves with the
 * same lookup (src/sandbox/python-install.ts, tested with a shim of its own).
 */
async function pathWithRealPython(): Promise<string> {
  const path = process.env.PATH ?? '';
  const install = await pythonInstall();
  // No python3: the tests that need it say so.
  return typeof install === 'string' ? path : `${dirname(install.executable)}:${path}`;
}

export default defineConfig(async () => ({
  test: {
    include: ['tests/**/*.test.ts'],
    env: { PATH: await pathWithRealPython() },
    // The CLI and package tests run dist/: rebuilt here when a source is newer.
    globalSetup: ['tests/helpers/build.ts'],
    // After the usual summary, one line naming the groups skipped for want of a system part.
    reporters: ['default', './tests/helpers/system-reporter.ts'],
    // Docker and subprocess tests start real containers and processes; generous, but never retried.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    retry: 0,
    sequence: { sequencer: LongestFirst },
    // Most test time is spent waiting on child processes, containers and servers, so more files
    // than cores run at once (measured on 2 cores: 265 s with 4 workers against 357 s with 2; with
    // 3, the same CPU and twice the idle time).
    maxWorkers: 4,
    // Test files share a worker's modules instead of each importing the sources afresh: the imports
    // were a quarter of the suite's CPU. A test that needs fresh module state resets it itself
    // (vi.resetModules, as tests/spec/parser.test.ts).
    isolate: false,
    // As the CLI (src/cli.ts): the spec parser's WebAssembly compiled by the baseline tier only, which
    // saves each test process about 0.2 CPU-seconds of optimising compiles that its parses never repay.
    execArgv: ['--liftoff-only'],
  },
}));
