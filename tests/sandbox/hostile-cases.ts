/**
 * The hostile-program table: each case is a small Python program whose `evaluate(n)` does one
 * thing an untrusted candidate might do, with the Outcome each sandbox must report for it.
 * The suite (helpers/hostile-suite.ts) runs every case, then a known-good job, then looks for leftovers.
 * docs/hostile.md is the readable version of this table; keep the two in step.
 */
import type { Outcome, OutcomeKind } from '../../src/sandbox/sandbox.js';

export type SandboxKind = 'docker' | 'process' | 'bwrap';

/** What one case knows about the run it is part of; everything a program may embed. */
export interface CaseContext {
  sandbox: SandboxKind;
  /** Unique per case run: part of every file name a case writes, so leftovers are attributable. */
  token: string;
  /**
   * Process name (comm, at most 15 bytes) that tagged candidate processes give themselves, so the
   * host can find any of them that outlives its job, inside or outside a container.
   */
  tag: string;
  /** pid of the host's Node process running the test. */
  hostPid: number;
  /** Values that must never reach a candidate (set in the host's environment and `.env`). */
  secrets: readonly string[];
  /** Absolute host path of a `.env` file that exists while the suite runs. */
  dotenvPath: string;
  /** sha256 of the host's /etc/shadow, or null when the host user cannot read it. */
  shadowDigest: string | null;
  /** A TCP port on the host's 127.0.0.1 with a listener that the suite owns. */
  loopbackPort: number;
  /** Absolute host paths, in the host user's home and the test's working directory, of files holding `plantedSecret`. */
  plantedPaths: readonly string[];
  plantedSecret: string;
  /** The sandbox's memory limit, MiB. */
  memoryMb: number;
}

/** One acceptable result: the kind, and for `ok` optionally the exact score. */
export interface Accept {
  kind: OutcomeKind;
  score?: number;
}

/**
 * `Accept[]` lists the acceptable results (any one will do). `any` means the case only checks that
 * `run` resolves with some Outcome; what it really tests is the known-good job and the leftovers
 * checks that follow it.
 */
export type Expectation = Accept[] | 'any';

/**
 * A reason a sandbox cannot hold a case: always, or only when its candidates run as the host's
 * own user (`as-host-user`) or as root (`as-root`); the suite asks a probe job which uid it gets.
 */
export type CannotHold =
  | string
  | { reason: string; when: 'as-host-user' | 'as-root' | 'without-memory-cgroup' };

export interface FollowUp {
  title: string;
  /** Built after the case ran; `previous` is the case's own Outcome (its stderr names paths). */
  program: (ctx: CaseContext, previous: Outcome) => string;
  expect: Expectation;
}

export interface HostileCase {
  id: string;
  title: string;
  program: (ctx: CaseContext) => string;
  timeoutSeconds: number;
  /** The same for every sandbox unless `bySandbox` overrides one. */
  expect: Expectation;
  bySandbox?: Partial<Record<SandboxKind, Expectation>>;
  /** Why a sandbox cannot hold this case; the test is then skipped with this reason. */
  cannotHold?: Partial<Record<SandboxKind, CannotHold>>;
  /** Jobs run right after the case in the same sandbox, e.g. to look for what it left behind. */
  followUps?: FollowUp[];
  /**
   * Host-side checks after the case (and its follow-ups); returns the problems found. Runs only for
   * the process sandbox, whose candidates share the host's file system.
   */
  hostCheck?: (ctx: CaseContext, outcome: Outcome) => Promise<string[]>;
  /** The suite's loopback listener must accept no connection while the case runs (any sandbox that holds it). */
  listenerUntouched?: true;
}

// ---------------------------------------------------------------------------------------------
// Program building blocks

/** For the cases that must time out: most of them spin a core until they are killed. */
const LONG = 0.3;
const NORMAL = 20;

/** Every program starts with this: imports and `_tag()`, which renames the calling process. */
function prelude(ctx: CaseContext): string {
  return `import os
import sys
import time

TAG = ${JSON.stringify(ctx.tag)}.encode()


def _tag():
    # PR_SET_NAME: the host scans /proc/*/task/*/comm for this name after the job.
    try:
        import ctypes
        ctypes.CDLL(None).prctl(15, TAG, 0, 0, 0)
    except Exception:
        pass
`;
}

/** Files `many-small-files` writes: enough to fill a container's tmpfs, fewer where nothing is capped. */
function manyFiles(ctx: CaseContext): number {
  return ctx.sandbox === 'process' ? 3000 : 30000;
}

function program(ctx: CaseContext, body: string): string {
  return `${prelude(ctx)}\n\n${body.trim()}\n`;
}

const ok = (score?: number): Accept => (score === undefined ? { kind: 'ok' } : { kind: 'ok', score });
const only = (kind: OutcomeKind): Expectation => [{ kind }];

/** Python literal of a JS string array. */
const pyList = (values: readonly string[]): string => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;

/** Paths a case reported on stderr as `LEFT:<path>` lines (the follow-up checks them). */
export function leftPaths(outcome: Outcome): string[] {
  return [...outcome.stderr.matchAll(/^LEFT:(.+)$/gm)].map((m) => m[1]!.trim());
}

