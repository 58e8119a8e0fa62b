/** Containers and images over a session's life: sweep, close, signals, engine away, image build. */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import Docker from 'dockerode';
import { afterAll, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { UserError } from '../../src/errors.js';
import {
  bubblewrapProbe,
  buildImage,
  closeAllSandboxes,
  createSandbox,
  type Sandbox,
  sweepLeftovers,
} from '../../src/sandbox/index.js';
import { describeWithSystem } from '../helpers/system.js';
import { SPEC, sessionContainers, TEST_IMAGE } from './programs.js';

const config = parseConfig({ docker_image: TEST_IMAGE, sandbox: { memory_mb: 256 } });
const docker = new Docker();
const job = { program: SPEC, functionToRun: 'evaluate', testInputs: ['3'], timeoutSeconds: 5 };
/** A pid no process has (above any pid_max). */
const DEAD_PID = 2 ** 30 + 7;

async function labelledContainer(labels: Record<string, string>): Promise<string> {
  const container = await docker.createContainer({
    Image: TEST_IMAGE,
    Entrypoint: ['sleep'],
    Cmd: ['infinity'],
    Labels: labels,
    HostConfig: { NetworkMode: 'none' },
  });
  return container.id;
}

async function exists(id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).inspect();
    return true;
  } catch {
    return false;
  }
}

