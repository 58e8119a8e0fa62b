/**
 * Faults of a distributed evaluation against a real redis-server and real `funsearch worker`
 * processes (the built CLI, process sandbox): a worker killed mid-job, a candidate that kills
 * its worker every time, Redis restarting, a worker stopped by a signal. (Bad Redis settings at
 * a worker's start: worker-start.test.ts.)
 */
import type { ChildProcess } from 'node:child_process';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { QUEUE_NAME, QUEUE_PREFIX, redisClient } from '../../src/queue/connection.js';
import type { JobLimits } from '../../src/queue/job.js';
import { QueueSandbox } from '../../src/queue/queue-sandbox.js';
import { describeWithSystem } from '../helpers/system.js';
import { exited, ownRedis } from '../helpers/workers.js';
import { eventually, HARNESS_PID, withEvaluate } from '../sandbox/programs.js';

const { kind: _kind, ...limits }: { kind: string } & JobLimits = parseConfig({}).sandbox;
/** A test's own Redis, workers and clients, all stopped when it ends. */
async function cluster(onTestFinished: (fn: () => Promise<void>) => void) {
  const { redis, startWorker } = await ownRedis(onTestFinished);
  const closers: (() => Promise<unknown>)[] = [];
  // Registered last, so it runs first: clients close while Redis still answers.
  onTestFinished(async () => {
    while (closers.length) await closers.pop()!();
  });
  return {
    redis,
    closers,
    startWorker: (extra: string[] = []): ChildProcess => startWorker(extra).child,
    queueSandbox(): QueueSandbox {
      const sandbox = new QueueSandbox({ url: redis.url, runId: 'faults', limits, pollMs: 200 });
      closers.push(() => sandbox.close());
      return sandbox;
    },
    rawQueue(): Queue {
      const connection = redisClient(redis.url);
      connection.on('error', () => {}); // Redis restarts in one test: reconnecting is expected
      const queue = new Queue(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
      queue.on('error', () => {});
      closers.push(async () => connection.disconnect());
      closers.push(() => queue.close());
      return queue;
    },
  };
}

const sleeper = (seconds: number) => withEvaluate(`import time\ntime.sleep(${seconds})\nreturn n`);
const job = (program: string, id: string, input: string) => ({
  id,
  program,
  functionToRun: 'evaluate',
  testInputs: [input],
  timeoutSeconds: 20,
});
await describeWithSystem('redis-server', 'distributed evaluation against a real Redis', () => {
  // Each test has its own Redis server and workers. (Run at once, they slowed the whole suite: on
  // two cores, more processes at a time cost more than they overlap.)
  describe('distributed evaluation faults', () => {
    it('recovers the job of a worker killed with SIGKILL mid-job; every sample answered once', async ({
      onTestFinished,
    }) => {
      const c = await cluster(onTestFinished);
      const sandbox = c.queueSandbox();
      await sandbox.start();
      const victim = c.startWorker();
      c.startWorker();
      await eventually(async () => (sandbox.capacity === 2 ? true : undefined), 60_000);
      const queue = c.rawQueue();
      const results = Promise.all(
        [1, 2, 3, 4].map((n) => sandbox.runBatch(job(sleeper(1.5), `s${n}`, String(n)))),
      );
      await eventually(async () => ((await queue.getActiveCount()) === 2 ? true : undefined), 30_000);
      victim.kill('SIGKILL');
      await exited(victim);

      const outcomes = await results;
      expect(outcomes.map((o) => o.map((x) => x.kind))).toEqual([['ok'], ['ok'], ['ok'], ['ok']]);
      expect(outcomes.map((o) => (o[0]!.kind === 'ok' ? o[0]!.score : null))).toEqual([1, 2, 3, 4]);
      // BullMQ finished each job once, and the run credited each answer once.
      expect(await queue.getCompletedCount()).toBe(4);
      const status = sandbox.status();
      expect(status.workers.reduce((n, w) => n + w.evaluations, 0)).toBe(4);
      expect(status.capacity).toBe(1);
    });

    it('fails a candidate that kills its worker every time, after a bounded number of tries', async ({
      onTestFinished,
    }) => {
      const c = await cluster(onTestFinished);
      const sandbox = c.queueSandbox();
      await sandbox.start();
      // A supervisor (systemd's Restart=always) brings the worker back each time it dies.
      let deaths = 0;
      let supervising = true;
      const supervise = () => {
        const child = c.startWorker();
        child.once('exit', () => {
          deaths += 1;
          if (supervising) supervise();
        });
      };
      supervise();
      c.closers.push(async () => {
        supervising = false;
      });
      await eventually(async () => (sandbox.capacity === 1 ? true : undefined), 60_000);
      // The harness's parent is the worker.
      const killer = withEvaluate(
        [
          'import os, signal, time',
          `with open("/proc/%d/stat" % ${HARNESS_PID}) as f:`,
          '  worker = int(f.read().rsplit(")", 1)[1].split()[1])',
          'os.kill(worker, signal.SIGKILL)',
          'time.sleep(10)',
          'return n',
        ].join('\n'),
      );
      const outcomes = await sandbox.runBatch(job(killer, 'poison', '3'));
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]).toMatchObject({ kind: 'crash', reason: expect.stringMatching(/worker died/) });
      // --max-stalled 1: run twice (recovered once), then failed without a third run.
      expect(deaths).toBe(2);
      await eventually(async () => (sandbox.capacity === 1 ? true : undefined), 60_000);
      expect(await sandbox.runBatch(job(sleeper(0), 'after', '5'))).toMatchObject([{ kind: 'ok', score: 5 }]);
      expect(deaths).toBe(2);
    });

    it('goes on after Redis restarts mid-run and loses every job: each sample is answered', async ({
      onTestFinished,
    }) => {
      const c = await cluster(onTestFinished);
      const sandbox = c.queueSandbox();
      await sandbox.start();
      const worker = c.startWorker(['--concurrency', '2']);
      await eventually(async () => (sandbox.capacity === 2 ? true : undefined), 60_000);
      const queue = c.rawQueue();
      const results = Promise.all(
        [1, 2, 3, 4].map((n) => sandbox.runBatch(job(sleeper(1), `r${n}`, String(n)))),
      );
      await eventually(async () => ((await queue.getActiveCount()) === 2 ? true : undefined), 30_000);
      await c.redis.restart();

      const outcomes = await results;
      expect(outcomes.map((o) => (o[0]!.kind === 'ok' ? o[0]!.score : o[0]!.kind))).toEqual([1, 2, 3, 4]);
      expect(sandbox.requeued).toBeGreaterThan(0);
      expect(worker.exitCode).toBeNull();
      await eventually(async () => (sandbox.capacity === 2 ? true : undefined), 30_000);
      expect(await sandbox.runBatch(job(sleeper(0), 'later', '7'))).toMatchObject([{ kind: 'ok', score: 7 }]);
    });

    it('stops a worker cleanly on SIGTERM, finishing the job it runs', async ({ onTestFinished }) => {
      const c = await cluster(onTestFinished);
      const sandbox = c.queueSandbox();
      await sandbox.start();
      const worker = c.startWorker();
      await eventually(async () => (sandbox.capacity === 1 ? true : undefined), 60_000);
      const queue = c.rawQueue();
      const result = sandbox.runBatch(job(sleeper(1), 't1', '4'));
      await eventually(async () => ((await queue.getActiveCount()) === 1 ? true : undefined), 30_000);
      worker.kill('SIGTERM');
      expect(await result).toMatchObject([{ kind: 'ok', score: 4 }]);
      await exited(worker);
      expect(worker.exitCode).toBe(0);
      await eventually(async () => (sandbox.capacity === 0 ? true : undefined), 10_000);
    });

    it('hands its running job back to the queue on a second signal, for another worker', async ({
      onTestFinished,
    }) => {
      const c = await cluster(onTestFinished);
      const sandbox = c.queueSandbox();
      await sandbox.start();
      const first = c.startWorker();
      await eventually(async () => (sandbox.capacity === 1 ? true : undefined), 60_000);
      const queue = c.rawQueue();
      const result = sandbox.runBatch(job(sleeper(3), 'h1', '6'));
      await eventually(async () => ((await queue.getActiveCount()) === 1 ? true : undefined), 30_000);
      first.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
      first.kill('SIGTERM');
      await exited(first);
      expect(first.exitCode).toBe(0);
      expect(await queue.getJobState(`faults/${sandbox.sessionId}/h1`)).toBe('waiting');
      c.startWorker();
      expect(await result).toMatchObject([{ kind: 'ok', score: 6 }]);
      const finished = await queue.getJob(`faults/${sandbox.sessionId}/h1`);
      expect(finished?.stalledCounter).toBe(0);
    });
  });
});
