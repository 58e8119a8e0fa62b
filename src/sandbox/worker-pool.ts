/**
 * A fixed-size pool of warm harnesses shared by both sandboxes: jobs queue for a free worker,
 * a worker whose harness died, went silent or could not clean up is destroyed and replaced,
 * and every pool registers in a process-wide registry so a signal handler can close them all.
 */
import { InfrastructureError } from '../errors.js';
import type { HarnessConnection, HarnessEvent } from './protocol.js';
import type { Outcome, OutcomeKind, SandboxBatchJob, SandboxLogger } from './sandbox.js';
import { failure, toOutcome } from './score.js';

/** One warm harness: a container running it, or a host process. */
export interface HarnessWorker {
  /** Short name for log lines (container id or pid). */
  readonly name: string;
  readonly connection: HarnessConnection;
  /** After the harness vanished mid-job: what most likely ended it. */
  diagnoseDeath(): Promise<{ kind: Exclude<OutcomeKind, 'ok'>; reason: string }>;
  /** Kills and removes everything behind the worker. Idempotent. */
  destroy(): Promise<void>;
}

export interface WorkerPoolOptions {
  size: number;
  createWorker: () => Promise<HarnessWorker>;
  logger?: SandboxLogger | undefined;
  /**
   * Grace beyond an input's timeout before the host declares a harness unresponsive and kills
   * its worker (the harness enforces the timeout itself; this only catches a stuck harness).
   */
  answerMarginMs?: number | undefined;
}

export const DEFAULT_ANSWER_MARGIN_MS = 10_000;

interface Waiter {
  resolve: (worker: HarnessWorker) => void;
  reject: (error: unknown) => void;
}

/** Checks a batch eagerly: these are programming errors of the caller, not candidate failures. */
export function checkBatch(job: SandboxBatchJob): void {
  const { timeoutSeconds, testInputs } = job;
  if (typeof timeoutSeconds !== 'number' || !Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new TypeError(`Expected \`timeoutSeconds\` to be a finite number > 0, got \`${timeoutSeconds}\``);
  }
  if (!Array.isArray(testInputs) || testInputs.length === 0 || testInputs.some((t) => typeof t !== 'string')) {
    throw new TypeError('Expected `testInputs` to be a non-empty array of strings');
  }
  if (typeof job.program !== 'string' || typeof job.functionToRun !== 'string' || !job.functionToRun) {
    throw new TypeError('Expected `program` and `functionToRun` to be strings');
  }
}

export class WorkerPool {
  private readonly idle: HarnessWorker[] = [];
  private readonly busy = new Set<HarnessWorker>();
  private readonly waiters: Waiter[] = [];
  private readonly creating = new Set<Promise<unknown>>();
  private readonly margin: number;
  private nextJobId = 0;
  private closed = false;
  private broken: Error | undefined;
  private lost = 0;

  constructor(private readonly options: WorkerPoolOptions) {
    this.margin = options.answerMarginMs ?? DEFAULT_ANSWER_MARGIN_MS;
  }

  get size(): number {
    return this.options.size;
  }

  /** Workers alive right now (idle or busy). */
  get liveWorkers(): number {
    return this.idle.length + this.busy.size;
  }

