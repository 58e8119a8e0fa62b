/**
 * Sandbox benchmark on specs/cap_set.py with test inputs 3 and 4 and a fixed set of candidate
 * `priority` bodies (most good, some failing):
 *   (a) the warm Docker pool            (pool size by the default rule, and with 1 worker)
 *   (b) a container per (candidate, input), as the original does (baseline)
 *   (c) the process sandbox
 *   (d) the floor: one host python3 process forking once per candidate
 *   (e) the bwrap sandbox: the process sandbox's harness inside bubblewrap
 * Prints candidates per second, per-candidate latency, and the ratios a/b, a/d and e/c. The
 * process and bwrap sandboxes are measured twice each, alternating, and each keeps its faster run.
 *
 * Build and run: npx tsc -p tsconfig.bench.json && cp src/sandbox/harness.py dist-bench/src/sandbox/ \
 *                && node dist-bench/bench/sandbox.js
 * Environment: BENCH_IMAGE (default funsearch-base:local), BENCH_CANDIDATES (default 240),
 *              BENCH_BASELINE_CANDIDATES (default 12), BENCH_LOCAL_ONLY=1 (only c, e and d: a host
 *              without Docker).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../src/config.js';
import { BwrapSandbox } from '../src/sandbox/bwrap.js';
import { bubblewrapProbe } from '../src/sandbox/bwrap-probe.js';
import { DockerClient } from '../src/sandbox/docker-client.js';
import { availableCpus, DockerSandbox, poolSize } from '../src/sandbox/docker-pool.js';
import { ProcessSandbox } from '../src/sandbox/process.js';
import type { Outcome, Sandbox } from '../src/sandbox/sandbox.js';
import { runContainerPerInput } from './baseline-container-per-input.js';

const SPEC = readFileSync(new URL('../../specs/cap_set.py', import.meta.url), 'utf8');
const INPUTS = ['3', '4'];
const TIMEOUT_SECONDS = 10;
const IMAGE = process.env.BENCH_IMAGE ?? 'funsearch-base:local';
const CANDIDATES = Number(process.env.BENCH_CANDIDATES ?? 240);
const BASELINE_CANDIDATES = Number(process.env.BENCH_BASELINE_CANDIDATES ?? 12);
const LATENCY_SAMPLES = 40;
const LOCAL_ONLY = process.env.BENCH_LOCAL_ONLY === '1';

const BODIES = [
  'return 0.0',
  'return float(sum(el))',
  'return -float(sum(el))',
  'return float(el.count(0))',
  'return float(el.count(1) - el.count(2))',
  'return float(sum((i + 1) * v for i, v in enumerate(el)) % 3)',
  'return float(np.prod(np.array(el) + 1))',
  'return float(max(el) - min(el))',
  'return 1 / 0', // crash
  'return 0.0 +', // syntax error
  'return undefined_name', // crash (NameError)
  'return float(el[n])', // crash (IndexError)
];

function program(body: string): string {
  return SPEC.replace('  return 0.0\n', `  ${body}\n`);
}

const programs = Array.from({ length: CANDIDATES }, (_, i) => program(BODIES[i % BODIES.length]!));

interface Measure {
  label: string;
  candidates: number;
  seconds: number;
  latencyMs?: number;
  /** CPU time per candidate inside the sandbox (containers' cgroups, or the floor's processes). */
  cpuMs?: number;
}

