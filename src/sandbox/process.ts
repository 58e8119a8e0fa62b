/**
 * The process sandbox (`--sandbox process`), for hosts without Docker: the same harness runs
 * on the host's python3 and forks a child per candidate with CPU, address-space, file-size and
 * process-count limits, its own process group (killed on timeout), a scrubbed environment and
 * a private temporary directory. It limits resources; it does not isolate: a candidate can
 * read what the host user can read.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '../pid-alive.js';
import { LocalHarnessSandbox, type LocalSandboxOptions, startHarnessProcess } from './harness-process.js';
import { harnessCommand, PYTHON_NOT_FOUND } from './protocol.js';
import { pythonExecutable } from './python-install.js';
import type { HarnessWorker } from './worker-pool.js';

export const PROCESS_SANDBOX_WARNING =
  'the process sandbox is not a security boundary: candidates run as host processes of this user, ' +
  'with resource limits and a scrubbed environment but no filesystem or network isolation; ' +
  'use the Docker sandbox for untrusted code';

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

export interface ProcessSandboxOptions extends LocalSandboxOptions {
  /** Interpreter to run; default `python3` from PATH. */
  python?: string | undefined;
}

export class ProcessSandbox extends LocalHarnessSandbox {
  readonly kind = 'process' as const;
  readonly warning = PROCESS_SANDBOX_WARNING;

  /** The interpreter's real executable once found; until then (or if not found) the name given. */
  private python: string;

  constructor(private readonly options: ProcessSandboxOptions) {
    super(options);
    this.python = options.python ?? 'python3';
  }

  protected async prepare(): Promise<void> {
    sweepProcessLeftovers();
    this.python = await pythonExecutable(this.python);
  }

  protected createWorker(): Promise<HarnessWorker> {
    const dir = mkdtempSync(join(tmpdir(), `${WORKDIR_PREFIX}${process.pid}-`));
    const [, ...args] = harnessCommand('process', this.options.config.sandbox, {
      workRoot: dir,
      preload: this.options.preload,
    });
    return startHarnessProcess(
      {
        argv: [this.python, ...args],
        env: scrubbedEnv(dir),
        cwd: dir,
        label: "the process sandbox's python3 harness",
        notFound: PYTHON_NOT_FOUND,
        afterExit: () => rmSync(dir, { recursive: true, force: true }),
        preload: this.options.preload,
        readyTimeoutMs: this.options.readyTimeoutMs,
      },
      this.options.logger,
    );
  }
}
