/**
 * The evaluation cache inside a run: repeats skip the sandbox but are registered as usual, the
 * database ends as without the cache, the cache survives a resume, a repeat of a running
 * candidate waits without its slot, and --no-eval-cache runs everything.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config.js';
import { createMockModel } from '../../src/llm/mock.js';
import { Random } from '../../src/random.js';
import { EvalCache } from '../../src/run/eval-cache.js';
import {
  checkpointSchema,
  type SampleEvent,
  sampleEventSchema,
  summarySchema,
} from '../../src/run/formats.js';
import { channelDepth, Run, type RunOptions } from '../../src/run/run.js';
import { MemoryStore } from '../../src/run/store.js';
import { parseTestInputs } from '../../src/run/test-inputs.js';
import { createSandbox } from '../../src/sandbox/index.js';
import { buildCandidate } from '../../src/spec/candidate.js';
import { parseSpec } from '../../src/spec/parse.js';
import { ONE_SLOT, runCli } from '../helpers/cli.js';
import { answer, FakeSandbox, ScriptedModel, testConfig, tinyInputs, tinySpec, until } from './parts.js';

let spec: Awaited<ReturnType<typeof tinySpec>>;
let dir: string;
beforeAll(async () => {
  spec = await tinySpec();
  dir = await mkdtemp(join(tmpdir(), 'funsearch-cache-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function makeRun(parts: Partial<RunOptions> & Pick<RunOptions, 'sandbox' | 'llm'>, config = testConfig()) {
  const store = (parts.store as MemoryStore | undefined) ?? new MemoryStore();
  const run = new Run({ config, spec, inputs: tinyInputs(), store, tickMs: 5, ...parts });
  return { run, store };
}

/** Answers that repeat, most of them with a different comment, blank line or trailing space. */
const REPEATING = [
  answer(5),
  '  # five again\n  return 5\n',
  answer(9),
  '\n  return 9   \n',
  answer(1), // the spec's own body: its outcome is known before any sample
  '  raise ValueError()\n',
  '  raise ValueError()  # still failing\n',
  answer(5),
];

/** How many distinct programs (by cache key) the answers make, besides the spec's own. */
function distinctPrograms(answers: readonly string[]): number {
  const keys = new Set<string>();
  for (const text of answers) {
    const candidate = buildCandidate(spec.program, spec.functionToEvolve, text, 1);
    if (!('error' in candidate)) keys.add(EvalCache.keyOf(candidate.program));
  }
  keys.delete(EvalCache.keyOf(spec.program.toString()));
  return keys.size;
}

const samplesOf = (events: readonly SampleEvent[]) =>
  events.map((event) => sampleEventSchema.parse(event)).filter((event) => event.sample);

