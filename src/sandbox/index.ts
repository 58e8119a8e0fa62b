import { BwrapSandbox } from './bwrap.js';
import { DockerSandbox, type DockerSandboxOptions } from './docker-pool.js';
import { ProcessSandbox } from './process.js';
import type { Sandbox } from './sandbox.js';

/** The Docker sandbox's options, plus which sandbox; the process and bwrap sandboxes use `config`, `logger`, `poolSize` and `answerMarginMs`. */
export type CreateSandboxOptions = DockerSandboxOptions & { kind: 'docker' | 'process' | 'bwrap' };

/**
 * Creates a sandbox; nothing starts until `start()` (or the first run). The process sandbox
 * carries a `warning` for the CLI to print: it is no security boundary.
 */
export function createSandbox(options: CreateSandboxOptions): Sandbox {
  if (options.kind === 'docker') return new DockerSandbox(options);
  const local = {
    config: options.config,
    logger: options.logger,
    poolSize: options.poolSize,
    answerMarginMs: options.answerMarginMs,
    preload: options.preload,
  };
  return options.kind === 'bwrap' ? new BwrapSandbox(local) : new ProcessSandbox(local);
}

export { BwrapSandbox } from './bwrap.js';
export { type BwrapProbe, bubblewrapProbe, probeBubblewrap, requireBubblewrap } from './bwrap-probe.js';
export { DockerClient } from './docker-client.js';
export {
  type BuildImageOptions,
  buildImage,
  DEFAULT_BASE_IMAGE,
  OFFLINE_BASE_IMAGE,
} from './docker-image.js';
export { DockerSandbox, poolSize, sweepLeftovers } from './docker-pool.js';
export { PROCESS_SANDBOX_WARNING, ProcessSandbox } from './process.js';
export type { Outcome, OutcomeKind, Sandbox, SandboxBatchJob, SandboxJob } from './sandbox.js';
export { OUTCOME_KINDS } from './sandbox.js';
export { MAX_EXACT_INT } from './score.js';
export { closeAllSandboxes } from './worker-pool.js';
export {
  checkWorkerSandbox,
  UNSAFE_WORKER_STATUS,
  UNSAFE_WORKER_WARNING,
  type WorkerSandboxCheck,
} from './worker-safety.js';
