/**
 * The whole run (src/run/run.ts) on specs/cap_set.py with inputs 3 and 4, the Docker sandbox, and
 * the mock model answering at once (BENCH_LATENCY_MS=0) with quick, valid answers. Reports:
 *   - whole-run milliseconds per candidate against the floor (bench/floor.ts) measured right after
 *     the run on the very programs it evaluated, twice (the faster is the reference: the stricter
 *     comparison). Target: at most 1.25x;
 *   - the queue wait, from a sample's draw to the start of its evaluation (median and p95);
 *   - the most samples drawn but not yet evaluated at any moment, against its bound
 *     (channel depth + sandbox capacity);
 *   - the sandbox's own time per candidate (events' sandboxMs) and memory over the run.
 *
 * npm run bench:pipeline   (env: BENCH_PROMPTS=10 prompts per sampler, BENCH_SAMPLERS=15,
 *   BENCH_SAMPLES_PER_PROMPT=4, BENCH_LATENCY_MS=0, BENCH_IMAGE=funsearch-base:local, BENCH_TIMEOUT=2,
 *   BENCH_EVALUATORS=140: the sandbox has min(this, CPUs) workers)
 */
import { readFileSync } from 'node:fs';
import { parseConfig } from '../src/config.js';
import { createLanguageModel } from '../src/llm/index.js';
import { createMockModel } from '../src/llm/mock.js';
import { Random } from '../src/random.js';
import type { SampleEvent } from '../src/run/formats.js';
import { Run } from '../src/run/run.js';
import { createSandbox } from '../src/sandbox/index.js';
import type { Sandbox, SandboxBatchJob } from '../src/sandbox/sandbox.js';
import { parseSpec } from '../src/spec/parse.js';
import { initParser } from '../src/spec/parser.js';
import { CAP_SET_INPUTS, VALID_BODIES } from './candidates.js';
import { engineCpuMs, sessionUsage, type Usage } from './cgroup.js';
import { floorMs, measureFloor } from './floor.js';

const PROMPTS = Number(process.env.BENCH_PROMPTS ?? 10);
const SAMPLERS = Number(process.env.BENCH_SAMPLERS ?? 15);
const PER_PROMPT = Number(process.env.BENCH_SAMPLES_PER_PROMPT ?? 4);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 0);
const IMAGE = process.env.BENCH_IMAGE ?? 'funsearch-base:local';
const TIMEOUT = Number(process.env.BENCH_TIMEOUT ?? 2);
/** Sandbox workers: min(this, CPUs), as in a run (num_evaluators). */
const EVALUATORS = Number(process.env.BENCH_EVALUATORS ?? 140);

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The sandbox as the run sees it, keeping every program it was asked to run (for the floor) and
 * its containers' usage just before the run closes it.
 */
