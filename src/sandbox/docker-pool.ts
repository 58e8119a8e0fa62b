/**
 * The Docker sandbox: a pool of long-lived, locked-down containers, each running one warm
 * harness (harness.py via `docker exec`) that forks a fresh child per candidate.
 *
 * Two users per container: the container's own user (65534, running docker-init and an idle
 * `sleep`) and the harness user (65533, running the harness, its fork server and every
 * candidate). Candidates can therefore neither signal nor open the /proc entries of pid 1, whose
 * stdio is the container's, and the harness can check that no process of its uid but itself and
 * its fork server is left after a candidate.
 */

import { randomUUID } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import type Docker from 'dockerode';
import type { Config, SandboxConfig } from '../config.js';
import { InfrastructureError } from '../errors.js';
import type { Logger } from '../logger.js';
import { pidAlive } from '../pid-alive.js';
import { DockerClient, shortId } from './docker-client.js';
import { ensureImage } from './docker-image.js';
import { HarnessConnection, harnessCommand, notReadyReason, READY_TIMEOUT_MS } from './protocol.js';
import { type Outcome, runOne, type Sandbox, type SandboxBatchJob, type SandboxJob } from './sandbox.js';
import { type HarnessWorker, registerSandbox, unregisterSandbox, WorkerPool } from './worker-pool.js';

export const LABEL_RUN = 'funsearch.run';
export const LABEL_PID = 'funsearch.pid';
export const LABEL_HOST = 'funsearch.host';
/** User of docker-init and the idle main process. */
export const CONTAINER_USER = '65534:65534';
/** User of the harness and the candidates (see the module comment). */
export const HARNESS_USER = '65533:65533';
const MiB = 1024 * 1024;

/** Pool size: `min(num_evaluators, availableParallelism())`, at least 1. */
export function poolSize(numEvaluators: number, cpus: number): number {
  return Math.max(1, Math.min(numEvaluators, cpus));
}

