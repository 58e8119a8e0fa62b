/**
 * The bwrap sandbox (`--sandbox bwrap`): the warm harness inside bubblewrap, its probe and the
 * one-line fixes when bubblewrap cannot run. The hostile suite (hostile-bwrap.test.ts) runs against it too.
 *
 * Runtime tests need a working bubblewrap (tests/helpers/system.ts decides: skipped outside CI,
 * failed under CI=true).
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { UserError } from '../../src/errors.js';
import { BwrapSandbox } from '../../src/sandbox/bwrap.js';
import { probeBubblewrap, requireBubblewrap } from '../../src/sandbox/bwrap-probe.js';
import { dockerUnreachableHint } from '../../src/sandbox/docker-client.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { memoryCgroupHierarchy } from '../../src/sandbox/memory-cgroup.js';
import { describeWithSystem } from '../helpers/system.js';
import {
  CAP_SET_PRELOAD_AND_FRACTIONS,
  fakeTokenInEnvironment,
  HARNESS_PID,
  hostEvaluate,
  job,
  loadedBefore,
  only,
  SPEC,
} from './programs.js';

const FAKE_TOKEN = 'r8_FAKE_BWRAP_TOKEN_must_not_leak';
fakeTokenInEnvironment(FAKE_TOKEN);

const config = parseConfig({ sandbox: { memory_mb: 256, tmpfs_mb: 8, output_limit_bytes: 64 * 1024 } });
const scoreOf = async (
  sandbox: Sandbox,
  body: string,
  imports = 'import os\nimport sys',
): Promise<number> => {
  const outcome = only(await sandbox.runBatch(job(`${imports}\n\n\ndef evaluate(n):\n${body}\n`, ['3'], 10)));
  if (outcome.kind !== 'ok') throw new Error(`${outcome.kind}: ${outcome.reason}\n${outcome.stderr}`);
  return outcome.score;
};

const asRoot = process.getuid?.() === 0;
/** A uid no account uses, to run bubblewrap as an ordinary user when the tests run as root. */
const ORDINARY = { uid: 0x5f000000 + (process.pid & 0xffff), gid: 0x5f000000 + (process.pid & 0xffff) };

