/**
 * The one door to the Docker engine (dockerode, never the CLI). Every call is logged with the
 * container id it concerns, failures become InfrastructureError (UserError when no engine
 * answers at all), a container that fails to start is removed before the error is rethrown,
 * and removal is idempotent.
 */

import { createRequire } from 'node:module';
import { type Duplex, PassThrough, Readable, type Writable } from 'node:stream';
import type Docker from 'dockerode';
import { InfrastructureError, UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { bubblewrapProbe } from './bwrap-probe.js';

/** The remedy for an unreachable engine: bwrap is the isolated alternative where bubblewrap works. */
export function dockerUnreachableHint(bubblewrapWorks: boolean): string {
  const alternative = bubblewrapWorks
    ? '--sandbox bwrap (bubblewrap works here)'
    : '--sandbox process (not a security boundary)';
  return `start the Docker engine (dockerd) or set DOCKER_HOST, or use ${alternative}`;
}

interface DockerError extends Error {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
}

export interface ExecStreams {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Ends the attached connection (the process inside lives on until the container goes). */
  detach(): void;
}

export interface ExecOptions {
  cmd: string[];
  user: string;
  env?: string[];
  workingDir?: string;
}

/** First 12 characters, as `docker ps` shows an id. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}

function describe(error: unknown): string {
  const e = error as DockerError;
  const message = e?.json?.message ?? e?.message ?? String(error);
  return message.replace(/\s+/g, ' ').trim();
}

/** dockerode, loaded when a client is first made: a fifth of a second that the process and bwrap sandboxes and every other command do without. */
function dockerode(): typeof Docker {
  return createRequire(import.meta.url)('dockerode') as typeof Docker;
}

export class DockerClient {
  readonly docker: Docker;
  private readonly logger: Logger | undefined;

  /** `docker` defaults to `new Docker()`, which honours DOCKER_HOST (and DOCKER_TLS_VERIFY etc.). */
  constructor(options: { docker?: Docker | undefined; logger?: Logger | undefined } = {}) {
    this.docker = options.docker ?? new (dockerode())();
    this.logger = options.logger;
  }

  /** Throws UserError with a one-line remedy when no engine answers. */
  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (error) {
      const hint = dockerUnreachableHint((await bubblewrapProbe()).ok);
      throw new UserError(`Docker not reachable (${describe(error)}): ${hint}`);
    }
  }

  async imageExists(tag: string): Promise<boolean> {
    try {
      await this.docker.getImage(tag).inspect();
      return true;
    } catch (error) {
      if ((error as DockerError).statusCode === 404) return false;
      throw this.fault('inspect image', tag, error);
    }
  }

  async removeImage(tag: string): Promise<void> {
    try {
      await this.docker.getImage(tag).remove({ force: true });
      this.logger?.info({ image: tag }, 'image removed');
    } catch (error) {
      if ((error as DockerError).statusCode === 404) return;
      throw this.fault('remove image', tag, error);
    }
  }

  /**
   * Builds an image from a tar context. Resolves with the error line of a failed build (the
   * engine reports those in the stream, not as a status), or undefined on success.
   */
  async build(
    context: Buffer,
    options: { tag: string; buildArgs: Record<string, string> },
    onLine: (line: string) => void,
  ): Promise<string | undefined> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.buildImage(Readable.from([context]), {
        t: options.tag,
        buildargs: options.buildArgs,
        rm: true,
        forcerm: true,
      });
    } catch (error) {
      return describe(error);
    }
    return new Promise((resolve) => {
      let failed: string | undefined;
      this.docker.modem.followProgress(
        stream,
        (error: unknown) => resolve(error ? describe(error) : failed),
        (event: { stream?: string; status?: string; error?: string; errorDetail?: { message?: string } }) => {
          const text = event.error ?? event.stream ?? event.status;
          if (event.error) failed = (event.errorDetail?.message ?? event.error).trim();
          for (const line of (text ?? '').split('\n')) if (line.trim()) onLine(line.trimEnd());
        },
      );
    });
  }

  /** Creates and starts a container; on a failed start the container is removed first. */
  async createAndStart(options: Docker.ContainerCreateOptions): Promise<string> {
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(options);
    } catch (error) {
      if ((error as DockerError).statusCode === 404) {
        throw new InfrastructureError(`image ${options.Image} is missing: ${describe(error)}`);
      }
      throw this.fault('create', undefined, error);
    }
    const id = container.id;
    this.logger?.debug({ container: shortId(id), image: options.Image }, 'container created');
    try {
      await container.start();
    } catch (error) {
      await this.remove(id).catch(() => {});
      throw this.fault('start', id, error);
    }
    this.logger?.debug({ container: shortId(id) }, 'container started');
    return id;
  }

  /** Runs a process in a running container with stdin/stdout/stderr attached (no TTY). */
  async exec(id: string, options: ExecOptions): Promise<ExecStreams> {
    let duplex: Duplex;
    try {
      const exec = await this.docker.getContainer(id).exec({
        Cmd: options.cmd,
        User: options.user,
        Env: options.env ?? [],
        WorkingDir: options.workingDir,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
      });
      duplex = (await exec.start({ hijack: true, stdin: true })) as Duplex;
    } catch (error) {
      throw this.fault('exec', id, error);
    }
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    this.docker.modem.demuxStream(duplex, stdout, stderr);
    const end = () => {
      stdout.end();
      stderr.end();
    };
    duplex.on('end', end);
    duplex.on('close', end);
    duplex.on('error', (error) => {
      this.logger?.debug({ container: shortId(id), err: error }, 'exec stream failed');
      end();
    });
    this.logger?.debug({ container: shortId(id), user: options.user }, 'exec attached');
    return { stdin: duplex, stdout, stderr, detach: () => duplex.destroy() };
  }

  async inspect(id: string): Promise<Docker.ContainerInspectInfo> {
    try {
      return await this.docker.getContainer(id).inspect();
    } catch (error) {
      throw this.fault('inspect', id, error);
    }
  }

  /** Waits for a container to exit; resolves with its exit code. */
  async wait(id: string): Promise<number> {
    try {
      const result = (await this.docker.getContainer(id).wait()) as { StatusCode: number };
      return result.StatusCode;
    } catch (error) {
      throw this.fault('wait', id, error);
    }
  }

  /** stdout and stderr of a container, demultiplexed. */
  async logs(id: string): Promise<{ stdout: string; stderr: string }> {
    try {
      const raw = (await this.docker
        .getContainer(id)
        .logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
      return demuxBuffer(raw);
    } catch (error) {
      throw this.fault('logs', id, error);
    }
  }

  /** Kills and removes a container. Idempotent: an already-gone container is fine. */
  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
      this.logger?.debug({ container: shortId(id) }, 'container removed');
    } catch (error) {
      const status = (error as DockerError).statusCode;
      if (status === 404 || status === 409) return; // gone, or removal already under way
      throw this.fault('remove', id, error);
    }
  }

  /** Containers (running or not) that carry `label` (`key` or `key=value`). */
  async listByLabel(label: string): Promise<Docker.ContainerInfo[]> {
    try {
      return await this.docker.listContainers({ all: true, filters: { label: [label] } });
    } catch (error) {
      throw this.fault('list', undefined, error);
    }
  }

  private fault(operation: string, id: string | undefined, error: unknown): InfrastructureError {
    const subject = id ? ` ${id.length === 64 ? shortId(id) : id}` : '';
    const message = `docker ${operation}${subject} failed: ${describe(error)}`;
    // The caller decides what the fault means and reports it once; here it is only a trace.
    this.logger?.debug({ container: id && shortId(id), operation }, message);
    return new InfrastructureError(message);
  }
}

/** Splits Docker's multiplexed log format (8-byte headers) into stdout and stderr. */
export function demuxBuffer(raw: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length) {
    const kind = raw[at];
    const size = raw.readUInt32BE(at + 4);
    const body = raw.subarray(at + 8, at + 8 + size);
    (kind === 2 ? err : out).push(body);
    at += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
