/**
 * What `funsearch worker` may run candidates in. A worker serves a shared queue: a candidate that
 * is not isolated could reach the queue's Redis and forge other jobs' results, so the process
 * sandbox needs an explicit flag there, and then warns at start and in every status line.
 */
import type { SandboxConfig } from '../config.js';
import { UserError } from '../errors.js';

export const UNSAFE_WORKER_WARNING =
  'UNSAFE: this worker runs candidates in the process sandbox (--unsafe-process-sandbox): they are ' +
  'not isolated from this host, its files or its network, and can reach the Redis queue and forge ' +
  "other jobs' results; use --sandbox docker or --sandbox bwrap";

/** The short form for the worker's status line. */
export const UNSAFE_WORKER_STATUS = 'UNSAFE: process sandbox';

export interface WorkerSandboxCheck {
  /** Printed once at start, when the sandbox is no security boundary. */
  warning?: string;
  /** Appended to each status line, when the sandbox is no security boundary. */
  status?: string;
}

/** Throws a UserError when a worker would run candidates unisolated without being told to. */
export function checkWorkerSandbox(
  kind: SandboxConfig['kind'],
  options: { unsafeProcessSandbox?: boolean | undefined } = {},
): WorkerSandboxCheck {
  if (kind !== 'process') return {};
  if (!options.unsafeProcessSandbox) {
    throw new UserError(
      'funsearch worker refuses --sandbox process: a worker serves a shared queue and its candidates would run ' +
        'unisolated; use --sandbox docker or --sandbox bwrap, or pass --unsafe-process-sandbox to accept the risk',
    );
  }
  return { warning: UNSAFE_WORKER_WARNING, status: UNSAFE_WORKER_STATUS };
}
