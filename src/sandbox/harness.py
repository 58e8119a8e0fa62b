"""funsearch sandbox harness.

Started once per sandbox worker, either inside a sandbox container (mode ``container``, via
``docker exec``) or on the host (mode ``process``) as::

    python3 -I -c <this source> <mode> <config json>

It imports the spec's modules once (config ``preload``), then takes jobs over stdin as frames
(4-byte big-endian length + UTF-8 JSON) and answers with frames on stdout. Each job (one
candidate program and its test inputs) runs in a fresh child forked from the warm state, so a
candidate costs about one fork and nothing a candidate does survives it. The forks are made by
a fork server, a process forked once from this one when it is warm (see ForkServer), so that
this process, which keeps the protocol, the pipes and the cleanup, never forks per candidate.
The child writes its results to a private pipe; the candidate's own stdout and stderr go to
other, size-capped pipes. Only this process writes to stdout, so nothing a candidate prints can
pose as a result.

Messages (host -> harness):  {"type": "job", "id", "program", "function", "inputs", "timeout"}
                             {"type": "cancel", "id"}
Messages (harness -> host):  {"type": "ready", ...}
                             {"type": "result", "id", "outcomes": [...], "clean", "cancelled"}
A job's result (one outcome per input run; the run stops at the first failing input) is written
only after every process of the candidate is dead and its files are gone.
"""

import _signal
import ctypes
import errno
import gc
import json
import math
import os
import resource
import select
import signal
import socket
import stat
import struct
import sys
import time
import traceback
import types

PROTOCOL = 1
MAX_JOB_FRAME = 64 * 1024 * 1024
MAX_RESULT_LINE = 64 * 1024
MAX_REASON = 500
EXACT_INT_LIMIT = 2**53
CLEANUP_SECONDS = 2.0
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

MODE = sys.argv[1] if len(sys.argv) > 1 else "process"
CFG = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
MEMORY_BYTES = int(CFG.get("memory_bytes", 512 * 1024 * 1024))
FSIZE_BYTES = int(CFG.get("fsize_bytes", 64 * 1024 * 1024))
PIDS_LIMIT = int(CFG.get("pids_limit", 64))
OUTPUT_LIMIT = int(CFG.get("output_limit", 1024 * 1024))
STDERR_KEEP = int(CFG.get("stderr_keep", 4096))
WORK_ROOT = CFG.get("work_root", "/tmp")
KEEP_ENV = ("PATH", "LANG", "HOME", "TMPDIR")

if MODE == "process":
    # The host passes a scrubbed environment, but a launcher (a pyenv shim, say) may add to it.
    for _name in list(os.environ):
        if _name not in KEEP_ENV:
            del os.environ[_name]

# Numerical libraries must not start a thread per core: threads count against the pids limit.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
IPC_RMID = 0

# Warm imports: a forked child finds these in sys.modules, which is what makes a fork cheap.
import collections  # noqa: E402,F401
import dataclasses  # noqa: E402,F401
import functools  # noqa: E402,F401
import heapq  # noqa: E402,F401
import itertools  # noqa: E402,F401
import random  # noqa: E402,F401
import typing  # noqa: E402,F401


def preload(modules):
    """Imports the spec's own imports once, here, so that each forked candidate finds them in
    sys.modules instead of importing them itself (numpy: ~0.2 s of CPU a candidate; scipy more).
    A module that fails to import is left for the candidate, whose ImportError is then data. What
    a module prints while it loads must not reach fd 1, which carries the protocol."""
    import importlib

    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    threaded = None
    try:
        for module in modules:
            # The last line of stderr names the culprit if an import hangs and the host gives up.
            os.write(2, ("harness: importing %s, imported by the spec\n" % module).encode())
            try:
                importlib.import_module(module)
            except BaseException:
                pass
            if thread_count() > 1:
                threaded = module
                break
        try:
            sys.stdout.flush()  # while fd 1 still goes nowhere
        except BaseException:
            pass
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    if threaded is not None:
        restart_without(threaded)


def thread_count():
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def restart_without(module):
    """A module that starts a thread when imported leaves state a forked child cannot trust: locks
    that thread may hold, in a child where it does not exist. So the harness starts again, as the
    same process with the same pipes, without preloading it; candidates import it themselves, in
    their own child, as they did before there was a preload."""
    os.write(2, ("harness: %s started a thread when imported; not preloaded\n" % module).encode())
    try:
        with open("/proc/self/cmdline", "rb") as f:
            argv = f.read().split(b"\0")[:-1]
        config = dict(CFG, preload=[m for m in CFG.get("preload", []) if m != module])
        argv[-1] = json.dumps(config).encode()
        sys.stderr.flush()
        os.execv(sys.executable, argv)
    except BaseException as exc:  # no /proc, say: go on with it preloaded
        os.write(2, ("harness: could not restart without %s: %s\n" % (module, exc)).encode())


preload([m for m in CFG.get("preload", []) if isinstance(m, str) and m])
numpy = sys.modules.get("numpy")
if numpy is not None:
    try:
        # numpy 2 imports numpy.random (and hashlib, OpenSSL's config...) lazily: ~15 ms per child
        # unless it happens here, once.
        numpy.random.seed(0)
    except BaseException:
        numpy = None


