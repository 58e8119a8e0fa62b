/** The sandbox factory and the operations the CLI needs (image build, sweep, signal cleanup). */
import type Docker from 'dockerode';
import type { Config } from '../config.js';
import { DockerSandbox } from './docker-pool.js';
import { ProcessSandbox } from './process.js';
import type { Sandbox, SandboxLogger } from './sandbox.js';

export interface CreateSandboxOptions {
  kind: 'docker' | 'process';
  config: Config;
  logger?: SandboxLogger | undefined;
  /** Progress lines of an automatic image build (Docker only). */
  onProgress?: ((line: string) => void) | undefined;
  /** Docker only: engine client (default honours DOCKER_HOST), session label, base image of an automatic build. */
  docker?: Docker | undefined;
  sessionId?: string | undefined;
  baseImage?: string | undefined;
  /** Overrides `min(num_evaluators, os.availableParallelism())`. */
  poolSize?: number | undefined;
  /** Grace beyond a timeout before an unresponsive worker is replaced (default 10 s). */
  answerMarginMs?: number | undefined;
}

/**
 * Creates a sandbox; nothing starts until `start()` (or the first run). The process sandbox
 * carries a `warning` for the CLI to print: it is no security boundary.
 */
export function createSandbox(options: CreateSandboxOptions): Sandbox {
  if (options.kind === 'process') {
    return new ProcessSandbox({
      config: options.config,
      logger: options.logger,
      poolSize: options.poolSize,
      answerMarginMs: options.answerMarginMs,
    });
  }
  return new DockerSandbox(options);
}

export { DockerClient } from './docker-client.js';
export {
  type BuildImageOptions,
  buildImage,
  DEFAULT_BASE_IMAGE,
  OFFLINE_BASE_IMAGE,
} from './docker-image.js';
export { DockerSandbox, poolSize, sweepLeftovers } from './docker-pool.js';
export { PROCESS_SANDBOX_WARNING, ProcessSandbox } from './process.js';
export type { Outcome, OutcomeKind, Sandbox, SandboxBatchJob, SandboxJob, SandboxLogger } from './sandbox.js';
export { OUTCOME_KINDS } from './sandbox.js';
export { MAX_EXACT_INT } from './score.js';
export { closeAllSandboxes } from './worker-pool.js';
