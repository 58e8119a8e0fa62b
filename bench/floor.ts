/**
 * The floor every sandbox figure is compared with: one host python3, numpy imported once, a fork
 * per candidate that runs its inputs in order and writes the scores to a pipe, nothing else (no
 * limits, no cleanup, no protocol). Serial: on these machines two forking processes in parallel
 * run no faster than one.
 */
import { execFileSync } from 'node:child_process';

export interface FloorMeasure {
  candidates: number;
  seconds: number;
  /** CPU time per candidate: the forking process and its children. */
  cpuMs: number;
  /** Minor page faults per candidate (copy-on-write after each fork is most of the cost here). */
  faults: number;
  /** Each candidate's scores, or null when one of its inputs failed. */
  scores: (number[] | null)[];
}

const SCRIPT = `
import json, os, resource, sys, time, types
import numpy, itertools
jobs = json.load(sys.stdin)
inputs = jobs["inputs"]
def child(program, w):
    out = []
    try:
        shim = types.ModuleType("funsearch"); shim.run = shim.evolve = lambda f: f
        g = {"funsearch": shim, "__name__": "candidate"}
        exec(compile(program, "<candidate>", "exec"), g)
        for text in inputs:
            out.append(g[jobs["function"]](eval(text, g)))
    except BaseException:
        out = None
    os.write(w, json.dumps(out).encode())
    os._exit(0)
def usage():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return cpu, own.ru_minflt + children.ru_minflt
results = []
cpu0, faults0 = usage()
start = time.perf_counter()
for program in jobs["programs"]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        child(program, w)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    results.append(json.loads(data))
seconds = time.perf_counter() - start
cpu1, faults1 = usage()
print(json.dumps({"seconds": seconds, "cpu": cpu1 - cpu0, "faults": faults1 - faults0, "results": results}))
`;

/** Runs `programs` through the floor (`functionToRun` on each of `inputs`). */
export function measureFloor(
  programs: readonly string[],
  inputs: readonly string[],
  functionToRun = 'evaluate',
): FloorMeasure {
  const raw = execFileSync('python3', ['-c', SCRIPT], {
    input: JSON.stringify({ programs, inputs, function: functionToRun }),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const parsed = JSON.parse(raw) as {
    seconds: number;
    cpu: number;
    faults: number;
    results: (number[] | null)[];
  };
  return {
    candidates: programs.length,
    seconds: parsed.seconds,
    cpuMs: (parsed.cpu * 1000) / programs.length,
    faults: parsed.faults / programs.length,
    scores: parsed.results,
  };
}

/** Milliseconds per candidate. */
export function floorMs(floor: FloorMeasure): number {
  return (floor.seconds * 1000) / floor.candidates;
}