describe('the evaluation cache in a run', () => {
  it('runs each distinct candidate once and reuses its outcome for every repeat', async () => {
    const sandbox = new FakeSandbox(1);
    const answers = Array.from({ length: 20 }, (_, i) => REPEATING[i % REPEATING.length]!);
    const { run, store } = makeRun({ sandbox, llm: new ScriptedModel(answers) });
    const result = await run.start();
    const summary = summarySchema.parse(store.reports?.summary);
    const distinct = distinctPrograms(answers);
    expect(distinct).toBe(3);
    expect(sandbox.ids).toHaveLength(distinct);
    expect(summary.counts.sandboxRuns).toBe(distinct);
    expect(summary.counts.cacheHits).toBe(20 - distinct);
    expect(result.counts.evaluations).toBe(20);
    expect(summary.evalCache).toMatchObject({ entries: 4, maxEntries: 50_000, evictions: 0 });
    expect(summary.evalCache?.repeatRate).toBeCloseTo(17 / 20);
    // Every repeat is marked and names the sample whose outcome it reused.
    const events = samplesOf(store.events);
    const cached = events.filter((event) => event.cached);
    expect(cached).toHaveLength(20 - distinct);
    const byId = new Map(events.map((event) => [event.sample, event]));
    for (const event of cached) {
      expect(event.sandboxMs).toBe(0);
      if (event.cachedFrom === undefined) {
        expect(event.score).toBe(1); // reused from the spec's own program
        continue;
      }
      const first = byId.get(event.cachedFrom)!;
      expect(first.cached).toBeUndefined();
      expect([event.outcome, event.score]).toEqual([first.outcome, first.score]);
    }
    expect(cached.filter((event) => event.outcome === 'crash')).not.toHaveLength(0);
    // Repeats are registered as the original registers a duplicate it ran again: every ok sample
    // lands in its island's cluster, which grows by one each time.
    const ok = events.filter((event) => event.outcome === 'ok');
    expect(ok.filter((event) => event.cached).length).toBeGreaterThan(0);
    expect(ok.every((event) => event.registered === true)).toBe(true);
    const programs = summary.islands.reduce((sum, island) => sum + island.programs, 0);
    expect(programs).toBe(ok.length + summary.islands.length); // + the spec's own on each island
  });

  it('runs every candidate with the cache off', async () => {
    const sandbox = new FakeSandbox(2);
    const answers = Array.from({ length: 20 }, (_, i) => REPEATING[i % REPEATING.length]!);
    const config = testConfig({ eval_cache: { enabled: false } });
    const { run, store } = makeRun({ sandbox, llm: new ScriptedModel(answers) }, config);
    await run.start();
    const summary = summarySchema.parse(store.reports?.summary);
    expect(sandbox.ids).toHaveLength(20);
    expect(summary.counts.sandboxRuns).toBe(20);
    expect(summary.counts.cacheHits).toBe(0);
    expect(summary.evalCache).toBeNull();
    expect(store.events.some((event) => event.cached)).toBe(false);
    expect(store.checkpoint?.extras?.evalCache).toBeUndefined();
  });

  it('keeps its cache across a resume', async () => {
    const first = makeRun({ sandbox: new FakeSandbox(2), llm: new ScriptedModel([], answer(4)) });
    await first.run.start();
    const checkpoint = checkpointSchema.parse(first.store.checkpoint);
    expect(checkpoint.extras?.evalCache).toMatchObject({ format: 'funsearch-eval-cache' });
    const sandbox = new FakeSandbox(2);
    const second = makeRun(
      { sandbox, llm: new ScriptedModel([], answer(4)), store: new MemoryStore({ checkpoint }) },
      testConfig({ total_llm_samples: 8 }),
    );
    const result = await second.run.start();
    expect(sandbox.ids).toEqual([]);
    expect(result.counts.evaluations).toBe(32);
    const summary = summarySchema.parse(second.store.reports?.summary);
    // 20 samples in the first session (one ran), 12 more in the second (none ran).
    expect(summary.counts.sandboxRuns).toBe(1);
    expect(summary.counts.cacheHits).toBe(31);

    // Resumed with another timeout, the cached outcomes are stale: they run again.
    const third = new FakeSandbox(2);
    const changed = makeRun(
      {
        sandbox: third,
        llm: new ScriptedModel([], answer(4)),
        store: new MemoryStore({ checkpoint: checkpointSchema.parse(second.store.checkpoint) }),
      },
      testConfig({ total_llm_samples: 9, timeout: 3 }),
    );
    await changed.run.start();
    expect(third.ids).toHaveLength(1);
  });

  it('lets a repeat of a running candidate wait without its slot, and reuse that run', async () => {
    const sandbox = new FakeSandbox(2);
    sandbox.hold();
    const llm = new ScriptedModel([answer(5), '  return 5  # same\n', answer(6)], answer(6));
    const config = testConfig({ num_samplers: 1, samples_per_prompt: 3, total_llm_samples: 1 });
    const { run, store } = makeRun({ sandbox, llm }, config);
    const done = run.start();
    // Two slots: 5 runs, its repeat waits and hands its slot to 6, which runs beside 5.
    await until(() => sandbox.running === 2, 'two candidates in the sandbox');
    expect(sandbox.ids).toEqual(['s1', 's3']);
    sandbox.release();
    await done;
    expect(sandbox.ids).toHaveLength(2);
    const repeat = samplesOf(store.events).find((event) => event.cached);
    expect(repeat).toMatchObject({ sample: 's2', cached: true, cachedFrom: 's1', outcome: 'ok', score: 5 });
  });

  it('keeps samples drawn and not evaluated within channel depth plus capacity while repeats wait', async () => {
    const config = testConfig({ num_samplers: 3, samples_per_prompt: 2, total_llm_samples: 8 });
    const sandbox = new FakeSandbox(2);
    const bound = channelDepth(config) + sandbox.capacity;
    sandbox.hold();
    const { run } = makeRun({ sandbox, llm: new ScriptedModel([], answer(3)) }, config);
    const done = run.start();
    // One run of `return 3` is held; every other sample is a repeat waiting for it, holding a queue
    // place instead of a slot, until the queue is full and the samplers wait.
    await until(() => run.view()?.drawnNotEvaluated === bound, 'the bound');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(run.view()!.drawnNotEvaluated).toBe(bound);
    expect(sandbox.running).toBe(1);
    sandbox.release();
    const result = await done;
    expect(result.concurrency.maxDrawnNotEvaluated).toBe(bound);
    expect(result.counts.evaluations).toBe(48);
    expect(sandbox.ids).toHaveLength(1);
  });
});