await describeWithSystem(['docker', 'sandbox-image'], 'docker sandbox lifecycle', () => {
  const cleanup: string[] = [];
  const images: string[] = [];
  afterAll(async () => {
    await Promise.allSettled(cleanup.map((id) => docker.getContainer(id).remove({ force: true })));
    await Promise.allSettled(images.map((tag) => docker.getImage(tag).remove({ force: true })));
  });

  it('sweeps containers of dead sessions at start, and leaves live sessions alone', async () => {
    const dead = await labelledContainer({
      'funsearch.run': `dead-${randomUUID()}`,
      'funsearch.pid': String(DEAD_PID),
      'funsearch.host': hostname(),
    });
    const unlabelledPid = await labelledContainer({ 'funsearch.run': `old-${randomUUID()}` });
    const live = await labelledContainer({
      'funsearch.run': `live-${randomUUID()}`,
      'funsearch.pid': String(process.pid),
      'funsearch.host': hostname(),
    });
    const elsewhere = await labelledContainer({
      'funsearch.run': `remote-${randomUUID()}`,
      'funsearch.pid': String(DEAD_PID),
      'funsearch.host': `not-${hostname()}`,
    });
    cleanup.push(dead, unlabelledPid, live, elsewhere);

    const sandbox = createSandbox({ kind: 'docker', config, poolSize: 1 });
    try {
      await sandbox.start();
      expect(await exists(dead)).toBe(false);
      expect(await exists(unlabelledPid)).toBe(false);
      expect(await exists(live)).toBe(true);
      expect(await exists(elsewhere)).toBe(true);
    } finally {
      await sandbox.close();
    }
    expect(await sweepLeftovers()).toBe(0);
  });

  it('removes every container on close(), and runs afterwards fail as infrastructure', async () => {
    const sessionId = `close-${randomUUID()}`;
    const sandbox = createSandbox({ kind: 'docker', config, poolSize: 2, sessionId });
    await sandbox.start();
    expect(await sessionContainers(sessionId)).toHaveLength(2);
    expect((await sandbox.runBatch(job))[0]?.kind).toBe('ok');
    await sandbox.close();
    await sandbox.close(); // idempotent
    expect(await sessionContainers(sessionId)).toEqual([]);
    await expect(sandbox.runBatch(job)).rejects.toMatchObject({ name: 'InfrastructureError' });
  });

  it('rejects a job still running or queued when the sandbox closes, and leaves nothing', async () => {
    const sessionId = `busy-${randomUUID()}`;
    const sandbox = createSandbox({ kind: 'docker', config, poolSize: 1, sessionId });
    await sandbox.start();
    const loop = {
      ...job,
      program: SPEC.replace('capset = solve(n)', 'while True: pass'),
      timeoutSeconds: 30,
    };
    const settled = (promise: Promise<unknown>) =>
      promise.then(
        () => 'resolved',
        (error: Error) => error.name,
      );
    const running = settled(sandbox.runBatch(loop));
    const queued = settled(sandbox.runBatch(job));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await sandbox.close();
    expect(await running).toBe('InfrastructureError');
    expect(await queued).toBe('InfrastructureError');
    expect(await sessionContainers(sessionId)).toEqual([]);
  });

  it('leaves nothing when closed while a dead worker is being replaced', async () => {
    const sessionId = `replacing-${randomUUID()}`;
    const sandbox = createSandbox({ kind: 'docker', config, poolSize: 1, sessionId });
    const killer = SPEC.replace(
      'capset = solve(n)',
      'import os, signal\n  os.kill(os.getppid(), signal.SIGKILL)',
    );
    const outcomes = await sandbox.runBatch({ ...job, program: killer });
    expect(outcomes[0]?.kind).toBe('crash'); // the pool is now replacing its only container
    await sandbox.close();
    expect(await sessionContainers(sessionId)).toEqual([]);
  });

  it('closeAllSandboxes() releases every open sandbox (the signal-handler path)', async () => {
    const sessions = [`all-${randomUUID()}`, `all-${randomUUID()}`];
    const sandboxes: Sandbox[] = sessions.map((sessionId) =>
      createSandbox({ kind: 'docker', config, poolSize: 1, sessionId }),
    );
    await Promise.all(sandboxes.map((s) => s.start()));
    for (const id of sessions) expect(await sessionContainers(id)).toHaveLength(1);
    await closeAllSandboxes();
    for (const id of sessions) expect(await sessionContainers(id)).toEqual([]);
  });

  it('says how to fix an unreachable engine, as a UserError', async () => {
    const away = new Docker({ socketPath: `/tmp/no-docker-${randomUUID()}.sock` });
    const sandbox = createSandbox({ kind: 'docker', config, docker: away });
    const failure = await sandbox.start().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(UserError);
    // The alternative offered is the isolated one where bubblewrap works here.
    const alternative = (await bubblewrapProbe()).ok ? '--sandbox bwrap' : '--sandbox process';
    expect((failure as Error).message).toMatch(/^Docker not reachable.*DOCKER_HOST/);
    expect((failure as Error).message).toContain(alternative);
    expect((failure as Error).message).not.toContain('\n');
    await sandbox.close();
    await expect(buildImage({ tag: 'x:y', docker: away })).rejects.toBeInstanceOf(UserError);
  });

  it('builds the image from the bundled Dockerfile when it is missing, with progress lines', async () => {
    const tag = `funsearch-test-build-${randomUUID().slice(0, 8)}:latest`;
    images.push(tag);
    const lines: string[] = [];
    const sessionId = `build-${randomUUID()}`;
    const sandbox = createSandbox({
      kind: 'docker',
      config: { ...config, docker_image: tag },
      baseImage: TEST_IMAGE,
      onProgress: (line) => lines.push(line),
      poolSize: 1,
      sessionId,
    });
    try {
      await sandbox.start();
      expect(lines.some((line) => line.includes('BASE_IMAGE'))).toBe(true);
      expect(lines.at(-1)).toBe(`built ${tag}`);
      const info = await docker.getImage(tag).inspect();
      expect(info.Config.User).toBe('65534:65534');
      expect(await sandbox.runBatch({ ...job, testInputs: ['3', '4'] })).toMatchObject([
        { kind: 'ok' },
        { kind: 'ok' },
      ]);
    } finally {
      await sandbox.close();
    }
    // Present now: a second start does not build again.
    lines.length = 0;
    await buildImage({ tag, baseImage: TEST_IMAGE, onProgress: (line) => lines.push(line) });
    expect(lines.at(-1)).toBe(`built ${tag}`);
  });

  it('turns a failed build into one line, naming the offline recipe when the base is absent', async () => {
    const failing = buildImage({
      tag: `funsearch-test-fail-${randomUUID().slice(0, 8)}:latest`,
      baseImage: TEST_IMAGE,
      dockerfile: `FROM ${TEST_IMAGE}\nRUN exit 3\n`,
    });
    await expect(failing).rejects.toBeInstanceOf(UserError);
    await expect(failing).rejects.toThrow(/^image build failed: .*(3|non-zero)/);

    const absent = `funsearch-test-absent-${randomUUID().slice(0, 8)}:none`;
    const error = await buildImage({
      tag: `funsearch-test-fail:${randomUUID().slice(0, 8)}`,
      baseImage: absent,
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toContain('scripts/offline-base-image.sh');
    expect(error?.message).toContain('funsearch build-image --base-image funsearch-base:local');
    expect(error?.message).not.toContain('\n');
  });
});