/** A follow-up that counts which of the given file names or reported paths it can see. */
function seesNothingOf(names: (ctx: CaseContext) => string[]): FollowUp {
  return {
    title: 'the next candidate sees nothing the case left behind',
    expect: [ok(0)],
    program: (ctx, previous) =>
      program(
        ctx,
        `
import tempfile

NAMES = ${pyList(names(ctx))}
REPORTED = ${pyList(leftPaths(previous))}


def evaluate(n):
    places = {tempfile.gettempdir(), os.getcwd(), os.path.expanduser('~'), '/tmp', '/var/tmp', '/dev/shm', '/'}
    candidates = set(REPORTED)
    for place in places:
        for name in NAMES:
            candidates.add(os.path.join(place, name))
    found = [p for p in candidates if os.path.lexists(p)]
    for p in found:
        sys.stderr.write('FOUND:' + p + '\\n')
    return len(found)
`,
      ),
  };
}

/** Process sandbox: the paths a case reported must be gone from the host after the job. */
async function reportedPathsGone(_ctx: CaseContext, outcome: Outcome): Promise<string[]> {
  const { existsSync, rmSync } = await import('node:fs');
  const problems: string[] = [];
  for (const path of leftPaths(outcome)) {
    if (existsSync(path)) {
      problems.push(`${path} is still on the host after the job`);
      rmSync(path, { recursive: true, force: true }); // do not litter the host with the finding
    }
  }
  return problems;
}

/**
 * A program whose evaluate runs the statements `before`, then returns `expr`; `extra` holds
 * module-level imports and definitions.
 */
function returns(expr: string, extra = '', before = ''): (ctx: CaseContext) => string {
  const body = before
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => `    ${line}\n`)
    .join('');
  return (ctx) => program(ctx, `${extra}\n\ndef evaluate(n):\n${body}    return ${expr}\n`);
}

const FAKE_FRAMES = [
  '999',
  'score: 999',
  '{"score": 999}',
  '{"kind": "ok", "score": 999}',
  '{"ok": true, "score": 999, "result": 999}',
  '{"type": "result", "ok": true, "value": 999}',
  '__FUNSEARCH_RESULT__ {"kind": "ok", "score": 999}',
  // The shapes of src/sandbox/harness.py's own messages: a result line and a harness frame body.
  '{"i": 0, "kind": "ok", "score": 999, "scoreType": "int"}',
  '{"type": "outcome", "id": 1, "index": 0, "outcome": {"kind": "ok", "score": 999, "durationMs": 1, "stderr": ""}}',
  '{"type": "done", "id": 1, "clean": true, "cancelled": false}',
];

// ---------------------------------------------------------------------------------------------
// Reasons a process sandbox cannot hold a case (it shares the host's kernel namespaces, files and,
// unless it changes user, the host user's rights).

const NO_PID_NAMESPACE_KILL =
  "the process sandbox shares the host's pid namespace: os.kill(-1, 9) reaches every process of the candidate's user on the machine (other runs' candidates; as the host user, the test runner itself)";
const NO_PIDS_LIMIT: CannotHold = {
  when: 'as-root',
  reason:
    'the process sandbox has no pids cgroup and RLIMIT_NPROC does not bind root: an unbounded fork bomb would exhaust the shared host',
};
const SIGNAL_HOST: CannotHold = {
  when: 'as-host-user',
  reason:
    "candidates run as the host user in the host's pid namespace: they may signal the host's Node process",
};
const HOST_PROC: CannotHold = {
  when: 'as-host-user',
  reason:
    "candidates run as the host user and share /proc: the host process's /proc/<pid>/environ is readable",
};
const HOST_FILES =
  "the process sandbox shares the host's file system: a world-readable file at an absolute host path is readable";
const HOST_SHADOW: CannotHold = {
  when: 'as-root',
  reason: 'candidates run as root on the host: /etc/shadow is readable',
};
const HOST_DOCKER_SOCKET: CannotHold = {
  when: 'as-host-user',
  reason:
    'candidates run as the host user: the Docker socket is reachable if that user is root or in the docker group',
};
const NO_MEMORY_CGROUP =
  'no memory cgroup: the address-space limit is per process, so forked children together may exceed memory_mb';
const NO_NET_NAMESPACE =
  'the process sandbox has no network namespace: the candidate would really reach the network';
const NO_NAMESPACE_FILTER =
  'the process sandbox filters no system calls: a candidate may create user namespaces where the host allows them';
const HOST_TMP =
  "the process sandbox shares the host's file system: /tmp, /var/tmp and /dev/shm are the host's";
const HOST_PYTHON =
  "the process sandbox shares the host's file system: the candidate would rewrite the host's Python (sitecustomize) as the host user";

// ---------------------------------------------------------------------------------------------

export const GOOD_PROGRAM = `def evaluate(n):
    return sum(range(n + 1)) + 0.25
`;

/** The score GOOD_PROGRAM must return for input k. */
export const goodScore = (k: number): number => (k * (k + 1)) / 2 + 0.25;

