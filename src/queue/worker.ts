/**
 * An evaluator worker: takes evaluation jobs from the Redis queue (any run on that Redis) and
 * runs them in its own local sandbox. Leases, stalled-job recovery and retries are BullMQ's: a
 * worker holds a lock on each job it runs and renews it; a worker that dies stops renewing, and
 * another worker's stalled check puts the job back (at most `maxStalledCount` times, then it
 * fails with BullMQ's reason). Its presence is BullMQ's named worker connection plus a
 * heartbeat key carrying what the run shows (concurrency, load).
 */

import { hostname } from 'node:os';
import { type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import {
  QUEUE_NAME,
  QUEUE_PREFIX,
  redisClient,
  redisKeys,
  reportConnection,
  withinMs,
} from './connection.js';
import { type JobLimits, parseJob, resultOf } from './job.js';
import { type WorkerHeartbeat, workerHeartbeatJson } from './registry.js';

export interface QueueTimings {
  /** How long a job's lock lasts without renewal; a dead worker's job is recovered after about this. */
  lockDurationMs: number;
  /** How often workers look for jobs whose lock expired. */
  stalledIntervalMs: number;
  /** Times a job may be put back after its worker died before it fails: a poison candidate's bound. */
  maxStalledCount: number;
  /** How often a worker refreshes its heartbeat (its TTL is five of these, at least 15 s). */
  heartbeatMs: number;
}

export const DEFAULT_TIMINGS: QueueTimings = {
  lockDurationMs: 30_000,
  stalledIntervalMs: 15_000,
  maxStalledCount: 2,
  heartbeatMs: 2000,
};

export interface EvaluationWorkerOptions {
  url: string;
  /** Jobs run at once; the local sandboxes get this many slots. */
  concurrency: number;
  /** Which local sandbox (shown to runs). */
  sandboxKind: string;
  /**
   * A local sandbox applying `limits` whose harnesses import `preload` first (undefined: the
   * sandbox's default); the worker keeps one per distinct pair, started lazily.
   */
  createSandbox: (limits: JobLimits, preload: readonly string[] | undefined) => Sandbox;
  logger?: Logger | undefined;
  timings?: Partial<QueueTimings> | undefined;
  /** Shown to runs when the local sandbox is no security boundary. */
  warning?: string | undefined;
  /** Default `host.pid.random`. */
  id?: string | undefined;
}

export interface WorkerCounts {
  /** Jobs answered with outcomes (whatever the candidate did). */
  done: number;
  /** Of those, candidates that failed (an outcome that is not ok). */
  failures: number;
  /** Jobs this worker could not evaluate (invalid job, sandbox fault); BullMQ retries or fails them. */
  errors: number;
  /** Jobs skipped because their run had moved on to a newer session. */
  stale: number;
  /** Jobs running now. */
  busy: number;
}

/** Sandboxes kept per distinct limits once idle (runs with other limits share the worker). */
const IDLE_SANDBOXES_KEPT = 2;

const SESSION_CACHE_MS = 1000;
const MIN_HEARTBEAT_TTL_MS = 15_000;

interface LocalSandbox {
  sandbox: Sandbox;
  active: number;
  lastUsed: number;
  /** Started by warmUp and no job has needed it yet. */
  warmUpOnly?: boolean;
}

export class EvaluationWorker {
  readonly id: string;
  readonly counts: WorkerCounts = { done: 0, failures: 0, errors: 0, stale: 0, busy: 0 };
  private readonly timings: QueueTimings;
  private readonly sandboxes = new Map<string, LocalSandbox>();
  private readonly sessions = new Map<string, { session: string | null; at: number }>();
  private readonly startedAt = new Date().toISOString();
  private redis: Redis | undefined;
  private worker: Worker | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private releasing = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: EvaluationWorkerOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
      throw new TypeError(`Expected \`concurrency\` to be an integer >= 1, got \`${options.concurrency}\``);
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    const host =
      hostname()
        .replace(/[^A-Za-z0-9_-]/g, '_')
        .slice(0, 60) || 'host';
    this.id = options.id ?? `${host}.${process.pid}.${Math.random().toString(36).slice(2, 6)}`;
  }

  /** Connects and starts taking jobs (the caller probed Redis first for a clear error). */
  async start(): Promise<void> {
    const { logger } = this.options;
    this.redis = redisClient(this.options.url);
    reportConnection(this.redis, this.options.url, logger);
    await this.beat();
    this.heartbeat = setInterval(() => {
      this.beat().catch((error) => logger?.debug({ error: String(error) }, 'heartbeat failed'));
    }, this.timings.heartbeatMs);
    this.heartbeat.unref();
    this.worker = new Worker(QUEUE_NAME, (job, token, signal) => this.process(job, token, signal), {
      connection: this.redis,
      prefix: QUEUE_PREFIX,
      name: this.id,
      concurrency: this.options.concurrency,
      lockDuration: this.timings.lockDurationMs,
      stalledInterval: this.timings.stalledIntervalMs,
      maxStalledCount: this.timings.maxStalledCount,
      // Workers evaluate; nothing to gain from long-polling pauses after Redis comes back.
      runRetryDelay: 1000,
    });
    this.worker.on('error', (error) => logger?.warn({ error: String(error) }, 'queue worker error'));
    this.worker.on('stalled', (jobId) => logger?.info({ jobId }, 'recovered a job whose worker died'));
    await this.worker.waitUntilReady();
  }

  /** Starts the local sandbox for `limits` ahead of the first job (and fails early if it cannot start). */
  async warmUp(limits: JobLimits): Promise<void> {
    const local = this.sandboxFor(limits);
    local.warmUpOnly = true;
    await local.sandbox.start();
  }

  /** Load now: jobs running out of the slots. */
  get load(): { busy: number; concurrency: number } {
    return { busy: this.counts.busy, concurrency: this.options.concurrency };
  }

  /**
   * Stops taking jobs and waits for those running to finish (each is bounded by its timeout);
   * `release()` meanwhile hands them back to the queue instead. Then the sandboxes are closed.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.heartbeat) clearInterval(this.heartbeat);
      try {
        await this.worker?.close();
      } finally {
        await Promise.allSettled([...this.sandboxes.values()].map((s) => s.sandbox.close()));
        this.sandboxes.clear();
        // Bounded: with Redis away this would wait for it forever.
        await withinMs(3000, this.redis?.del(redisKeys.worker(this.id)));
        this.redis?.disconnect();
      }
    })();
    return this.closing;
  }

  /** Puts the jobs running now back in the queue, for another worker (without counting a stall). */
  release(): void {
    this.releasing = true;
    this.worker?.cancelAllJobs('worker stopping');
  }

  private async process(job: Job, token: string | undefined, signal?: AbortSignal): Promise<unknown> {
    const parsed = parseJob(job.data);
    if ('problem' in parsed) {
      this.counts.errors += 1;
      throw new UnrecoverableError(`invalid evaluation job: ${parsed.problem}`);
    }
    const evaluation = parsed.job;
    // A resumed run writes its new session here; the dead session's leftovers are not worth running.
    const live = await this.liveSession(evaluation.run);
    if (live !== null && live !== evaluation.session) {
      this.counts.stale += 1;
      throw new UnrecoverableError('stale job: its run continues in a newer session');
    }
    this.counts.busy += 1;
    const local = this.sandboxFor(evaluation.limits, evaluation.preload);
    local.active += 1;
    try {
      const outcomes = await local.sandbox.runBatch(
        {
          id: evaluation.sample,
          program: evaluation.program,
          functionToRun: evaluation.functionToRun,
          testInputs: evaluation.testInputs,
          timeoutSeconds: evaluation.timeoutSeconds,
        },
        signal,
      );
      this.counts.done += 1;
      if (outcomes.at(-1)?.kind !== 'ok') this.counts.failures += 1;
      return resultOf(this.id, outcomes);
    } catch (error) {
      if (this.releasing && signal?.aborted && token) {
        await job.moveToWait(token);
        throw new WaitingError();
      }
      this.counts.errors += 1;
      this.options.logger?.error({ jobId: job.id, error: String(error) }, 'evaluation failed on this worker');
      throw error;
    } finally {
      this.counts.busy -= 1;
      local.active -= 1;
      local.lastUsed = Date.now();
      this.evictIdleSandboxes();
    }
  }

  /** The run's live session, read at most once a second per run (a job costs no extra round trip). */
  private async liveSession(run: string): Promise<string | null> {
    const cached = this.sessions.get(run);
    if (cached && Date.now() - cached.at < SESSION_CACHE_MS) return cached.session;
    const session = await this.redis!.get(redisKeys.runSession(run));
    if (this.sessions.size > 1000) this.sessions.clear();
    this.sessions.set(run, { session, at: Date.now() });
    return session;
  }

  private sandboxFor(limits: JobLimits, preload?: readonly string[]): LocalSandbox {
    const key = JSON.stringify([JSON.stringify(limits, Object.keys(limits).sort()), preload ?? null]);
    let local = this.sandboxes.get(key);
    if (!local) {
      // The warm-up's sandbox only proved the sandbox starts: once a job needs another (other
      // limits or imports, as most runs' specs have), it is not kept idle beside it.
      for (const [other, idle] of this.sandboxes) {
        if (idle.warmUpOnly && idle.active === 0) {
          this.sandboxes.delete(other);
          void idle.sandbox.close();
        }
      }
      local = { sandbox: this.options.createSandbox(limits, preload), active: 0, lastUsed: Date.now() };
      this.sandboxes.set(key, local);
    }
    local.warmUpOnly = false;
    return local;
  }

  private evictIdleSandboxes(): void {
    const idle = [...this.sandboxes.entries()].filter(([, s]) => s.active === 0);
    if (this.sandboxes.size <= IDLE_SANDBOXES_KEPT || idle.length === 0) return;
    idle.sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [key, local] of idle.slice(0, this.sandboxes.size - IDLE_SANDBOXES_KEPT)) {
      this.sandboxes.delete(key);
      void local.sandbox.close();
    }
  }

  private async beat(): Promise<void> {
    const heartbeat: WorkerHeartbeat = {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      sandbox: this.options.sandboxKind,
      concurrency: this.options.concurrency,
      busy: this.counts.busy,
      done: this.counts.done,
      startedAt: this.startedAt,
      ...(this.options.warning ? { warning: this.options.warning } : {}),
    };
    await this.redis!.set(
      redisKeys.worker(this.id),
      workerHeartbeatJson(heartbeat),
      'PX',
      // Generous: a dead process leaves BullMQ's worker list at once; this only catches hung ones.
      Math.max(this.timings.heartbeatMs * 5, MIN_HEARTBEAT_TTL_MS),
    );
  }
}
