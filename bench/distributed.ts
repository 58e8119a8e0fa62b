/**
 * Distributed evaluation benchmark, against a redis-server it starts on a free loopback port:
 *   (a) scaling: candidates that mostly wait (time.sleep(0.2) per input, two inputs) through the
 *       queue to 1, 2, 4 and 8 single-slot workers (process sandbox), keeping as many jobs in
 *       flight as the workers have slots, as the run does; throughput as a fraction of ideal
 *       linear scaling from the 1-worker figure (target >= 90% at 8);
 *       A local 8-slot process sandbox on the same candidates gives the machine's own ceiling.
 *   (b) overhead: quick candidates one at a time through the local process sandbox and through
 *       the queue to one worker, interleaved in blocks; the difference per candidate (target <= 5 ms);
 *       and the queue's own round trip, with a worker whose sandbox answers at once.
 * Workers run in this process (each with its own Redis connections and harness), so the figures
 * are the queue's, not Node start-up's.
 *
 * Run: npm run bench:distributed
 * Environment: BENCH_PER_WORKER (candidates per worker in (a), default 20: with 8 the window
 *              was short enough for the ramp up and down to take several points off the ratios),
 *              BENCH_QUICK (candidates per side in (b), default 200).
 */
import { readFileSync } from 'node:fs';
import { parseConfig } from '../src/config.js';
import type { JobLimits } from '../src/queue/job.js';
import { QueueSandbox } from '../src/queue/queue-sandbox.js';
import { EvaluationWorker } from '../src/queue/worker.js';
import { ProcessSandbox } from '../src/sandbox/process.js';
import type { Sandbox, SandboxBatchJob } from '../src/sandbox/sandbox.js';
import { startRedis } from '../tests/helpers/redis.js';

const SPEC = readFileSync(new URL('../../specs/cap_set.py', import.meta.url), 'utf8');
const EVALUATE_BODY = '  capset = solve(n)\n  return len(capset)\n';
const PER_WORKER = Number(process.env.BENCH_PER_WORKER ?? 20);
const QUICK = Number(process.env.BENCH_QUICK ?? 200);
const BLOCK = 20;

const config = parseConfig({ sandbox: { memory_mb: 256 } });
const { kind: _kind, ...limits }: { kind: string } & JobLimits = config.sandbox;

if (!SPEC.includes(EVALUATE_BODY)) throw new Error('spec changed: unexpected evaluate body');
const SLEEPY = SPEC.replace(EVALUATE_BODY, '  import time\n  time.sleep(0.2)\n  return n\n');

let sampleCounter = 0;
const batch = (program: string): SandboxBatchJob => ({
  id: `b${++sampleCounter}`,
  program,
  functionToRun: 'evaluate',
  testInputs: ['3', '4'],
  timeoutSeconds: 10,
});

