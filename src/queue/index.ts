/** Distributed evaluation through a BullMQ queue on Redis: what the run and the CLI need. */
import { hostname } from 'node:os';
import type { SandboxConfig } from '../config.js';
import type { SandboxLogger, SandboxStatus } from '../sandbox/sandbox.js';
import { checkRedisUrl, probeRedis, redactUrl } from './connection.js';
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
  runDir: string;
  sandbox: SandboxConfig;
  logger?: SandboxLogger | undefined;
}): Promise<QueueSandbox> {
  const url = checkRedisUrl(options.url, options.source);
  await probeRedis(url, options.source);
  return new QueueSandbox({
    url,
    runId: runIdOf(options.runDir, hostname()),
    limits: limitsOf(options.sandbox),
    logger: options.logger,
  });
}

/** One line for the run's status: the workers, or that the run waits for the first one. */
export function workersLine(status: SandboxStatus, url?: string): string {
  const live = status.workers.filter((w) => w.live);
  if (live.length === 0) {
    return `waiting for the first worker${url ? ` on ${redactUrl(url)}` : ''} (start one: funsearch worker --redis URL)`;
  }
  const busy = live.reduce((n, w) => n + w.busy, 0);
  const each = [...status.workers]
    .sort((a, b) => b.evaluations - a.evaluations)
    .slice(0, 4)
    .map(
      (w) => `${w.id}${w.live ? '' : ' (gone)'} ${w.perMinute.toFixed(1)}/min ${Math.round(100 * w.share)}%`,
    )
    .join(', ');
  const more = status.workers.length > 4 ? `, +${status.workers.length - 4} more` : '';
  return `workers: ${live.length} live, ${busy}/${status.capacity} busy; ${each}${more}`;
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