# ---------------------------------------------------------------------------------------------
# JSON, with json's C scanner and encoder called directly: the Python wrappers of json.loads and
# json.dumps (and the encoder they build per call) touch enough pages to cost a candidate more
# copy-on-write faults than the rest of its bookkeeping. Same grammar; NaN and Infinity are refused
# both ways.


def _reject_constant(name):
    raise ValueError("%s is not JSON" % name)


def _unencodable(value):
    raise TypeError("%s is not JSON serializable" % type(value).__name__)


_SCAN = json.JSONDecoder(parse_constant=_reject_constant).scan_once
if json.encoder.c_make_encoder is not None:
    _ENCODE = json.encoder.c_make_encoder(
        None, _unencodable, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, False
    )

    def to_json(value):
        return "".join(_ENCODE(value, 0)).encode()
else:  # a Python built without the _json accelerator

    def to_json(value):
        return json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


def from_json(data):
    """The value of exactly one JSON document in UTF-8 `data`; ValueError otherwise."""
    text = data.decode("utf-8")
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        raise ValueError("not a JSON document") from None
    if end != len(text):
        raise ValueError("data after the JSON document")
    return value


# ---------------------------------------------------------------------------------------------
# Framing on the harness's own stdin/stdout.


def write_frame(message):
    data = to_json(message)
    buf = struct.pack(">I", len(data)) + data
    while buf:
        try:
            n = os.write(1, buf)
        except InterruptedError:
            continue
        buf = buf[n:]


class FrameReader:
    def __init__(self, fd):
        self.fd = fd
        self.buf = bytearray()
        self.eof = False

    def fill(self):
        """Reads what is available (the fd is readable); returns False at end of input."""
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def take(self):
        """Returns the next complete message and its JSON text, or None."""
        if len(self.buf) < 4:
            return None
        (size,) = struct.unpack(">I", self.buf[:4])
        if size > MAX_JOB_FRAME:
            raise ValueError("frame of %d bytes exceeds the limit" % size)
        if len(self.buf) < 4 + size:
            return None
        data = bytes(self.buf[4 : 4 + size])
        del self.buf[: 4 + size]
        return from_json(data), data


def read_small(path):
    """The text of a small file (/proc, cgroup), read with plain system calls: an open() builds a
    buffered text stack, and every page it touches after a fork costs a copy-on-write fault."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks).decode("utf-8", "replace")
            chunks.append(chunk)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# The child: one per job. Everything below `child_main` runs candidate code.


def close_fds_except(keep):
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def vm_size_bytes():
    return int(read_small("/proc/self/statm").split()[0]) * PAGE_SIZE


def processes_of(uid):
    """Pids of live (not zombie) processes whose real uid is `uid`. Read from status: the
    directory of a non-dumpable process belongs to root."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = dict(line.split(":", 1) for line in read_small("/proc/%s/status" % name).splitlines() if ":" in line)
        except (OSError, ValueError):
            continue
        if fields.get("State", "").split()[:1] == ["Z"]:
            continue
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            pids.append(int(name))
    return pids


def set_limit(which, value):
    try:
        hard = resource.getrlimit(which)[1]
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass


