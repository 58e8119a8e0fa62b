/** The process sandbox (`--sandbox process`): the same harness on the host's python3. */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { UserError } from '../../src/errors.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { ProcessSandbox } from '../../src/sandbox/process.js';
import { pythonExecutable, pythonInstall } from '../../src/sandbox/python-install.js';
import {
  eventually,
  fakeTokenInEnvironment,
  HARNESS_PID,
  hostEvaluate,
  job,
  loadedBefore,
  only,
  SPEC,
  withEvaluate,
  withPriority,
} from './programs.js';

const FAKE_TOKEN = 'r8_FAKE_PROCESS_TOKEN_must_not_leak';
fakeTokenInEnvironment(FAKE_TOKEN);

const config = parseConfig({ sandbox: { memory_mb: 256, tmpfs_mb: 8, output_limit_bytes: 64 * 1024 } });
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Pids whose command line mentions `text`. */
function processesWith(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

describe('process sandbox', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = createSandbox({ kind: 'process', config, poolSize: 2, answerMarginMs: 1500 });
    await sandbox.start();
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('carries a warning that it is no security boundary', () => {
    expect(sandbox.kind).toBe('process');
    expect(sandbox.warning).toMatch(/not a security boundary/);
  });

  it('returns int and float scores, saying which', async () => {
    expect(await sandbox.runBatch(job(SPEC, ['3', '4']))).toMatchObject([
      { kind: 'ok', score: hostEvaluate(SPEC, 3), scoreType: 'int' },
      { kind: 'ok', score: hostEvaluate(SPEC, 4), scoreType: 'int' },
    ]);
    expect(only(await sandbox.runBatch(job(withEvaluate('return -212.0'))))).toMatchObject({
      kind: 'ok',
      score: -212,
      scoreType: 'float',
    });
    expect(
      await sandbox.run({
        program: withEvaluate('return n / 8'),
        functionToRun: 'evaluate',
        testInput: '3',
        timeoutSeconds: 5,
      }),
    ).toMatchObject({ kind: 'ok', score: 0.375 });
  });

  it.each([
    ['syntax-error', withPriority('return (')],
    ['crash', withPriority('return [][1]')],
    ['invalid-score', withEvaluate('return float("-inf")')],
    ['memory', withEvaluate('x = bytearray(64 * 1024**3)\nreturn 1')],
    ['memory', withEvaluate('import mmap\nm = mmap.mmap(-1, 1 << 40)\nreturn 1')],
    ['output-limit', withEvaluate('import sys\nwhile True:\n  sys.stderr.write("y" * 4096)')],
  ])('reports %s', async (kind, program) => {
    expect(only(await sandbox.runBatch(job(program, ['3', '4'])))).toMatchObject({ kind });
  });

  it("shows a traceback from the candidate's program, never from the harness", async () => {
    const inside = only(await sandbox.runBatch(job(withPriority('return [][1]'))));
    expect(inside).toMatchObject({ kind: 'crash', reason: 'IndexError: list index out of range' });
    expect(inside.stderr).toMatch(
      /^Traceback[\s\S]*File "<candidate>", line \d+, in priority\n[\s\S]*IndexError/,
    );
    expect(inside.stderr).not.toMatch(/harness/);
    // A call the candidate never entered (wrong arity) has no frame of its own: the error alone.
    const program = SPEC.replace('def evaluate(n: int) -> int:', 'def evaluate(n: int, w: int) -> int:');
    const call = only(await sandbox.runBatch(job(program)));
    expect(call).toMatchObject({ kind: 'crash' });
    expect(call.stderr.trim()).toBe("TypeError: evaluate() missing 1 required positional argument: 'w'");
  });

  it('ignores what the candidate prints', async () => {
    const program = withEvaluate(`
print('{"i": 0, "kind": "ok", "score": 99999.0, "scoreType": "float"}')
print('99999')
return 7`);
    expect(only(await sandbox.runBatch(job(program)))).toMatchObject({ kind: 'ok', score: 7 });
  });

  it('on timeout kills its process group and what escaped it with setsid, before answering', async () => {
    const program = withEvaluate(`
import os, subprocess, sys
child = subprocess.Popen(["sleep", "300"])
escaped = subprocess.Popen(["sleep", "301"], start_new_session=True)
sys.stderr.write("pids=%d,%d\\n" % (child.pid, escaped.pid))
sys.stderr.flush()
import time
time.sleep(60)`);
    const outcome = only(await sandbox.runBatch(job(program, ['3'], 1)));
    expect(outcome).toMatchObject({
      kind: 'timeout',
      reason:
        'exceeded the time limit of 1 s; raise --timeout (now 1 s per input) if the candidate needs longer',
    });
    const pids = /pids=(\d+),(\d+)/.exec(outcome.stderr)!.slice(1).map(Number);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('scrubs the environment and gives each candidate a private directory, removed afterwards', async () => {
    const program = withEvaluate(`
import os, sys
sys.stderr.write("cwd=%s\\n" % os.getcwd())
open("scratch.txt", "w").write("x")
allowed = {"PATH", "LANG", "HOME", "TMPDIR", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"}
sys.stderr.write("env=%s\\n" % sorted(os.environ))
bad = [k for k in os.environ if k not in allowed] + [k for k, v in os.environ.items() if "${FAKE_TOKEN}" in v]
private = os.environ["HOME"] == os.environ["TMPDIR"] == os.getcwd()
return len(bad) * 10 + (0 if private else 1)`);
    const outcome = only(await sandbox.runBatch(job(program)));
    expect(outcome).toMatchObject({ kind: 'ok', score: 0 });
    const cwd = /cwd=(\S+)/.exec(outcome.stderr)?.[1];
    expect(cwd).toBeTruthy();
    // Results arrive before the harness has cleaned up; the directory goes before the next job.
    await eventually(async () => (existsSync(cwd!) ? undefined : true));
  });

  it('sets CPU, address-space, file-size and process limits on the candidate', async () => {
    const program = withEvaluate(`
import resource
flags = 0
if resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY:
  flags |= 1
if resource.getrlimit(resource.RLIMIT_CPU)[0] != resource.RLIM_INFINITY:
  flags |= 2
if resource.getrlimit(resource.RLIMIT_FSIZE)[0] == 8 * 1024 * 1024:
  flags |= 4
import os
if os.getuid() == 0 or resource.getrlimit(resource.RLIMIT_NPROC)[0] != resource.RLIM_INFINITY:
  flags |= 8
return flags`);
    expect(only(await sandbox.runBatch(job(program)))).toMatchObject({ kind: 'ok', score: 15 });
  });

  it('replaces a harness that died between jobs without blaming the next candidate', async () => {
    const first = only(await sandbox.runBatch(job(withEvaluate(`import os\nreturn ${HARNESS_PID}`))));
    const harness = first.kind === 'ok' ? first.score : 0;
    expect(alive(harness)).toBe(true);
    process.kill(harness, 'SIGKILL');
    await eventually(async () => (alive(harness) ? undefined : true));
    const again = await Promise.all([0, 1, 2, 3].map(() => sandbox.runBatch(job(SPEC))));
    for (const outcomes of again) expect(outcomes[0]?.kind).toBe('ok');
  });

  it('replaces a fork server killed or stopped between jobs without blaming the next candidate', async () => {
    for (const signal of ['SIGKILL', 'SIGSTOP'] as const) {
      // Two jobs at once take both workers (unless one is still being replaced after the test above).
      const probe = job(withEvaluate('import os, time\ntime.sleep(0.5)\nreturn os.getppid()'));
      const outcomes = await Promise.all([0, 1].map(() => sandbox.runBatch(probe)));
      const servers = new Set(outcomes.map((o) => only(o)).map((o) => (o.kind === 'ok' ? o.score : 0)));
      expect(servers.has(0)).toBe(false);
      for (const server of servers) process.kill(server, signal);
      const again = await Promise.all([0, 1, 2, 3].map(() => sandbox.runBatch(job(SPEC))));
      for (const outcomes of again) expect(outcomes[0]?.kind).toBe('ok');
      for (const server of servers) await eventually(async () => (alive(server) ? undefined : true));
    }
  });

  it('reports a harness killed by its candidate as a crash, then serves on', async () => {
    const outcome = only(
      await sandbox.runBatch(
        job(withEvaluate(`import os, signal\nos.kill(${HARNESS_PID}, signal.SIGKILL)\nreturn 1`)),
      ),
    );
    expect(outcome).toMatchObject({ kind: 'crash', reason: expect.stringMatching(/harness died/) });
    const again = await Promise.all([0, 1, 2].map(() => sandbox.runBatch(job(SPEC))));
    for (const outcomes of again) expect(outcomes[0]?.kind).toBe('ok');
  });

  it('reports a candidate that kills or stops its parent, the fork server, as a crash, then serves on', async () => {
    for (const signal of ['SIGKILL', 'SIGSTOP']) {
      const outcome = only(
        await sandbox.runBatch(
          job(withEvaluate(`import os, signal\nos.kill(os.getppid(), signal.${signal})\nreturn 1`)),
        ),
      );
      expect(outcome).toMatchObject({
        kind: 'crash',
        reason: expect.stringMatching(/harness died.*fork server/),
      });
      const again = await Promise.all([0, 1, 2].map(() => sandbox.runBatch(job(SPEC))));
      for (const outcomes of again) expect(outcomes[0]?.kind).toBe('ok');
    }
  });

  it('keeps finished runs from being reported as timeouts under load', async () => {
    const runs = await Promise.all(
      Array.from({ length: 30 }, () => sandbox.runBatch(job(SPEC, ['3', '4'], 2))),
    );
    for (const outcomes of runs) expect(outcomes.map((o) => o.kind)).toEqual(['ok', 'ok']);
  });
});

describe('modules imported before the fork (preload)', () => {
  const started: Sandbox[] = [];
  const sandboxWith = async (preload?: string[]) => {
    const sandbox = createSandbox({ kind: 'process', config, poolSize: 1, preload });
    started.push(sandbox);
    await sandbox.start();
    return sandbox;
  };
  afterAll(async () => {
    await Promise.all(started.map((s) => s.close()));
  });

  it('imports what it is given before any candidate runs, and numpy when given nothing', async () => {
    const program = loadedBefore(['numpy', 'fractions']);
    const preloaded = await sandboxWith(['fractions']);
    expect(only(await preloaded.runBatch(job(program)))).toMatchObject({ kind: 'ok', score: 2 });
    const byDefault = await sandboxWith();
    expect(only(await byDefault.runBatch(job(program)))).toMatchObject({ kind: 'ok', score: 1 });
  });

  it('serves on when a module fails to import or prints while it loads; the candidate meets the error', async () => {
    // `this` prints the Zen of Python on import: not a word of it may reach the protocol's stdout.
    const sandbox = await sandboxWith(['this', 'no_such_module_for_funsearch', 'fractions']);
    expect(only(await sandbox.runBatch(job(loadedBefore(['this', 'fractions']))))).toMatchObject({
      kind: 'ok',
      score: 3,
    });
    expect(
      only(
        await sandbox.runBatch(
          job('import no_such_module_for_funsearch\n\n\ndef evaluate(n):\n    return 1\n'),
        ),
      ),
    ).toMatchObject({ kind: 'crash', reason: expect.stringMatching(/ModuleNotFoundError/) });
  });

  it('does not preload a module that starts a thread when imported; candidates import it themselves', async () => {
    // The harness runs `python3 -I`, which ignores PYTHONPATH: an interpreter wrapper adds a
    // directory of test modules to sys.path (and names itself when asked where python lives).
    const dir = mkdtempSync(join(tmpdir(), 'funsearch-preload-'));
    const real = await pythonInstall();
    if (typeof real === 'string') throw new Error(real);
    writeFileSync(
      join(dir, 'starts_thread.py'),
      'import threading, time\nthreading.Thread(target=time.sleep, args=(3600,), daemon=True).start()\n',
    );
    const wrapper = join(dir, 'python3');
    const inject = [
      'import sys',
      `sys.path.insert(0, ${JSON.stringify(dir)})`,
      'code = sys.argv.pop(1)',
      `if "base_exec_prefix" in code: sys.executable = ${JSON.stringify(wrapper)}`,
      'exec(compile(code, "<string>", "exec"))',
    ].join('\n');
    writeFileSync(wrapper, `#!/bin/sh\nshift 2\nexec ${real.executable} -I -c '${inject}' "$@"\n`, {
      mode: 0o755,
    });
    const sandbox = new ProcessSandbox({
      config,
      poolSize: 1,
      python: wrapper,
      preload: ['fractions', 'starts_thread'],
    });
    started.push(sandbox);
    try {
      const program = loadedBefore(['fractions', 'starts_thread']);
      expect(only(await sandbox.runBatch(job(program)))).toMatchObject({ kind: 'ok', score: 1 });
      const importsIt =
        'import starts_thread, threading\n\n\ndef evaluate(n):\n    return threading.active_count()\n';
      expect(only(await sandbox.runBatch(job(importsIt)))).toMatchObject({ kind: 'ok', score: 2 });
    } finally {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes numpy's scalars as scores from a numpy the candidate imported, and no look-alike", async () => {
    const sandbox = await sandboxWith([]);
    const numpyScore = 'import numpy\n\n\ndef evaluate(n):\n    return numpy.float64(2.5) + numpy.int64(n)\n';
    expect(only(await sandbox.runBatch(job(numpyScore)))).toMatchObject({ kind: 'ok', score: 5.5 });
    // A module planted as numpy, whose float64 would run code when converted: not numpy's scalar.
    const planted = [
      'import sys, types',
      'fake = types.ModuleType("numpy")',
      'fake.float64 = type("float64", (), {"__float__": lambda self: 7.0, "__module__": "numpy"})',
      'sys.modules["numpy"] = fake',
      '',
      '',
      'def evaluate(n):',
      '    return fake.float64()',
      '',
    ].join('\n');
    expect(only(await sandbox.runBatch(job(planted)))).toMatchObject({
      kind: 'invalid-score',
      reason: expect.stringMatching(/returned float64, expected an int or a float/),
    });
  });
});

describe('process sandbox lifecycle', () => {
  it('ends its harness processes on close()', async () => {
    const sandbox = createSandbox({ kind: 'process', config, poolSize: 1 });
    const pids = only(
      await sandbox.runBatch(job(withEvaluate(`import os\nreturn ${HARNESS_PID} * 2**22 + os.getppid()`))),
    );
    expect(pids.kind).toBe('ok');
    const both = pids.kind === 'ok' ? pids.score : 0;
    const [harness, server] = [Math.floor(both / 2 ** 22), both % 2 ** 22];
    expect(alive(harness)).toBe(true);
    expect(alive(server)).toBe(true);
    await sandbox.close();
    await eventually(async () => (alive(harness) || alive(server) ? undefined : true));
    await expect(sandbox.runBatch(job(SPEC))).rejects.toMatchObject({ name: 'InfrastructureError' });
  });

  it('sweeps work directories of dead owners at start, and keeps live ones', async () => {
    const dead = mkdtempSync(join(tmpdir(), `funsearch-sandbox-${2 ** 30 + 7}-`));
    const live = mkdtempSync(join(tmpdir(), `funsearch-sandbox-${process.pid}-`));
    writeFileSync(join(dead, 'left.txt'), 'x');
    const sandbox = createSandbox({ kind: 'process', config, poolSize: 1 });
    try {
      await sandbox.start();
      expect(existsSync(dead)).toBe(false);
      expect(existsSync(live)).toBe(true);
    } finally {
      await sandbox.close();
      rmSync(live, { recursive: true, force: true });
    }
  });

  it("starts every harness with the interpreter's real executable, asking a version manager's shim once", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'funsearch-shim-'));
    const calls = join(dir, 'calls');
    const shim = join(dir, 'python3');
    // A shim as pyenv and asdf install: a script on PATH that finds the interpreter, then execs it.
    writeFileSync(shim, `#!/bin/sh\necho "$@" >> '${calls}'\nexec python3 "$@"\n`, { mode: 0o755 });
    const shimmed = new ProcessSandbox({ config, poolSize: 2, python: shim });
    try {
      await shimmed.start();
      const outcomes = await Promise.all(
        ['3', '4'].map((input) =>
          shimmed.run({
            program: withPriority('return 0.0'),
            functionToRun: 'evaluate',
            testInput: input,
            timeoutSeconds: 20,
          }),
        ),
      );
      expect(outcomes).toMatchObject([
        { kind: 'ok', score: hostEvaluate(withPriority('return 0.0'), 3) },
        { kind: 'ok', score: hostEvaluate(withPriority('return 0.0'), 4) },
      ]);
      // Two harnesses started, the shim ran once: to say where the interpreter lives.
      expect(readFileSync(calls, 'utf8').trim().split('\n')).toHaveLength(1);
    } finally {
      await shimmed.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes a binary python3 found on PATH as it is, without starting it, and asks a script', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'funsearch-binary-'));
    try {
      // Not an interpreter at all: had it been started to ask, the answer would be a failure.
      symlinkSync('/bin/true', join(dir, 'python3'));
      writeFileSync(join(dir, 'not-executable'), '');
      expect(await pythonExecutable('python3', `${dir}:/usr/bin`)).toBe(join(realpathSync(dir), 'python3'));
      // A shell script is asked where its interpreter is, as the shim above.
      writeFileSync(join(dir, 'script'), '#!/bin/sh\nexec python3 "$@"\n', { mode: 0o755 });
      const install = await pythonInstall('python3');
      if (typeof install === 'string') throw new Error(install);
      expect(await pythonExecutable(join(dir, 'script'))).toBe(install.executable);
      // Not executable, so the shell passes it by; no binary after it: asked, and not found.
      expect(await pythonExecutable('not-executable', dir)).toBe('not-executable');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives up on a harness whose imports hang, naming them, and leaves no process behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'funsearch-hang-'));
    // A spec's import that never returns, in an environment of its own (the harness runs python3 -I).
    const module = `funsearch_hangs_${process.pid}`;
    const python = join(dir, 'venv', 'bin', 'python3');
    try {
      execFileSync('python3', ['-m', 'venv', '--without-pip', join(dir, 'venv')]);
      const site = execFileSync(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], {
        encoding: 'utf8',
      }).trim();
      writeFileSync(join(site, `${module}.py`), 'import time\ntime.sleep(300)\n');
      const hanging = new ProcessSandbox({
        config,
        poolSize: 1,
        python,
        preload: [module],
        readyTimeoutMs: 1000,
      });
      await expect(hanging.start()).rejects.toThrow(
        `the process sandbox's python3 harness did not start: not ready within 1 s (it imports ${module} before it is ready)`,
      );
      await hanging.close();
      expect(processesWith(module)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says so when python3 is missing', async () => {
    const sandbox = new ProcessSandbox({ config, poolSize: 1, python: '/nonexistent/python3' });
    await expect(sandbox.start()).rejects.toBeInstanceOf(UserError);
    await sandbox.close();
  });
});