function recording(inner: Sandbox, programs: string[], onClose: () => Promise<void>): Sandbox {
  return {
    kind: inner.kind,
    get capacity() {
      return inner.capacity;
    },
    start: () => inner.start(),
    run: (job, signal) => inner.run(job, signal),
    runBatch: (job: SandboxBatchJob, signal?: AbortSignal) => {
      programs.push(job.program);
      return inner.runBatch(job, signal);
    },
    close: async () => {
      await onClose();
      await inner.close();
    },
  };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

await initParser();
const spec = parseSpec(
  readFileSync(new URL('../../specs/cap_set.py', import.meta.url), 'utf8'),
  'specs/cap_set.py',
);
const config = parseConfig({
  num_samplers: SAMPLERS,
  samples_per_prompt: PER_PROMPT,
  total_llm_samples: PROMPTS,
  timeout: TIMEOUT,
  num_evaluators: EVALUATORS,
  docker_image: IMAGE,
  seed: 1,
  llm: { provider: 'mock', mock_latency_ms: LATENCY_MS },
  // Every sample reaches the sandbox, so the bound (the sandbox's own rate) means what it says;
  // the evaluation cache has its own section below.
  eval_cache: { enabled: false },
});
const random = new Random(1);
// Quick, valid answers only: the floor runs them without a timeout.
const llm = createMockModel({
  random: random.fork(),
  latencyMs: LATENCY_MS,
  responses: VALID_BODIES.map((body) => `  ${body}\n`),
});
const docker = createSandbox({ kind: 'docker', config, logger: quiet });
const programs: string[] = [];
const events: SampleEvent[] = [];
const memory: { t: number; rss: number; heap: number }[] = [];

try {
  // The pool starts before the clock does: container start-up is not per-candidate cost.
  await docker.start();
  const run = new Run({
    config,
    spec: { ...spec, specFile: 'specs/cap_set.py' },
    inputs: CAP_SET_INPUTS.map((text, i) => ({ text, line: i + 1 })),
    sandbox: recording(docker, programs, async () => {
      usageAfter = await sessionUsage(docker);
    }),
    llm,
    random,
    logger: quiet,
    onEvent: (event) => events.push(event),
  });
  const usageBefore = await sessionUsage(docker);
  let usageAfter: Usage | undefined;
  const engineBefore = engineCpuMs();
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  const sampler = setInterval(() => {
    // No forced collection here: a full GC every 2 s would be counted as the run's CPU.
    memory.push({
      t: (performance.now() - started) / 1000,
      rss: process.memoryUsage.rss(),
      heap: process.memoryUsage().heapUsed,
    });
  }, 2000);
  const result = await run.start();
  clearInterval(sampler);
  const runMs = performance.now() - started;
  const node = process.cpuUsage(nodeBefore);
  const engineMs = engineCpuMs() - engineBefore;
  const evaluated = events.filter((e) => e.evaluationMs !== undefined);
  // The floor on the run's own programs (the initial program included), twice.
  const floorAfter = measureFloor(programs, CAP_SET_INPUTS);
  const floorAgain = measureFloor(programs, CAP_SET_INPUTS);
  const floors = [floorAfter, floorAgain].map(floorMs);
  const floor = Math.min(...floors);
  const floorCpu = Math.min(floorAfter.cpuMs, floorAgain.cpuMs);
  const perCandidate = runMs / programs.length;
  const queue = evaluated.map((e) => e.queueMs ?? 0);
  const sandboxMs = evaluated.map((e) => e.sandboxMs ?? 0);
  const bound = result.concurrency.channelDepth + result.concurrency.capacity;
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

  console.log(
    `pipeline benchmark: ${SAMPLERS} samplers x ${PER_PROMPT} samples/prompt x ${PROMPTS} prompts, mock latency ${LATENCY_MS} ms, ` +
      `docker sandbox (${result.concurrency.capacity} workers), timeout ${TIMEOUT} s, image ${IMAGE}`,
  );
  console.log(
    `  run                       ${programs.length} candidates in ${(runMs / 1000).toFixed(1)} s; stop: ${result.stopReason}; ` +
      `outcomes ${JSON.stringify(result.counts)}; best score ${result.bestScore}`,
  );
  console.log(`  whole run                 ${perCandidate.toFixed(1)} ms per candidate`);
  console.log(
    `  floor (same programs)     ${floor.toFixed(1)} ms per candidate (the faster of ${floors.map((f) => f.toFixed(1)).join(' and ')})`,
  );
  console.log(`  whole run / floor         ${(perCandidate / floor).toFixed(2)}x  (target <= 1.25x)`);
  const perCand = (ms: number) => (ms / programs.length).toFixed(1);
  const containersMs = usageBefore && usageAfter ? (usageAfter.cpuNs - usageBefore.cpuNs) / 1e6 : Number.NaN;
  const totalCpu = (node.user + node.system) / 1000 + containersMs + engineMs;
  console.log(
    `  CPU per candidate         ${perCand(totalCpu)} ms: this process ${perCand((node.user + node.system) / 1000)}, ` +
      `containers ${perCand(containersMs)}, docker engine ${perCand(engineMs)}; floor ${floorCpu.toFixed(1)} ms ` +
      `(${(totalCpu / programs.length / floorCpu).toFixed(2)}x)`,
  );
  console.log(
    `  queue wait (draw->eval)   median ${percentile(queue, 50).toFixed(0)} ms, p95 ${percentile(queue, 95).toFixed(0)} ms`,
  );
  console.log(
    `  sandbox time per cand.    median ${percentile(sandboxMs, 50).toFixed(1)} ms (events' sandboxMs: the candidate's own time in its child)`,
  );
  const evaluationMs = evaluated.map((e) => e.evaluationMs ?? 0);
  const busy = evaluationMs.reduce((a, b) => a + b, 0) / (runMs * result.concurrency.capacity);
  console.log(
    `  evaluation per cand.      median ${percentile(evaluationMs, 50).toFixed(1)} ms from the slot's send to its result; ` +
      `slots busy ${(100 * busy).toFixed(0)}% of the run`,
  );
  console.log(
    `  drawn, not yet evaluated  at most ${result.concurrency.maxDrawnNotEvaluated} ` +
      `(bound: channel depth ${result.concurrency.channelDepth} + capacity ${result.concurrency.capacity} = ${bound}) ` +
      `${result.concurrency.maxDrawnNotEvaluated <= bound ? 'ok' : 'EXCEEDED'}`,
  );
  const first = memory[Math.floor(memory.length * 0.2)];
  const last = memory.at(-1);
  if (first && last && last !== first) {
    console.log(
      `  memory (after warm-up)    rss ${mb(first.rss)} -> ${mb(last.rss)} MiB, heap ${mb(first.heap)} -> ${mb(last.heap)} MiB over ${(last.t - first.t).toFixed(0)} s`,
    );
  }
} finally {
  await docker.close();
}

// -------------------------------------------------------------------------------------------------
// 3. The evaluation cache (docs/cache.md), side by side: the same mock run (BENCH_CACHE_SAMPLES
//    samples, default 480, of the built-in cap-set answers, no LLM latency) without the cache and
//    with it, each on its own fresh Docker sandbox. Prints the sandbox time with the cache as a
//    fraction of the time without: the candidates' own running time, the sandbox runs, and the
//    wall time of each run.
// -------------------------------------------------------------------------------------------------
{
  const samples = Number(process.env.BENCH_CACHE_SAMPLES ?? 480);
  const runCache = async (enabled: boolean) => {
    const cacheConfig = parseConfig({
      num_samplers: SAMPLERS,
      samples_per_prompt: PER_PROMPT,
      num_evaluators: 140,
      total_llm_samples: Math.ceil(samples / (SAMPLERS * PER_PROMPT)),
      timeout: TIMEOUT,
      docker_image: IMAGE,
      seed: 2,
      llm: { provider: 'mock', mock_latency_ms: 0 },
      eval_cache: { enabled },
    });
    const random = new Random(2);
    const llm = createLanguageModel({ llm: 'mock', env: {}, random: random.fork(), latencyMs: 0 });
    const cacheSandbox = createSandbox({ kind: 'docker', config: cacheConfig, logger: quiet });
    const run = new Run({
      config: cacheConfig,
      spec,
      inputs: CAP_SET_INPUTS.map((text, i) => ({ text, line: i + 1 })),
      sandbox: cacheSandbox,
      llm,
      random,
      logger: quiet,
    });
    const started = performance.now();
    await run.start();
    const { stats } = run.view()!;
    return { stats, seconds: (performance.now() - started) / 1000 };
  };
  const without = await runCache(false);
  const cached = await runCache(true);
  const sandboxSeconds = (r: typeof without) => r.stats.evaluationTotalMs / 1000;
  const percent = (part: number, whole: number) => (whole > 0 ? ((100 * part) / whole).toFixed(1) : '-');
  console.log(
    `evaluation cache: ${cached.stats.evaluations} samples of the built-in mock answers, ${SAMPLERS} samplers x ${PER_PROMPT}, timeout ${TIMEOUT} s`,
  );
  console.log(
    `  sandbox time              ${sandboxSeconds(cached).toFixed(1)} s with the cache vs ${sandboxSeconds(without).toFixed(1)} s without = ${percent(sandboxSeconds(cached), sandboxSeconds(without))}%`,
  );
  console.log(
    `  sandbox runs              ${cached.stats.sandboxRuns} vs ${without.stats.sandboxRuns} = ${percent(cached.stats.sandboxRuns, without.stats.sandboxRuns)}% (${cached.stats.cacheHits} repeats reused, ${(cached.stats.sandboxMsSaved / 1000).toFixed(1)} s of sandbox time saved)`,
  );
  console.log(
    `  wall time of the run      ${cached.seconds.toFixed(1)} s vs ${without.seconds.toFixed(1)} s = ${percent(cached.seconds, without.seconds)}%`,
  );
}