/** The create options of one sandbox container: every limit of `config.sandbox` applied. */
export function containerOptions(options: {
  image: string;
  sandbox: SandboxConfig;
  sessionId: string;
}): Docker.ContainerCreateOptions {
  const { sandbox } = options;
  const memory = sandbox.memory_mb * MiB;
  return {
    Image: options.image,
    // The main process only keeps the container alive; the harness arrives by exec.
    Entrypoint: ['sleep'],
    Cmd: ['infinity'],
    User: CONTAINER_USER,
    Env: [], // nothing from the host's environment (API tokens!) reaches a container
    WorkingDir: '/tmp',
    NetworkDisabled: true,
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    StopTimeout: 1,
    Labels: {
      [LABEL_RUN]: options.sessionId,
      [LABEL_PID]: String(process.pid),
      [LABEL_HOST]: hostname(),
    },
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,noexec,nosuid,nodev,size=${sandbox.tmpfs_mb}m` },
      Memory: memory,
      MemorySwap: memory, // equal: no swap beyond the memory limit
      PidsLimit: sandbox.pids_limit,
      NanoCpus: Math.round(sandbox.cpus * 1e9),
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Init: true,
      LogConfig: { Type: 'none', Config: {} },
      IpcMode: 'none', // own IPC namespace and no /dev/shm to leave files in
      Privileged: false,
      AutoRemove: false,
      Ulimits: [{ Name: 'core', Soft: 0, Hard: 0 }],
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InfrastructureError(message())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Starts one container with its harness; on any failure the container is removed. */
export async function startDockerWorker(
  client: DockerClient,
  options: {
    image: string;
    sandbox: SandboxConfig;
    sessionId: string;
    logger?: Logger | undefined;
    preload?: readonly string[] | undefined;
  },
): Promise<HarnessWorker> {
  const id = await client.createAndStart(containerOptions(options));
  const name = shortId(id);
  let detach: (() => void) | undefined;
  try {
    const streams = await client.exec(id, {
      cmd: harnessCommand('container', options.sandbox, { preload: options.preload }),
      user: HARNESS_USER,
      workingDir: '/tmp',
    });
    detach = streams.detach;
    const connection = new HarnessConnection(
      streams.stdin,
      streams.stdout,
      streams.stderr,
      name,
      options.logger,
    );
    await withTimeout(
      connection.ready.catch((error: Error) => {
        throw new InfrastructureError(
          `sandbox harness did not start in container ${name}: ${error.message}${connection.lastStderrSuffix}`,
        );
      }),
      READY_TIMEOUT_MS,
      () =>
        `sandbox harness in container ${name} did not start: ${notReadyReason(READY_TIMEOUT_MS, options.preload)}${connection.lastStderrSuffix}`,
    );
    options.logger?.debug({ container: name }, 'sandbox worker ready');
    let destroyed: Promise<void> | undefined;
    return {
      name,
      connection,
      async diagnoseDeath() {
        const info = await client.inspect(id).catch(() => undefined);
        if (info?.State?.OOMKilled) {
          return { kind: 'memory', reason: 'the container ran out of memory and its harness was killed' };
        }
        const last = connection.lastStderrLine;
        return { kind: 'crash', reason: `the sandbox harness died${last ? ` (${last})` : ''}` };
      },
      destroy() {
        destroyed ??= (async () => {
          connection.shutDown('worker destroyed');
          await client.remove(id);
          streams.detach();
        })();
        return destroyed;
      },
    };
  } catch (error) {
    detach?.();
    await client.remove(id).catch(() => {});
    throw error;
  }
}

/**
 * Whether a labelled container belongs to a dead session: its creating process (same host) is
 * gone, or its labels are not ours at all. Containers of another host's session are left alone.
 */
export function isLeftover(
  labels: Record<string, string>,
  here: { host: string; alive: (pid: number) => boolean } = { host: hostname(), alive: pidAlive },
): boolean {
  const pid = Number(labels[LABEL_PID]);
  const host = labels[LABEL_HOST];
  if (!Number.isInteger(pid) || pid <= 0 || !host) return true;
  if (host !== here.host) return false;
  return !here.alive(pid);
}

/**
 * Removes containers left by sessions whose process is gone (a crash, a kill -9). `session`
 * additionally removes every container of that session id, dead or alive. Resolves with the
 * number removed.
 */
export async function sweepLeftovers(
  options: {
    docker?: Docker | DockerClient | undefined;
    logger?: Logger | undefined;
    session?: string | undefined;
  } = {},
): Promise<number> {
  const client =
    options.docker instanceof DockerClient
      ? options.docker
      : new DockerClient({ docker: options.docker, logger: options.logger });
  const containers = await client.listByLabel(LABEL_RUN);
  let removed = 0;
  for (const container of containers) {
    const labels = container.Labels ?? {};
    if (labels[LABEL_RUN] !== options.session && !isLeftover(labels)) continue;
    await client.remove(container.Id);
    options.logger?.info({ container: shortId(container.Id), session: labels[LABEL_RUN] }, 'swept');
    removed += 1;
  }
  return removed;
}

export interface DockerSandboxOptions {
  config: Config;
  logger?: Logger | undefined;
  /** Progress lines of an image build (the image is built when `config.docker_image` is missing). */
  onProgress?: ((line: string) => void) | undefined;
  docker?: Docker | undefined;
  /** Label value marking this session's containers; default a random UUID. */
  sessionId?: string | undefined;
  /** BASE_IMAGE for an automatic image build. */
  baseImage?: string | undefined;
  /** Overrides the pool size rule (see poolSize). */
  poolSize?: number | undefined;
  /** See WorkerPoolOptions.answerMarginMs. */
  answerMarginMs?: number | undefined;
  /** Modules each harness imports once, before forking candidates (a spec's `imports`); default numpy. */
  preload?: readonly string[] | undefined;
}

export class DockerSandbox implements Sandbox {
  readonly kind = 'docker' as const;
  readonly sessionId: string;
  private readonly client: DockerClient;
  private readonly size: number;
  private pool: WorkerPool | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: DockerSandboxOptions) {
    this.sessionId = options.sessionId ?? randomUUID();
    this.client = new DockerClient({ docker: options.docker, logger: options.logger });
    this.size = options.poolSize ?? poolSize(options.config.num_evaluators, availableCpus());
  }

  get capacity(): number {
    return this.size;
  }

  /** The engine client (for tests and tools that inspect this sandbox's containers). */
  get docker(): Docker {
    return this.client.docker;
  }

  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  run(job: SandboxJob, signal?: AbortSignal): Promise<Outcome> {
    return runOne(this, job, signal);
  }

  async runBatch(job: SandboxBatchJob, signal?: AbortSignal): Promise<Outcome[]> {
    await this.start();
    if (!this.pool) throw new InfrastructureError('sandbox closed');
    return this.pool.runBatch(job, signal);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      unregisterSandbox(this);
      await this.starting?.catch(() => {});
      await this.pool?.close();
      // Belt and braces: anything of this session that escaped the pool's bookkeeping.
      // Without a pool nothing was started, so a failing sweep (an engine never reached) is no news.
      const started = this.pool !== undefined;
      await sweepLeftovers({ docker: this.client, session: this.sessionId }).catch((error) =>
        started
          ? this.options.logger?.warn({ err: error }, 'final sweep failed')
          : this.options.logger?.debug({ err: error }, 'final sweep failed'),
      );
    })();
    return this.closing;
  }

  private async doStart(): Promise<void> {
    registerSandbox(this);
    const { config, logger } = this.options;
    try {
      await this.client.ping();
      await ensureImage(this.client, config.docker_image, {
        baseImage: this.options.baseImage,
        onProgress: this.options.onProgress,
      });
      const swept = await sweepLeftovers({ docker: this.client, logger });
      if (swept > 0) logger?.info({ swept }, 'removed containers of dead sessions');
      if (this.closing) throw new InfrastructureError('sandbox closed');
      this.pool = new WorkerPool({
        size: this.size,
        logger,
        answerMarginMs: this.options.answerMarginMs,
        createWorker: () =>
          startDockerWorker(this.client, {
            image: config.docker_image,
            sandbox: config.sandbox,
            sessionId: this.sessionId,
            logger,
            preload: this.options.preload,
          }),
      });
      await this.pool.start();
      logger?.info({ workers: this.size, image: config.docker_image }, 'docker sandbox ready');
    } catch (error) {
      unregisterSandbox(this);
      await this.pool?.close();
      await sweepLeftovers({ docker: this.client, session: this.sessionId }).catch(() => 0);
      throw error;
    }
  }
}

/** CPUs this process may use (os.availableParallelism: honours affinity masks). */
export function availableCpus(): number {
  return availableParallelism();
}
