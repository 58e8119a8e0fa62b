/**
 * The sandbox image: built through the engine API from the Dockerfile shipped with the package,
 * with a tar context made in memory (one file, so a 40-line tar writer beats a dependency).
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { DockerClient } from './docker-client.js';

export const DEFAULT_BASE_IMAGE = 'python:3.11-slim';
export const OFFLINE_BASE_IMAGE = 'funsearch-base:local';

/** The root Dockerfile, from src/sandbox (development) and dist/sandbox (installed) alike. */
export function bundledDockerfilePath(): string {
  return fileURLToPath(new URL('../../Dockerfile', import.meta.url));
}

export interface BuildImageOptions {
  tag: string;
  /** BASE_IMAGE build argument; default python:3.11-slim (needs a registry). */
  baseImage?: string | undefined;
  /** One call per line of build output. */
  onProgress?: ((line: string) => void) | undefined;
  logger?: Logger | undefined;
  docker?: Docker | DockerClient | undefined;
  /** Dockerfile text; default the bundled one. */
  dockerfile?: string | undefined;
}

function clientOf(docker: Docker | DockerClient | undefined, logger?: Logger): DockerClient {
  return docker instanceof DockerClient ? docker : new DockerClient({ docker, logger });
}

/** Builds the sandbox image. Throws UserError (one line) when the engine is away or the build fails. */
export async function buildImage(options: BuildImageOptions): Promise<void> {
  const client = clientOf(options.docker, options.logger);
  await client.ping();
  const baseImage = options.baseImage ?? DEFAULT_BASE_IMAGE;
  const dockerfile = options.dockerfile ?? readFileSync(bundledDockerfilePath(), 'utf8');
  const baseIsLocal = await client.imageExists(baseImage);
  options.onProgress?.(`building ${options.tag} from ${baseImage}`);
  const failed = await client.build(
    tarArchive([{ name: 'Dockerfile', content: dockerfile }]),
    { tag: options.tag, buildArgs: { BASE_IMAGE: baseImage } },
    (line) => options.onProgress?.(line),
  );
  if (failed === undefined && (await client.imageExists(options.tag))) {
    options.onProgress?.(`built ${options.tag}`);
    return;
  }
  const hint = baseIsLocal
    ? ''
    : ` (base image ${baseImage} is not on this host and could not be pulled; without a registry run` +
      ` scripts/offline-base-image.sh, then funsearch build-image --base-image ${OFFLINE_BASE_IMAGE})`;
  throw new UserError(`image build failed: ${failed ?? 'no image was produced'}${hint}`);
}

/** Builds `tag` unless it exists. Resolves with whether a build happened. */
export async function ensureImage(
  client: DockerClient,
  tag: string,
  options: { baseImage?: string | undefined; onProgress?: ((line: string) => void) | undefined } = {},
): Promise<boolean> {
  if (await client.imageExists(tag)) return false;
  options.onProgress?.(`sandbox image ${tag} not found; building it`);
  await buildImage({ tag, baseImage: options.baseImage, onProgress: options.onProgress, docker: client });
  return true;
}

export interface TarEntry {
  name: string;
  content: string | Buffer;
  mode?: number;
}

/** A POSIX ustar archive of regular files (names up to 100 bytes). */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = typeof entry.content === 'string' ? Buffer.from(entry.content, 'utf8') : entry.content;
    const header = Buffer.alloc(512);
    const name = Buffer.from(entry.name, 'utf8');
    if (name.length > 100) throw new RangeError(`tar entry name too long: ${entry.name}`);
    name.copy(header, 0);
    const octal = (value: number, width: number) => `${value.toString(8).padStart(width - 1, '0')}\0`;
    header.write(octal(entry.mode ?? 0o644, 8), 100, 'ascii');
    header.write(octal(0, 8), 108, 'ascii'); // uid
    header.write(octal(0, 8), 116, 'ascii'); // gid
    header.write(octal(body.length, 12), 124, 'ascii');
    header.write(octal(0, 12), 136, 'ascii'); // mtime: fixed, so the context is reproducible
    header.write(' '.repeat(8), 148, 'ascii'); // checksum placeholder
    header.write('0', 156, 'ascii'); // regular file
    header.write('ustar\0', 257, 'ascii');
    header.write('00', 263, 'ascii');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