  async start(): Promise<void> {
    const results = await Promise.allSettled(Array.from({ length: this.options.size }, () => this.spawn()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.close();
      throw failed.reason;
    }
    for (const r of results) if (r.status === 'fulfilled') this.release(r.value);
  }

  async runBatch(job: SandboxBatchJob, signal?: AbortSignal): Promise<Outcome[]> {
    checkBatch(job);
    signal?.throwIfAborted();
    const worker = await this.acquire(signal);
    return this.execute(worker, job, signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    const error = new InfrastructureError('sandbox closed');
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    await Promise.allSettled([...this.creating]);
    const workers = [...this.idle.splice(0), ...this.busy];
    this.busy.clear();
    await Promise.allSettled(workers.map((w) => w.destroy()));
  }

  private async spawn(): Promise<HarnessWorker> {
    const creation = this.options.createWorker();
    this.creating.add(creation);
    try {
      const worker = await creation;
      if (this.closed) {
        await worker.destroy();
        throw new InfrastructureError('sandbox closed');
      }
      // A worker that dies while idle is replaced before a candidate could be blamed for it.
      void worker.connection.closed.then((reason) => {
        const at = this.idle.indexOf(worker);
        if (at < 0 || this.closed) return;
        this.idle.splice(at, 1);
        this.replace(worker, reason);
      });
      return worker;
    } finally {
      this.creating.delete(creation);
    }
  }

  private acquire(signal?: AbortSignal): Promise<HarnessWorker> {
    if (this.closed) return Promise.reject(new InfrastructureError('sandbox closed'));
    if (this.broken) return Promise.reject(this.broken);
    const worker = this.idle.pop();
    if (worker) {
      this.busy.add(worker);
      return Promise.resolve(worker);
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve: (w) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(w);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private release(worker: HarnessWorker): void {
    this.busy.delete(worker);
    if (this.closed) {
      void worker.destroy();
      return;
    }
    if (worker.connection.isClosed) {
      this.replace(worker, 'the harness ended between jobs');
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      this.busy.add(worker);
      waiter.resolve(worker);
    } else {
      this.idle.push(worker);
    }
  }

  /** Destroys a worker and starts its successor; without successors the queue fails. */
  private replace(worker: HarnessWorker, why: string): void {
    this.busy.delete(worker);
    this.options.logger?.warn({ worker: worker.name, reason: why }, 'replacing sandbox worker');
    const successor = worker
      .destroy()
      .catch((error) => this.options.logger?.error({ worker: worker.name, err: error }, 'destroy failed'))
      .then(() => this.spawn());
    successor.then(
      (next) => this.release(next),
      (error) => {
        if (this.closed) return;
        this.lost += 1;
        this.options.logger?.error({ err: error }, 'could not replace a sandbox worker');
        if (this.lost >= this.options.size) {
          this.broken =
            error instanceof Error ? error : new InfrastructureError(`sandbox worker failed: ${String(error)}`);
          for (const waiter of this.waiters.splice(0)) waiter.reject(this.broken);
        }
      },
    );
  }

  private execute(worker: HarnessWorker, job: SandboxBatchJob, signal?: AbortSignal): Promise<Outcome[]> {
    const id = ++this.nextJobId;
    const connection = worker.connection;
    const outcomes: Outcome[] = [];
    const silenceMs = job.timeoutSeconds * 1000 + this.margin;
    let lastProgress = performance.now();
    let settled = false;
    let finished = false; // the worker was released or replaced
    let timer: NodeJS.Timeout | undefined;

    return new Promise<Outcome[]>((resolve, reject) => {
      const complete = () => outcomes.length === job.testInputs.length || outcomes.at(-1)?.kind !== 'ok';
      const settle = (error?: unknown) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (error !== undefined) reject(error);
        else if (signal?.aborted) reject(signal.reason);
        else resolve(outcomes);
      };
      const finish = (replaceBecause?: string) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        connection.setListener(undefined);
        if (replaceBecause !== undefined) this.replace(worker, replaceBecause);
        else this.release(worker);
      };
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(onSilence, silenceMs);
      };
      const elapsed = () => Math.round(performance.now() - lastProgress);
      const onSilence = () => {
        const reason = `the sandbox stopped answering (nothing within ${silenceMs / 1000} s)`;
        if (!settled && !signal?.aborted) outcomes.push(failure('timeout', reason, elapsed()));
        settle();
        finish(reason);
      };
      const onAbort = () => connection.send({ type: 'cancel', id });
      const onEvent = (event: HarnessEvent) => {
        if (event.id !== id) return; // a late message of an earlier, abandoned job
        if (event.type === 'outcome') {
          if (event.index !== outcomes.length) {
            connection.breach(`outcome ${event.index} arrived, expected ${outcomes.length}`);
            return;
          }
          outcomes.push(toOutcome(event.outcome));
          lastProgress = performance.now();
          arm();
          if (complete()) settle(); // answer now; the worker is free once the harness cleaned up
          return;
        }
        if (!event.clean) this.options.logger?.warn({ worker: worker.name }, 'harness could not clean up');
        settle();
        finish(event.clean ? undefined : 'the harness could not remove every trace of the last candidate');
      };

      connection.setListener(onEvent);
      void connection.closed.then(async (reason) => {
        if (finished) return;
        if (this.closed) {
          settle(new InfrastructureError('sandbox closed while a job was running'));
          finish();
          return;
        }
        if (!settled && !signal?.aborted) {
          const death = connection.violation
            ? { kind: 'crash' as const, reason: connection.violation }
            : await worker.diagnoseDeath().catch(() => ({ kind: 'crash' as const, reason }));
          outcomes.push(failure(death.kind, death.reason, elapsed()));
        }
        settle();
        finish(reason);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      arm();
      connection.send({
        type: 'job',
        id,
        program: job.program,
        function: job.functionToRun,
        inputs: job.testInputs,
        timeout: job.timeoutSeconds,
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Process-wide registry, so one signal handler can release every container and process.

interface Closable {
  close(): Promise<void>;
}
const openSandboxes = new Set<Closable>();

export function registerSandbox(sandbox: Closable): void {
  openSandboxes.add(sandbox);
}

export function unregisterSandbox(sandbox: Closable): void {
  openSandboxes.delete(sandbox);
}

/** Closes every sandbox still open in this process (for SIGINT/SIGTERM handlers). Never rejects. */
export async function closeAllSandboxes(): Promise<void> {
  await Promise.allSettled([...openSandboxes].map((s) => s.close()));
}
