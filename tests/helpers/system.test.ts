/**
 * The missing-part policy, seen from outside: a vitest run of a one-group project whose Docker
 * engine is unreachable passes and ends with one line outside CI, and fails under CI=true.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './cli.js';

const PROJECT = join(ROOT, 'tests/helpers/fixtures/system-policy');
const dir = mkdtempSync(join(tmpdir(), 'funsearch-system-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function vitest(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--root', PROJECT],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? dir,
          NO_COLOR: '1',
          DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}`,
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

// Concurrent: each is a vitest process of its own, mostly waiting on its start.
describe.concurrent('a group whose system part is missing', () => {
  it('is skipped outside CI, and the run ends with one line naming it and the command that runs everything', async () => {
    const { code, output } = await vitest({ CI: '' });
    expect(code, output).toBe(0);
    const lines = output.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(
      /^Skipped 1 group for want of docker \(no Docker engine answers at unix:\/\/.*no-docker\.sock .*\): a group that needs Docker\. Run everything .* with: CI=true npm test$/,
    );
    expect(output).toMatch(/Tests\s+1 skipped \(1\)/);
  });

  it('fails under CI=true, with a test naming the missing part', async () => {
    const { code, output } = await vitest({ CI: 'true' });
    expect(code, output).toBe(1);
    expect(output).toContain('has what it needs: docker');
    expect(output).toContain('CI=true and a system part is missing: docker: no Docker engine answers');
    expect(output).not.toContain('Skipped 1 group');
  });
});
