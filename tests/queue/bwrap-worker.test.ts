/**
 * `funsearch worker --sandbox bwrap`: isolation without Docker, serving the queue like any worker
 * (against a real redis-server and the host's bubblewrap).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { limitsOf } from '../../src/queue/index.js';
import { QueueSandbox } from '../../src/queue/queue-sandbox.js';
import { type RedisServer, startRedis } from '../helpers/redis.js';
import { describeWithSystem } from '../helpers/system.js';
import { killWorkers, startWorker, stopWorker } from '../helpers/workers.js';
import { eventually, hostEvaluate, SPEC, withEvaluate } from '../sandbox/programs.js';

await describeWithSystem(['bwrap', 'redis-server'], 'a bwrap-sandbox worker', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await killWorkers();
    await redis?.stop();
  });

  it('evaluates jobs isolated, without the unsafe warning; a candidate cannot reach Redis', async () => {
    const worker = startWorker(redis.url, ['--sandbox', 'bwrap', '--log-level', 'info']);
    const sandbox = new QueueSandbox({
      url: redis.url,
      runId: 'bwrap-worker',
      limits: limitsOf(parseConfig({}).sandbox),
      pollMs: 200,
    });
    try {
      await sandbox.start();
      await eventually(async () => (sandbox.capacity === 1 ? true : undefined), 60_000);
      const job = (program: string, id: string) => ({
        id,
        program,
        functionToRun: 'evaluate',
        testInputs: ['3'],
        timeoutSeconds: 10,
      });
      expect(await sandbox.runBatch(job(SPEC, 's1'))).toMatchObject([
        { kind: 'ok', score: hostEvaluate(SPEC, 3) },
      ]);
      // The forgery issue 13 is about: a candidate opening a connection to the queue's Redis.
      const port = new URL(redis.url).port;
      const probe = withEvaluate(
        `import socket\ns = socket.socket()\ns.settimeout(2)\ntry:\n  s.connect(("127.0.0.1", ${port}))\n  return 1\nexcept OSError:\n  return 0`,
      );
      expect(await sandbox.runBatch(job(probe, 's2'))).toMatchObject([{ kind: 'ok', score: 0 }]);
      expect(sandbox.status().workers).toMatchObject([{ sandbox: 'bwrap', evaluations: 2 }]);
    } finally {
      await sandbox.close();
    }
    await stopWorker(worker.child);
    expect(worker.child.exitCode).toBe(0);
    expect(worker.stderr()).not.toMatch(/UNSAFE/);
  }, 180_000);
});