/** CPU nanoseconds used by a container so far (cgroup v1 or v2), or undefined where unreadable. */
function containerCpuNs(id: string): number | undefined {
  try {
    return Number(readFileSync(`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, 'utf8'));
  } catch {}
  try {
    const stat = readFileSync(`/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, 'utf8');
    return Number(/usage_usec (\d+)/.exec(stat)?.[1]) * 1000;
  } catch {}
  return undefined;
}

async function sessionCpuNs(sandbox: Sandbox): Promise<number | undefined> {
  if (!(sandbox instanceof DockerSandbox)) return undefined;
  const containers = await new DockerClient().listByLabel(`funsearch.run=${sandbox.sessionId}`);
  let total = 0;
  for (const c of containers) {
    const ns = containerCpuNs(c.Id);
    if (ns === undefined) return undefined;
    total += ns;
  }
  return total;
}

function summary(outcomes: Outcome[][]): string {
  const kinds = new Map<string, number>();
  for (const o of outcomes) {
    const kind = o.at(-1)?.kind ?? 'none';
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds].map(([k, n]) => `${k}:${n}`).join(' ');
}

async function measureSandbox(
  label: string,
  sandbox: Sandbox,
): Promise<{ measure: Measure; outcomes: Outcome[][] }> {
  await sandbox.start();
  try {
    const job = (p: string) => ({
      program: p,
      functionToRun: 'evaluate',
      testInputs: INPUTS,
      timeoutSeconds: TIMEOUT_SECONDS,
    });
    await Promise.all(programs.slice(0, 8).map((p) => sandbox.runBatch(job(p)))); // warm-up
    const cpuBefore = await sessionCpuNs(sandbox);
    let started = performance.now();
    const outcomes = await Promise.all(programs.map((p) => sandbox.runBatch(job(p))));
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = await sessionCpuNs(sandbox);
    const latencies: number[] = [];
    for (const p of programs.slice(0, LATENCY_SAMPLES)) {
      started = performance.now();
      await sandbox.runBatch(job(p));
      latencies.push(performance.now() - started);
    }
    latencies.sort((x, y) => x - y);
    console.log(`  ${label}: ${summary(outcomes)}`);
    return {
      measure: {
        label,
        candidates: programs.length,
        seconds,
        latencyMs: latencies[latencies.length >> 1],
        ...(cpuBefore !== undefined && cpuAfter !== undefined
          ? { cpuMs: (cpuAfter - cpuBefore) / 1e6 / programs.length }
          : {}),
      },
      outcomes,
    };
  } finally {
    await sandbox.close();
  }
}

async function measureBaseline(): Promise<Measure> {
  const client = new DockerClient();
  const chosen = programs.slice(0, BASELINE_CANDIDATES);
  const runCandidate = (p: string) =>
    Promise.all(
      INPUTS.map((input) => runContainerPerInput(client, IMAGE, p, 'evaluate', input, TIMEOUT_SECONDS)),
    );
  let started = performance.now();
  await runCandidate(chosen[0]!);
  const latencyMs = performance.now() - started;
  // As many candidates in flight as the pool has workers, each with its inputs in parallel.
  const concurrency = poolSize(parseConfig({}).num_evaluators, availableCpus());
  started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < chosen.length) await runCandidate(chosen[next++]!);
    }),
  );
  return {
    label: '(b) container per input',
    candidates: chosen.length,
    seconds: (performance.now() - started) / 1000,
    latencyMs,
  };
}

