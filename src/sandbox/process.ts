/**
 * The process sandbox (`--sandbox process`), for hosts without Docker: the same harness runs
 * on the host's python3 and forks a child per candidate with CPU, address-space, file-size and
 * process-count limits, its own process group (killed on timeout), a scrubbed environment and
 * a private temporary directory. It limits resources; it does not isolate: a candidate can
 * read what the host user can read.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config, SandboxConfig } from '../config.js';
import { InfrastructureError, UserError } from '../errors.js';
import { availableCpus, pidAlive, poolSize } from './docker-pool.js';
import { HarnessConnection, harnessCommand } from './protocol.js';
import {
  type Outcome,
  runOne,
  type Sandbox,
  type SandboxBatchJob,
  type SandboxJob,
  type SandboxLogger,
} from './sandbox.js';
import { type HarnessWorker, registerSandbox, unregisterSandbox, WorkerPool } from './worker-pool.js';

export const PROCESS_SANDBOX_WARNING =
  'the process sandbox is not a security boundary: candidates run as host processes of this user, ' +
  'with resource limits and a scrubbed environment but no filesystem or network isolation; ' +
  'use the Docker sandbox for untrusted code';

const READY_TIMEOUT_MS = 60_000;
/** Work directories are named `<prefix><owner pid>-<random>`, so those of dead owners can be swept. */
const WORKDIR_PREFIX = 'funsearch-sandbox-';

/** Removes work directories left by process sandboxes whose host process died without close(). */
export function sweepProcessLeftovers(root = tmpdir()): number {
  let removed = 0;
  for (const name of readdirSync(root)) {
    const owner = Number(new RegExp(`^${WORKDIR_PREFIX}(\\d+)-`).exec(name)?.[1]);
    if (!owner || pidAlive(owner)) continue;
    rmSync(join(root, name), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

/** Only these variables reach the harness and the candidates. */
export function scrubbedEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: home,
    TMPDIR: home,
  };
}

function exitDescription(child: ChildProcess): string {
  if (child.signalCode) return `killed by ${child.signalCode}`;
  if (child.exitCode !== null) return `exit status ${child.exitCode}`;
  return 'still running';
}

export async function startProcessWorker(options: {
  sandbox: SandboxConfig;
  logger?: SandboxLogger | undefined;
  python?: string | undefined;
}): Promise<HarnessWorker> {
  const dir = mkdtempSync(join(tmpdir(), `${WORKDIR_PREFIX}${process.pid}-`));
  const [python, ...args] = harnessCommand('process', options.sandbox, { workRoot: dir });
  const child = spawn(options.python ?? python!, args, {
    cwd: dir,
    env: scrubbedEnv(dir),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const name = `pid ${child.pid ?? '?'}`;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const connection = new HarnessConnection(child.stdin!, child.stdout!, child.stderr!, name, options.logger);
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once('error', (error: NodeJS.ErrnoException) => {
    spawnError = error;
    connection.shutDown(`could not start python3: ${error.message}`);
  });
  child.once('exit', () => connection.shutDown(`the harness exited (${exitDescription(child)})`));
  let destroyed: Promise<void> | undefined;
  const destroy = () => {
    destroyed ??= (async () => {
      connection.shutDown('worker destroyed');
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    })();
    return destroyed;
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      connection.ready,
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new InfrastructureError(`python3 harness not ready within ${READY_TIMEOUT_MS / 1000} s`)),
          READY_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (error) {
    await destroy();
    if (spawnError?.code === 'ENOENT') {
      throw new UserError('python3 not found on PATH: install Python 3 with numpy, or use --sandbox docker');
    }
    const last = connection.harnessStderr.trim().split('\n').at(-1);
    throw new InfrastructureError(
      `the process sandbox's python3 harness did not start: ${(error as Error).message}${last ? ` — ${last}` : ''}`,
    );
  } finally {
    clearTimeout(timer);
  }
  return {
    name,
    connection,
    async diagnoseDeath() {
      await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
      const last = connection.harnessStderr.trim().split('\n').at(-1);
      return {
        kind: 'crash',
        reason: `the sandbox harness died (${exitDescription(child)})${last ? `: ${last}` : ''}`,
      };
    },
    destroy,
  };
}

export interface ProcessSandboxOptions {
  config: Config;
  logger?: SandboxLogger | undefined;
  poolSize?: number | undefined;
  answerMarginMs?: number | undefined;
  /** Interpreter to run; default `python3` from PATH. */
  python?: string | undefined;
}

export class ProcessSandbox implements Sandbox {
  readonly kind = 'process' as const;
  readonly warning = PROCESS_SANDBOX_WARNING;
  private readonly pool: WorkerPool;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: ProcessSandboxOptions) {
    this.pool = new WorkerPool({
      size: options.poolSize ?? poolSize(options.config.num_evaluators, availableCpus()),
      logger: options.logger,
      answerMarginMs: options.answerMarginMs,
      createWorker: () =>
        startProcessWorker({
          sandbox: options.config.sandbox,
          logger: options.logger,
          python: options.python,
        }),
    });
  }

  get capacity(): number {
    return this.pool.size;
  }

  start(): Promise<void> {
    this.starting ??= (async () => {
      if (this.closing) throw new InfrastructureError('sandbox closed');
      registerSandbox(this);
      try {
        sweepProcessLeftovers();
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
