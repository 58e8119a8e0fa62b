/**
 * The whole FunSearch run with the mock model at a fixed latency and the Docker sandbox, on
 * specs/cap_set.py with inputs 3 and 4. Measures, in one run:
 *   1. the sandbox's own rate on the mock's answer mix (evaluations per second with the pool busy),
 *   2. the pipeline: samples and evaluations per second, and memory over time,
 * and prints them against the bound the configuration allows:
 *   min(samplers × samples_per_prompt / latency, the sandbox's own rate).
 * Target: at least 90% of the bound, and flat memory.
 *
 * npm run bench:pipeline   (env: BENCH_SECONDS=60, BENCH_LATENCY_MS=1000, BENCH_SAMPLERS=4,
 *                           BENCH_SAMPLES_PER_PROMPT=4, BENCH_IMAGE=funsearch-base:local, BENCH_TIMEOUT=2)
 */
import { readFileSync } from 'node:fs';
import { parseConfig } from '../src/config.js';
import { createLanguageModel } from '../src/llm/index.js';
import { Random } from '../src/random.js';
import { Evaluator } from '../src/run/evaluator.js';
import { Run } from '../src/run/run.js';
import { createSandbox } from '../src/sandbox/index.js';
import { parseSpec } from '../src/spec/parse.js';
import { initParser } from '../src/spec/parser.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 1000);
const SAMPLERS = Number(process.env.BENCH_SAMPLERS ?? 4);
const PER_PROMPT = Number(process.env.BENCH_SAMPLES_PER_PROMPT ?? 4);
const IMAGE = process.env.BENCH_IMAGE ?? 'funsearch-base:local';
const TIMEOUT = Number(process.env.BENCH_TIMEOUT ?? 2);

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

await initParser();
const spec = parseSpec(
  readFileSync(new URL('../../specs/cap_set.py', import.meta.url), 'utf8'),
  'specs/cap_set.py',
);
const inputs = [
  { text: '3', line: 1 },
  { text: '4', line: 2 },
];
const config = parseConfig({
  num_samplers: SAMPLERS,
  samples_per_prompt: PER_PROMPT,
  num_evaluators: 140,
  total_llm_samples: 1_000_000,
  timeout: TIMEOUT,
  docker_image: IMAGE,
  seed: 1,
  budget: { duration: SECONDS },
  llm: { provider: 'mock', mock_latency_ms: LATENCY_MS },
  // Every sample reaches the sandbox, so the bound (the sandbox's own rate) means what it says;
  // the evaluation cache has its own section below.
  eval_cache: { enabled: false },
});
// The run closes its own sandbox when it ends; the sandbox's own rate is measured on a second one.
const runSandbox = createSandbox({ kind: 'docker', config, logger: quiet });
const sandbox = createSandbox({ kind: 'docker', config, logger: quiet });
const evaluator = new Evaluator({
  sandbox,
  template: spec.program,
  functionToEvolve: spec.functionToEvolve,
  functionToRun: spec.functionToRun,
  testInputs: inputs,
  timeoutSeconds: TIMEOUT,
});

try {
  // 1. The pipeline.
  const llmRate = (SAMPLERS * PER_PROMPT) / (LATENCY_MS / 1000);
  const random = new Random(1);
  const llm = createLanguageModel({ llm: 'mock', env: {}, random: random.fork(), latencyMs: LATENCY_MS });
  const run = new Run({ config, spec, inputs, sandbox: runSandbox, llm, random, logger: quiet });
  // The database keeps every registered program by design; its own size is measured beside the heap
  // so that growth of the pipeline (queue, promises, buffers) would show as the difference.
  const memory: { t: number; rss: number; heap: number; database: number; programs: number }[] = [];
  const started = performance.now();
  const sampler = setInterval(
    () => {
      // Live heap, not garbage waiting for the collector (npm run bench:pipeline passes --expose-gc).
      (globalThis as { gc?: () => void }).gc?.();
      const database = run.view()?.database;
      if (!database) return;
      memory.push({
        t: (performance.now() - started) / 1000,
        rss: process.memoryUsage.rss(),
        heap: process.memoryUsage().heapUsed,
        database: JSON.stringify(database.toJSON()).length,
        programs: database.programsRegistered,
      });
    },
    Math.max(1000, (SECONDS * 1000) / 20),
  );
  const result = await run.start();
  clearInterval(sampler);
  const { stats, database } = run.view()!;
  await sandbox.start();
  const seconds = (performance.now() - started) / 1000;
  const samplesRate = (stats.samplesOk + stats.samplesFailed) / seconds;
  const evaluationsRate = stats.evaluations / seconds;
  // 2. The sandbox's own rate, on the very answers the run got: the mock draws from a fork of
  // the run's generator, so the same seed gives the same sequence of answers.
  const drawer = createLanguageModel({ llm: 'mock', env: {}, random: new Random(1).fork(), latencyMs: 0 });
  const answers: string[] = [];
  // A prefix of at most 1500 answers keeps this phase short on long runs; the mix is the same.
  for (let i = 0; i < Math.min(stats.evaluations, 1500); i++) answers.push((await drawer.generate('')).text);
  let next = 0;
  const sandboxStart = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < answers.length) await evaluator.evaluate(answers[next++]!, { versionGenerated: 1 });
    }),
  );

  const sandboxRate = answers.length / ((performance.now() - sandboxStart) / 1000);
  const bound = Math.min(llmRate, sandboxRate);
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  const steady = memory.filter((m) => m.t >= seconds * 0.2);
  const first = steady[0];
  const last = steady[steady.length - 1];

  console.log(
    `pipeline benchmark: ${SECONDS} s, mock latency ${LATENCY_MS} ms, ${SAMPLERS} samplers x ${PER_PROMPT} samples/prompt, timeout ${TIMEOUT} s, image ${IMAGE}`,
  );
  console.log(
    `  LLM bound                 ${llmRate.toFixed(2)} samples/s (samplers x samples per prompt / latency)`,
  );
  console.log(
    `  sandbox's own rate        ${sandboxRate.toFixed(2)} evaluations/s (${answers.length} mock answers, pool busy)`,
  );
  console.log(`  bound                     ${bound.toFixed(2)} /s`);
  console.log(
    `  samples                   ${samplesRate.toFixed(2)} /s  = ${((100 * samplesRate) / bound).toFixed(1)}% of the bound`,
  );
  console.log(
    `  evaluations               ${evaluationsRate.toFixed(2)} /s  = ${((100 * evaluationsRate) / bound).toFixed(1)}% of the bound`,
  );
  console.log(
    `  outcomes                  ${JSON.stringify(stats.outcomes)}; best score ${database.bestScore}`,
  );
  console.log(
    `  in flight at most         ${result.concurrency.maxDrawnNotEvaluated} drawn, not evaluated (bound: depth ${result.concurrency.channelDepth} + capacity ${result.concurrency.capacity})`,
  );
  if (first && last) {
    console.log(
      `  memory (after warm-up)    rss ${mb(first.rss)} -> ${mb(last.rss)} MiB, heap ${mb(first.heap)} -> ${mb(last.heap)} MiB over ${(last.t - first.t).toFixed(0)} s`,
    );
    console.log(
      `  of which the database     ${mb(first.database)} -> ${mb(last.database)} MiB as JSON (${first.programs} -> ${last.programs} programs registered)`,
    );
    const other = last.heap - last.database - (first.heap - first.database);
    console.log(`  heap growth besides it    ${mb(other)} MiB`);
  }
} finally {
  await sandbox.close();
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
      inputs,
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
