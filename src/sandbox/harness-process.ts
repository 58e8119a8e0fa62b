/**
 * Warm harnesses as host child processes, for the two sandboxes that run without Docker: the
 * process sandbox starts python3 directly, the bwrap sandbox starts it behind bubblewrap. This
 * module is the one place that spawns such a harness, waits for it to be ready, explains its
 * death and kills it; each sandbox only says which command line, environment and user.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { Config } from '../config.js';
import { InfrastructureError, UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { availableCpus, poolSize } from './docker-pool.js';
import { HarnessConnection, notReadyReason, READY_TIMEOUT_MS } from './protocol.js';
import { type Outcome, runOne, type Sandbox, type SandboxBatchJob, type SandboxJob } from './sandbox.js';
import { type HarnessWorker, registerSandbox, unregisterSandbox, WorkerPool } from './worker-pool.js';

export interface HarnessProcessSpec {
  /** The whole command line, program first. */
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Host user and group to start it as (only root may ask); default: this process's. */
  uid?: number | undefined;
  gid?: number | undefined;
  /** What errors call it, e.g. "the process sandbox's python3 harness". */
  label: string;
  /** The one-line remedy when `argv[0]` does not exist. */
  notFound: string;
  /** Runs once the process is gone (e.g. removes its host work directory). */
  afterExit?: (() => void) | undefined;
  /** Bytes the program reads from file descriptor 3 (bubblewrap's seccomp filter). */
  fd3?: Buffer | undefined;
  /** The modules it imports before it says ready (for the message when it does not). */
  preload?: readonly string[] | undefined;
  /** Default READY_TIMEOUT_MS. */
  readyTimeoutMs?: number | undefined;
}

function exitDescription(child: ChildProcess): string {
  if (child.signalCode) return `killed by ${child.signalCode}`;
  if (child.exitCode !== null) return `exit status ${child.exitCode}`;
  return 'still running';
}

/** Starts one harness process and resolves once it said `ready`; on failure nothing is left running. */
export async function startHarnessProcess(spec: HarnessProcessSpec, logger?: Logger): Promise<HarnessWorker> {
  const [command, ...args] = spec.argv;
  const child = spawn(command!, args, {
    cwd: spec.cwd,
    env: spec.env,
    uid: spec.uid,
    gid: spec.gid,
    stdio: ['pipe', 'pipe', 'pipe', ...(spec.fd3 ? ['pipe' as const] : [])],
  });
  if (spec.fd3) {
    const extra = child.stdio[3] as Writable;
    extra.on('error', () => {}); // the program may exit before reading it: its exit says why
    extra.end(spec.fd3);
  }
  const name = `pid ${child.pid ?? '?'}`;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const connection = new HarnessConnection(child.stdin!, child.stdout!, child.stderr!, name, logger);
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once('error', (error: NodeJS.ErrnoException) => {
    spawnError = error;
    connection.shutDown(`could not start ${command}: ${error.message}`);
  });
  child.once('exit', () => connection.shutDown(`the harness exited (${exitDescription(child)})`));
  let destroyed: Promise<void> | undefined;
  const destroy = () => {
    destroyed ??= (async () => {
      connection.shutDown('worker destroyed');
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      spec.afterExit?.();
    })();
    return destroyed;
  };
  let timer: NodeJS.Timeout | undefined;
  const readyTimeoutMs = spec.readyTimeoutMs ?? READY_TIMEOUT_MS;
  try {
    await Promise.race([
      connection.ready,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new InfrastructureError(notReadyReason(readyTimeoutMs, spec.preload))),
          readyTimeoutMs,
        );
      }),
    ]);
  } catch (error) {
    await destroy();
    if (spawnError?.code === 'ENOENT') throw new UserError(spec.notFound);
    throw new InfrastructureError(
      `${spec.label} did not start: ${(error as Error).message}${connection.lastStderrSuffix}`,
    );
  } finally {
    clearTimeout(timer);
  }
  return {
    name,
    connection,
    async diagnoseDeath() {
      await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
      const last = connection.lastStderrLine;
      return {
        kind: 'crash',
        reason: `the sandbox harness died (${exitDescription(child)})${last ? `: ${last}` : ''}`,
      };
    },
    destroy,
  };
}

export interface LocalSandboxOptions {
  config: Config;
  logger?: Logger | undefined;
  poolSize?: number | undefined;
  answerMarginMs?: number | undefined;
  /** Modules each harness imports once, before forking candidates (a spec's `imports`); default numpy. */
  preload?: readonly string[] | undefined;
  /** How long a harness may take to say ready; default READY_TIMEOUT_MS. */
  readyTimeoutMs?: number | undefined;
}

/**
 * A pool of host harness processes behind the Sandbox interface; subclasses give the kind, how
 * to start one worker and what to check or sweep once before the first.
 */
export abstract class LocalHarnessSandbox implements Sandbox {
  abstract readonly kind: 'process' | 'bwrap';
  private readonly pool: WorkerPool;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: LocalSandboxOptions) {
    this.pool = new WorkerPool({
      size: options.poolSize ?? poolSize(options.config.num_evaluators, availableCpus()),
      logger: options.logger,
      answerMarginMs: options.answerMarginMs,
      createWorker: () => this.createWorker(),
    });
  }

  protected abstract createWorker(): Promise<HarnessWorker>;
  /** Runs once, before the first worker starts. */
  protected abstract prepare(): Promise<void>;

  get capacity(): number {
    return this.pool.size;
  }

  start(): Promise<void> {
    this.starting ??= (async () => {
      if (this.closing) throw new InfrastructureError('sandbox closed');
      registerSandbox(this);
      try {
        await this.prepare();
        await this.pool.start();
      } catch (error) {
        unregisterSandbox(this);
        throw error;
      }
    })();
    return this.starting;
  }

  run(job: SandboxJob, signal?: AbortSignal): Promise<Outcome> {
    return runOne(this, job, signal);
  }

  async runBatch(job: SandboxBatchJob, signal?: AbortSignal): Promise<Outcome[]> {
    await this.start();
    return this.pool.runBatch(job, signal);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      unregisterSandbox(this);
      await this.starting?.catch(() => {});
      await this.pool.close();
    })();
    return this.closing;
  }
}
