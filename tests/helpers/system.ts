/**
 * The system parts some test groups need (a Docker engine, the sandbox test image, Chromium,
 * redis-server, bwrap), probed once per test worker, and the one policy for a missing part:
 * outside CI the group skips and the run ends with one line naming it (system-reporter.ts);
 * under CI=true the group fails with one test saying what is missing.
 *
 *   await describeWithSystem(['docker', 'sandbox-image'], 'docker sandbox', () => { ... });
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import Docker from 'dockerode';
import { describe, it } from 'vitest';
import { bubblewrapProbe } from '../../src/sandbox/index.js';

export type SystemPart = 'docker' | 'sandbox-image' | 'chromium' | 'redis-server' | 'bwrap';

/** The image Docker tests run candidates in: python3 and numpy, built offline, never pulled. */
export const SANDBOX_TEST_IMAGE = 'funsearch-base:local';
export const CHROMIUM = '/usr/bin/chromium';
/** The command that runs every group, failing (not skipping) when a part is missing. */
export const RUN_EVERYTHING = 'CI=true npm test';

export const underCI = /^(1|true|yes)$/i.test(process.env.CI ?? '');

/** Bounded: an unreachable DOCKER_HOST must not hang the collection of a test file. */
const DOCKER_PING_MS = 5_000;

const probes: Record<SystemPart, () => Promise<string | undefined>> = {
  docker: async () => {
    const docker = new Docker();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${DOCKER_PING_MS} ms`), DOCKER_PING_MS);
    });
    const failure = await Promise.race([
      docker.ping().then(
        () => undefined,
        (error: Error) => error.message,
      ),
      timeout,
    ]);
    clearTimeout(timer);
    return failure === undefined
      ? undefined
      : `no Docker engine answers at ${process.env.DOCKER_HOST ?? 'the default socket'} (${failure}); start dockerd`;
  },
  'sandbox-image': async () => {
    if (await whyMissing('docker')) return 'needs a Docker engine';
    try {
      await new Docker().getImage(SANDBOX_TEST_IMAGE).inspect();
      return undefined;
    } catch {
      return `image ${SANDBOX_TEST_IMAGE} is missing; build it with scripts/offline-base-image.sh`;
    }
  },
  chromium: async () => {
    try {
      if (!statSync(CHROMIUM).isFile()) throw new Error('not a file');
      accessSync(CHROMIUM, constants.X_OK);
      return undefined;
    } catch {
      return `${CHROMIUM} is missing; apt-get install chromium`;
    }
  },
  'redis-server': async () => {
    const failure = await runs('redis-server', ['--version']);
    return failure && `redis-server does not run (${failure}); apt-get install redis-server`;
  },
  bwrap: async () => {
    // The sandbox's own probe: installed, and able to make the namespaces the sandbox needs.
    const probe = await bubblewrapProbe();
    return probe.ok ? undefined : `bubblewrap cannot run a sandbox here: ${probe.problem}`;
  },
};

/** Why a command does not run cleanly, or undefined when it exits 0. */
function runs(command: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 10_000 }, (error, _stdout, stderr) => {
      if (!error) resolve(undefined);
      else if ((error as NodeJS.ErrnoException).code === 'ENOENT') resolve(`${command} not found`);
      else resolve(stderr.trim().split('\n')[0] || error.message);
    });
  });
}

const memo = new Map<SystemPart, Promise<string | undefined>>();

/** Why `part` is not usable on this machine, or undefined when it is. Probed once per worker. */
export function whyMissing(part: SystemPart): Promise<string | undefined> {
  let result = memo.get(part);
  if (!result) {
    result = probes[part]();
    memo.set(part, result);
  }
  return result;
}

export const dockerAvailable = async (): Promise<boolean> => !(await whyMissing('docker'));
export const sandboxImageAvailable = async (): Promise<boolean> => !(await whyMissing('sandbox-image'));
export const chromiumAvailable = async (): Promise<boolean> => !(await whyMissing('chromium'));
export const redisServerAvailable = async (): Promise<boolean> => !(await whyMissing('redis-server'));
export const bwrapAvailable = async (): Promise<boolean> => !(await whyMissing('bwrap'));

/** What a skipped group records for the reporter: each missing part with its reason. */
export type SystemSkip = Partial<Record<SystemPart, string>>;

declare module 'vitest' {
  interface TaskMeta {
    systemSkip?: SystemSkip;
  }
}

async function missingOf(parts: SystemPart | readonly SystemPart[]): Promise<SystemSkip | undefined> {
  const list = typeof parts === 'string' ? [parts] : parts;
  const missing: SystemSkip = {};
  for (const part of list) {
    if (part === 'sandbox-image' && missing.docker) continue; // said once: the engine is missing
    const reason = await whyMissing(part);
    if (reason) missing[part] = reason;
  }
  return Object.keys(missing).length > 0 ? missing : undefined;
}

function describeMissing(missing: SystemSkip): string {
  return Object.entries(missing)
    .map(([part, reason]) => `${part}: ${reason}`)
    .join('; ');
}

/** Under CI a missing part is a failure the run shows, not a crash at collection. */
function failMissing(missing: SystemSkip): void {
  it(`has what it needs: ${Object.keys(missing).join(', ')}`, () => {
    throw new Error(`CI=true and a system part is missing: ${describeMissing(missing)}`);
  });
}

/** `describe` for a group that needs system parts; see the module comment for the policy. */
export async function describeWithSystem(
  parts: SystemPart | readonly SystemPart[],
  name: string,
  fn: () => void,
): Promise<void> {
  const missing = await missingOf(parts);
  if (!missing) describe(name, fn);
  else if (underCI) describe(name, () => failMissing(missing));
  else describe(name, { skip: true, meta: { systemSkip: missing } }, fn);
}

/** `it` for a single test that needs system parts, with the same policy. */
export async function itWithSystem(
  parts: SystemPart | readonly SystemPart[],
  name: string,
  fn: () => Promise<void> | void,
  timeout?: number,
): Promise<void> {
  const missing = await missingOf(parts);
  if (!missing) it(name, { timeout }, fn);
  else if (underCI) describe(name, () => failMissing(missing));
  else it(name, { skip: true, meta: { systemSkip: missing } }, fn);
}
