/**
 * The queue sandbox (`funsearch run --redis URL`): every evaluation becomes a BullMQ job that
 * some `funsearch worker` runs in its own local sandbox. Its capacity is the total concurrency of
 * the live workers and follows them as they join and leave; the run stays the single writer of
 * everything else.
 *
 * Jobs are named `run/session/sample`: a sample is enqueued once however often it is asked for,
 * and a resumed run (a new session) never takes a dead session's answers. BullMQ recovers the jobs
 * of workers that die. What BullMQ cannot see is Redis losing its data (a restart without
 * persistence): a periodic check finds this run's jobs that vanished and enqueues them again, and
 * picks up answers whose event was lost.
 */

import { randomUUID } from 'node:crypto';
import { type Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { InfrastructureError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  type Outcome,
  runOne,
  type Sandbox,
  type SandboxBatchJob,
  type SandboxJob,
  type SandboxStatus,
  type SandboxWorkerStatus,
} from '../sandbox/sandbox.js';
import { failure } from '../sandbox/score.js';
import {
  QUEUE_NAME,
  QUEUE_PREFIX,
  redactUrl,
  redisClient,
  redisKeys,
  reportConnection,
  withinMs,
} from './connection.js';
import { buildJob, type EvaluationJob, type JobLimits, jobIdOf, parseResult } from './job.js';
import { listWorkers, type WorkerHeartbeat } from './registry.js';

export interface QueueSandboxOptions {
  url: string;
  /**
   * Stable across resumes of one run (see `runIdOf`). A function when the run's directory (and so
   * its id) exists only later: until it returns one, jobs go under `new-<session>`.
   */
  runId: string | (() => string | undefined);
  /** New for each process serving the run; default a random id. */
  sessionId?: string | undefined;
  /** The run's `sandbox` config: the limits workers apply to its candidates. */
  limits: JobLimits;
  /** The spec's imports, for the workers' harnesses to import before forking; default theirs (numpy). */
  preload?: readonly string[] | undefined;
  logger?: Logger | undefined;
  /** How often workers are listed (capacity) and pending jobs checked; default 1000 ms. */
  pollMs?: number | undefined;
  /** Tries of a job whose worker hit an infrastructure fault (not a candidate failure); default 3. */
  attempts?: number | undefined;
}

interface Waiter {
  resolve: (outcomes: Outcome[]) => void;
  reject: (error: unknown) => void;
}

interface Pending {
  job: EvaluationJob;
  waiters: Set<Waiter>;
  enqueuedAt: number;
}

interface WorkerRecord {
  heartbeat: WorkerHeartbeat;
  live: boolean;
  firstSeen: number;
  lastSeen: number;
  evaluations: number;
  /** Consecutive listings without its connection. */
  missed: number;
}

/** A session's claim on its run lasts this long without renewal (renewed every poll). */
const SESSION_TTL_MS = 60_000;
/** How long closing may spend tidying up in Redis. */
const CLOSE_TIDY_MS = 3000;
/** …and after the session closed. */
const CLOSED_SESSION_TTL_MS = 600_000;
/** A pending job is checked against Redis once it is this old (its events may have been lost). */
const RECONCILE_AFTER_MS = 3000;
/** Characters of a worker-side failure reason kept. */
const REASON_CHARS = 300;

export class QueueSandbox implements Sandbox {
  readonly kind = 'queue' as const;
  readonly sessionId: string;
  readonly url: string;
  private readonly pending = new Map<string, Pending>();
  private readonly workers = new Map<string, WorkerRecord>();
  private readonly listeners = new Set<(capacity: number) => void>();
  private readonly pollMs: number;
  private redis: Redis | undefined;
  private queue: Queue | undefined;
  private events: QueueEvents | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private lastReconcile = 0;
  private currentCapacity = 0;
  private anonymous = 0;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Jobs enqueued again after Redis lost them. */
  requeued = 0;

  constructor(private readonly options: QueueSandboxOptions) {
    this.sessionId = options.sessionId ?? randomUUID().slice(0, 8);
    this.url = options.url;
    this.pollMs = options.pollMs ?? 1000;
  }

  get capacity(): number {
    return this.currentCapacity;
  }

  onCapacityChange(listener: (capacity: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Connects (the caller probed Redis for a clear error first), claims the run, lists the workers. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      if (this.closing) throw new InfrastructureError('queue sandbox closed');
      const { logger } = this.options;
      this.redis = redisClient(this.url);
      reportConnection(this.redis, this.options.url, logger);
      const connection = { connection: this.redis, prefix: QUEUE_PREFIX };
      this.queue = new Queue(QUEUE_NAME, connection);
      this.queue.on('error', (error) => logger?.debug({ error: String(error) }, 'queue error'));
      this.events = new QueueEvents(QUEUE_NAME, connection);
      this.events.on('error', (error) => logger?.debug({ error: String(error) }, 'queue events error'));
      this.events.on('completed', ({ jobId, returnvalue }) => this.onCompleted(jobId, returnvalue));
      this.events.on('failed', ({ jobId }) => {
        if (this.pending.has(jobId)) void this.settleFromRedis(jobId);
      });
      await Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
      await this.poll();
      this.timer = setInterval(() => void this.poll(), this.pollMs);
      this.timer.unref();
      logger?.info(
        { redis: redactUrl(this.url), session: this.sessionId },
        'evaluations go to the Redis queue',
      );
      if (this.currentCapacity === 0)
        logger?.info({}, 'waiting for the first worker (start one: funsearch worker --redis URL)');
    })();
    return this.starting;
  }

  run(job: SandboxJob, signal?: AbortSignal): Promise<Outcome> {
    return runOne(this, job, signal);
  }

  async runBatch(batch: SandboxBatchJob, signal?: AbortSignal): Promise<Outcome[]> {
    signal?.throwIfAborted();
    await this.start();
    if (this.closing) throw new InfrastructureError('queue sandbox closed');
    const sample = batch.id ?? `anon-${++this.anonymous}`;
    const built = buildJob(
      batch,
      { run: this.runId(), session: this.sessionId, sample },
      this.options.limits,
      this.options.preload,
    );
    // Too big or malformed for the queue: the candidate's own fault (a giant program), so data.
    if ('problem' in built) return [failure('crash', `not sent to the workers: ${built.problem}`, 0)];
    const jobId = jobIdOf(built.job);
    return new Promise<Outcome[]>((resolve, reject) => {
      let entry = this.pending.get(jobId);
      const isNew = entry === undefined;
      if (!entry) {
        entry = { job: built.job, waiters: new Set(), enqueuedAt: Date.now() };
        this.pending.set(jobId, entry);
      }
      const onAbort = () => {
        entry.waiters.delete(waiter);
        if (entry.waiters.size === 0 && this.pending.get(jobId) === entry) {
          this.pending.delete(jobId);
          // A job nobody waits for: drop it if no worker took it yet (a running one finishes unheard).
          void this.queue?.remove(jobId).catch(() => undefined);
        }
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        resolve: (outcomes) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(outcomes);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      entry.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (isNew) {
        this.enqueue(jobId, built.job).catch((error) => this.settle(jobId, { error }));
      }
    });
  }

  status(): SandboxStatus {
    const now = Date.now();
    const records = [...this.workers.values()];
    const total = records.reduce((n, r) => n + r.evaluations, 0);
    const workers: SandboxWorkerStatus[] = records
      .filter((r) => r.live || r.evaluations > 0)
      .map((r) => {
        const minutes = Math.max((r.live ? now : r.lastSeen) - r.firstSeen, 1000) / 60_000;
        return {
          id: r.heartbeat.id,
          host: r.heartbeat.host,
          sandbox: r.heartbeat.sandbox,
          concurrency: r.heartbeat.concurrency,
          busy: r.live ? r.heartbeat.busy : 0,
          live: r.live,
          evaluations: r.evaluations,
          perMinute: r.evaluations / minutes,
          share: total === 0 ? 0 : r.evaluations / total,
        };
      });
    return { kind: this.kind, capacity: this.currentCapacity, inFlight: this.pending.size, workers };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      await withinMs(CLOSE_TIDY_MS, this.starting);
      const left = [...this.pending.keys()];
      for (const jobId of left)
        this.settle(jobId, { error: new InfrastructureError('queue sandbox closed') });
      // Bounded: with Redis away these would wait for it forever.
      await withinMs(
        CLOSE_TIDY_MS,
        (async () => {
          // Jobs still waiting would only cost workers time (running ones finish unheard).
          await Promise.allSettled(left.map((jobId) => this.queue?.remove(jobId)));
          // The run stays claimed by this session for a while, so older sessions' leftovers stay stale.
          await this.redis?.set(
            redisKeys.runSession(this.runId()),
            this.sessionId,
            'PX',
            CLOSED_SESSION_TTL_MS,
          );
        })(),
      );
      await withinMs(CLOSE_TIDY_MS, Promise.allSettled([this.events?.close(), this.queue?.close()]));
      this.redis?.disconnect();
    })();
    return this.closing;
  }

  private runId(): string {
    const { runId } = this.options;
    return (typeof runId === 'string' ? runId : runId()) ?? `new-${this.sessionId}`;
  }

  private async enqueue(jobId: string, job: EvaluationJob): Promise<void> {
    await this.queue!.add('evaluate', job, {
      jobId,
      attempts: this.options.attempts ?? 3,
      backoff: { type: 'fixed', delay: 1000 },
      removeOnComplete: { age: 600, count: 5000 },
      removeOnFail: { age: 600, count: 5000 },
    });
  }

  private onCompleted(jobId: string, value: unknown): void {
    const entry = this.pending.get(jobId);
    if (!entry) return;
    const result = parseResult(value, entry.job.testInputs.length);
    if ('problem' in result) {
      this.options.logger?.error({ jobId, problem: result.problem }, 'a worker returned an invalid result');
      this.settle(jobId, {
        outcomes: [failure('crash', `invalid result from a worker: ${result.problem}`, 0)],
      });
      return;
    }
    this.credit(result.worker);
    this.settle(jobId, { outcomes: result.outcomes });
  }

  /** A finished job whose answer we read from Redis (a failed job, or a completion event we missed). */
  private async settleFromRedis(jobId: string): Promise<void> {
    let job: Job | undefined;
    try {
      job = await this.queue!.getJob(jobId);
    } catch {
      return; // the next reconcile tries again
    }
    if (!job || !this.pending.has(jobId)) return;
    if (job.finishedOn && !job.failedReason) {
      this.onCompleted(jobId, job.returnvalue);
      return;
    }
    if (!job.failedReason) return;
    const reason = job.failedReason.slice(0, REASON_CHARS);
    // Stalls are counted by BullMQ when a worker stops renewing a job's lock: it died running it.
    this.settle(jobId, {
      outcomes: [
        failure(
          'crash',
          job.stalledCounter > 0
            ? `its worker died each time it ran it (${job.stalledCounter} stalls; BullMQ: ${reason})`
            : `the workers could not evaluate it after ${job.attemptsMade} attempts: ${reason}`,
          0,
        ),
      ],
    });
  }

  private settle(jobId: string, result: { outcomes: Outcome[] } | { error: unknown }): void {
    const entry = this.pending.get(jobId);
    if (!entry) return;
    this.pending.delete(jobId);
    for (const waiter of entry.waiters) {
      if ('outcomes' in result) waiter.resolve(result.outcomes);
      else waiter.reject(result.error);
    }
  }

  private credit(workerId: string): void {
    const record = this.workers.get(workerId);
    if (record) record.evaluations += 1;
    else {
      // A worker that answered before the registry saw it (or already gone): count it anyway.
      const now = Date.now();
      this.workers.set(workerId, {
        heartbeat: {
          id: workerId,
          host: '?',
          pid: 0,
          sandbox: '?',
          concurrency: 1,
          busy: 0,
          done: 0,
          startedAt: '',
        },
        live: false,
        firstSeen: now,
        lastSeen: now,
        evaluations: 1,
        missed: 0,
      });
    }
  }

  private async poll(): Promise<void> {
    if (this.polling || !this.queue || !this.redis) return;
    this.polling = true;
    try {
      await this.redis.set(redisKeys.runSession(this.runId()), this.sessionId, 'PX', SESSION_TTL_MS);
      const known = [...this.workers.values()].filter((r) => r.live).map((r) => r.heartbeat.id);
      const { listed, heartbeats } = await listWorkers(this.queue, this.redis, known);
      this.updateWorkers(listed, heartbeats);
      if (Date.now() - this.lastReconcile >= Math.max(this.pollMs, RECONCILE_AFTER_MS)) {
        this.lastReconcile = Date.now();
        await this.reconcile();
      }
    } catch (error) {
      this.options.logger?.debug({ error: String(error) }, 'queue poll failed');
    } finally {
      this.polling = false;
    }
  }

  private updateWorkers(listed: Set<string>, heartbeats: Map<string, WorkerHeartbeat>): void {
    const now = Date.now();
    for (const [id, heartbeat] of heartbeats) {
      const record = this.workers.get(id);
      const connected = listed.has(id);
      if (record?.live) {
        // Gone after two listings without its connection, or at once when its heartbeat is deleted.
        record.missed = connected ? 0 : record.missed + 1;
        Object.assign(record, { heartbeat, lastSeen: now });
        if (record.missed >= 2) this.markGone(record);
      } else if (connected) {
        if (record) {
          // Back after leaving, or first heard of through an answer that beat the listing.
          record.firstSeen = now - (record.lastSeen - record.firstSeen);
          Object.assign(record, { heartbeat, live: true, lastSeen: now, missed: 0 });
        } else {
          this.workers.set(id, {
            heartbeat,
            live: true,
            firstSeen: now,
            lastSeen: now,
            evaluations: 0,
            missed: 0,
          });
        }
        this.options.logger?.info(
          { worker: id, concurrency: heartbeat.concurrency, sandbox: heartbeat.sandbox },
          'a worker joined',
        );
      }
    }
    for (const record of this.workers.values()) {
      if (record.live && !heartbeats.has(record.heartbeat.id)) this.markGone(record);
    }
    const capacity = [...this.workers.values()]
      .filter((r) => r.live)
      .reduce((n, r) => n + r.heartbeat.concurrency, 0);
    if (capacity !== this.currentCapacity) {
      this.currentCapacity = capacity;
      for (const listener of [...this.listeners]) listener(capacity);
    }
  }

  private markGone(record: WorkerRecord): void {
    record.live = false;
    this.options.logger?.info({ worker: record.heartbeat.id }, 'a worker left');
  }

  /** Finds pending jobs that Redis lost (enqueues them again) or answered without us hearing. */
  private async reconcile(): Promise<void> {
    const now = Date.now();
    const old = [...this.pending.entries()].filter(([, p]) => now - p.enqueuedAt >= RECONCILE_AFTER_MS);
    await Promise.all(
      old.map(async ([jobId, entry]) => {
        const state = await this.queue!.getJobState(jobId);
        if (!this.pending.has(jobId)) return;
        if (state === 'unknown') {
          this.requeued += 1;
          this.options.logger?.warn({ jobId }, 'Redis lost a job in flight (restart?): enqueuing it again');
          await this.enqueue(jobId, entry.job);
        } else if (state === 'completed' || state === 'failed') {
          await this.settleFromRedis(jobId);
        }
      }),
    );
  }
}

/** A run's id for the queue: its directory's name, made unique across hosts and paths. */
export function runIdOf(runDir: string, host: string): string {
  const name = runDir.split(/[\\/]/).filter(Boolean).at(-1) ?? 'run';
  let hash = 0;
  for (const char of `${host}:${runDir}`) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0;
  return `${name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100)}-${hash.toString(36)}`;
}
