/**
 * A fixed-size pool of warm harnesses shared by both sandboxes: jobs queue for a free worker,
 * a worker whose harness died, went silent or could not clean up is destroyed and replaced,
 * and every pool registers in a process-wide registry so a signal handler can close them all.
 */

import { InfrastructureError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { HarnessConnection, ResultMessage } from './protocol.js';
import type { Outcome, OutcomeKind, SandboxBatchJob } from './sandbox.js';
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
  logger?: Logger | undefined;
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
  if (
    !Array.isArray(testInputs) ||
    testInputs.length === 0 ||
    testInputs.some((t) => typeof t !== 'string')
  ) {
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
  private readonly replacing = new Set<Promise<unknown>>();
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
    await Promise.allSettled([...this.replacing, ...this.creating]);
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
    const settled = successor.then(
      (next) => this.release(next),
      (error) => {
        if (this.closed) return;
        this.lost += 1;
        this.options.logger?.error({ err: error }, 'could not replace a sandbox worker');
        if (this.lost >= this.options.size) {
          this.broken =
            error instanceof Error
              ? error
              : new InfrastructureError(`sandbox worker failed: ${String(error)}`);
          for (const waiter of this.waiters.splice(0)) waiter.reject(this.broken);
        }
      },
    );
    this.replacing.add(settled);
    void settled.finally(() => this.replacing.delete(settled));
  }

  private execute(worker: HarnessWorker, job: SandboxBatchJob, signal?: AbortSignal): Promise<Outcome[]> {
    const id = ++this.nextJobId;
    const connection = worker.connection;
    // The harness answers once per job, after all inputs and its cleanup.
    const silenceMs = job.testInputs.length * job.timeoutSeconds * 1000 + this.margin;
    const sent = performance.now();
    let finished = false; // settled, and the worker released or replaced
    let timer: NodeJS.Timeout | undefined;
    let stopWatchingClose: () => void = () => {};

    return new Promise<Outcome[]>((resolve, reject) => {
      const finish = (result: Outcome[] | { error: unknown }, replaceBecause?: string) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        stopWatchingClose();
        connection.setListener(undefined);
        if (replaceBecause !== undefined) this.replace(worker, replaceBecause);
        else this.release(worker);
        if (!Array.isArray(result)) reject(result.error);
        else if (signal?.aborted) reject(signal.reason);
        else resolve(result);
      };
      const elapsed = () => Math.round(performance.now() - sent);
      const onAbort = () => connection.send({ type: 'cancel', id });
      const onResult = (message: ResultMessage) => {
        if (message.id !== id) return; // a late answer to an earlier, abandoned job
        const outcomes = message.outcomes.map((wire) => toOutcome(wire, job.timeoutSeconds));
        const problem = message.cancelled
          ? undefined
          : resultProblem(message.outcomes, job.testInputs.length);
        if (problem !== undefined) {
          connection.breach(problem);
          return;
        }
        if (!message.clean) this.options.logger?.warn({ worker: worker.name }, 'harness could not clean up');
        finish(
          outcomes,
          message.clean ? undefined : 'the harness could not remove every trace of a candidate',
        );
      };

      timer = setTimeout(() => {
        const reason = `the sandbox stopped answering (nothing within ${silenceMs / 1000} s)`;
        finish([failure('timeout', reason, elapsed())], reason);
      }, silenceMs);
      connection.setListener(onResult);
      stopWatchingClose = connection.onClose(async (reason) => {
        if (finished) return;
        if (this.closed) {
          finish({ error: new InfrastructureError('sandbox closed while a job was running') });
          return;
        }
        const death = connection.violation
          ? { kind: 'crash' as const, reason: connection.violation }
          : await worker.diagnoseDeath().catch(() => ({ kind: 'crash' as const, reason }));
        finish([failure(death.kind, death.reason, elapsed())], reason);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      connection.send({
        type: 'job',
        id,
        program: job.program,
        function: job.functionToRun,
        inputs: job.testInputs,
        timeout: job.timeoutSeconds,
      });
      // Aborted before the job went out (while a worker was being taken): no abort event will come.
      if (signal?.aborted) onAbort();
    });
  }
}

/** Why a result cannot be the answer to a job of `inputs` inputs: it must stop exactly at its first failure. */
function resultProblem(outcomes: readonly { kind: string }[], inputs: number): string | undefined {
  if (outcomes.length === 0 || outcomes.length > inputs) {
    return `result with ${outcomes.length} outcomes for ${inputs} inputs`;
  }
  const firstFailure = outcomes.findIndex((o) => o.kind !== 'ok');
  const expected = firstFailure < 0 ? inputs : firstFailure + 1;
  return outcomes.length === expected ? undefined : `result does not stop at its first failure`;
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