await describeWithSystem('bwrap', 'bwrap sandbox', () => {
  let sandbox: Sandbox;
  const planted = join(homedir(), `.funsearch-bwrap-test-${process.pid}`);
  beforeAll(async () => {
    writeFileSync(planted, 'planted-secret\n', { mode: 0o644 });
    sandbox = createSandbox({
      kind: 'bwrap',
      config,
      poolSize: 2,
      answerMarginMs: 1500,
      preload: CAP_SET_PRELOAD_AND_FRACTIONS,
    });
    await sandbox.start();
  });
  afterAll(async () => {
    await sandbox?.close();
    rmSync(planted, { force: true });
  });

  it('is a sandbox of its own kind with no warning, as many slots as workers', () => {
    expect(sandbox.kind).toBe('bwrap');
    expect(sandbox.warning).toBeUndefined();
    expect(sandbox.capacity).toBe(2);
  });

  it('imports the modules it was given inside bubblewrap before forking, and no others', async () => {
    expect(only(await sandbox.runBatch(job(loadedBefore(['fractions', 'difflib']))))).toMatchObject({
      kind: 'ok',
      score: 1,
    });
  });

  it('returns int and float scores for every input', async () => {
    expect(await sandbox.runBatch(job(SPEC, ['3', '4']))).toMatchObject([
      { kind: 'ok', score: hostEvaluate(SPEC, 3) },
      { kind: 'ok', score: hostEvaluate(SPEC, 4) },
    ]);
    expect(await scoreOf(sandbox, '    return n / 8')).toBe(3 / 8);
  });

  it('runs candidates as an unprivileged uid, neither root nor the host user', async () => {
    const uid = await scoreOf(sandbox, '    return os.getuid()');
    expect(uid).not.toBe(0);
    expect(uid).not.toBe(process.getuid?.());
  });

  it('gives candidates their own pid namespace and host name', async () => {
    // The harness is pid 1, and only the sandbox's own few processes are visible.
    expect(await scoreOf(sandbox, `    return ${HARNESS_PID}`)).toBe(1);
    expect(
      await scoreOf(sandbox, "    return len([p for p in os.listdir('/proc') if p.isdigit()])"),
    ).toBeLessThan(5);
    expect(await scoreOf(sandbox, "    return int(os.uname().nodename == 'sandbox')")).toBe(1);
  });

  it('passes no host environment: only PATH, LANG, HOME and TMPDIR (and the thread caps)', async () => {
    const outcome = only(
      await sandbox.runBatch(
        job(
          'import os\nimport sys\n\n\ndef evaluate(n):\n    print(sorted(os.environ), file=sys.stderr)\n    return 0',
        ),
      ),
    );
    expect(outcome.stderr).not.toContain('REPLICATE_API_TOKEN');
    const names = JSON.parse(outcome.stderr.trim().replaceAll("'", '"')) as string[];
    const allowed = ['PATH', 'LANG', 'HOME', 'TMPDIR', 'PWD', 'LC_CTYPE'];
    expect(names.filter((n) => !allowed.includes(n) && !n.endsWith('_NUM_THREADS'))).toEqual([]);
  });

  it("sees nothing of the host user's home, and cannot write outside /tmp", async () => {
    expect(await scoreOf(sandbox, `    return int(os.path.exists(${JSON.stringify(planted)}))`)).toBe(0);
    const writable = `
    found = 0
    for d in ('/', '/usr', '/etc', '/var', '/root', '/home', '/dev/shm'):
        try:
            with open(os.path.join(d, 'x-bwrap-test'), 'w') as f:
                f.write('x')
            found += 1
        except OSError:
            pass
    return found`;
    expect(await scoreOf(sandbox, writable)).toBe(0);
  });

  it('caps /tmp at tmpfs_mb: writing 16 MiB into an 8 MiB /tmp fails', async () => {
    const outcome = only(
      await sandbox.runBatch(
        job(
          "def evaluate(n):\n    with open('/tmp/big', 'wb') as f:\n        for _ in range(16):\n            f.write(b'0' * (1 << 20))\n    return 1",
        ),
      ),
    );
    expect(outcome.kind).toBe('crash');
  });

  it('has no network, not even the host loopback', async () => {
    const connect =
      "    import socket\n    try:\n        socket.create_connection(('127.0.0.1', 22), timeout=1).close()\n        return 1\n    except OSError as e:\n        return e.errno";
    // ECONNREFUSED (111) from a loopback of its own, or ENETUNREACH (101): never a connection.
    expect([101, 111]).toContain(await scoreOf(sandbox, connect));
  });

  it('caps memory per harness with a cgroup where one can be made, and removes it on close', async () => {
    const where = memoryCgroupHierarchy();
    const ours = () =>
      where
        ? readdirSync(where.parent).filter((name) => name.startsWith(`funsearch-bwrap-${process.pid}-`))
        : [];
    // The suite's own sandbox has its cgroups too: only the new ones are this sandbox's.
    const before = new Set(ours());
    const added = () => ours().filter((name) => !before.has(name));
    const own = new BwrapSandbox({ config: parseConfig({ sandbox: { memory_mb: 256 } }), poolSize: 1 });
    await own.start();
    expect(own.memoryCapped).toBe(where !== null);
    // Six children of 100 MiB each: each under the per-process limit, together over the shared one
    // (256 MiB plus the harness's headroom of 128 MiB).
    const program = [
      'import os, time',
      'def evaluate(n):',
      '    pids = []',
      '    for _ in range(6):',
      '        pid = os.fork()',
      '        if pid == 0:',
      "            block = bytearray(b'x') * (100 << 20)",
      '            time.sleep(1)',
      '            os._exit(0 if block else 1)',
      '        pids.append(pid)',
      '    return sum(os.waitpid(p, 0)[1] != 0 for p in pids)',
      '',
    ].join('\n');
    const [outcome] = await own.runBatch({
      program,
      functionToRun: 'evaluate',
      testInputs: ['3'],
      timeoutSeconds: 20,
    });
    if (own.memoryCapped) {
      expect(added()).toHaveLength(1);
      // Some child was killed by the cgroup's limit: a non-zero count, or the harness classifying it.
      expect(outcome!.kind === 'memory' || (outcome!.kind === 'ok' && outcome!.score > 0)).toBe(true);
    }
    await own.close();
    expect(added()).toEqual([]);
  });
});

