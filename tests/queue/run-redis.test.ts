/**
 * Whole runs with `--redis` through the built CLI, a real redis-server and real `funsearch worker`
 * processes (process sandbox): results and accounting as a local run's, workers in the summary and
 * the report, a killed-then-resumed run that the dead session's jobs do not pollute, and bad Redis
 * settings at start.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAME, QUEUE_PREFIX, redisClient } from '../../src/queue/connection.js';
import { runCli } from '../helpers/cli.js';
import { expectWrongPasswordRefused, freePort } from '../helpers/redis.js';
import { type Json, readEvents, readJson, runDirOf } from '../helpers/run-dir.js';
import { describeWithSystem } from '../helpers/system.js';
import { ownRedis, stopWorker } from '../helpers/workers.js';
import { eventually } from '../sandbox/programs.js';

let dir: string;

const BASE = [
  '-s',
  'specs/cap_set.py',
  '-t',
  'test-inputs/cap_set.txt',
  '--llm',
  'mock',
  '--timeout',
  '1',
  '--log-level',
  'warn',
];

await describeWithSystem('redis-server', 'runs with --redis', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'funsearch-redis-run-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Each test has its own Redis server, workers and report directory.
  describe('funsearch run --redis', () => {
    it('waits for its first worker, saying so, then evaluates on two workers, every sample accounted for once', {
      timeout: 240_000,
    }, async ({ onTestFinished }) => {
      const own = await ownRedis(onTestFinished);
      const args = [
        ...BASE,
        '--num-samplers',
        '2',
        '--samples-per-prompt',
        '2',
        '--total-llm-samples',
        '3',
        '--mock-latency',
        '5',
        '--seed',
        '4',
      ];
      let stderr = '';
      let child: ChildProcess | undefined;
      const started = runCli(
        [...args, '--log-level', 'info', '--report-dir', join(dir, 'redis'), '--redis', own.redis.url],
        {
          onSpawn: (c) => {
            child = c;
            c.stderr!.on('data', (chunk: Buffer) => {
              stderr += chunk.toString();
            });
          },
        },
      );
      await eventually(async () => (/waiting for the first worker/.test(stderr) ? true : undefined), 60_000);
      await sleep(500);
      expect(child!.exitCode).toBeNull();
      const [a, b] = [own.startWorker(), own.startWorker()];
      const distributed = await started;
      expect(distributed.code, distributed.stderr).toBe(0);
      expect(distributed.stderr).toMatch(/a worker joined/);

      const runDir = await runDirOf(join(dir, 'redis'));
      const summary = await readJson(join(runDir, 'summary.json'));
      expect(summary.status).toBe('finished');
      expect(summary.samples).toBe(12); // 2 samplers x 3 prompts x 2 samples, as a local run
      // The trivial priority's cap set on the last input, 4, as the local runs score it.
      expect(summary.initialScore).toBe(16);
      expect(summary.bestScore).toBeGreaterThanOrEqual(summary.initialScore);
      const events = await readEvents(runDir);
      const samples = events.filter((e) => e.sample !== undefined);
      expect(samples).toHaveLength(12);
      expect(new Set(samples.map((e) => e.sample)).size).toBe(12);
      expect(samples.filter((e) => e.outcome === 'not-evaluated')).toEqual([]);

      const workers = summary.concurrency.workers as Json[];
      expect(workers.map((w) => w.sandbox)).toEqual(['process', 'process']);
      // Each job BullMQ finished was answered by one worker and credited once (the initial program
      // is one job per input; rejected samples never become jobs).
      const client = redisClient(own.redis.url);
      const queue = new Queue(QUEUE_NAME, { connection: client, prefix: QUEUE_PREFIX });
      const completed = await queue.getCompletedCount();
      await queue.close();
      client.disconnect();
      const credited = workers.reduce((n, w) => n + w.evaluations, 0);
      expect(credited).toBe(completed);
      expect(credited).toBeGreaterThanOrEqual(2);
      expect(credited).toBeLessThanOrEqual(2 + 12);
      expect(workers.reduce((n, w) => n + w.share, 0)).toBeCloseTo(1, 6);
      const html = await readFile(join(runDir, 'report.html'), 'utf8');
      expect(html).toContain('<h2>Workers</h2>');
      for (const w of workers) expect(html).toContain(w.id);
      await Promise.all([stopWorker(a.child), stopWorker(b.child)]);

      // Resumed without --redis (the URL is not saved), it says that it now evaluates locally.
      const resumed = await runCli(['--resume', runDir, '--sandbox', 'process', '--log-level', 'warn']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(
        /its last session was evaluated by workers through Redis; this one evaluates on the local process sandbox \(give --redis or FUNSEARCH_REDIS_URL/,
      );
    });

    it('resumes a killed run without taking or running the dead session’s jobs', {
      timeout: 240_000,
    }, async ({ onTestFinished }) => {
      const own = await ownRedis(onTestFinished);
      const reports = join(dir, 'resume');
      // Candidates that take a while, so the run is killed with a job in flight.
      const slow = join(dir, 'slow-responses.txt');
      await writeFile(
        slow,
        'import builtins, time\nif not getattr(builtins, "slept", False):\n  builtins.slept = True\n  time.sleep(4)\nreturn float(sum(el))\n',
      );
      const first = own.startWorker();
      const client = redisClient(own.redis.url);
      const queue = new Queue(QUEUE_NAME, { connection: client, prefix: QUEUE_PREFIX });
      let run: ChildProcess | undefined;
      const killed = runCli(
        [
          ...BASE,
          '--report-dir',
          reports,
          '--num-samplers',
          '1',
          '--samples-per-prompt',
          '1',
          '--total-llm-samples',
          '50',
          '--mock-latency',
          '5',
          '--mock-responses',
          slow,
          // Above the first candidate's 4 s sleep (the later of two --timeout flags counts).
          '--timeout',
          '6',
          '--checkpoint-every',
          '1',
          '--redis',
          own.redis.url,
        ],
        { onSpawn: (child) => (run = child) },
      );
      try {
        // A sample's job is running on the worker: kill the worker, then the run.
        await eventually(async () => {
          const active = await queue.getJobs(['active']);
          return active.some((job) => /\/s\d+$/.test(job.id ?? '')) ? true : undefined;
        }, 60_000);
        // (`new-…` is where the run's jobs went before its directory, and so its id, existed.)
        const sessionKey = await eventually(async () => {
          const keys = await client.keys('funsearch:run:*:session');
          return keys.find((key) => !key.includes(':run:new-'));
        }, 10_000);
        const deadSession = await client.get(sessionKey);
        first.child.kill('SIGKILL');
        run!.kill('SIGKILL');
        expect((await killed).signal).toBe('SIGKILL');
        const runDir = await runDirOf(reports);

        // The resumed run claims the run before any worker can take the dead session's job.
        const resumed = runCli([
          ...['--resume', runDir, '--total-llm-samples', '1', '--log-level', 'warn'],
          ...['--redis', own.redis.url],
        ]);
        await eventually(async () => {
          const now = await client.get(sessionKey);
          return now !== null && now !== deadSession ? true : undefined;
        }, 60_000);
        const second = own.startWorker();
        const result = await resumed;
        expect(result.code, result.stderr).toBe(0);
        // The dead session's job comes back from the killed worker and is skipped, never run.
        const stale = await eventually(async () => {
          const failed = await queue.getJobs(['failed']);
          return failed.find((job) => job.id?.includes(`/${deadSession}/`));
        }, 60_000);
        expect(stale.failedReason).toMatch(/stale job: its run continues in a newer session/);
        await stopWorker(second.child);
        expect(second.stderr()).toMatch(/1 stale skipped/);
        const summary = await readJson(join(runDir, 'summary.json'));
        expect(summary.status).toBe('finished');
      } finally {
        await queue.close();
        client.disconnect();
      }
    });
  });

  describe('funsearch run --redis at start', () => {
    it('exits 2 with one line, creating no run directory, when Redis is unreachable', async () => {
      const reports = join(dir, 'unreachable');
      const port = await freePort();
      const result = await runCli([...BASE, '--report-dir', reports, '--redis', `redis://127.0.0.1:${port}`]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(
        /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\).*--redis/,
      );
      expect(await readdir(reports).catch(() => [])).toEqual([]);
    });

    it('exits 2 with one line on a wrong password from FUNSEARCH_REDIS_URL', () =>
      expectWrongPasswordRefused([...BASE, '--report-dir', join(dir, 'wrongpass')]));
  });
});
