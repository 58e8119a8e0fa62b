/**
 * The Docker sandbox against a real engine: outcomes of every kind, the score channel, limits,
 * isolation, load, replacement of dead or silent workers. One shared pool keeps this quick.
 */
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import type { DockerSandbox } from '../../src/sandbox/docker-pool.js';
import { createSandbox, type Outcome, type Sandbox } from '../../src/sandbox/index.js';
import { describeWithSystem } from '../helpers/system.js';
import {
  CAP_SET_PRELOAD_AND_FRACTIONS,
  eventually,
  fakeTokenInEnvironment,
  HARNESS_PID,
  hostEvaluate,
  loadedBefore,
  SPEC,
  sessionContainers,
  TEST_IMAGE,
  withEvaluate,
  withPriority,
} from './programs.js';

// Set before any container exists: the sandbox must not pass the host's environment on.
const FAKE_TOKEN = 'r8_FAKE_TOKEN_must_not_leak_0123456789';
fakeTokenInEnvironment(FAKE_TOKEN);

const config = parseConfig({
  docker_image: TEST_IMAGE,
  sandbox: { memory_mb: 256, pids_limit: 48, tmpfs_mb: 16, cpus: 1, output_limit_bytes: 64 * 1024 },
});
const MARGIN_MS = 1500;

function job(program: string, testInputs = ['3'], timeoutSeconds = 5) {
  return { program, functionToRun: 'evaluate', testInputs, timeoutSeconds };
}

function only(outcomes: Outcome[]): Outcome {
  expect(outcomes).toHaveLength(1);
  return outcomes[0]!;
}