/** Runs `count` candidates with `slots` in flight; returns seconds. */
async function drive(sandbox: Sandbox, program: string, count: number, slots: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: slots }, async () => {
      while (next < count) {
        next += 1;
        const outcomes = await sandbox.runBatch(batch(program));
        if (outcomes.length !== 2 || outcomes.some((o) => o.kind !== 'ok'))
          throw new Error(`unexpected outcome: ${JSON.stringify(outcomes)}`);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

function worker(url: string): EvaluationWorker {
  return new EvaluationWorker({
    url,
    concurrency: 1,
    sandboxKind: 'process',
    createSandbox: (l) => new ProcessSandbox({ config: parseConfig({ sandbox: l }), poolSize: 1 }),
    timings: { heartbeatMs: 500 },
  });
}

async function main(): Promise<void> {
  const redis = await startRedis();
  const workers: EvaluationWorker[] = [];
  const queue = new QueueSandbox({ url: redis.url, runId: 'bench', limits, pollMs: 200 });
  const local = new ProcessSandbox({ config, poolSize: 1 });
  try {
    await queue.start();
    console.log('(a) scaling: candidates of 2 x time.sleep(0.2), single-slot process-sandbox workers');
    let base = 0;
    for (const count of [1, 2, 4, 8]) {
      while (workers.length < count) {
        const w = worker(redis.url);
        await w.warmUp(limits);
        await w.start();
        workers.push(w);
      }
      while (queue.capacity !== count) await new Promise((resolve) => setTimeout(resolve, 50));
      await drive(queue, SLEEPY, count, count); // warm: each worker's first fork
      const candidates = PER_WORKER * count;
      const seconds = await drive(queue, SLEEPY, candidates, count);
      const rate = candidates / seconds;
      if (count === 1) base = rate;
      console.log(
        `  ${count} worker(s): ${candidates} candidates in ${seconds.toFixed(2)} s = ${rate.toFixed(2)}/s; ` +
          `${((100 * rate) / (base * count)).toFixed(1)}% of linear`,
      );
    }
    // The machine's own ceiling for the same work: a local pool, 1 slot against 8, no queue.
    const ceiling: number[] = [];
    for (const slots of [1, 8]) {
      const pool = new ProcessSandbox({ config, poolSize: slots });
      try {
        await pool.start();
        await drive(pool, SLEEPY, slots, slots);
        ceiling.push((PER_WORKER * slots) / (await drive(pool, SLEEPY, PER_WORKER * slots, slots)));
      } finally {
        await pool.close();
      }
    }
    console.log(
      `  reference, no queue: a local process sandbox with 8 slots reaches ${((100 * ceiling[1]!) / (8 * ceiling[0]!)).toFixed(1)}% of its own linear scaling on this machine`,
    );
    while (workers.length > 1) await workers.pop()!.close();
    while (queue.capacity !== 1) await new Promise((resolve) => setTimeout(resolve, 50));

    console.log(`(b) overhead: ${QUICK} quick candidates (cap set n=3,4) each way, one at a time`);
    await local.start();
    await drive(local, SPEC, 5, 1);
    await drive(queue, SPEC, 5, 1);
    let localSeconds = 0;
    let queueSeconds = 0;
    for (let done = 0; done < QUICK; done += BLOCK) {
      localSeconds += await drive(local, SPEC, BLOCK, 1);
      queueSeconds += await drive(queue, SPEC, BLOCK, 1);
    }
    const localMs = (1000 * localSeconds) / QUICK;
    const queueMs = (1000 * queueSeconds) / QUICK;
    console.log(`  local process sandbox: ${localMs.toFixed(1)} ms per candidate`);
    console.log(`  queue, one worker:     ${queueMs.toFixed(1)} ms per candidate`);
    console.log(
      `  overhead: ${(queueMs - localMs).toFixed(1)} ms per candidate (${(queueMs / localMs).toFixed(3)}x)`,
    );

    // The queue alone: a worker whose sandbox answers at once, so only Redis and BullMQ remain.
    await workers.pop()!.close();
    const instant: Sandbox = {
      kind: 'process',
      capacity: 1,
      start: async () => {},
      close: async () => {},
      run: async () => ({ kind: 'ok', score: 1, durationMs: 0, stderr: '' }),
      runBatch: async (job) =>
        job.testInputs.map(() => ({ kind: 'ok', score: 1, durationMs: 0, stderr: '' })),
    };
    const bare = new EvaluationWorker({
      url: redis.url,
      concurrency: 1,
      sandboxKind: 'none',
      createSandbox: () => instant,
    });
    await bare.start();
    workers.push(bare);
    await drive(queue, SPEC, 20, 1);
    const roundTrips = QUICK;
    const roundTripMs = (1000 * (await drive(queue, SPEC, roundTrips, 1))) / roundTrips;
    console.log(`  (the queue's own round trip, no sandbox: ${roundTripMs.toFixed(1)} ms per candidate)`);
  } finally {
    await Promise.allSettled(workers.map((w) => w.close()));
    await queue.close();
    await local.close();
    await redis.stop();
  }
}

await main();