function asOrdinaryUser(): void {
  // As root the sandbox changes uid instead; this is the path a cluster user takes. The system
  // python3 (root's may live under a home an ordinary user cannot enter) runs the harness.
  let sandbox: BwrapSandbox;
  beforeAll(async () => {
    sandbox = new BwrapSandbox({
      config,
      poolSize: 1,
      probe: { user: ORDINARY, python: '/usr/bin/python3' },
    });
    await sandbox.start();
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('runs candidates as uid 65534 inside a user namespace, with no network and pid 1 as harness', async () => {
    expect(await scoreOf(sandbox, '    return os.getuid()')).toBe(65534);
    expect(await scoreOf(sandbox, `    return ${HARNESS_PID}`)).toBe(1);
    const connect =
      "    import socket\n    try:\n        socket.create_connection(('127.0.0.1', 22), timeout=1).close()\n        return 1\n    except OSError:\n        return 0";
    expect(await scoreOf(sandbox, connect)).toBe(0);
  });

  it('bounds a fork bomb with its process limit and still serves the next candidate', async () => {
    const bomb = only(
      await sandbox.runBatch(
        job(
          'import os\n\n\ndef evaluate(n):\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass',
          ['3'],
          0.3,
        ),
      ),
    );
    expect(bomb.kind).toBe('timeout');
    expect(await scoreOf(sandbox, '    return n + 1')).toBe(4);
  });
}
// Only root can run bubblewrap under a uid of its choosing; other users take this path anyway.
if (asRoot)
  await describeWithSystem(
    'bwrap',
    'bwrap sandbox as an ordinary user (the user-namespace path)',
    asOrdinaryUser,
  );
else describe.skip('bwrap sandbox as an ordinary user (run as root to test this path)', asOrdinaryUser);

describe('bwrap probe: one line with the fix when bubblewrap cannot run', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bwrap-probe-'));
    chmodSync(dir, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A stand-in bwrap that fails as bubblewrap does when it may not create a user namespace. */
  const failingBwrap = (): string => {
    const path = join(dir, 'bwrap');
    writeFileSync(path, '#!/bin/sh\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n', {
      mode: 0o755,
    });
    return path;
  };
  const procSys = (name: string, value: string): string => {
    const root = mkdtempSync(join(dir, 'sys-'));
    const parts = name.split('.');
    mkdirSync(join(root, ...parts.slice(0, -1)), { recursive: true });
    writeFileSync(join(root, ...parts), `${value}\n`);
    return root;
  };
  // The sysctl explanations concern an ordinary user; as root the probe runs as one.
  const user = asRoot ? ORDINARY : undefined;

  it('names the package when bwrap is not installed, as a one-line UserError', async () => {
    const result = probeBubblewrap({ bwrap: join(dir, 'no-such-bwrap'), python: '/usr/bin/python3' });
    const error = await requireBubblewrap(result).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(
      /^--sandbox bwrap: bubblewrap is not installed.*apt-get install bubblewrap/,
    );
    expect((error as Error).message).not.toContain('\n');
  });

  it.each([
    ['kernel.unprivileged_userns_clone', '0', /sysctl -w kernel\.unprivileged_userns_clone=1/],
    ['user.max_user_namespaces', '0', /sysctl -w user\.max_user_namespaces=/],
    [
      'kernel.apparmor_restrict_unprivileged_userns',
      '1',
      /AppArmor.*Ubuntu 24\.04.*apparmor_restrict_unprivileged_userns=0/,
    ],
  ])('names the sysctl when %s is %s', async (name, value, fix) => {
    const result = await probeBubblewrap({
      bwrap: failingBwrap(),
      python: '/usr/bin/python3',
      user,
      procSys: procSys(name, value),
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem).toMatch(fix);
    expect(result.problem).toContain('setting up uid map: Permission denied');
  });

  it("gives bubblewrap's own last line when no sysctl explains the failure", async () => {
    const result = await probeBubblewrap({
      bwrap: failingBwrap(),
      python: '/usr/bin/python3',
      user,
      procSys: dir,
    });
    expect(result).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/cannot build the sandbox here: bwrap: setting up uid map/),
    });
  });

  it('makes start() fail with that UserError instead of falling back to less isolation', async () => {
    const sandbox = new BwrapSandbox({ config, poolSize: 1, probe: { bwrap: join(dir, 'no-such-bwrap') } });
    await expect(sandbox.start()).rejects.toBeInstanceOf(UserError);
    await sandbox.close();
  });
});

describe('the Docker-unreachable hint', () => {
  it('suggests --sandbox bwrap where bubblewrap works, else the process sandbox with its caveat', () => {
    expect(dockerUnreachableHint(true)).toMatch(/DOCKER_HOST.*--sandbox bwrap/);
    expect(dockerUnreachableHint(false)).toMatch(
      /DOCKER_HOST.*--sandbox process \(not a security boundary\)/,
    );
  });
});