export const HOSTILE_CASES: HostileCase[] = [
  // --- time -----------------------------------------------------------------------------------
  {
    id: 'endless-loop',
    title: 'an endless loop',
    timeoutSeconds: LONG,
    expect: only('timeout'),
    program: (ctx) => program(ctx, 'def evaluate(n):\n    _tag()\n    while True:\n        pass'),
  },
  {
    id: 'c-call-sum',
    title: 'a long computation inside one C call: sum(range(10**12))',
    timeoutSeconds: LONG,
    expect: only('timeout'),
    program: (ctx) => program(ctx, 'def evaluate(n):\n    _tag()\n    return sum(range(10 ** 12))'),
  },
  {
    id: 'c-call-regex',
    title: 'catastrophic regular-expression backtracking (one C call)',
    timeoutSeconds: LONG,
    expect: only('timeout'),
    program: (ctx) =>
      program(
        ctx,
        "import re\n\n\ndef evaluate(n):\n    _tag()\n    return len(re.findall(r'(a+)+$', 'a' * 64 + 'b'))",
      ),
  },
  {
    id: 'c-call-numpy',
    title: 'a huge numpy reduction over a zero-stride view (one C call, no memory)',
    timeoutSeconds: LONG,
    expect: only('timeout'),
    program: (ctx) =>
      program(
        ctx,
        'import numpy as np\n\n\ndef evaluate(n):\n    _tag()\n    return float(np.broadcast_to(np.float64(1), (10 ** 12,)).sum())',
      ),
  },
  {
    id: 'sleep-forever',
    title: 'sleeping forever',
    timeoutSeconds: LONG,
    expect: only('timeout'),
    program: (ctx) => program(ctx, 'def evaluate(n):\n    _tag()\n    time.sleep(10 ** 6)'),
  },
  {
    id: 'sigstop-self',
    title: 'stopping itself with SIGSTOP',
    timeoutSeconds: LONG,
    expect: only('timeout'),
    program: (ctx) =>
      program(
        ctx,
        'import signal\n\n\ndef evaluate(n):\n    _tag()\n    os.kill(os.getpid(), signal.SIGSTOP)\n    return 5',
      ),
  },
  {
    id: 'ignore-sigterm',
    title: 'ignoring SIGTERM, SIGINT, SIGHUP and SIGQUIT while spinning',
    timeoutSeconds: LONG,
    expect: only('timeout'),
    program: (ctx) =>
      program(
        ctx,
        `
import signal


def evaluate(n):
    _tag()
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
        try:
            signal.signal(s, signal.SIG_IGN)
        except ValueError:
            pass  # not the main thread: keep spinning anyway
    while True:
        pass
`,
      ),
  },

  // --- stdin ----------------------------------------------------------------------------------
  {
    id: 'stdin-peek',
    title: 'reading stdin without blocking (must see no bytes: not the job, not the protocol)',
    timeoutSeconds: NORMAL,
    expect: [ok(0)],
    program: (ctx) =>
      program(
        ctx,
        `
import select


def evaluate(n):
    try:
        fd = sys.stdin.fileno() if sys.stdin is not None else 0
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            return 0
        return 1 if os.read(fd, 65536) else 0
    except (OSError, ValueError):
        return 0
`,
      ),
  },
  {
    id: 'stdin-read',
    title: 'reading stdin to the end (blocking)',
    timeoutSeconds: LONG,
    expect: [ok(0), { kind: 'timeout' }],
    program: (ctx) =>
      program(
        ctx,
        `
def evaluate(n):
    _tag()
    try:
        data = sys.stdin.buffer.read()
    except (AttributeError, OSError, ValueError):
        return 0
    return len(data)
`,
      ),
  },

  // --- processes and threads -------------------------------------------------------------------
  {
    id: 'fork-bomb',
    title: 'an unbounded fork bomb',
    timeoutSeconds: LONG,
    expect: only('timeout'),
    cannotHold: { process: NO_PIDS_LIMIT },
    program: (ctx) =>
      program(
        ctx,
        `
def evaluate(n):
    _tag()
    while True:
        try:
            os.fork()
        except OSError:
            pass
`,
      ),
  },
  {
    id: 'fork-storm',
    title: 'a bounded fork storm: 30 children that never exit, parent spins',
    timeoutSeconds: LONG,
    expect: only('timeout'),
    program: (ctx) =>
      program(
        ctx,
        `
def evaluate(n):
    _tag()
    for _ in range(30):
        try:
            if os.fork() == 0:
                while True:
                    time.sleep(0.05)
        except OSError:
            break
    while True:
        pass
`,
      ),
  },
  {
    id: 'thread-bomb',
    title: 'a thread bomb: non-daemon threads until the limit refuses one',
    timeoutSeconds: NORMAL,
    expect: only('crash'),
    program: (ctx) =>
      program(
        ctx,
        `
import threading


def evaluate(n):
    _tag()
    threads = []
    for _ in range(3000):
        t = threading.Thread(target=time.sleep, args=(10 ** 6,))
        t.start()  # RuntimeError: can't start new thread, once the limit is reached
        threads.append(t)
    return len(threads)
`,
      ),
  },
  {
    id: 'lingering-thread',
    title: 'returning while a non-daemon thread sleeps forever',
    timeoutSeconds: NORMAL,
    expect: [ok(5)],
    program: (ctx) =>
      program(
        ctx,
        `
import threading


def evaluate(n):
    _tag()
    threading.Thread(target=time.sleep, args=(10 ** 6,)).start()
    return 5
`,
      ),
  },
  {
    id: 'double-fork',
    title: 'a double-forked grandchild that outlives the candidate (and holds its stdout/stderr)',
    timeoutSeconds: NORMAL,
    expect: [ok(5)],
    program: (ctx) => program(ctx, orphanBody(false)),
  },
  {
    id: 'setsid-escape',
    title: 'a grandchild in a new session (setsid) ignoring SIGHUP/SIGTERM',
    timeoutSeconds: NORMAL,
    expect: [ok(5)],
    program: (ctx) => program(ctx, orphanBody(true)),
  },
  {
    id: 'fork-child-reports',
    title: 'a forked child returns 999 from evaluate before the parent returns 5',
    timeoutSeconds: NORMAL,
    expect: [ok(5)],
    program: (ctx) =>
      program(
        ctx,
        `
def evaluate(n):
    pid = os.fork()
    if pid == 0:
        return 999  # the harness code above us now runs twice
    os.waitpid(pid, 0)
    time.sleep(0.2)
    return 5
`,
      ),
  },
  {
    id: 'kill-parent',
    title: 'killing its parent: os.kill(os.getppid(), 9)',
    timeoutSeconds: NORMAL,
    expect: [ok(5), { kind: 'crash' }],
    program: (ctx) =>
      program(
        ctx,
        'import signal\n\n\ndef evaluate(n):\n    os.kill(os.getppid(), signal.SIGKILL)\n    time.sleep(0.5)\n    return 5',
      ),
  },
  {
    id: 'kill-everything',
    title: 'killing every process it can see: os.kill(-1, 9)',
    timeoutSeconds: NORMAL,
    expect: [ok(5), { kind: 'crash' }],
    cannotHold: { process: NO_PID_NAMESPACE_KILL },
    program: (ctx) =>
      program(
        ctx,
        'import signal\n\n\ndef evaluate(n):\n    os.kill(-1, signal.SIGKILL)\n    time.sleep(0.5)\n    return 5',
      ),
  },
  {
    id: 'signal-host',
    title: "probing the host's Node process with signal 0 (harmless; must not reach it)",
    timeoutSeconds: NORMAL,
    expect: [ok(0)],
    cannotHold: { process: SIGNAL_HOST },
    program: (ctx) =>
      program(
        ctx,
        `
def evaluate(n):
    try:
        os.kill(${ctx.hostPid}, 0)
    except (ProcessLookupError, PermissionError):
        return 0
    # pid namespaces: a pid of that number in here is someone else; check it is the host's node
    try:
        with open('/proc/${ctx.hostPid}/cmdline', 'rb') as f:
            return 1 if b'node' in f.read() else 0
    except OSError:
        return 0
`,
      ),
  },

  {
    id: 'user-namespace',
    title: 'creating a user namespace, where it would be root (kernel attack surface)',
    timeoutSeconds: NORMAL,
    expect: [ok(0)],
    cannotHold: { process: NO_NAMESPACE_FILTER },
    program: (ctx) =>
      program(
        ctx,
        `
import ctypes

CLONE_NEWUSER = 0x10000000


def evaluate(n):
    pid = os.fork()
    if pid == 0:
        # In a child: unsharing changes the caller's own credentials.
        os._exit(0 if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWUSER) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    return 1 if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else 0
`,
      ),
  },

  // --- memory and the interpreter -----------------------------------------------------------------
  {
    id: 'memory-touched',
    title: 'a touched memory bomb: filled bytearrays up to 4x the limit',
    timeoutSeconds: NORMAL,
    expect: only('memory'),
    program: (ctx) =>
      program(
        ctx,
        `
def evaluate(n):
    chunks = []
    for _ in range(${Math.ceil((4 * ctx.memoryMb) / 16)}):
        chunks.append(bytearray(b'\\x01') * (16 << 20))
    return len(chunks)
`,
      ),
  },
  {
    id: 'memory-split-across-children',
    title: 'a memory bomb split over 6 forked children of 100 MiB each (a per-process limit misses it)',
    timeoutSeconds: NORMAL,
    expect: only('memory'),
    cannotHold: {
      process: NO_MEMORY_CGROUP,
      // Root with the memory controller gives each bwrap harness a memory cgroup (CI does).
      bwrap: { reason: NO_MEMORY_CGROUP, when: 'without-memory-cgroup' },
    },
    program: (ctx) =>
      program(
        ctx,
        `
def evaluate(n):
    _tag()
    r, w = os.pipe()
    pids = []
    for _ in range(6):
        pid = os.fork()
        if pid == 0:
            try:
                block = bytearray(b'\\x01') * (100 << 20)
                os.write(w, b'x')
                time.sleep(2)  # hold it while the others allocate theirs
                os._exit(0 if block else 1)
            finally:
                os._exit(1)
        pids.append(pid)
    failed = 0
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        failed += status != 0
    if failed:
        raise MemoryError('%d of 6 children did not survive holding 100 MiB each' % failed)
    return 6
`,
      ),
  },
  {
    id: 'memory-untouched-numpy',
    title: 'an untouched memory bomb: np.empty(10**12) (8 TB)',
    timeoutSeconds: NORMAL,
    expect: only('memory'),
    program: returns('float(np.empty(10 ** 12).size)', 'import numpy as np'),
  },
  {
    id: 'memory-untouched-mmap',
    title: 'an untouched memory bomb: anonymous mmap of 1 TiB (ENOMEM)',
    timeoutSeconds: NORMAL,
    expect: only('memory'),
    program: returns('len(mmap.mmap(-1, 1 << 40))', 'import mmap'),
  },
  {
    id: 'deep-recursion',
    title: 'recursion through C with the recursion limit lifted: the interpreter segfaults',
    timeoutSeconds: NORMAL,
    expect: only('crash'),
    program: (ctx) =>
      program(
        ctx,
        `
def f(x):
    return list(map(f, [x + 1]))


def evaluate(n):
    sys.setrecursionlimit(10 ** 6)
    return f(0)
`,
      ),
  },

  // --- output -----------------------------------------------------------------------------------
  ...floodCases(),
  {
    id: 'invalid-utf8-then-score',
    title: 'invalid UTF-8 on stdout and stderr, then returns 5',
    timeoutSeconds: NORMAL,
    expect: [ok(5)],
    program: returns(
      '5',
      '',
      "os.write(1, b'\\xff\\xfe bad \\xc3\\x28 utf-8\\n')\nos.write(2, b'\\xff\\xfe bad \\xc3\\x28 utf-8\\n')",
    ),
  },
  {
    id: 'fake-score-print',
    title: 'printing lines that look like a score or a result frame, then returns 5',
    timeoutSeconds: NORMAL,
    expect: [ok(5)],
    program: (ctx) =>
      program(
        ctx,
        `
FRAMES = ${pyList(FAKE_FRAMES)}


def evaluate(n):
    import struct
    for frame in FRAMES:
        print(frame, flush=True)
        print(frame, file=sys.stderr, flush=True)
        # length-prefixed, as the harness frames its own stdout
        os.write(1, struct.pack('>I', len(frame)) + frame.encode())
    return 5
`,
      ),
  },
  {
    id: 'fake-score-unterminated',
    title: 'an unterminated fake frame and a NUL byte on stdout, then returns 5',
    timeoutSeconds: NORMAL,
    expect: [ok(5)],
    program: returns(
      '5',
      '',
      'sys.stdout.write(\'{"kind": "ok", "score": 999\')\nsys.stdout.flush()\nos.write(1, b"\\0")',
    ),
  },
  {
    id: 'fake-frames-all-fds',
    title: 'writing fake result frames to every file descriptor 0-63',
    timeoutSeconds: NORMAL,
    expect: 'any',
    program: (ctx) =>
      program(
        ctx,
        `
FRAMES = ${pyList(FAKE_FRAMES)}


def evaluate(n):
    data = ''.join(f + '\\n' for f in FRAMES).encode()
    for fd in range(64):
        try:
            os.write(fd, data)
        except OSError:
            pass
    return 5
`,
      ),
  },
  {
    id: 'close-std-fds',
    title: 'closing stdin, stdout and stderr, then returns 5',
    timeoutSeconds: NORMAL,
    expect: [ok(5), { kind: 'crash' }],
    program: returns(
      '5',
      '',
      'for fd in (0, 1, 2):\n    try:\n        os.close(fd)\n    except OSError:\n        pass',
    ),
  },

  // --- files ------------------------------------------------------------------------------------
  {
    id: 'huge-file',
    title: 'writing a 1 GiB file into the temporary directory',
    timeoutSeconds: NORMAL,
    expect: only('crash'),
    program: (ctx) =>
      program(
        ctx,
        `
import tempfile


def evaluate(n):
    path = os.path.join(tempfile.gettempdir(), 'hostile-${ctx.token}.bin')
    sys.stderr.write('LEFT:' + path + '\\n')
    sys.stderr.flush()
    chunk = b'\\0' * (1 << 20)
    with open(path, 'wb') as f:
        for _ in range(1024):
            f.write(chunk)
    return 1024
`,
      ),
    followUps: [seesNothingOf((ctx) => [`hostile-${ctx.token}.bin`])],
    hostCheck: reportedPathsGone,
  },
  {
    id: 'many-small-files',
    title: 'writing 30000 small files into the temporary directory (3000 in the process sandbox)',
    timeoutSeconds: NORMAL,
    expect: only('crash'),
    // No limit on the number of files exists outside a container, so there the case checks only that
    // the job directory is wiped after: 3000 files do that as well as 30000, at a tenth of the time.
    bySandbox: { process: [ok(3000), { kind: 'crash' }] },
    program: (ctx) =>
      program(
        ctx,
        `
import tempfile


def evaluate(n):
    root = os.path.join(tempfile.gettempdir(), 'hostile-${ctx.token}-many')
    sys.stderr.write('LEFT:' + root + '\\n')
    sys.stderr.flush()
    os.makedirs(root)
    for i in range(${manyFiles(ctx)}):
        with open(os.path.join(root, str(i)), 'w') as f:
            f.write('x')
    return ${manyFiles(ctx)}
`,
      ),
    followUps: [seesNothingOf((ctx) => [`hostile-${ctx.token}-many`])],
    hostCheck: reportedPathsGone,
  },
  {
    id: 'leave-files',
    title: 'leaving files in its temporary directory, working directory and home for the next candidate',
    timeoutSeconds: NORMAL,
    expect: [ok(5)],
    program: (ctx) =>
      program(
        ctx,
        `
import tempfile


def evaluate(n):
    name = 'hostile-${ctx.token}-left'
    for place in {tempfile.gettempdir(), os.getcwd(), os.path.expanduser('~')}:
        path = os.path.join(place, name)
        try:
            with open(path, 'w') as f:
                f.write('left behind')
            sys.stderr.write('LEFT:' + path + '\\n')
        except OSError:
            pass
    return 5
`,
      ),
    followUps: [seesNothingOf((ctx) => [`hostile-${ctx.token}-left`])],
    hostCheck: reportedPathsGone,
  },
  {
    id: 'leave-files-anywhere',
    title: 'leaving files in /tmp, /var/tmp, /dev/shm, / and every writable directory near the root',
    timeoutSeconds: NORMAL,
    expect: [ok(5)],
    cannotHold: { process: HOST_TMP },
    program: (ctx) =>
      program(
        ctx,
        `
def evaluate(n):
    name = 'hostile-${ctx.token}-anywhere'
    places = ['/tmp', '/var/tmp', '/dev/shm', '/', '/root', '/home', '/opt', '/srv', '/usr/local', '/etc', '/var/lib']
    for top in ('/', '/usr', '/var', '/home', '/opt'):
        try:
            places += [os.path.join(top, d) for d in os.listdir(top)]
        except OSError:
            pass
    for place in places:
        if place.startswith(('/proc', '/sys', '/dev/')) and place != '/dev/shm':
            continue
        path = os.path.join(place, name)
        try:
            with open(path, 'w') as f:
                f.write('left behind')
            sys.stderr.write('LEFT:' + path + '\\n')
        except OSError:
            pass
    return 5
`,
      ),
    followUps: [seesNothingOf((ctx) => [`hostile-${ctx.token}-anywhere`])],
  },
  {
    id: 'persist-python-startup',
    title: "planting sitecustomize.py and editing the harness so the next interpreter's sum() lies",
    timeoutSeconds: NORMAL,
    expect: 'any',
    cannotHold: { process: HOST_PYTHON },
    program: (ctx) =>
      program(
        ctx,
        `
import site
import sysconfig

POISON = 'import builtins\\nbuiltins.sum = lambda *a, **k: 999\\n'


def _own_layer(path):
    # Only touch files on the container's own root file system: never a bind-mounted host path.
    try:
        return os.stat(path).st_dev == os.stat('/').st_dev
    except OSError:
        return False


def evaluate(n):
    dirs = set(p for p in sys.path if p and os.path.isdir(p))
    try:
        dirs.update(site.getsitepackages())
    except Exception:
        pass
    dirs.add(sysconfig.get_paths()['stdlib'])
    for d in dirs:
        if _own_layer(d):
            for name in ('sitecustomize.py', 'usercustomize.py'):
                try:
                    with open(os.path.join(d, name), 'a') as f:
                        f.write(POISON)
                except OSError:
                    pass
    main = getattr(sys.modules.get('__main__'), '__file__', None) or (sys.argv[0] if sys.argv else None)
    if main and os.path.isfile(main) and _own_layer(main):
        try:
            with open(main, 'a') as f:
                f.write('\\n' + POISON)
        except OSError:
            pass
    return 5
`,
      ),
  },
  {
    id: 'poison-builtins',
    title: 'poisoning builtins and stdlib modules (sum, range, json, math) in its interpreter',
    timeoutSeconds: NORMAL,
    // The candidate shares the process that reports its result, so it may garble its own report.
    expect: [ok(5), { kind: 'crash' }, { kind: 'invalid-score' }],
    program: (ctx) =>
      program(
        ctx,
        `
import builtins
import json
import math


def evaluate(n):
    builtins.sum = lambda *a, **k: 999
    builtins.range = lambda *a, **k: [999]
    json.dumps = lambda *a, **k: '{"kind": "ok", "score": 999}'
    json.loads = lambda *a, **k: {'score': 999}
    math.isfinite = lambda x: True
    sys.setrecursionlimit(60)
    return 5
`,
      ),
  },

  // --- secrets ----------------------------------------------------------------------------------
  {
    id: 'secrets-environ',
    title: 'looking for API tokens in os.environ',
    timeoutSeconds: NORMAL,
    expect: [ok(0)],
    program: (ctx) =>
      program(
        ctx,
        `
SECRETS = ${pyList(ctx.secrets)}


def evaluate(n):
    text = '\\n'.join(k + '=' + v for k, v in os.environ.items())
    return sum(1 for s in SECRETS if s in text)
`,
      ),
  },
  {
    id: 'secrets-proc-environ',
    title: 'looking for API tokens in every readable /proc/*/environ',
    timeoutSeconds: NORMAL,
    expect: [ok(0)],
    cannotHold: { process: HOST_PROC },
    program: (ctx) =>
      program(
        ctx,
        `
SECRETS = ${pyList(ctx.secrets)}


def evaluate(n):
    found = 0
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/' + pid + '/environ', 'rb') as f:
                data = f.read().decode('utf-8', 'replace')
        except OSError:
            continue
        found += sum(1 for s in SECRETS if s in data)
    return found
`,
      ),
  },
  {
    id: 'dotenv-relative',
    title: 'reading .env from its working directory and every parent directory',
    timeoutSeconds: NORMAL,
    expect: [ok(0)],
    program: (ctx) =>
      program(
        ctx,
        `
SECRETS = ${pyList(ctx.secrets)}


def evaluate(n):
    found = 0
    d = os.getcwd()
    while True:
        try:
            with open(os.path.join(d, '.env')) as f:
                data = f.read()
            found += sum(1 for s in SECRETS if s in data)
        except OSError:
            pass
        if d == os.path.dirname(d):
            return found
        d = os.path.dirname(d)
`,
      ),
  },
  {
    id: 'dotenv-absolute',
    title: "reading the host project's .env by its absolute path",
    timeoutSeconds: NORMAL,
    expect: [ok(0)],
    cannotHold: { process: HOST_FILES },
    program: (ctx) =>
      program(
        ctx,
        `
def evaluate(n):
    try:
        with open(${JSON.stringify(ctx.dotenvPath)}, 'rb') as f:
            f.read()
        return 1
    except OSError:
        return 0
`,
      ),
  },
  {
    id: 'planted-host-files',
    title: "reading files planted in the host user's home and the working directory, by path and by search",
    timeoutSeconds: NORMAL,
    expect: [ok(0)],
    cannotHold: { process: HOST_FILES },
    program: (ctx) =>
      program(
        ctx,
        `
PATHS = ${pyList(ctx.plantedPaths)}
SECRET = ${JSON.stringify(ctx.plantedSecret)}


def evaluate(n):
    found = 0
    for path in PATHS:
        try:
            with open(path) as f:
                found += SECRET in f.read()
        except OSError:
            pass
    # Also by name in whatever home and working directory the candidate is given.
    names = set(os.path.basename(p) for p in PATHS)
    for place in {os.getcwd(), os.path.expanduser('~'), os.environ.get('HOME', '/')}:
        for name in names:
            try:
                with open(os.path.join(place, name)) as f:
                    found += SECRET in f.read()
            except OSError:
                pass
    return found
`,
      ),
  },
  {
    id: 'etc-shadow',
    title: "reading the host's /etc/shadow",
    timeoutSeconds: NORMAL,
    expect: [ok(0)],
    cannotHold: { process: HOST_SHADOW },
    program: (ctx) =>
      program(
        ctx,
        `
import hashlib


def evaluate(n):
    try:
        with open('/etc/shadow', 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return 0
    return 1 if digest == ${JSON.stringify(ctx.shadowDigest ?? 'unreadable-on-host')} else 0
`,
      ),
  },
  {
    id: 'docker-socket',
    title: 'connecting to the Docker socket',
    timeoutSeconds: NORMAL,
    expect: [ok(0)],
    cannotHold: { process: HOST_DOCKER_SOCKET },
    program: (ctx) =>
      program(
        ctx,
        `
import socket


def evaluate(n):
    for path in ('/var/run/docker.sock', '/run/docker.sock'):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(1)
        try:
            s.connect(path)
            return 1
        except OSError:
            pass
        finally:
            s.close()
    return 0
`,
      ),
  },

  // --- network ----------------------------------------------------------------------------------
  {
    id: 'network-ip',
    title: 'connecting to 1.1.1.1:53 by IP (1 s timeout)',
    timeoutSeconds: NORMAL,
    expect: [ok(0)],
    cannotHold: { process: NO_NET_NAMESPACE },
    program: returns('_connect()', NET_CONNECT('1.1.1.1', 53)),
  },
  {
    id: 'network-dns',
    title: 'resolving a host name (getaddrinfo)',
    timeoutSeconds: NORMAL,
    expect: [ok(0)],
    cannotHold: { process: NO_NET_NAMESPACE },
    program: returns(
      '_resolve()',
      "import socket\n\n\ndef _resolve():\n    socket.setdefaulttimeout(1)\n    try:\n        return 1 if socket.getaddrinfo('example.com', 443) else 0\n    except OSError:\n        return 0",
    ),
  },
  {
    id: 'network-host-loopback',
    title: "connecting to a listener on the host's 127.0.0.1",
    timeoutSeconds: NORMAL,
    expect: [ok(0)],
    cannotHold: { process: NO_NET_NAMESPACE },
    program: (ctx) =>
      program(
        ctx,
        `${NET_CONNECT('127.0.0.1', ctx.loopbackPort)}\n\n\ndef evaluate(n):\n    return _connect()`,
      ),
  },

  {
    id: 'network-host-loopback-server',
    title:
      "connecting to a TCP server on the host's loopback and reading its banner (the server sees no connection)",
    timeoutSeconds: NORMAL,
    expect: [ok(0)],
    cannotHold: { process: NO_NET_NAMESPACE },
    listenerUntouched: true,
    program: (ctx) =>
      program(
        ctx,
        `
import socket


def evaluate(n):
    for host in ('127.0.0.1', 'localhost', '::1'):
        try:
            with socket.create_connection((host, ${ctx.loopbackPort}), timeout=1) as s:
                return 1 if s.recv(64) else 1
        except OSError:
            pass
    return 0
`,
      ),
  },

  // --- exiting early ------------------------------------------------------------------------------
  {
    id: 'os-exit-0',
    title: 'os._exit(0) before scoring',
    timeoutSeconds: NORMAL,
    expect: only('crash'),
    program: returns('5', '', 'os._exit(0)'),
  },
  {
    id: 'sys-exit-0',
    title: 'sys.exit(0) before scoring',
    timeoutSeconds: NORMAL,
    expect: only('crash'),
    program: returns('5', '', 'sys.exit(0)'),
  },
  {
    id: 'keyboard-interrupt',
    title: 'raising KeyboardInterrupt (a BaseException, not an Exception)',
    timeoutSeconds: NORMAL,
    expect: only('crash'),
    program: returns('5', '', 'raise KeyboardInterrupt'),
  },
  {
    id: 'self-sigkill',
    title: 'SIGKILL to itself (a crash, not a memory kill)',
    timeoutSeconds: NORMAL,
    expect: only('crash'),
    program: returns('5', 'import signal', 'os.kill(os.getpid(), signal.SIGKILL)'),
  },
  {
    id: 'abort',
    title: 'os.abort()',
    timeoutSeconds: NORMAL,
    expect: only('crash'),
    program: returns('5', '', 'os.abort()'),
  },
  {
    id: 'syntax-error',
    title: 'a program that does not parse',
    timeoutSeconds: NORMAL,
    expect: only('syntax-error'),
    program: () => 'def evaluate(n):\n    return (5\n',
  },

  // --- scores -----------------------------------------------------------------------------------
  ...invalidScoreCases(),
  {
    id: 'score-negative-float',
    title: 'a plain negative float score',
    timeoutSeconds: NORMAL,
    expect: [ok(-2.5)],
    program: returns('-2.5'),
  },
  {
    id: 'score-int-2-31',
    title: 'a large int that a double holds exactly (2**31)',
    timeoutSeconds: NORMAL,
    expect: [ok(2 ** 31)],
    program: returns('2 ** 31'),
  },
  {
    id: 'score-numpy-float64',
    title: "numpy.float64(2.5) (the original bin-packing spec's score type)",
    timeoutSeconds: NORMAL,
    expect: [ok(2.5)],
    program: returns('np.float64(2.5)', 'import numpy as np'),
  },
];

