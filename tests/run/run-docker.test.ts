/**
 * Whole runs on the real Docker sandbox: a signal stops the run cleanly (reports written, no
 * container left), and a sandbox that breaks mid-run stops it with a message instead of a hang.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ONE_SLOT, runCli } from '../helpers/cli.js';
import { runDirSoFar } from '../helpers/run-dir.js';
import { describeWithSystem, SANDBOX_TEST_IMAGE } from '../helpers/system.js';

const docker = new Docker();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'funsearch-run-docker-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Containers of the CLI process `pid` (other runs may share the engine, so never all of them). */
async function labelledContainers(pid: number | undefined): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`funsearch.pid=${pid}`] } });
  return list.map((c) => c.Id);
}

async function waitForEvents(reports: string, count: number): Promise<string> {
  for (;;) {
    await sleep(50);
    const runDir = await runDirSoFar(reports);
    if (!runDir) continue;
    const text = await readFile(join(runDir, 'events.jsonl'), 'utf8').catch(() => '');
    if (text.split('\n').filter(Boolean).length >= count) return runDir;
  }
}

// The image is the offline base (python3 + numpy): what the sandbox needs, without a build.
const args = (reports: string) => [
  '-s',
  'specs/cap_set.py',
  '-t',
  'test-inputs/cap_set.txt',
  '--llm',
  'mock',
  '--mock-latency',
  '50',
  '--docker-image',
  SANDBOX_TEST_IMAGE,
  '--num-samplers',
  '2',
  '--total-llm-samples',
  '100000',
  '--timeout',
  '2',
  '--report-dir',
  reports,
  '--log-level',
  'warn',
  '--seed',
  '4',
];
// ONE_SLOT, except for the second Ctrl-C: its 60 s timeout lets a sleeping candidate hold a lone slot.

await describeWithSystem(['docker', 'sandbox-image'], 'a run on the Docker sandbox', () => {
  // SIGTERM here; a single SIGINT takes the same path, and its exit code 130 and summary are checked on
  // the process sandbox (run-process.test.ts) and by the second Ctrl-C below.
  it('SIGTERM stops sampling, writes the report and checkpoint, removes every container and exits 143', async () => {
    const reports = join(dir, 'SIGTERM');
    let child: ChildProcess | undefined;
    const done = runCli([...args(reports), ...ONE_SLOT], { onSpawn: (c) => (child = c) });
    const runDir = await waitForEvents(reports, 5);
    expect((await labelledContainers(child?.pid)).length).toBeGreaterThan(0);
    child!.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(143);
    expect(result.stderr).toContain('SIGTERM: stopping');
    expect(await labelledContainers(child?.pid)).toEqual([]);
    const summary = JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8'));
    expect(summary.status).toBe('interrupted');
    expect(summary.stopReason).toBe('interrupted');
    const checkpoint = JSON.parse(await readFile(join(runDir, 'checkpoint.json'), 'utf8'));
    expect(checkpoint.finished).toBe(false);
    expect(checkpoint.stats.evaluations).toBe(summary.evaluations);
  });

  it('a second Ctrl-C cancels evaluations in flight at once and still removes the containers', async () => {
    const reports = join(dir, 'twice');
    let child: ChildProcess | undefined;
    // A candidate that never ends would hold the first Ctrl-C for the grace period; the second must not wait.
    // Killed (a failure) if a candidate of the 60 s timeout holds it: "at once" means well before that.
    const done = runCli([...args(reports), '--timeout', '60'], {
      killAfterMs: 40_000,
      onSpawn: (c) => (child = c),
    });
    await waitForEvents(reports, 3);
    // The second signal only once the first was handled: two SIGINTs pending at once are one.
    let stderr = '';
    child!.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child!.kill('SIGINT');
    while (!stderr.includes('SIGINT: stopping')) await sleep(20);
    child!.kill('SIGINT');
    const result = await done;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('cancelling evaluations in flight');
    expect(await labelledContainers(child?.pid)).toEqual([]);
  });

  it('stops with a message, not a hang, when the sandbox breaks mid-run', async () => {
    const reports = join(dir, 'broken');
    const repo = 'funsearch-test-vanishing';
    const tag = `${repo}:${process.pid}`;
    await docker.getImage(SANDBOX_TEST_IMAGE).tag({ repo, tag: String(process.pid) });
    const runArgs = [...args(reports), ...ONE_SLOT].map((arg) => (arg === SANDBOX_TEST_IMAGE ? tag : arg));
    let child: ChildProcess | undefined;
    const done = runCli(runArgs, { killAfterMs: 90_000, onSpawn: (c) => (child = c) });
    await waitForEvents(reports, 3);
    // The engine loses the image and every container of the pool: replacements cannot start.
    await docker.getImage(tag).remove({ force: true });
    for (const id of await labelledContainers(child?.pid))
      await docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined);
    const result = await done;
    expect(result.signal).toBeNull();
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/run failed: /);
    expect(await labelledContainers(child?.pid)).toEqual([]);
    const runDir = join(reports, (await readdir(reports))[0]!);
    const summary = JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8'));
    expect(summary.status).toBe('failed');
    expect(summary.error).toBeTruthy();
  });
});