// Concurrent: an in-process pair of runs and a CLI pair of runs, each mostly waiting on Python.
describe.concurrent('with and without the cache', () => {
  it('ends the same under the same seed (one sampler, one slot, the built-in mock answers, real Python)', {
    timeout: 240_000,
  }, async () => {
    const capSet = parseSpec(await readFile('specs/cap_set.py', 'utf8'), 'specs/cap_set.py');
    const inputs = parseTestInputs('3\n4\n', 'inputs.txt');
    const runOnce = async (enabled: boolean) => {
      const config = parseConfig({
        seed: 11,
        num_samplers: 1,
        samples_per_prompt: 1,
        total_llm_samples: 25, // more than the mock's 15 answers: repeats are certain
        timeout: 2,
        programs_database: { num_islands: 3 },
        llm: { provider: 'mock', mock_latency_ms: 0 },
        eval_cache: { enabled },
      });
      const sandbox = createSandbox({ kind: 'process', config, poolSize: 1 });
      const store = new MemoryStore();
      const run = new Run({
        config,
        spec: capSet,
        inputs,
        sandbox,
        llm: createMockModel({ random: new Random(5), latencyMs: 0 }),
        store,
        clock: new ManualClock(),
      });
      await run.start();
      return store;
    };
    const without = await runOnce(false);
    const cached = await runOnce(true);
    const summary = summarySchema.parse(cached.reports?.summary);
    const rejected = (s: typeof summary) =>
      (s.counts.outcomes.empty ?? 0) +
      (s.counts.outcomes['syntax-error'] ?? 0) +
      (s.counts.outcomes['calls-ancestor'] ?? 0);
    expect(summary.counts.evaluations).toBe(25);
    expect(summary.counts.sandboxRuns).toBeLessThanOrEqual(15); // the mock has 15 answers
    expect(summary.counts.sandboxRuns + summary.counts.cacheHits).toBe(25 - rejected(summary));
    const plain = summarySchema.parse(without.reports?.summary);
    expect(plain.counts.sandboxRuns).toBe(25 - rejected(plain));
    expect(cached.checkpoint!.database).toEqual(without.checkpoint!.database);
    const story = (store: MemoryStore) =>
      store.events.map((event) => [event.sample, event.island, event.outcome, event.score, event.registered]);
    expect(story(cached)).toEqual(story(without));
  });

  const args = (reports: string, ...more: string[]) => [
    ...['-s', 'specs/cap_set.py', '-t', 'test-inputs/cap_set.txt', '--llm', 'mock', '--sandbox', 'process'],
    ...['--mock-latency', '0', '--timeout', '1', '--seed', '3', '--num-samplers', '2'],
    ...['--samples-per-prompt', '2', '--total-llm-samples', '5', '--log-level', 'warn'],
    ...ONE_SLOT,
    ...['--report-dir', reports, ...more],
  ];
  const runFile = async (reports: string, name: string) => {
    const [runDir] = await readdir(reports);
    return readFile(join(reports, runDir!, name), 'utf8');
  };
  const summaryOf = async (reports: string) =>
    summarySchema.parse(JSON.parse(await runFile(reports, 'summary.json')));

  it('reuses repeats by default, and reports them', { timeout: 240_000 }, async () => {
    // The cache off: in-process above; --no-eval-cache's parsing: tests/cli/config-flags.test.ts.
    const reports = join(dir, 'on');
    const on = await runCli(args(reports));
    expect(on.stderr).not.toMatch(/error/i);
    expect(on.code).toBe(0);
    const withCache = await summaryOf(reports);
    // 20 samples drawn from the mock's 15 answers, of which some never reach the sandbox (empty).
    const ran =
      20 - (withCache.counts.outcomes.empty ?? 0) - (withCache.counts.outcomes['syntax-error'] ?? 0);
    expect(withCache.counts.evaluations).toBe(20);
    expect(withCache.counts.cacheHits).toBeGreaterThan(0);
    expect(withCache.counts.sandboxRuns + withCache.counts.cacheHits).toBe(ran);
    expect(withCache.config).toMatchObject({ eval_cache: { enabled: true } });

    // The report shows the repeat rate and the sandbox time saved, as summary.json has them.
    const page = await runFile(reports, 'report.html');
    expect(page).toContain(`data-field="repeatRate" data-value="${withCache.evalCache!.repeatRate}"`);
    expect(page).toContain(`data-field="cacheHits" data-value="${withCache.counts.cacheHits}"`);
    expect(page).toContain(
      `data-field="sandboxSecondsSaved" data-value="${withCache.evalCache!.sandboxSecondsSaved}"`,
    );
    expect(withCache.evalCache!.sandboxSecondsSaved).toBeGreaterThan(0);
  });
});
