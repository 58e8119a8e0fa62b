/**
 * `funsearch worker` with its default sandbox, the warm Docker pool, against a real engine and a
 * real redis-server: it evaluates a job in a container and removes its containers when stopped.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { limitsOf } from '../../src/queue/index.js';
import { QueueSandbox } from '../../src/queue/queue-sandbox.js';
import { LABEL_PID } from '../../src/sandbox/docker-pool.js';
import { CLI, cleanEnv, ROOT } from '../helpers/cli.js';
import { type RedisServer, startRedis } from '../helpers/redis.js';
import { describeWithSystem, SANDBOX_TEST_IMAGE } from '../helpers/system.js';
import { eventually, hostEvaluate, SPEC } from '../sandbox/programs.js';

const IMAGE = SANDBOX_TEST_IMAGE;
const docker = new Docker();
let redis: RedisServer;
let worker: ChildProcess | undefined;

const containersOf = async (pid: number) =>
  docker.listContainers({ all: true, filters: { label: [`${LABEL_PID}=${pid}`] } });

await describeWithSystem(['docker', 'sandbox-image', 'redis-server'], 'a Docker-sandbox worker', () => {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await redis?.stop();
  });

  describe('funsearch worker on the Docker sandbox', () => {
    it('evaluates in a warm container and removes its containers on SIGTERM', async () => {
      await docker.getImage(IMAGE).inspect();
      const child = spawn(
        process.execPath,
        [CLI, 'worker', '--redis', redis.url, '--concurrency', '1', '--docker-image', IMAGE],
        { cwd: ROOT, env: cleanEnv() as NodeJS.ProcessEnv, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      worker = child;
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const sandbox = new QueueSandbox({
        url: redis.url,
        runId: 'docker-worker',
        limits: limitsOf(parseConfig({}).sandbox),
        pollMs: 200,
      });
      try {
        await sandbox.start();
        await eventually(async () => (sandbox.capacity === 1 ? true : undefined), 120_000);
        expect((await containersOf(child.pid!)).length).toBe(1);
        const outcomes = await sandbox.runBatch({
          id: 's1',
          program: SPEC,
          functionToRun: 'evaluate',
          testInputs: ['3'],
          timeoutSeconds: 10,
        });
        expect(outcomes).toMatchObject([{ kind: 'ok', score: hostEvaluate(SPEC, 3) }]);
        expect(sandbox.status().workers).toMatchObject([{ sandbox: 'docker', evaluations: 1, share: 1 }]);
      } finally {
        await sandbox.close();
      }
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      expect(child.exitCode).toBe(0);
      expect(stderr).not.toMatch(/UNSAFE/);
      expect(await containersOf(child.pid!)).toEqual([]);
    }, 240_000);
  });
});
