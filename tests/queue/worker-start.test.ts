/**
 * `funsearch worker` at start against a real redis-server (the built CLI, process sandbox):
 * unreachable Redis, a wrong password, TLS, and the process sandbox's refusal and warning.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import {
  expectWrongPasswordRefused,
  freePort,
  makeTlsFiles,
  type RedisServer,
  startRedis,
} from '../helpers/redis.js';
import { describeWithSystem } from '../helpers/system.js';
import { killWorkers, startWorker as startWorkerProcess } from '../helpers/workers.js';
import { eventually } from '../sandbox/programs.js';

let redis: RedisServer;
const closers: (() => Promise<unknown>)[] = [];

function startWorker(extra: string[] = [], url = redis.url, env = cleanEnv()): ChildProcess {
  return startWorkerProcess(url, extra, env).child;
}

await describeWithSystem('redis-server', 'funsearch worker against a real Redis', () => {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
    await killWorkers();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  describe('funsearch worker at start', () => {
    it('exits 2 with one line when Redis is unreachable', async () => {
      const port = await freePort();
      const result = await runCli(['worker', '--redis', `redis://127.0.0.1:${port}`]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    });

    it('exits 2 with one line on a wrong password, without printing it', () =>
      expectWrongPasswordRefused(['worker', '--sandbox', 'docker']));

    it('serves over rediss:// with a password, and says in one line when it cannot trust the server', async () => {
      const tls = makeTlsFiles();
      closers.push(() => rm(tls.dir, { recursive: true, force: true }));
      const secured = await startRedis({ password: 'tls-secret', tls });
      closers.push(() => secured.stop());
      const untrusted = await runCli(['worker', '--redis', secured.url]);
      expect(untrusted.code).toBe(2);
      expect(untrusted.stderr.trim().split('\n')).toHaveLength(1);
      expect(untrusted.stderr).toMatch(/cannot reach Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1/);

      startWorker([], secured.url, cleanEnv({ NODE_EXTRA_CA_CERTS: tls.ca }));
      const client = new Redis(secured.url, { tls: { ca: readFileSync(tls.ca) } });
      closers.push(async () => client.disconnect());
      const registered = await eventually(async () => {
        const keys = await client.keys('funsearch:worker:*');
        return keys.length === 1 ? keys : undefined;
      }, 60_000);
      expect(JSON.parse((await client.get(registered[0]!))!)).toMatchObject({
        sandbox: 'process',
        concurrency: 1,
      });
    });

    it('refuses the process sandbox without --unsafe-process-sandbox', async () => {
      const result = await runCli(['worker', '--redis', redis.url, '--sandbox', 'process']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/funsearch worker refuses --sandbox process: .*--unsafe-process-sandbox/);
    });

    it('warns at start with the process sandbox and the flag', async () => {
      let stderr = '';
      const worker = startWorker(['--log-level', 'info']);
      worker.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      await eventually(async () => (/serving evaluations/.test(stderr) ? true : undefined), 60_000);
      expect(stderr).toMatch(/UNSAFE: this worker runs candidates in the process sandbox/);
    });
  });
});