// ---------------------------------------------------------------------------------------------

function NET_CONNECT(host: string, port: number): string {
  return `import socket


def _connect():
    try:
        socket.create_connection((${JSON.stringify(host)}, ${port}), timeout=1).close()
        return 1
    except OSError:
        return 0`;
}

/** The orphan cases: the grandchild tags itself and tells the parent before the parent returns. */
function orphanBody(newSession: boolean): string {
  const leaveSession = newSession
    ? `            os.setsid()
            for s in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
                signal.signal(s, signal.SIG_IGN)
`
    : '';
  return `
import signal


def evaluate(n):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
${leaveSession}            if os.fork() == 0:
                _tag()
                os.write(w, b'x')
                while True:
                    time.sleep(0.05)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    os.read(r, 1)  # the grandchild is tagged and running
    return 5
`;
}

function floodCases(): HostileCase[] {
  const streams = [
    ['stdout', 1],
    ['stderr', 2],
  ] as const;
  const shapes = [
    ['lines', 'lines', "b'x' * 99 + b'\\n'"],
    ['no-newline', 'no newline', "b'x' * 65536"],
    ['invalid-utf8', 'invalid UTF-8', "b'\\xff\\xfe\\xc3\\x28' * 16384"],
  ] as const;
  return streams.flatMap(([stream, fd]) =>
    shapes.map(([shape, label, bytes]) => ({
      id: `flood-${stream}-${shape}`,
      title: `an endless flood on ${stream} (${label})`,
      timeoutSeconds: NORMAL,
      expect: only('output-limit'),
      program: (ctx: CaseContext) =>
        program(
          ctx,
          `def evaluate(n):\n    _tag()\n    data = ${bytes}\n    while True:\n        os.write(${fd}, data)`,
        ),
    })),
  );
}

