/** Distributed evaluation through a BullMQ queue on Redis: what the run and the CLI need. */

import { hostname } from 'node:os';
import type { SandboxConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { checkRedisUrl, probeRedis } from './connection.js';
import type { JobLimits } from './job.js';
import { QueueSandbox, runIdOf } from './queue-sandbox.js';

/** The limits a run's jobs carry: its `sandbox` config without the choice of sandbox. */
export function limitsOf(sandbox: SandboxConfig): JobLimits {
  const { kind: _kind, ...limits } = sandbox;
  return limits;
}

/**
 * The run's sandbox with `--redis`: checks the URL and reaches Redis first (a user error, exit 2,
 * when it cannot), then returns the queue sandbox of this run directory.
 */
export async function openQueueSandbox(options: {
  url: string;
  /** Where the URL came from, for error lines: `--redis` or `FUNSEARCH_REDIS_URL`. */
  source: string;
  /** The run directory, or a function giving it once it exists (a new run creates it later). */
  runDir: string | (() => string | undefined);
  sandbox: SandboxConfig;
  /** The spec's imports (see QueueSandboxOptions.preload). */
  preload?: readonly string[] | undefined;
  logger?: Logger | undefined;
}): Promise<QueueSandbox> {
  const url = checkRedisUrl(options.url, options.source);
  await probeRedis(url, options.source);
  return new QueueSandbox({
    url,
    runId: () => {
      const dir = typeof options.runDir === 'string' ? options.runDir : options.runDir();
      return dir === undefined ? undefined : runIdOf(dir, hostname());
    },
    limits: limitsOf(options.sandbox),
    preload: options.preload,
    logger: options.logger,
  });
}

export { checkRedisUrl, probeRedis, redactUrl } from './connection.js';
export {
  type EvaluationJob,
  type EvaluationResult,
  evaluationJobSchema,
  evaluationResultSchema,
  type JobLimits,
} from './job.js';
export { QueueSandbox, type QueueSandboxOptions, runIdOf } from './queue-sandbox.js';
export {
  DEFAULT_TIMINGS,
  EvaluationWorker,
  type EvaluationWorkerOptions,
  type QueueTimings,
  type WorkerCounts,
} from './worker.js';
