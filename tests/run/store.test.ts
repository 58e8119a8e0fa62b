import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryStore, STALE_STAGING_MS } from '../../src/run/store.js';
import { testConfig } from './parts.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'funsearch-store-'));
  await writeFile(join(dir, 'spec.py'), 'spec\n');
  await writeFile(join(dir, 'inputs.txt'), '3\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a new run directory', () => {
  it('sweeps the staging directories that runs killed during creation left, and only those', async () => {
    const reportDir = join(dir, 'reports');
    await mkdir(reportDir);
    const deadPid = spawnSync('true').pid!;
    const staging = async (name: string, ageMs: number) => {
      const path = join(reportDir, name);
      await mkdir(path);
      await writeFile(join(path, 'config.json'), '{}');
      const then = (Date.now() - ageMs) / 1000;
      await utimes(path, then, then);
    };
    const old = STALE_STAGING_MS + 60_000;
    await staging(`.20260101_000000_left.${deadPid}.staging`, old);
    // Maybe another host's run, being created right now: the pid means nothing here.
    await staging(`.20260101_000000_fresh.${deadPid}.staging`, 0);
    await staging(`.20260101_000000_alive.${process.pid}.staging`, old);
    await staging('not-a-staging-dir', old);

    const store = DirectoryStore.forNewRun({
      reportDir,
      specFile: join(dir, 'spec.py'),
      inputsFile: join(dir, 'inputs.txt'),
      config: testConfig(),
    });
    await store.open();
    await store.close();
    const names = await readdir(reportDir);
    expect(names).not.toContain(`.20260101_000000_left.${deadPid}.staging`);
    expect(names).toEqual(
      expect.arrayContaining([
        `.20260101_000000_fresh.${deadPid}.staging`,
        `.20260101_000000_alive.${process.pid}.staging`,
        'not-a-staging-dir',
      ]),
    );
    // And the run's own directory, whole.
    const runDirs = names.filter((name) => !name.startsWith('.') && name !== 'not-a-staging-dir');
    expect(runDirs).toHaveLength(1);
    expect(await readdir(join(reportDir, runDirs[0]!))).toEqual(
      expect.arrayContaining(['config.json', 'spec.py', 'test-inputs.txt']),
    );
  });
});
