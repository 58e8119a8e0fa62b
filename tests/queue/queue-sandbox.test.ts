/**
 * The queue sandbox and in-process workers against a real redis-server: results, capacity as
 * workers come and go, idempotence, stale sessions, and validation of both directions.
 */
import { Queue, Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { QUEUE_NAME, QUEUE_PREFIX, redisClient } from '../../src/queue/connection.js';
import { type JobLimits, jobIdOf } from '../../src/queue/job.js';
import { QueueSandbox } from '../../src/queue/queue-sandbox.js';
import { EvaluationWorker } from '../../src/queue/worker.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { type RedisServer, startRedis } from '../helpers/redis.js';
import { describeWithSystem } from '../helpers/system.js';
import { eventually, hostEvaluate, loadedBefore, SPEC, withEvaluate } from '../sandbox/programs.js';

const config = parseConfig({ sandbox: { memory_mb: 256, tmpfs_mb: 8 } });
const { kind: _kind, ...limits }: { kind: string } & JobLimits = config.sandbox;
const job = (program: string, id: string, testInputs = ['3', '4']) => ({
  id,
  program,
  functionToRun: 'evaluate',
  testInputs,
  timeoutSeconds: 5,
});

let redis: RedisServer;
const closers: (() => Promise<unknown>)[] = [];

/** `made` gets each local sandbox the worker makes, with the imports it was given. */
function worker(
  concurrency = 1,
  id?: string,
  made: { preload: readonly string[] | undefined; sandbox: Sandbox }[] = [],
): EvaluationWorker {
  const w = new EvaluationWorker({
    url: redis.url,
    concurrency,
    sandboxKind: 'process',
    id,
    createSandbox: (l, preload) => {
      const local = createSandbox({
        kind: 'process',
        config: parseConfig({ sandbox: l }),
        poolSize: concurrency,
        preload,
      });
      made.push({ preload, sandbox: local });
      return local;
    },
    timings: { heartbeatMs: 200 },
  });
  closers.push(() => w.close());
  return w;
}

function sandbox(runId = 'run-a', sessionId?: string, preload?: string[]): QueueSandbox {
  const s = new QueueSandbox({ url: redis.url, runId, sessionId, limits, preload, pollMs: 100 });
  closers.push(() => s.close());
  return s;
}

/** A raw client for the test's own BullMQ objects; disconnected after the test. */
function connection() {
  const client = redisClient(redis.url);
  closers.unshift(async () => client.disconnect());
  return client;
}

await describeWithSystem('redis-server', 'queue sandbox with in-process workers', () => {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
    const client = redisClient(redis.url);
    await client.flushall();
    client.disconnect();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  describe('queue sandbox', () => {
    it('returns the outcomes a worker computed, with its capacity following workers', async () => {
      const queue = sandbox();
      const seen: number[] = [];
      queue.onCapacityChange((c) => seen.push(c));
      await queue.start();
      expect(queue.capacity).toBe(0);
      const a = worker(2);
      await a.start();
      await eventually(async () => (queue.capacity === 2 ? true : undefined), 5000);

      const outcomes = await queue.runBatch(job(SPEC, 's1'));
      expect(outcomes).toMatchObject([
        { kind: 'ok', score: hostEvaluate(SPEC, 3) },
        { kind: 'ok', score: hostEvaluate(SPEC, 4) },
      ]);
      const failing = await queue.runBatch(job(withEvaluate('return 1 / 0'), 's2'));
      expect(failing).toHaveLength(1);
      expect(failing[0]).toMatchObject({ kind: 'crash', reason: expect.stringMatching(/ZeroDivisionError/) });

      const b = worker(1);
      await b.start();
      await eventually(async () => (queue.capacity === 3 ? true : undefined), 5000);
      await a.close();
      await eventually(async () => (queue.capacity === 1 ? true : undefined), 5000);
      expect(seen).toEqual([2, 3, 1]);

      const status = queue.status();
      expect(status.capacity).toBe(1);
      const byId = new Map(status.workers.map((w) => [w.id, w]));
      expect(byId.get(a.id)).toMatchObject({ live: false, evaluations: 2, share: 1 });
      expect(byId.get(b.id)).toMatchObject({ live: true, evaluations: 0, concurrency: 1 });
    });

    it('enqueues a sample once however often it is asked for', async () => {
      const queue = sandbox();
      const w = worker(2);
      await w.start();
      const program = withEvaluate('import time\ntime.sleep(0.3)\nreturn n');
      const [first, second] = await Promise.all([
        queue.runBatch(job(program, 's7', ['5'])),
        queue.runBatch(job(program, 's7', ['5'])),
      ]);
      expect(first).toEqual(second);
      expect(first).toMatchObject([{ kind: 'ok', score: 5 }]);
      expect(w.counts.done).toBe(1);
    });

    it('never runs the jobs of a run session that a newer session replaced', async () => {
      const w = worker(1);
      await w.start();
      const current = sandbox('run-r', 'new');
      await current.start();
      // A job left in the queue by the run's previous (killed) session.
      const raw = new Queue(QUEUE_NAME, { connection: connection(), prefix: QUEUE_PREFIX });
      closers.push(() => raw.close());
      const stale = {
        v: 1,
        run: 'run-r',
        session: 'old',
        sample: 's1',
        program: withEvaluate('return 1'),
        functionToRun: 'evaluate',
        testInputs: ['3'],
        timeoutSeconds: 5,
        limits,
      };
      await raw.add('evaluate', stale, { jobId: jobIdOf(stale) });
      const outcomes = await current.runBatch(job(withEvaluate('return 2'), 's1', ['3']));
      expect(outcomes).toMatchObject([{ kind: 'ok', score: 2 }]);
      await eventually(async () => (w.counts.stale === 1 ? true : undefined), 5000);
      expect(w.counts.done).toBe(1);
    });

    it('rejects what a forged worker returns, as a local harness reply would be', async () => {
      const queue = sandbox();
      await queue.start();
      const answers = [
        {
          v: 1,
          worker: 'evil',
          outcomes: [{ kind: 'ok', durationMs: 1, stderr: '', score: 2 ** 60, scoreType: 'int' }],
        },
        { v: 1, worker: 'evil', outcomes: [{ kind: 'ok', durationMs: 1, stderr: '', score: '12' }] },
        {
          v: 1,
          worker: 'evil',
          outcomes: [{ kind: 'crash', durationMs: 1, stderr: '', reason: 'x' }, { kind: 'ok' }],
        },
      ];
      let next = 0;
      const evil = new Worker(QUEUE_NAME, async () => answers[next++], {
        connection: connection(),
        prefix: QUEUE_PREFIX,
      });
      closers.push(() => evil.close());
      const [a, b, c] = [
        await queue.runBatch(job(SPEC, 'f1', ['3'])),
        await queue.runBatch(job(SPEC, 'f2', ['3'])),
        await queue.runBatch(job(SPEC, 'f3', ['3', '4'])),
      ];
      expect(a).toMatchObject([{ kind: 'invalid-score', reason: 'int score beyond 2**53' }]);
      expect(b).toMatchObject([{ kind: 'crash', reason: expect.stringMatching(/invalid result/) }]);
      expect(c).toMatchObject([{ kind: 'crash', reason: expect.stringMatching(/invalid result/) }]);
    });

    it('fails a malformed job on the worker without running it', async () => {
      const w = worker(1);
      await w.start();
      const raw = new Queue(QUEUE_NAME, { connection: connection(), prefix: QUEUE_PREFIX });
      closers.push(() => raw.close());
      const added = await raw.add('evaluate', { v: 1, program: 'import os', functionToRun: 'os.system' });
      await eventually(
        async () => ((await raw.getJobState(added.id!)) === 'failed' ? true : undefined),
        5000,
      );
      const failed = await raw.getJob(added.id!);
      expect(failed?.failedReason).toMatch(/^invalid evaluation job: /);
      expect(w.counts).toMatchObject({ errors: 1, done: 0 });
    });

    it("has the worker import the run's spec modules before forking, in a sandbox of their own", async () => {
      const made: { preload: readonly string[] | undefined; sandbox: Sandbox }[] = [];
      const w = worker(1, undefined, made);
      await w.warmUp(limits);
      await w.start();
      // The score says whether `fractions` was loaded before the program's own import of it.
      const program = loadedBefore(['fractions']);
      const preloading = sandbox('run-preload', undefined, ['fractions']);
      expect(await preloading.runBatch(job(program, 'p1', ['3']))).toMatchObject([{ kind: 'ok', score: 1 }]);
      const older = sandbox('run-older'); // a run that names no imports: the worker's default
      expect(await older.runBatch(job(program, 'p2', ['3']))).toMatchObject([{ kind: 'ok', score: 0 }]);
      expect(made.map((m) => m.preload)).toEqual([undefined, ['fractions'], undefined]);
      // The warm-up's sandbox, never used by a job, was closed when the first job needed another.
      await expect(made[0]!.sandbox.runBatch(job(program, 'x', ['3']))).rejects.toMatchObject({
        name: 'InfrastructureError',
      });
    });

    it('answers a program too large for the queue with a failed outcome, not a job', async () => {
      const queue = sandbox();
      const outcomes = await queue.runBatch(job(`${SPEC}\n#${'x'.repeat(600 * 1024)}`, 'big'));
      expect(outcomes).toMatchObject([
        { kind: 'crash', reason: expect.stringMatching(/^not sent to the workers: program/) },
      ]);
    });
  });
});
