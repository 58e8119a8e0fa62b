/**
 * `funsearch worker`: serves evaluation jobs from a Redis queue in a local sandbox until stopped.
 * Wiring only: the checks at start (URL, sandbox choice, Redis, the local sandbox), the status
 * line, and the signals. src/queue/worker.ts does the work.
 */

import { availableParallelism } from 'node:os';
import { type Config, defaultConfig, parseConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkRedisUrl, probeRedis, redactUrl } from '../queue/connection.js';
import type { JobLimits } from '../queue/job.js';
import { EvaluationWorker, type QueueTimings } from '../queue/worker.js';
import { checkWorkerSandbox, createSandbox } from '../sandbox/index.js';

export interface WorkerCommandOptions {
  /** `--redis`; FUNSEARCH_REDIS_URL from `env` when absent. */
  redis?: string | undefined;
  sandbox: Config['sandbox']['kind'];
  concurrency?: number | undefined;
  dockerImage?: string | undefined;
  baseImage?: string | undefined;
  unsafeProcessSandbox?: boolean | undefined;
  timings?: Partial<QueueTimings> | undefined;
  logLevel?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  stderr?: NodeJS.WriteStream | undefined;
  /** Resolves when the worker should stop (the CLI: the first SIGINT/SIGTERM). */
  stopRequested?: Promise<NodeJS.Signals> | undefined;
  /** Resolves when running jobs should be handed back (the CLI: a second signal). */
  releaseRequested?: Promise<NodeJS.Signals> | undefined;
}

export async function workerCommand(options: WorkerCommandOptions): Promise<void> {
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const source = options.redis !== undefined ? '--redis' : 'FUNSEARCH_REDIS_URL';
  const raw = options.redis ?? env.FUNSEARCH_REDIS_URL;
  if (!raw) throw new UserError('no Redis given: pass --redis redis://host:6379 or set FUNSEARCH_REDIS_URL');
  const url = checkRedisUrl(raw, source);
  const safety = checkWorkerSandbox(options.sandbox, { unsafeProcessSandbox: options.unsafeProcessSandbox });
  const concurrency = options.concurrency ?? availableParallelism();
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new UserError(`--concurrency: expected an integer >= 1, got \`${options.concurrency}\``);
  await probeRedis(url, source);

  const tty = stderr.isTTY === true;
  let statusShown = false;
  const print = (line: string) => {
    if (statusShown) stderr.write('\r\x1b[2K');
    statusShown = false;
    stderr.write(`${line}\n`);
  };
  const logger = terminalLogger(options.logLevel ?? 'info', print);
  const { warning } = safety;
  if (warning) logger.warn({}, warning);

  const worker = new EvaluationWorker({
    url,
    concurrency,
    sandboxKind: options.sandbox,
    warning,
    logger,
    timings: options.timings,
    createSandbox: (limits, preload) =>
      createSandbox({
        kind: options.sandbox,
        config: workerConfig(options, limits, concurrency),
        poolSize: concurrency,
        logger,
        baseImage: options.baseImage,
        onProgress: (line) => logger.info({}, line),
        preload,
      }),
  });
  const defaults: JobLimits = (({ kind: _kind, ...limits }) => limits)(defaultConfig.sandbox);
  try {
    // The usual limits' sandbox starts now: a broken Docker shows before the first job, not in it.
    await worker.warmUp(defaults);
    await worker.start();
  } catch (error) {
    await worker.close();
    throw error;
  }
  logger.info(
    { redis: redactUrl(url), sandbox: options.sandbox, concurrency },
    `worker ${worker.id} serving evaluations`,
  );

  const line = () => {
    const { done, failures, errors, stale, busy } = worker.counts;
    return `worker ${worker.id}: ${done} done, ${failures} failed candidates, ${errors} errors${stale ? `, ${stale} stale skipped` : ''}; load ${busy}/${concurrency}${safety.status ? ` [${safety.status}]` : ''}`;
  };
  const ticker = setInterval(
    () => {
      if (tty) {
        stderr.write(`\r\x1b[2K${line()}`);
        statusShown = true;
      } else print(line());
    },
    tty ? 1000 : 10_000,
  );
  try {
    const signal = await (options.stopRequested ?? new Promise<never>(() => {}));
    const { busy } = worker.counts;
    print(
      `${signal}: stopping; ${busy ? `finishing ${busy} running job(s) (signal again to hand them back to the queue)` : 'no job running'}`,
    );
    void options.releaseRequested?.then((again) => {
      print(`${again}: handing running jobs back to the queue`);
      worker.release();
    });
    await worker.close();
  } finally {
    clearInterval(ticker);
    await worker.close();
  }
  print(line());
}

/** The local sandbox's config: the job's limits, this worker's image and slots. */
function workerConfig(options: WorkerCommandOptions, limits: JobLimits, concurrency: number): Config {
  return parseConfig({
    sandbox: { ...limits, kind: options.sandbox },
    num_evaluators: concurrency,
    ...(options.dockerImage ? { docker_image: options.dockerImage } : {}),
  });
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Short pino-shaped lines on the terminal: `time level message key=value…`. */
function terminalLogger(level: string, print: (line: string) => void): Logger {
  const threshold = level === 'silent' ? LEVELS.length : Math.max(0, LEVELS.indexOf(level as never));
  const at =
    (index: number) =>
    (fields: object, message?: string): void => {
      if (index < threshold) return;
      const extra = Object.entries(fields)
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join(' ');
      const time = new Date().toISOString().slice(11, 19);
      print(`${time} ${LEVELS[index]} ${message ?? ''}${extra ? ` ${extra}` : ''}`);
    };
  return { debug: at(0), info: at(1), warn: at(2), error: at(3) };
}