function invalidScoreCases(): HostileCase[] {
  const sly = `
class Sly:
    """Not a number, but converts to one, with a side effect each time."""

    def __float__(self):
        print('side effect in __float__', file=sys.stderr)
        return 999.0

    def __int__(self):
        return 999

    def __index__(self):
        return 999

    def __repr__(self):
        return '999'


class F(float):
    def __repr__(self):
        return '999.0'


class I(int):
    def __repr__(self):
        return '999'`;
  const values: [id: string, label: string, expr: string][] = [
    ['nan', 'NaN', "float('nan')"],
    ['inf', 'infinity', "float('inf')"],
    ['minus-inf', 'minus infinity', "float('-inf')"],
    ['true', 'True (a bool)', 'True'],
    ['huge-int', 'a huge int: 10**400', '10 ** 400'],
    ['int-2-60', 'an int beyond 2**53: 2**60', '2 ** 60'],
    ['string', "a string: '5'", "'5'"],
    ['none', 'None', 'None'],
    ['complex', 'a complex number', 'complex(5, 0)'],
    ['side-effect-object', 'an object whose __float__ has side effects', 'Sly()'],
    ['float-subclass', 'a float subclass', 'F(5.0)'],
    ['int-subclass', 'an int subclass', 'I(5)'],
  ];
  return values.map(([id, label, expr]) => ({
    id: `score-${id}`,
    title: `returning ${label}`,
    timeoutSeconds: NORMAL,
    expect: only('invalid-score'),
    program: returns(expr, sly),
  }));
}