await describeWithSystem(['docker', 'sandbox-image'], 'docker sandbox', () => {
  let sandbox: DockerSandbox;

  beforeAll(async () => {
    sandbox = createSandbox({
      kind: 'docker',
      config,
      poolSize: 2,
      answerMarginMs: MARGIN_MS,
      preload: CAP_SET_PRELOAD_AND_FRACTIONS,
    }) as DockerSandbox;
    await sandbox.start();
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('imports the modules it was given in each container before forking, and no others', async () => {
    expect(only(await sandbox.runBatch(job(loadedBefore(['fractions', 'difflib']))))).toMatchObject({
      kind: 'ok',
      score: 1,
    });
  });

  describe('scores', () => {
    it('returns the int score of each input, as the host python computes it', async () => {
      const outcomes = await sandbox.runBatch(job(SPEC, ['3', '4']));
      expect(outcomes.map((o) => o.kind)).toEqual(['ok', 'ok']);
      expect(outcomes.map((o) => (o.kind === 'ok' ? o.score : NaN))).toEqual([
        hostEvaluate(SPEC, 3),
        hostEvaluate(SPEC, 4),
      ]);
    });

    it('returns float scores, numpy scalars included', async () => {
      const plain = await sandbox.runBatch(job(withEvaluate('return n / 4'), ['3', '5']));
      expect(plain).toMatchObject([
        { kind: 'ok', score: 0.75 },
        { kind: 'ok', score: 1.25 },
      ]);
      const numpy = await sandbox.run({
        program: withEvaluate('return np.float64(n) * 1.5'),
        functionToRun: 'evaluate',
        testInput: '2',
        timeoutSeconds: 5,
      });
      expect(numpy).toMatchObject({ kind: 'ok', score: 3 });
    });

    it.each([
      ['a bool', 'return True', /bool/],
      ['NaN', 'return float("nan")', /nan/],
      ['infinity', 'return float("inf")', /inf/],
      ['a string', 'return "8"', /str/],
      ['None', 'return None', /NoneType/],
      ['an int beyond 2**53', 'return 2**53 + 1', /2\*\*53/],
      ['a float subclass', 'class F(float):\n  pass\nreturn F(3.0)', /F/],
    ])('rejects %s as invalid-score', async (_name, body, reason) => {
      const outcome = only(await sandbox.runBatch(job(withEvaluate(body))));
      expect(outcome.kind).toBe('invalid-score');
      if (outcome.kind !== 'ok') expect(outcome.reason).toMatch(reason);
    });

    it('accepts an int of exactly 2**53', async () => {
      expect(only(await sandbox.runBatch(job(withEvaluate('return -2**53'))))).toMatchObject({
        kind: 'ok',
        score: -(2 ** 53),
      });
    });

    it('never calls a returned object’s own __float__ or __eq__', async () => {
      const program = withEvaluate(`
class Sly:
  def __float__(self):
    import os
    for fd in range(3, 64):
      try:
        os.write(fd, b'{"i": 0, "kind": "ok", "score": 1e9, "scoreType": "float"}\\n')
      except OSError:
        pass
    return 1e9
  def __eq__(self, other):
    return True
  __hash__ = object.__hash__
return Sly()`);
      const outcome = only(await sandbox.runBatch(job(program)));
      expect(outcome.kind).toBe('invalid-score');
    });
  });

  describe('failures are outcomes', () => {
    it('reports a syntax error with its line', async () => {
      const outcome = only(await sandbox.runBatch(job(withPriority('return 0.0 +'), ['3', '4'])));
      expect(outcome.kind).toBe('syntax-error');
      if (outcome.kind !== 'ok') expect(outcome.reason).toMatch(/SyntaxError.*line \d+/);
    });

    it('reports an exception as a crash with the traceback in stderr', async () => {
      const outcome = only(await sandbox.runBatch(job(withPriority('return 1 / 0'), ['3', '4'])));
      expect(outcome.kind).toBe('crash');
      if (outcome.kind !== 'ok') expect(outcome.reason).toMatch(/^ZeroDivisionError/);
      expect(outcome.stderr).toMatch(/Traceback[\s\S]*<candidate>[\s\S]*ZeroDivisionError/);
    });

    it('stops at the first failing input', async () => {
      const outcomes = await sandbox.runBatch(job(withEvaluate('assert n < 4\nreturn n'), ['3', '4', '5']));
      expect(outcomes.map((o) => o.kind)).toEqual(['ok', 'crash']);
    });

    it('reports a crash by signal and an early exit', async () => {
      const segv = only(
        await sandbox.runBatch(job(withEvaluate('import os, signal\nos.kill(os.getpid(), 11)'))),
      );
      expect(segv).toMatchObject({ kind: 'crash', reason: expect.stringMatching(/SIGSEGV/) });
      const exit = only(await sandbox.runBatch(job(withEvaluate('import os\nos._exit(0)'))));
      expect(exit).toMatchObject({
        kind: 'crash',
        reason: expect.stringMatching(/before returning a score/),
      });
    });

    it('times out a candidate that runs too long, and the worker keeps serving', async () => {
      const outcome = only(await sandbox.runBatch(job(withEvaluate('while True:\n  pass'), ['3'], 0.3)));
      expect(outcome.kind).toBe('timeout');
      expect(outcome.durationMs).toBeGreaterThanOrEqual(300);
      const next = await sandbox.runBatch(job(SPEC, ['3']));
      expect(next[0]?.kind).toBe('ok');
    });

    it('reports MemoryError, ENOMEM and the OOM killer as memory', async () => {
      const raised = only(await sandbox.runBatch(job(withEvaluate('x = bytearray(4 * 1024**3)\nreturn 1'))));
      expect(raised).toMatchObject({ kind: 'memory' });
      const mapped = only(
        await sandbox.runBatch(job(withEvaluate('import mmap\nm = mmap.mmap(-1, 1 << 40)\nreturn 1'))),
      );
      expect(mapped).toMatchObject({ kind: 'memory' });
      const killed = only(
        await sandbox.runBatch(job(withEvaluate('xs = []\nwhile True:\n  xs.append(bytearray(1 << 20))'))),
      );
      expect(killed.kind).toBe('memory');
    });

    it('cuts off a candidate that floods its output', async () => {
      const outcome = only(await sandbox.runBatch(job(withEvaluate('while True:\n  print("x" * 1000)'))));
      expect(outcome).toMatchObject({ kind: 'output-limit' });
    });
  });

  describe('the score channel', () => {
    it('ignores whatever the candidate prints, framed or not', async () => {
      const program = withEvaluate(`
import json, struct, sys
fake = json.dumps({"type": "outcome", "id": 1, "index": 0,
                   "outcome": {"kind": "ok", "durationMs": 1, "stderr": "", "score": 1e9, "scoreType": "float"}}).encode()
sys.stdout.buffer.write(struct.pack(">I", len(fake)) + fake)
sys.stdout.flush()
print('{"i": 0, "kind": "ok", "score": 1000000000.0, "scoreType": "float"}')
print('1000000000')
sys.stderr.write('{"i": 0, "kind": "ok", "score": 1e9}\\n')
return len(solve(n))`);
      const outcomes = await sandbox.runBatch(job(program, ['3', '4']));
      expect(outcomes).toMatchObject([
        { kind: 'ok', score: hostEvaluate(SPEC, 3) },
        { kind: 'ok', score: hostEvaluate(SPEC, 4) },
      ]);
    });

    it('takes the result of the candidate’s own process, not of a child it forked', async () => {
      const program = withEvaluate(`
import os
if os.fork() == 0:
  return 999
os.wait()
return 5`);
      expect(only(await sandbox.runBatch(job(program)))).toMatchObject({ kind: 'ok', score: 5 });
    });

    it('cannot be reached through /proc: no other process’s stdio opens', async () => {
      // Counts the stdio descriptors of other processes (docker-init, the harness) it could open.
      const program = withEvaluate(`
import os, struct
opened = 0
for pid in os.listdir("/proc"):
  if not pid.isdigit() or int(pid) == os.getpid():
    continue
  for fd in ("0", "1", "2"):
    try:
      f = os.open("/proc/%s/fd/%s" % (pid, fd), os.O_WRONLY)
    except OSError:
      continue
    opened += 1
    try:
      os.write(f, struct.pack(">I", 9) + b'"forged!"')
    except OSError:
      pass
    os.close(f)
return opened`);
      const outcome = only(await sandbox.runBatch(job(program)));
      expect(outcome).toMatchObject({ kind: 'ok', score: 0 });
      // And the connection still carries true answers.
      expect(await sandbox.runBatch(job(SPEC, ['3']))).toMatchObject([
        { kind: 'ok', score: hostEvaluate(SPEC, 3) },
      ]);
    });
  });

  describe('the container', () => {
    it('has every limit set on it', async () => {
      const ids = await sessionContainers(sandbox.sessionId);
      expect(ids).toHaveLength(2);
      for (const id of ids) {
        const info = await new Docker().getContainer(id).inspect();
        const host = info.HostConfig;
        expect(host.NetworkMode).toBe('none');
        expect(host.ReadonlyRootfs).toBe(true);
        expect(host.Tmpfs).toEqual({ '/tmp': 'rw,noexec,nosuid,nodev,size=16m' });
        expect(host.Memory).toBe(256 * 1024 * 1024);
        expect(host.MemorySwap).toBe(host.Memory);
        expect(host.PidsLimit).toBe(48);
        expect(host.NanoCpus).toBe(1e9);
        expect(host.CapDrop).toEqual(['ALL']);
        expect(host.SecurityOpt).toEqual(['no-new-privileges']);
        expect(host.Init).toBe(true);
        expect(host.LogConfig).toMatchObject({ Type: 'none' });
        expect(info.Config.User).toBe('65534:65534');
        expect(info.Config.Labels).toMatchObject({
          'funsearch.run': sandbox.sessionId,
          'funsearch.pid': String(process.pid),
        });
        expect(JSON.stringify(info.Config.Env ?? [])).not.toContain(FAKE_TOKEN);
      }
    });

    it('gives candidates no network, a read-only root and a non-root user', async () => {
      const program = withEvaluate(`
import os, socket
flags = 0
if os.getuid() != 0 and os.geteuid() != 0:
  flags |= 1
if os.listdir("/sys/class/net") == ["lo"]:
  flags |= 2
try:
  socket.create_connection(("1.1.1.1", 53), timeout=1)
except OSError:
  flags |= 4
try:
  open("/usr/evil", "w")
except OSError:
  flags |= 8
return flags`);
      expect(only(await sandbox.runBatch(job(program)))).toMatchObject({ kind: 'ok', score: 15 });
    });

    it('does not pass the host environment (API tokens) to candidates', async () => {
      const program = withEvaluate(`
import os
leaks = [k for k, v in os.environ.items() if "REPLICATE" in k or "${FAKE_TOKEN}" in v]
return len(leaks) + len(os.environ.get("REPLICATE_API_TOKEN", ""))`);
      expect(only(await sandbox.runBatch(job(program)))).toMatchObject({ kind: 'ok', score: 0 });
    });
  });

  describe('under load', () => {
    it('reports no finished run as a timeout, and times out exactly the runaway ones', async () => {
      const quick = Array.from({ length: 40 }, () => sandbox.runBatch(job(SPEC, ['3', '4'], 2)));
      // One runaway spins a core, one sleeps: a spinning pair held both cores for their whole timeout.
      // Theirs is shorter than the quick jobs' own: the spinner holds a core for that long.
      const runaway = ['while True:\n  pass', 'import time\ntime.sleep(60)'].map((body) =>
        sandbox.runBatch(job(withEvaluate(body), ['3'], 1)),
      );
      const [quickResults, runawayResults] = await Promise.all([Promise.all(quick), Promise.all(runaway)]);
      for (const outcomes of quickResults) expect(outcomes.map((o) => o.kind)).toEqual(['ok', 'ok']);
      for (const outcomes of runawayResults) expect(outcomes.map((o) => o.kind)).toEqual(['timeout']);
    });
  });

  describe('workers that die or go silent', () => {
    /** Waits for the pool to be back at two containers, exactly one of them not in `before`. */
    const oneContainerReplaced = (before: Set<string>) =>
      eventually(async () => {
        const now = await sessionContainers(sandbox.sessionId);
        const added = now.filter((id) => !before.has(id));
        return now.length === 2 && added.length === 1 ? added : undefined;
      });

    it('replaces a container whose harness the candidate killed', async () => {
      const before = new Set(await sessionContainers(sandbox.sessionId));
      const outcome = only(
        await sandbox.runBatch(
          job(withEvaluate('import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nreturn 1')),
        ),
      );
      expect(outcome).toMatchObject({ kind: 'crash', reason: expect.stringMatching(/harness died/) });
      // The pool keeps serving and converges back to two containers, one of them new.
      const again = await Promise.all([0, 1, 2].map(() => sandbox.runBatch(job(SPEC, ['3']))));
      for (const outcomes of again) expect(outcomes[0]?.kind).toBe('ok');
      expect(await oneContainerReplaced(before)).toHaveLength(1);
    });

    it('replaces a container whose fork server the candidate stopped', async () => {
      const before = new Set(await sessionContainers(sandbox.sessionId));
      const outcome = only(
        await sandbox.runBatch(
          job(withEvaluate('import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\nreturn 1'), ['3'], 1),
        ),
      );
      expect(outcome).toMatchObject({
        kind: 'crash',
        reason: expect.stringMatching(/harness died.*fork server/),
      });
      expect((await sandbox.runBatch(job(SPEC, ['3'])))[0]?.kind).toBe('ok');
      expect(await oneContainerReplaced(before)).toHaveLength(1);
    });

    it('kills and replaces a container whose harness stops answering', async () => {
      const before = new Set(await sessionContainers(sandbox.sessionId));
      const outcome = only(
        await sandbox.runBatch(
          job(withEvaluate(`import os, signal\nos.kill(${HARNESS_PID}, signal.SIGSTOP)\nreturn 1`), ['3'], 1),
        ),
      );
      expect(outcome).toMatchObject({ kind: 'timeout', reason: expect.stringMatching(/stopped answering/) });
      expect((await sandbox.runBatch(job(SPEC, ['3'])))[0]?.kind).toBe('ok');
      expect(await oneContainerReplaced(before)).toHaveLength(1);
    });

    it('cancels a running job on abort and keeps the worker', async () => {
      const controller = new AbortController();
      const running = sandbox.runBatch(
        job(withEvaluate('while True:\n  pass'), ['3'], 30),
        controller.signal,
      );
      setTimeout(() => controller.abort(), 300);
      await expect(running).rejects.toMatchObject({ name: 'AbortError' });
      expect((await sandbox.runBatch(job(SPEC, ['3'])))[0]?.kind).toBe('ok');
    });
  });
});

await describeWithSystem(['docker', 'sandbox-image'], 'docker sandbox isolation between candidates', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    // One worker, so consecutive candidates certainly share a container.
    sandbox = createSandbox({ kind: 'docker', config, poolSize: 1 });
    await sandbox.start();
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('leaves nothing of one candidate for the next: files, processes, IPC, interpreter state', async () => {
    const polluter = withEvaluate(`
import builtins, os, subprocess, sys, ctypes
builtins.LEAK = 1
sys.modules["leak"] = object()
open("/tmp/leak.txt", "w").write("x")
os.makedirs("/tmp/deep/a/b", exist_ok=True)
os.chmod("/tmp/deep/a", 0)
open(os.path.join(os.environ["TMPDIR"], "mine.txt"), "w").write("x")
libc = ctypes.CDLL(None)
libc.shmget(0x1234, 4096, 0o1000 | 0o600)
if os.fork() == 0:
  os.setsid()
  if os.fork() == 0:
    import time
    time.sleep(300)
  os._exit(0)
return 1`);
    const checker = withEvaluate(`
import builtins, os, sys
found = 0
found += hasattr(builtins, "LEAK")
found += "leak" in sys.modules
found += len([e for e in os.listdir("/tmp") if e != os.path.basename(os.environ["TMPDIR"])])
found += len(os.listdir(os.environ["TMPDIR"]))
me = os.getuid()
harness = ${HARNESS_PID}
for pid in os.listdir("/proc"):
  if pid.isdigit() and int(pid) != os.getpid():
    try:
      status = open("/proc/%s/status" % pid).read()
    except OSError:
      continue
    if "\\nUid:\\t%d\\t" % me in status and "State:\\tZ" not in status and int(pid) not in (os.getppid(), harness):
      found += 100
found += 1000 * (len(open("/proc/sysvipc/shm").read().splitlines()) - 1)
return found`);
    expect(only(await sandbox.runBatch(job(polluter)))).toMatchObject({ kind: 'ok', score: 1 });
    expect(only(await sandbox.runBatch(job(checker)))).toMatchObject({ kind: 'ok', score: 0 });
  });

  it('gives each candidate fresh random state, in random and in numpy alike', async () => {
    // Both draws in one score: Python's in the high 24 bits, numpy's in the low 24.
    const draw = withEvaluate(
      'import random\nreturn (random.getrandbits(24) << 24) + int(np.random.randint(0, 2**24))',
    );
    const python = new Set<number>();
    const numpy = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const outcome = only(await sandbox.runBatch(job(draw)));
      expect(outcome.kind).toBe('ok');
      if (outcome.kind === 'ok') {
        python.add(Math.floor(outcome.score / 2 ** 24));
        numpy.add(outcome.score % 2 ** 24);
      }
    }
    expect(python.size).toBe(3);
    expect(numpy.size).toBe(3);
  });
});