/** The floor: one python3, numpy imported once, a fork per candidate, nothing else. */
function measureFloor(): { measure: Measure; scores: (number[] | null)[] } {
  const script = `
import json, os, sys, time, types
import numpy, itertools
jobs = json.load(sys.stdin)
def child(program, inputs, w):
    out = []
    try:
        shim = types.ModuleType("funsearch"); shim.run = shim.evolve = lambda f: f
        g = {"funsearch": shim, "__name__": "candidate"}
        exec(compile(program, "<candidate>", "exec"), g)
        for text in inputs:
            out.append(g["evaluate"](eval(text, g)))
    except BaseException:
        out = None
    os.write(w, json.dumps(out).encode())
    os._exit(0)
results = []
import resource
def cpu():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
cpu_start = cpu()
start = time.perf_counter()
for program in jobs:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        child(program, ${JSON.stringify(INPUTS)}, w)
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
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": cpu() - cpu_start, "results": results}))
`;
  const raw = execFileSync('python3', ['-c', script], {
    input: JSON.stringify(programs),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const parsed = JSON.parse(raw) as { seconds: number; cpu: number; results: (number[] | null)[] };
  return {
    measure: {
      label: '(d) floor: fork per candidate',
      candidates: programs.length,
      seconds: parsed.seconds,
      latencyMs: (parsed.seconds * 1000) / programs.length,
      cpuMs: (parsed.cpu * 1000) / programs.length,
    },
    scores: parsed.results,
  };
}

function perCandidateMs(m: Measure): number {
  return (m.seconds * 1000) / m.candidates;
}

function line(m: Measure): string {
  const rate = m.candidates / m.seconds;
  const cpu = m.cpuMs === undefined ? '' : `  cpu ${m.cpuMs.toFixed(2)} ms/cand`;
  return `${m.label.padEnd(34)} ${rate.toFixed(1).padStart(8)} cand/s  ${perCandidateMs(m).toFixed(2).padStart(9)} ms/cand  latency p50 ${m.latencyMs?.toFixed(1) ?? '-'} ms${cpu}`;
}

/** The faster of two measures of the same sandbox. */
function faster<T extends { measure: Measure }>(a: T, b: T): T {
  return a.measure.seconds <= b.measure.seconds ? a : b;
}

/** Scores per candidate, or null where a candidate did not run every input ok. */
function scoresOf(outcomes: Outcome[][]): (number[] | null)[] {
  return outcomes.map((o) =>
    o.length === INPUTS.length && o.every((x) => x.kind === 'ok')
      ? o.map((x) => (x.kind === 'ok' ? x.score : Number.NaN))
      : null,
  );
}

function differing(a: (number[] | null)[], b: (number[] | null)[]): number {
  return a.filter((x, i) => JSON.stringify(x) !== JSON.stringify(b[i])).length;
}

/** (c) and (e), alternating, twice each; null for bwrap where bubblewrap cannot run. */
async function measureLocal(config: ReturnType<typeof parseConfig>, size: number) {
  const probe = await bubblewrapProbe();
  if (!probe.ok) console.log(`  (e) bwrap sandbox skipped: ${probe.problem}`);
  const processRun = () =>
    measureSandbox(`(c) process sandbox (${size} workers)`, new ProcessSandbox({ config }));
  const bwrapRun = () => measureSandbox(`(e) bwrap sandbox (${size} workers)`, new BwrapSandbox({ config }));
  const c1 = await processRun();
  const e1 = probe.ok ? await bwrapRun() : null;
  const c2 = await processRun();
  const e2 = probe.ok ? await bwrapRun() : null;
  return { processSandbox: faster(c1, c2), bwrap: e1 && e2 ? faster(e1, e2) : null };
}

async function main(): Promise<void> {
  const config = parseConfig({ docker_image: IMAGE });
  const cpus = availableCpus();
  const size = poolSize(config.num_evaluators, cpus);
  console.log(
    `sandbox benchmark: ${programs.length} candidates x inputs ${INPUTS.join(',')}, ${cpus} CPUs, image ${IMAGE}`,
  );

  // The floor is measured first and last; the faster run is used (the stricter comparison).
  const floorBefore = measureFloor();
  const pool = LOCAL_ONLY
    ? null
    : await measureSandbox(`(a) warm Docker pool (${size} workers)`, new DockerSandbox({ config }));
  const pool1 = LOCAL_ONLY
    ? null
    : await measureSandbox('(a1) warm Docker pool (1 worker)', new DockerSandbox({ config, poolSize: 1 }));
  const { processSandbox, bwrap } = await measureLocal(config, size);
  const baseline = LOCAL_ONLY ? null : await measureBaseline();
  const floorAfter = measureFloor();
  const floor = floorAfter.measure.seconds < floorBefore.measure.seconds ? floorAfter : floorBefore;

  console.log('');
  const measures = [
    pool?.measure,
    pool1?.measure,
    baseline,
    processSandbox.measure,
    bwrap?.measure,
    floor.measure,
  ];
  for (const m of measures) if (m) console.log(line(m));
  console.log('');
  const rate = (m: Measure) => m.candidates / m.seconds;
  if (pool && pool1 && baseline) {
    console.log(
      `a/b  warm pool vs container per input (throughput): ${(rate(pool.measure) / rate(baseline)).toFixed(1)}x  (target >= 50x)`,
    );
    console.log(
      `a/d  warm pool time per candidate vs floor:         ${(perCandidateMs(pool.measure) / perCandidateMs(floor.measure)).toFixed(2)}  (target <= 1.5)`,
    );
    console.log(
      `a1/d one-worker pool time per candidate vs floor:   ${(perCandidateMs(pool1.measure) / perCandidateMs(floor.measure)).toFixed(2)}`,
    );
    console.log(
      `a/d  latency p50 vs floor per candidate:            ${((pool.measure.latencyMs ?? 0) / perCandidateMs(floor.measure)).toFixed(2)}`,
    );
    if (pool.measure.cpuMs !== undefined && floor.measure.cpuMs !== undefined) {
      console.log(
        `a/d  CPU per candidate in the sandbox vs floor:      ${(pool.measure.cpuMs / floor.measure.cpuMs).toFixed(2)}`,
      );
    }
  }
  if (bwrap) {
    console.log(
      `e/c  bwrap vs process sandbox, time per candidate:  ${(perCandidateMs(bwrap.measure) / perCandidateMs(processSandbox.measure)).toFixed(2)}  (target <= 1.25)`,
    );
    console.log(
      `e/c  bwrap vs process sandbox, latency p50:          ${((bwrap.measure.latencyMs ?? 0) / (processSandbox.measure.latencyMs ?? 1)).toFixed(2)}`,
    );
  }
  // Sanity: every sandbox must compute what the floor computes.
  const runs = [pool, processSandbox, bwrap].filter((r) => r !== null);
  for (const run of runs) {
    console.log(
      `results differing from the floor, ${run.measure.label}: ${differing(scoresOf(run.outcomes), floor.scores)}`,
    );
  }
}

await main();
