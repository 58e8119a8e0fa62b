/** `funsearch worker` processes for tests (the built CLI), killed after each test. */
import { type ChildProcess, spawn } from 'node:child_process';
import { CLI, cleanEnv, ROOT } from './cli.js';
import { type RedisServer, startRedis } from './redis.js';

/** Short locks so a dead worker's job comes back in about two seconds. */
export const FAST_RECOVERY = ['--lock-duration', '1500', '--stalled-interval', '500', '--max-stalled', '1'];

export interface WorkerProcess {
  child: ChildProcess;
  /** What it wrote to stderr so far. */
  stderr: () => string;
}

const running = new Set<ChildProcess>();

/** A single-slot process-sandbox worker (flagged unsafe: tests trust their own candidates). */
export function startWorker(url: string, extra: string[] = [], env = cleanEnv()): WorkerProcess {
  const child = spawn(
    process.execPath,
    [
      ...[CLI, 'worker', '--redis', url, '--sandbox', 'process', '--unsafe-process-sandbox'],
      ...['--concurrency', '1', '--log-level', 'warn', ...FAST_RECOVERY, ...extra],
    ],
    { cwd: ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let text = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return { child, stderr: () => text };
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then waits for the exit. */
export async function stopWorker(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await exited(child);
}

/** SIGKILLs every worker still running (afterEach). */
export async function killWorkers(): Promise<void> {
  await Promise.all(
    [...running].map((child) => {
      child.kill('SIGKILL');
      return exited(child);
    }),
  );
}

/**
 * A test's own redis-server and the workers it starts there, killed and stopped when the test ends
 * (`onTestFinished` from the test's context).
 */
export async function ownRedis(onTestFinished: (fn: () => Promise<void>) => void): Promise<{
  redis: RedisServer;
  startWorker: (extra?: string[]) => WorkerProcess;
}> {
  const redis = await startRedis();
  const workers: WorkerProcess[] = [];
  onTestFinished(async () => {
    await Promise.all(
      workers.map(({ child }) => {
        child.kill('SIGKILL');
        return exited(child);
      }),
    );
    await redis.stop();
  });
  return {
    redis,
    startWorker(extra: string[] = []): WorkerProcess {
      const worker = startWorker(redis.url, extra);
      workers.push(worker);
      return worker;
    },
  };
}