def die_with_parent(parent_pid):
    """SIGKILL when the parent dies; exits now if it died before the request took hold."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(0)


def child_main(server_pid, workdir, job_r, score_w, out_w, err_w):
    os.setsid()  # own session and process group, so a kill of the group reaches its children
    if MODE == "process":
        # Dies with the fork server (and so with the harness) on the host. In a container or
        # bubblewrap, a harness that loses its server ends, and the whole sandbox with it.
        die_with_parent(server_pid)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    close_fds_except({0, 1, 2, job_r, score_w})
    # Signal dispositions and the core, address-space and file-size limits come from the fork
    # server, which set them once (limits_for_children).
    try:
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        try:
            os.write(fd, b"1000")  # when memory runs out, the candidate goes first, not the harness
        finally:
            os.close(fd)
    except OSError:
        pass
    os.chdir(workdir)
    if workdir != FIXED_WORKDIR:
        os.environ["TMPDIR"] = workdir
        os.environ["HOME"] = workdir
    if MODE == "process" and os.getuid() != 0:
        # RLIMIT_NPROC counts every process of the user; in a container the pids cgroup does this.
        set_limit(resource.RLIMIT_NPROC, len(processes_of(os.getuid())) + PIDS_LIMIT)

    # The warm parent seeded both generators once; without a reseed every candidate would draw
    # the same numbers. `random` reseeds itself only in an os.fork() child, and the server forks
    # without Python's after-fork hooks (make_raw_fork). numpy's argument-less seed() costs
    # ~20 ms in a fresh fork; an explicit seed does not.
    random.seed(int.from_bytes(os.urandom(32), "little"))
    if numpy is not None:
        numpy.random.seed(int.from_bytes(os.urandom(4), "little"))

    data = bytearray()
    while True:
        chunk = os.read(job_r, 1 << 16)
        if not chunk:
            break
        data += chunk
    os.close(job_r)
    if not data:
        os._exit(0)  # discarded spare
    job = from_json(data)
    del data
    total = float(job["timeout"]) * len(job["inputs"])
    set_limit(resource.RLIMIT_CPU, int(math.ceil(total)) + 1)
    run_candidate(job, score_w)
    flush_stdio()
    os._exit(0)


def limits_for_children():
    """What every child needs and the fork server does not mind, set once in the server rather
    than in each child, where every Python call costs copy-on-write faults. Children inherit
    dispositions and limits across fork."""
    # _signal, not signal: the wrapper converts every handler to an enum in Python.
    for sig in (_signal.SIGINT, _signal.SIGTERM, _signal.SIGCHLD):
        _signal.signal(sig, _signal.SIG_DFL)
    # A write beyond RLIMIT_FSIZE raises OSError instead of killing the process without a word.
    _signal.signal(_signal.SIGXFSZ, _signal.SIG_IGN)
    set_limit(resource.RLIMIT_CORE, 0)
    # The server's own size is a child's size at its fork: the candidate gets memory_mb on top.
    set_limit(resource.RLIMIT_AS, vm_size_bytes() + MEMORY_BYTES)
    set_limit(resource.RLIMIT_FSIZE, FSIZE_BYTES)


def flush_stdio():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def short(text):
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def describe_exception(exc):
    try:
        name = type(exc).__name__
        message = str(exc)
        return short(name + (": " + message if message else ""))
    except BaseException:
        return "exception"


def print_traceback(exc):
    try:
        # Start at the candidate's first frame: the harness's own frames are noise in the excerpt.
        # Without one (a call the candidate never entered, e.g. a wrong arity) the error stands alone.
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != "<candidate>":
            tb = tb.tb_next
        traceback.print_exception(type(exc), exc, tb)
    except BaseException:
        pass


_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: set on every class made by Python code
_NUMPY_SCALAR_NAMES = {
    **dict.fromkeys(("bool_", "bool"), bool),
    **dict.fromkeys(("int8", "int16", "int32", "int64", "intc", "intp", "longlong"), int),
    **dict.fromkeys(("uint8", "uint16", "uint32", "uint64", "uintc", "uintp", "ulonglong"), int),
    **dict.fromkeys(("float16", "float32", "float64"), float),
}
_NUMPY_SCALARS = None  # ((numpy type, bool/int/float), ...), found once per process


def find_numpy_scalars():
    """numpy's scalar types, from the numpy in sys.modules: preloaded (found once, before any
    candidate), or imported by the candidate itself, which may have planted anything there. So
    nothing here runs code an object could bring: no dict lookup (a planted key's __eq__), no
    getattr (a module __getattr__), no == on a type (a metaclass's __eq__); and only static types
    count. numpy defines its scalars in C; a class made by Python code is never static."""
    try:
        module = None
        for name, value in list(dict.items(sys.modules)):
            if type(name) is str and name == "numpy":
                module = value
        if type(module) is not types.ModuleType:
            return ()
        found = []
        for name, value in list(dict.items(object.__getattribute__(module, "__dict__"))):
            if type(name) is str and name in _NUMPY_SCALAR_NAMES and type(value) is type:
                if not type.__dict__["__flags__"].__get__(value) & _HEAP_TYPE:
                    found.append((value, _NUMPY_SCALAR_NAMES[name]))
        return tuple(found)
    except BaseException:
        return ()


def as_builtin(kind):
    """bool, int or float for one of numpy's scalar types; `kind` itself otherwise."""
    global _NUMPY_SCALARS
    if _NUMPY_SCALARS is None:
        _NUMPY_SCALARS = find_numpy_scalars()
    for scalar, builtin in _NUMPY_SCALARS:
        if kind is scalar:
            return builtin
    return kind


def check_score(value):
    """Returns (score, type) or raises ValueError with the reason. Exact type checks only: a
    subclass or an object with a custom __float__ never gets the chance to run code here."""
    kind = type(value)
    if kind is not int and kind is not float and kind is not bool:
        kind = as_builtin(kind)
    if kind is bool:
        raise ValueError("returned a bool, expected an int or a float")
    if kind is int:
        number = int(value)
        if abs(number) > EXACT_INT_LIMIT:
            raise ValueError("returned an int beyond 2**53, which a double cannot hold exactly")
        return number, "int"
    if kind is float:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("returned %s, expected a finite number" % number)
        return number, "float"
    try:
        name = type.__dict__["__name__"].__get__(kind)
    except BaseException:
        name = "an object"
    raise ValueError("returned %s, expected an int or a float" % short(name))


def run_candidate(job, score_fd):
    owner = os.getpid()

    def send(index, kind, reason=None, score=None, score_type=None):
        if os.getpid() != owner:
            # A process the candidate forked has returned into this code: it is not the candidate.
            os._exit(0)
        flush_stdio()
        message = {"i": index, "kind": kind}
        if reason is not None:
            message["reason"] = short(reason)
        if score_type is not None:
            message["score"] = score
            message["scoreType"] = score_type
        os.write(score_fd, to_json(message) + b"\n")

    def fail(index, exc):
        print_traceback(exc)
        flush_stdio()
        out_of_memory = isinstance(exc, MemoryError) or (isinstance(exc, OSError) and exc.errno == errno.ENOMEM)
        kind = "memory" if out_of_memory else "crash"
        send(index, kind, describe_exception(exc))

    try:
        code = compile(job["program"], "<candidate>", "exec")
    except SyntaxError as exc:
        line = " (line %d)" % exc.lineno if exc.lineno else ""
        send(0, "syntax-error", "%s: %s%s" % (type(exc).__name__, exc.msg, line))
        return
    except ValueError as exc:  # e.g. a null byte in the source
        send(0, "syntax-error", describe_exception(exc))
        return
    except BaseException as exc:
        fail(0, exc)
        return

    shim = types.ModuleType("funsearch")
    shim.run = shim.evolve = lambda function: function  # the spec's markers, as no-op decorators
    sys.modules["funsearch"] = shim
    module = types.ModuleType("candidate")
    module.__dict__["funsearch"] = shim
    sys.modules["candidate"] = module
    try:
        exec(code, module.__dict__)
        function = module.__dict__[job["function"]]
    except BaseException as exc:
        fail(0, exc)
        return
    for index, text in enumerate(job["inputs"]):
        try:
            # Inputs come from the user's inputs file and are spliced in as Python, as the original does.
            value = function(eval(text, module.__dict__))
        except BaseException as exc:
            fail(index, exc)
            return
        try:
            score, score_type = check_score(value)
        except ValueError as exc:
            send(index, "invalid-score", str(exc))
            return
        except BaseException as exc:
            fail(index, exc)
            return
        send(index, "ok", score=score, score_type=score_type)


# ---------------------------------------------------------------------------------------------
# The harness side of a job.


_WORKDIR_NUMBERS = itertools.count()
# In container mode the work root is emptied after every job, so every job can have the same
# directory, and TMPDIR and HOME are set once, in the harness: os.environ's Python code costs a
# child dozens of copy-on-write faults.
FIXED_WORKDIR = os.path.join(WORK_ROOT, "job") if MODE == "container" else None


def make_workdir():
    """A fresh private directory for one job. Numbered, not random: tempfile's name generator
    costs more after each fork than the rest of the job's bookkeeping."""
    if FIXED_WORKDIR is not None:
        try:
            os.mkdir(FIXED_WORKDIR, 0o700)
            return FIXED_WORKDIR
        except FileExistsError:
            pass  # not emptied (the job's cleanup failed and the host replaces us): numbered
    while True:
        path = os.path.join(WORK_ROOT, "job-%d" % next(_WORKDIR_NUMBERS))
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue  # in process mode a candidate can write to WORK_ROOT: take the next number


class ForkServerLost(Exception):
    """The fork server died, stopped or stopped answering. Only a process of our uid (a
    candidate) or an outside hand can do that to it."""


# Fork server -> harness: kind (b"P" forked, b"S" exit status), pid, wait status.
_MESSAGE = struct.Struct("=cii")
# Harness -> fork server, with a flag byte and the work directory: the child's ends of its pipes.
_CHILD_FDS = struct.Struct("4i")
SERVER_SECONDS = 10.0


class ForkServer:
    """A process forked once from the warm harness whose only work is to fork candidates' children
    on request. After a fork every page of the forking process is copy-on-write, and on these
    virtual machines each fault costs 15-45 us: a loop that does nothing but fork touches few
    pages between forks, while the harness's own bookkeeping (protocol, pipes, cleanup) touched
    enough to cost about a quarter of a candidate. The harness keeps all of that and never forks
    per candidate, so its writes fault no more.

    It inherits this process's non-dumpable state, so another process of our uid (a candidate)
    can neither ptrace it nor open its file descriptors; it can only signal it. A server that
    dies or stops is noticed (end of its socket, its /proc state, or silence) and never waited
    for without a deadline."""

    def __init__(self):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        harness_pid = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                serve_forks(theirs, harness_pid)
            finally:
                os._exit(70)
        theirs.close()
        self.pid = pid
        self.sock = ours
        self.fd = ours.fileno()
        self.reap = False  # strays of a candidate (clone with CLONE_PARENT) wait to be reaped
        self.stopped = False
        # Our reaping of orphans may reap the server once it is dead; a pidfd still names it, and
        # never a process that got its pid afterwards (on the host's pid space, in process mode).
        try:
            self.pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self.pidfd = None

    def fork(self, workdir, child_fds):
        """A new child of the server, waiting for its job on child_fds[0]; returns its pid."""
        flag = b"R" if self.reap else b"F"
        self.reap = False
        try:
            self.sock.sendmsg(
                [flag + workdir.encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, _CHILD_FDS.pack(*child_fds))]
            )
        except OSError as exc:
            raise ForkServerLost("the fork server's socket failed: %s" % exc) from None
        deadline = time.monotonic() + SERVER_SECONDS
        while True:
            kind, pid, _ = self.message(deadline)
            if kind == b"P":
                return pid

    def message(self, deadline=None):
        """The server's next message as (kind, pid, status). Without a deadline, None when none
        is waiting; with one, waits for it. ForkServerLost when the server is gone, stopped, or
        silent past the deadline."""
        while True:
            try:
                data = self.sock.recv(_MESSAGE.size, socket.MSG_DONTWAIT)
            except BlockingIOError:
                if deadline is None:
                    return None
                if time.monotonic() > deadline:
                    raise ForkServerLost("the fork server did not answer in time") from None
                if not self.healthy():
                    raise ForkServerLost("the fork server was stopped or signalled") from None
                select.select([self.fd], [], [], 0.01)
                continue
            except OSError as exc:
                raise ForkServerLost("the fork server's socket failed: %s" % exc) from None
            if len(data) != _MESSAGE.size:
                raise ForkServerLost("the fork server died")
            return _MESSAGE.unpack(data)

    def healthy(self):
        """Alive, not stopped, and no signal waiting for it: a candidate may have sent one just
        before it died, and the server may not have run since."""
        if self.pidfd is not None and select.select([self.pidfd], [], [], 0)[0]:
            return False  # exited
        try:
            fields = dict(line.split(":", 1) for line in read_small("/proc/%d/status" % self.pid).splitlines())
        except (OSError, ValueError):
            return False
        return (
            fields.get("State", "").split()[:1] in (["R"], ["S"], ["D"])
            and int(fields.get("PPid", "0")) == os.getpid()
            and int(fields.get("SigPnd", "1"), 16) == 0
            and int(fields.get("ShdPnd", "1"), 16) == 0
        )

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        try:
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass
        self.sock.close()
        if self.pidfd is not None:
            os.close(self.pidfd)


def serve_forks(sock, harness_pid):
    """The fork server's loop. Kept to a few calls on purpose: every page it writes between two
    forks is a copy-on-write fault, and this loop runs once per candidate."""
    die_with_parent(harness_pid)
    # 0 and 1 stay taken (by /dev/null), so received descriptors never land on them, where the
    # child's dup2 of its own stdio would overwrite them. Everything else inherited is closed:
    # a restarted server must not hold, say, the write end of an earlier child's job pipe.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    fd = sock.fileno()
    close_fds_except({0, 1, 2, fd})
    limits_for_children()
    me = os.getpid()
    recvmsg, fork, waitpid, write, close = sock.recvmsg, make_raw_fork(), os.waitpid, os.write, os.close
    pack, unpack = _MESSAGE.pack, _CHILD_FDS.unpack
    control_size = socket.CMSG_SPACE(_CHILD_FDS.size)
    while True:
        data, control, _, _ = recvmsg(4096, control_size, socket.MSG_CMSG_CLOEXEC)
        if not data:
            os._exit(0)  # the harness is gone
        if data[0] == 82:  # b"R"
            reap_children()
        fds = unpack(control[0][2])
        pid = fork()
        if pid == 0:
            try:
                child_main(me, data[1:].decode(), *fds)
            finally:
                os._exit(70)
        for child_fd in fds:
            close(child_fd)
        write(fd, pack(b"P", pid, 0))
        while True:
            done, status = waitpid(-1, 0)
            if done == pid:
                break
        write(fd, pack(b"S", pid, status))


def make_raw_fork():
    """fork(2) without Python's after-fork work in the child. That work (reinitialising locks and
    thread states another thread may have held, then every module's after-fork hook: threading,
    random, and the rest numpy brings in) touches about 180 pages: copy-on-write faults that
    cost a candidate about a tenth of its time here. The server is single-threaded and forks
    from a plain loop, holding no lock, so there is nothing to repair; the one hook whose effect
    a candidate sees, random's reseed, child_main does itself. The GIL stays held (PyDLL), so the
    child resumes as the same thread with the same state. os.fork where ctypes cannot do it."""
    try:
        libc_fork = ctypes.PyDLL(None, use_errno=True).fork
    except (AttributeError, OSError):
        return os.fork
    libc_fork.restype = ctypes.c_int
    libc_fork.argtypes = ()

    def raw_fork():
        pid = libc_fork()
        if pid < 0:
            raise OSError(ctypes.get_errno(), "fork failed")
        return pid

    return raw_fork


SERVER = None  # the ForkServer, started in main()


class Spare:
    """A child forked ahead of time, waiting for its job: the fork is off the critical path."""

    def __init__(self):
        self.workdir = make_workdir()
        job_r, self.job_w = os.pipe()
        self.score_r, score_w = os.pipe()
        self.out_r, out_w = os.pipe()
        self.err_r, err_w = os.pipe()
        self.status = None
        try:
            self.pid = SERVER.fork(self.workdir, (job_r, score_w, out_w, err_w))
        except ForkServerLost:
            self.pid = None
            self.close_fds()
            wipe_tree(self.workdir)
            raise
        finally:
            for fd in (job_r, score_w, out_w, err_w):
                os.close(fd)
        for fd in (self.score_r, self.out_r, self.err_r):
            os.set_blocking(fd, False)

    def poll_exit(self, deadline=None):
        """Whether the child's exit status is in (the server reaps it and reports it); waits
        until `deadline` if given."""
        while self.status is None:
            message = SERVER.message(deadline)
            if message is None:
                return False
            kind, pid, status = message
            if kind == b"S" and pid == self.pid:
                self.status = status
        return True

    def close_fds(self):
        for fd in (self.job_w, self.score_r, self.out_r, self.err_r):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.job_w = self.score_r = self.out_r = self.err_r = None


def first_existing(*paths):
    """The first of `paths` that exists (cgroup v2 and v1 put their files apart), or ""."""
    return next((p for p in paths if os.path.exists(p)), "")


_OOM_EVENTS = None


def read_oom_kills():
    """OOM kills in this cgroup so far (cgroup v2 or v1), or None when not readable."""
    global _OOM_EVENTS
    if _OOM_EVENTS is None:  # looked up once: a failed open per job costs an exception per job
        _OOM_EVENTS = first_existing("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control")
    if not _OOM_EVENTS:
        return None
    try:
        text = read_small(_OOM_EVENTS)
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("oom_kill "):
            return int(line.split()[1])
    return None


def kill_candidates(spare):
    """Kills the candidate's process tree; not by uid (kill(-1)), which would take the fork server
    too. Nothing of a candidate can leave the tree: its processes descend from the child, and
    orphans are reparented to us, the subreaper. cleanup() checks that none is left."""
    # The pid as well as its group: a spare killed right after its fork may not have called
    # setsid() yet, and then its group does not exist. A group kill is atomic against forks.
    # Not once the server has reaped the child: the pid may belong to another process by now.
    if spare.pid is not None and spare.status is None:
        for kill in (os.kill, os.killpg):
            try:
                kill(spare.pid, signal.SIGKILL)
            except OSError:
                pass
    # Whatever left the group (setsid), under the fork server (CLONE_PARENT) or under us.
    server = None if SERVER.stopped else SERVER.pid
    for pid in descendants(os.getpid()):
        if pid != server:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def children_of(pid):
    try:
        return [int(p) for p in read_small("/proc/%d/task/%d/children" % (pid, pid)).split()]
    except OSError:
        pass
    found = []  # kernels without CONFIG_PROC_CHILDREN: scan every process's parent
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if int(read_small("/proc/%s/stat" % name).rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(name))
            except (OSError, ValueError, IndexError):
                pass
    return found


def descendants(root):
    found, stack = [], [root]
    while stack:
        for child in children_of(stack.pop()):
            found.append(child)
            stack.append(child)
    return found


def cleanup(spare):
    """Kills every candidate process and wipes what they wrote. Returns whether the worker is
    clean (nothing of the candidate left), else the host replaces it. ForkServerLost when the
    fork server (unless already stopped) fails to report the child's end."""
    kill_candidates(spare)
    clean = True
    if spare.pid is not None and not SERVER.stopped:
        # The server reaps the child; until then it would count as a task of the container.
        spare.poll_exit(time.monotonic() + SERVER_SECONDS)
    deadline = time.monotonic() + CLEANUP_SECONDS
    spare.close_fds()
    server = None if SERVER.stopped else SERVER.pid
    if MODE == "container":
        me, uid = os.getpid(), os.getuid()

        def all_gone():
            # Cheap check first: only docker-init, `sleep`, this harness and the fork server left.
            # Else (zombies, or no pids cgroup to read) no live process of our uid but those two.
            return container_tasks() == BASE_TASKS or not [pid for pid in processes_of(uid) if pid not in (me, server)]
    else:

        def all_gone():
            # Zombies count: an unreaped one still holds its pid, which the host may check. A killed
            # orphan becomes our child and reap_children() collects it on the next pass; only the
            # fork server's own zombies (a CLONE_PARENT sibling of the candidate) are its to reap.
            return not [
                pid for pid in descendants(os.getpid()) if pid != server and not (server and zombie_child_of(pid, server))
            ]

    while True:
        reap_children()
        if all_gone():
            break
        if time.monotonic() > deadline:
            clean = False
            break
        kill_candidates(spare)
        time.sleep(0.001)
    if server is not None and children_of(server):
        SERVER.reap = True  # zombies of a candidate's CLONE_PARENT children
    if MODE == "container":
        for path in (WORK_ROOT, "/dev/mqueue"):
            clean = wipe_directory(path) and clean
        clean = remove_ipc_objects() and clean
    else:
        wipe_tree(spare.workdir)
    return clean


def zombie_child_of(pid, parent):
    try:
        fields = read_small("/proc/%d/stat" % pid).rsplit(")", 1)[1].split()
        return fields[0] == "Z" and int(fields[1]) == parent
    except (OSError, IndexError, ValueError):
        return True  # gone already


BASE_TASKS = 4  # docker-init, sleep, the harness (single-threaded), the fork server
_PIDS_CURRENT = None


def container_tasks():
    """Tasks in the container's pids cgroup (cgroup v2 or v1), or None when not readable."""
    global _PIDS_CURRENT
    if _PIDS_CURRENT is None:
        _PIDS_CURRENT = first_existing("/sys/fs/cgroup/pids.current", "/sys/fs/cgroup/pids/pids.current")
    if not _PIDS_CURRENT:
        return None
    try:
        return int(read_small(_PIDS_CURRENT))
    except (OSError, ValueError):
        return None


def reap_children():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def wipe_directory(path):
    try:
        entries = os.listdir(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    ok = True
    for name in entries:
        ok = wipe_tree(os.path.join(path, name)) and ok
    return ok


def wipe_tree(path):
    """Removes path, also when a candidate made its directories unreadable; iterative so a
    deeply nested tree cannot exhaust the recursion limit."""
    stack = [(path, False)]
    ok = True
    while stack:
        current, visited = stack.pop()
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            continue
        except OSError:
            ok = False
            continue
        try:
            if not stat.S_ISDIR(info.st_mode):
                os.unlink(current)
            elif visited:
                os.rmdir(current)
            else:
                os.chmod(current, 0o700)
                stack.append((current, True))
                stack.extend((os.path.join(current, name), False) for name in os.listdir(current))
        except FileNotFoundError:
            pass
        except OSError:
            ok = False
    return ok


def remove_ipc_objects():
    """System V IPC objects outlive their creator. The container has its own IPC namespace in
    which only candidates create objects, so every one found is removed."""
    ok = True
    for kind, remove in (
        ("shm", lambda i: _libc.shmctl(i, IPC_RMID, None)),
        ("msg", lambda i: _libc.msgctl(i, IPC_RMID, None)),
        ("sem", lambda i: _libc.semctl(i, 0, IPC_RMID)),
    ):
        try:
            rows = read_small("/proc/sysvipc/" + kind).splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 1 and remove(int(fields[1])) != 0:
                ok = ok and ctypes.get_errno() in (errno.EINVAL, errno.EIDRM)
    return ok


def death_outcome(spare, oom_before):
    status = spare.status or 0
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        oom_after = read_oom_kills()
        if sig == signal.SIGKILL and oom_before is not None and oom_after is not None and oom_after > oom_before:
            return "memory", "killed by the out-of-memory killer (memory limit reached)"
        if sig == signal.SIGXCPU:
            return "timeout", "exceeded its CPU-time limit"
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = "signal %d" % sig
        return "crash", "killed by %s" % name
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    return "crash", "exited with status %d before returning a score" % code


class Job:
    def __init__(self, message, data, spare, stdin_reader):
        self.id = message["id"]
        self.inputs = list(message["inputs"])
        self.timeout = float(message["timeout"])
        self.spare = spare
        self.stdin = stdin_reader
        self.deferred = []  # frames that arrived during the job and are not for it
        self.payload = data  # the child reads "program", "function", "inputs" and "timeout" from it

    def run(self):
        spare = self.spare
        oom_before = read_oom_kills()
        index = 0
        output_bytes = 0
        stderr_kept = bytearray()
        lines = bytearray()
        cancelled = False
        started = time.monotonic()
        deadline = started + self.timeout
        try:
            write_all(spare.job_w, self.payload)
        except OSError:
            pass  # the spare died; its exit status tells why
        os.close(spare.job_w)
        spare.job_w = None

        poller = select.poll()
        # The server's socket says when the child has ended (its status, or the server's own end).
        for fd in (spare.score_r, spare.out_r, spare.err_r, 0, SERVER.fd):
            poller.register(fd, select.POLLIN)
        open_fds = {spare.score_r, spare.out_r, spare.err_r}

        outcomes = []

        def report(kind, reason=None, score=None, score_type=None):
            """Records input `index`'s outcome; all of them go out together after cleanup, so when
            the host reads them nothing of the candidate runs any more."""
            nonlocal index, started, deadline, stderr_kept
            now = time.monotonic()
            outcome = {
                "kind": kind,
                "durationMs": round((now - started) * 1000, 3),
                "stderr": bytes(stderr_kept).decode("utf-8", "replace"),
            }
            if reason is not None:
                outcome["reason"] = short(reason)
            if score_type is not None:
                outcome["score"] = score
                outcome["scoreType"] = score_type
            outcomes.append(outcome)
            index += 1
            stderr_kept = bytearray()
            started = now
            deadline = now + self.timeout

        def drain(fd):
            nonlocal output_bytes, stderr_kept, lines
            while fd in open_fds:
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    return
                if not chunk:
                    poller.unregister(fd)
                    open_fds.discard(fd)
                    return
                if fd == spare.score_r:
                    lines += chunk
                    if len(lines) > MAX_RESULT_LINE and b"\n" not in lines:
                        lines = lines[: MAX_RESULT_LINE + 1]
                else:
                    output_bytes += len(chunk)
                    if fd == spare.err_r and len(stderr_kept) < STDERR_KEEP:
                        stderr_kept += chunk[: STDERR_KEEP - len(stderr_kept)]

        def drain_output():
            drain(spare.out_r)
            drain(spare.err_r)

        def consume_results():
            """Handles complete result lines; returns True when the job is over."""
            nonlocal lines
            while True:
                cut = lines.find(b"\n")
                if cut > MAX_RESULT_LINE or (cut < 0 and len(lines) > MAX_RESULT_LINE):
                    report("invalid-score", "the candidate process wrote an oversized result")
                    return True
                if cut < 0:
                    return False
                line = bytes(lines[:cut])
                del lines[: cut + 1]
                drain_output()
                if output_bytes > OUTPUT_LIMIT:
                    report("output-limit", "wrote more than %d bytes to stdout/stderr" % OUTPUT_LIMIT)
                    return True
                parsed = parse_result(line, index)
                if parsed is None:
                    report("invalid-score", "the candidate process wrote a malformed result")
                    return True
                report(*parsed)
                if parsed[0] != "ok" or index >= len(self.inputs):
                    return True

        def take_frames():
            """Frames already read: a cancel for this job ends it; others wait for the next one."""
            nonlocal cancelled
            while True:
                frame = self.stdin.take()
                if frame is None:
                    return
                if frame[0].get("type") == "cancel" and frame[0].get("id") == self.id:
                    cancelled = True
                else:
                    self.deferred.append(frame)

        # A cancel that arrived in the same read as the job is in the buffer, not the pipe: poll()
        # would not see it, and the candidate would run to its deadline.
        take_frames()
        while not cancelled:
            timeout_ms = max(0, int((deadline - time.monotonic()) * 1000) + 1)
            events = poller.poll(timeout_ms)
            ready = {fd for fd, _ in events}
            if 0 in ready:
                if not self.stdin.fill():
                    kill_candidates(spare)
                    raise SystemExit(0)  # the host is gone
                take_frames()
                if cancelled:
                    break
            drain_output()
            if output_bytes > OUTPUT_LIMIT:
                report("output-limit", "wrote more than %d bytes to stdout/stderr" % OUTPUT_LIMIT)
                break
            drain(spare.score_r)
            if consume_results():
                break
            if SERVER.fd in ready and spare.poll_exit():
                drain_output()
                drain(spare.score_r)
                if consume_results():
                    break
                if lines:
                    report("invalid-score", "the candidate process wrote a malformed result")
                    break
                if output_bytes > OUTPUT_LIMIT:
                    report("output-limit", "wrote more than %d bytes to stdout/stderr" % OUTPUT_LIMIT)
                    break
                report(*death_outcome(spare, oom_before))
                break
            if time.monotonic() >= deadline:
                kill_candidates(spare)
                drain_output()
                report("timeout", "exceeded the time limit of %g s" % self.timeout)
                break
        clean = cleanup(spare)
        write_frame(
            {"type": "result", "id": self.id, "outcomes": outcomes, "clean": clean, "cancelled": cancelled}
        )


def parse_result(line, index):
    """Re-validates what the child sent: the candidate shares that process and may have written
    to the pipe itself, so nothing is taken on trust."""
    try:
        message = from_json(line)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    if type(message) is not dict or message.get("i") != index or type(message.get("i")) is not int:
        return None
    kind = message.get("kind")
    reason = message.get("reason")
    if reason is not None and type(reason) is not str:
        return None
    if kind == "ok":
        score, score_type = message.get("score"), message.get("scoreType")
        if score_type == "int" and type(score) is int and abs(score) <= EXACT_INT_LIMIT:
            return ("ok", None, score, "int")
        if score_type == "float" and type(score) in (int, float) and math.isfinite(score):
            return ("ok", None, float(score), "float")
        return None
    if kind in ("crash", "memory", "syntax-error", "invalid-score") and reason:
        return (kind, reason)
    return None


def write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def set_dumpable(flag):
    # A non-dumpable process's /proc/<pid>/fd cannot be opened by other processes of the same
    # uid, so a candidate cannot reach this harness's stdout through /proc and forge a reply.
    _libc.prctl(PR_SET_DUMPABLE, 1 if flag else 0, 0, 0, 0)


def fresh_spare(old=None, lost=False):
    """A new spare, after discarding `old` (if any; `lost`: its server is known unusable).
    Between jobs no candidate is to blame for a lost fork server (an outside hand, or a signal
    that arrived late), so it is replaced, once."""
    global SERVER
    if old is not None:
        if not lost:
            try:
                old.poll_exit()
            except ForkServerLost:
                lost = True
        if lost:
            SERVER.stop()
        cleanup(old)
        if lost:
            SERVER = ForkServer()
    try:
        return Spare()
    except ForkServerLost:
        SERVER.stop()
        SERVER = ForkServer()
        return Spare()  # a second failure ends the harness


def main():
    global SERVER, _NUMPY_SCALARS
    if MODE not in ("container", "process"):
        sys.stderr.write("harness: unknown mode %r\n" % MODE)
        sys.exit(2)
    if MODE == "container" and os.getppid() != 0:
        # Container mode empties /tmp, /dev/mqueue and System V IPC after every job; only safe as
        # a `docker exec` process (or bubblewrap's pid 1), whose parent lies outside its pid namespace.
        sys.stderr.write("harness: container mode outside a container pid namespace\n")
        sys.exit(2)
    set_dumpable(False)
    # Orphans of the candidates (a setsid grandchild, a double fork) become our children, not
    # docker-init's or the host's, so cleanup finds and kills them in our process tree.
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    os.makedirs(WORK_ROOT, exist_ok=True)
    if FIXED_WORKDIR is not None:
        os.environ["TMPDIR"] = os.environ["HOME"] = FIXED_WORKDIR
    if numpy is not None:
        _NUMPY_SCALARS = find_numpy_scalars()  # before any candidate: children inherit it
    gc.collect()
    gc.freeze()  # keeps the collector from touching (and so copying) the parent's pages in children
    SERVER = ForkServer()
    write_frame(
        {
            "type": "ready",
            "protocol": PROTOCOL,
            "pid": os.getpid(),
            "python": "%d.%d.%d" % sys.version_info[:3],
            "numpy": getattr(numpy, "__version__", None),
        }
    )
    stdin = FrameReader(0)
    pending = []
    spare = fresh_spare()
    try:
        while True:
            while not pending:
                frame = stdin.take()
                if frame is not None:
                    pending.append(frame)
                    break
                readable, _, _ = select.select([0, SERVER.fd], [], [])
                if SERVER.fd in readable:
                    # Between jobs the server speaks only when the spare ended or it did itself.
                    spare = fresh_spare(spare)
                    continue
                if not stdin.fill():
                    cleanup(spare)
                    SERVER.stop()
                    return
            message, data = pending.pop(0)
            if message.get("type") != "job":
                continue  # a late cancel for a finished job
            if not SERVER.healthy():
                # Whatever was done to the server so far is no doing of this job's candidate.
                spare = fresh_spare(spare, lost=True)
            job = Job(message, data, spare, stdin)
            job.run()
            pending.extend(job.deferred)
            spare = None
            spare = fresh_spare()
    except ForkServerLost as exc:
        # During a job only the candidate can have done it (killed or stopped its parent): as if
        # it had killed the harness, the host reports a crash and replaces the worker.
        SERVER.stop()
        if spare is not None:
            cleanup(spare)
        sys.stderr.write("harness: %s\n" % exc)
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        sys.exit(1)
