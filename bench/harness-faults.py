"""Page faults and CPU per candidate of the warm harness, driven directly over its stdin.

    python3 bench/harness-faults.py [process|container|floor] [jobs] [harness.py]

No Node, no protocol code but the frames: it starts src/sandbox/harness.py (process mode on the
host; container mode by `docker exec` into a container made like the pool's), sends `jobs` valid
cap_set candidates (inputs 3 and 4) one after another, and reads the minor faults and CPU time of
every process of the harness (its own and those of the children it and its helpers waited for)
from /proc before and after. The first few jobs are warm-up and not counted. Fault counts are
steady under load; times are not.
"""

import json
import os
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODE = sys.argv[1] if len(sys.argv) > 1 else "process"
JOBS = int(sys.argv[2]) if len(sys.argv) > 2 else 200
HARNESS = sys.argv[3] if len(sys.argv) > 3 else os.path.join(ROOT, "src/sandbox/harness.py")
IMAGE = os.environ.get("BENCH_IMAGE", "funsearch-base:local")
WARMUP = 10
TICK = os.sysconf("SC_CLK_TCK")
BODIES = [
    "return 0.0",
    "return float(sum(el))",
    "return -float(sum(el))",
    "return float(el.count(0))",
    "return float(el.count(1) - el.count(2))",
    "return float(sum((i + 1) * v for i, v in enumerate(el)) % 3)",
    "return float(np.prod(np.array(el) + 1))",
    "return float(max(el) - min(el))",
]
with open(os.path.join(ROOT, "specs/cap_set.py")) as f:
    SPEC = f.read()
PROGRAMS = [SPEC.replace("  return 0.0\n", "  %s\n" % body) for body in BODIES]
if os.environ.get("BENCH_TRIVIAL"):  # the harness's own share of a child: a candidate that does nothing
    PROGRAMS = ["def evaluate(n):\n    return 1\n"]
CONFIG = {"memory_bytes": 512 << 20, "pids_limit": 64, "output_limit": 1 << 20, "stderr_keep": 4096}


def frame(message):
    data = json.dumps(message).encode()
    return struct.pack(">I", len(data)) + data


def read_frame(stream):
    head = stream.read(4)
    if len(head) < 4:
        raise SystemExit("harness closed its output")
    (size,) = struct.unpack(">I", head)
    return json.loads(stream.read(size))


def stat_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # minflt, cminflt; utime, stime, cutime, cstime (fields 10, 11, 14-17 of proc(5))
    return (int(fields[7]), int(fields[8])), (sum(int(x) for x in fields[11:13]) / TICK, sum(int(x) for x in fields[13:15]) / TICK)


def tree(root):
    found, stack = [root], [root]
    while stack:
        pid = stack.pop()
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    children = [int(p) for p in f.read().split()]
            except OSError:
                continue
            found += children
            stack += children
    return found


def usage(root):
    """Faults and CPU seconds of `root` and its live descendants (own, then of the waited-for
    children, which are counted in their parents' c* fields)."""
    own_f = own_c = kids_f = kids_c = root_f = 0
    for pid in tree(root):
        try:
            (f, cf), (c, cc) = stat_of(pid)
        except OSError:
            continue
        own_f, own_c, kids_f, kids_c = own_f + f, own_c + c, kids_f + cf, kids_c + cc
        if pid == root:
            root_f = f
    return own_f, own_c, kids_f, kids_c, root_f


def start():
    with open(HARNESS) as f:
        source = f.read()
    if MODE == "process":
        os.makedirs("/tmp/harness-faults", exist_ok=True)
        cfg = dict(CONFIG, work_root="/tmp/harness-faults")
        proc = subprocess.Popen(
            ["python3", "-I", "-c", source, "process", json.dumps(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": "/tmp/harness-faults"},
        )
        return proc, None, lambda ready: proc.pid
    cid = subprocess.check_output(
        ["docker", "run", "-d", "--rm", "--init", "--network", "none", "--read-only", "--user", "65534:65534",
         "--tmpfs", "/tmp:rw,noexec,nosuid,nodev,size=64m", "--pids-limit", "64", "--memory", "512m",
         "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--ipc", "none", "-w", "/tmp",
         "--entrypoint", "sleep", IMAGE, "infinity"],
        text=True,
    ).strip()
    proc = subprocess.Popen(
        ["docker", "exec", "-i", "-u", "65533:65533", "-w", "/tmp", cid,
         "python3", "-I", "-c", source, "container", json.dumps(CONFIG)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )

    def host_pid(ready):
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open("/proc/%s/cgroup" % name) as f:
                    if cid not in f.read():
                        continue
                with open("/proc/%s/status" % name) as f:
                    ns = [line for line in f if line.startswith("NSpid:")][0].split()[1:]
            except (OSError, IndexError):
                continue
            if int(ns[-1]) == ready["pid"]:
                return int(name)
        raise SystemExit("harness not found")

    return proc, cid, host_pid


def main():
    proc, cid, host_pid = start()
    try:
        ready = read_frame(proc.stdout)
        root = host_pid(ready)

        def job(i):
            proc.stdin.write(frame({"type": "job", "id": i, "program": PROGRAMS[i % len(PROGRAMS)],
                                    "function": "evaluate", "inputs": ["3", "4"], "timeout": 30}))
            proc.stdin.flush()
            result = read_frame(proc.stdout)
            assert result["clean"] and (os.environ.get("BENCH_ANY") or result["outcomes"][-1]["kind"] == "ok"), result

        for i in range(WARMUP):
            job(i)
        u0 = usage(root)
        t0 = time.perf_counter()
        for i in range(WARMUP, WARMUP + JOBS):
            job(i)
        wall = time.perf_counter() - t0
        u1 = usage(root)
        d = [(b - a) / JOBS for a, b in zip(u0, u1)]
        if cid:  # the container's memory (cgroup v1 or v2) with the harness warm and a spare waiting
            for path in ("/sys/fs/cgroup/memory/docker/%s/memory.stat" % cid,
                         "/sys/fs/cgroup/system.slice/docker-%s.scope/memory.stat" % cid):
                if os.path.exists(path):
                    with open(path) as f:
                        stat = dict(line.split() for line in f)
                    print("container memory: rss %.1f MiB, cache %.1f MiB" % (
                        int(stat.get("total_rss", stat.get("anon", 0))) / 2**20,
                        int(stat.get("total_cache", stat.get("file", 0))) / 2**20))
        # "harness" is every live process of the harness (with a fork server, the server too);
        # "children" the candidates they waited for.
        print(json.dumps({"mode": MODE, "jobs": JOBS, "harness_faults": round(d[0], 1),
                          "of_which_harness_process": round(d[4], 1),
                          "child_faults": round(d[2], 1), "harness_cpu_ms": round(d[1] * 1000, 2),
                          "child_cpu_ms": round(d[3] * 1000, 2), "wall_ms": round(wall * 1000 / JOBS, 2)}))
    finally:
        proc.stdin.close()
        proc.wait()
        if cid:
            subprocess.run(["docker", "rm", "-f", cid], stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
