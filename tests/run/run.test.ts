/**
 * The run in-process, from its parts: a scripted model, a fake sandbox of a chosen capacity and a
 * manual clock. Budgets, stops, the in-flight bound, resume, island resets and LLM fault streaks.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { LlmApiError } from '../../src/llm/errors.js';
import { checkpointSchema, sampleEventSchema, summarySchema } from '../../src/run/formats.js';
import { channelDepth, InitialProgramError, Run, type RunOptions } from '../../src/run/run.js';
import { DirectoryStore, MemoryStore } from '../../src/run/store.js';
import {
  answer,
  FakeSandbox,
  ScriptedModel,
  SPEC_TEXT,
  testConfig,
  tinyInputs,
  tinySpec,
  until,
  untilAborted,
} from './parts.js';

let spec: Awaited<ReturnType<typeof tinySpec>>;
let dir: string;
beforeAll(async () => {
  spec = await tinySpec();
  dir = await mkdtemp(join(tmpdir(), 'funsearch-run-lib-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function makeRun(parts: Partial<RunOptions> & Pick<RunOptions, 'sandbox' | 'llm'>, config = testConfig()) {
  const store = parts.store ?? new MemoryStore();
  const run = new Run({ config, spec, inputs: tinyInputs(), store, tickMs: 5, ...parts });
  return { run, store: store as MemoryStore };
}

describe('a run from its parts', () => {
  it('runs to the sample budget and accounts for every sample', async () => {
    const sandbox = new FakeSandbox(2);
    const llm = new ScriptedModel([answer(5), answer(9), '  raise ValueError()\n', '   \n']);
    const { run, store } = makeRun({ sandbox, llm });
    const result = await run.start();
    expect(result.status).toBe('finished');
    expect(result.stopReason).toBe('total-llm-samples');
    // 2 samplers × 5 prompts × 2 samples.
    expect(result.counts.samplesOk).toBe(20);
    expect(result.counts.evaluations).toBe(20);
    expect(result.counts.notEvaluated).toBe(0);
    expect(result.bestScore).toBe(9);
    expect(result.bestProgram).toContain('return 9');
    expect(result.counts.outcomes.crash).toBe(1);
    expect(result.counts.outcomes.empty).toBe(1);
    expect(sandbox.started && sandbox.closed).toBe(true);
    // The initial program's event plus one per sample, each in the one event format.
    expect(store.events).toHaveLength(21);
    for (const event of store.events) sampleEventSchema.parse(event);
    expect(new Set(store.events.map((e) => e.sample).filter(Boolean)).size).toBe(20);
    checkpointSchema.parse(store.checkpoint);
    expect(store.checkpoint?.finished).toBe(true);
    const summary = summarySchema.parse(store.reports?.summary);
    expect(summary.bestScore).toBe(9);
    expect(summary.concurrency).toMatchObject({ capacity: 2, channelDepth: 4 });
    expect(store.reports?.programs.size).toBe(3);
  });

  it('starts exactly as many evaluations at once as the sandbox has capacity', async () => {
    const sandbox = new FakeSandbox(3);
    sandbox.hold();
    const llm = new ScriptedModel();
    const { run } = makeRun(
      { sandbox, llm },
      testConfig({ num_samplers: 4, samples_per_prompt: 3, eval_cache: { enabled: false } }),
    );
    const done = run.start();
    await until(() => sandbox.running === 3, 'three evaluations');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sandbox.running).toBe(3);
    sandbox.release();
    const result = await done;
    expect(sandbox.maxRunning).toBe(3);
    expect(result.counts.evaluations).toBe(4 * 5 * 3);
  });

  it('never holds more drawn-but-unevaluated samples than channel depth plus capacity', async () => {
    // The scripted model repeats one answer: without the evaluation cache each one reaches the sandbox.
    const config = testConfig({
      num_samplers: 3,
      samples_per_prompt: 2,
      total_llm_samples: 8,
      eval_cache: { enabled: false },
    });
    const sandbox = new FakeSandbox(2);
    const bound = channelDepth(config) + sandbox.capacity;
    let view: ReturnType<Run['view']>;
    const seen: number[] = [];
    const { run } = makeRun({ sandbox, llm: new ScriptedModel() }, config);
    // Slow evaluations, instant answers: the samplers are always ahead, so the bound is reached.
    sandbox.onRun = () => {
      view = run.view();
      if (view) seen.push(view.drawnNotEvaluated);
    };
    sandbox.hold();
    const done = run.start();
    for (let round = 0; round < 30; round++) {
      await until(() => sandbox.running === 2 || sandbox.runs >= 48, 'slots full');
      await new Promise((resolve) => setTimeout(resolve, 2));
      seen.push(run.view()!.drawnNotEvaluated);
      sandbox.release();
      sandbox.hold();
    }
    sandbox.release();
    const result = await done;
    expect(Math.max(...seen)).toBeLessThanOrEqual(bound);
    expect(result.concurrency.maxDrawnNotEvaluated).toBeLessThanOrEqual(bound);
    expect(result.concurrency.maxDrawnNotEvaluated).toBe(bound);
  });

  it('loses at most channel depth plus capacity samples on a stop, and counts them', async () => {
    const config = testConfig({
      num_samplers: 3,
      samples_per_prompt: 2,
      total_llm_samples: 100,
      eval_cache: { enabled: false },
    });
    const sandbox = new FakeSandbox(2);
    sandbox.hold();
    const { run, store } = makeRun({ sandbox, llm: new ScriptedModel() }, config);
    const done = run.start();
    await until(() => sandbox.running === 2 && run.view()!.queued === channelDepth(config), 'a full queue');
    run.stop();
    run.stop(); // the second stop cancels evaluations in flight
    const result = await done;
    expect(result.status).toBe('interrupted');
    expect(result.counts.notEvaluated).toBeGreaterThan(0);
    expect(result.counts.notEvaluated).toBeLessThanOrEqual(channelDepth(config) + sandbox.capacity);
    expect(result.counts.samplesOk).toBe(result.counts.evaluations + result.counts.notEvaluated);
    expect(store.events.filter((e) => e.outcome === 'not-evaluated')).toHaveLength(
      result.counts.notEvaluated,
    );
    expect(sandbox.closed).toBe(true);
  });

  it('evaluates queued samples within the grace period of a single stop', async () => {
    const config = testConfig({ num_samplers: 2, samples_per_prompt: 2, total_llm_samples: 100 });
    const sandbox = new FakeSandbox(1);
    sandbox.hold();
    const { run } = makeRun({ sandbox, llm: new ScriptedModel(), graceMs: 60_000 }, config);
    const done = run.start();
    // One sample in the slot, three queued: a whole prompt's reservation (2) no longer fits in 4.
    await until(() => run.view()?.queued === 3, 'a full queue');
    const drawn = run.view()!.stats.samplesOk;
    run.stop();
    sandbox.release();
    const result = await done;
    expect(result.counts.notEvaluated).toBe(0);
    expect(result.counts.evaluations).toBe(drawn);
  });

  it('evaluates every sample already paid for when a budget stops the run', async () => {
    const clock = new ManualClock();
    const llm = new ScriptedModel([], async () => {
      clock.advance(1000);
      await new Promise((resolve) => setTimeout(resolve, 1));
      return answer(3);
    });
    const sandbox = new FakeSandbox(1);
    const config = testConfig({ num_samplers: 3, total_llm_samples: 1000, budget: { duration: 30 } });
    const { run } = makeRun({ sandbox, llm, clock }, config);
    const result = await run.start();
    expect(result.stopReason).toBe('duration');
    expect(result.status).toBe('finished');
    expect(result.counts.notEvaluated).toBe(0);
    expect(result.counts.evaluations).toBe(result.counts.samplesOk);
  });

  it.each([
    ['max-tokens', { max_tokens: 500 }],
    ['max-cost', { max_cost: 0.01 }],
    ['target-score', { target_score: 8 }],
  ])('stops at the %s budget', async (reason, budget) => {
    const llm = new ScriptedModel([answer(2), answer(4), answer(6)], answer(8), {
      inputTokens: 40,
      outputTokens: 10,
    });
    const config = testConfig({ total_llm_samples: 1000, budget });
    // USD 20 per million tokens, 50 tokens per answer: 0.001 each.
    const prices = { priceOf: () => ({ input: 20, output: 20 }) };
    const { run } = makeRun({ sandbox: new FakeSandbox(2), llm, prices }, config);
    const result = await run.start();
    expect(result.stopReason).toBe(reason);
    expect(result.counts.notEvaluated).toBe(0);
    if (reason === 'max-tokens') {
      // Overshoot is bounded by the requests in flight when the budget was reached.
      expect(result.counts.samplesOk * 50).toBeLessThan(500 + 50 * channelDepth(config));
    }
    if (reason === 'target-score') expect(result.bestScore).toBe(8);
  });

  it('resumes from its checkpoint with the database, counters and sample ids it had', async () => {
    const first = makeRun({ sandbox: new FakeSandbox(2), llm: new ScriptedModel([answer(4)]) });
    const before = await first.run.start();
    const checkpoint = first.store.checkpoint!;
    const store = new MemoryStore({ checkpoint });
    const sandbox = new FakeSandbox(2);
    const second = makeRun(
      { sandbox, llm: new ScriptedModel([], answer(6)), store },
      testConfig({ total_llm_samples: 8, eval_cache: { enabled: false } }),
    );
    const after = await second.run.start();
    expect(after.counts.prompts).toBe(16);
    expect(after.counts.samplesOk).toBe(32);
    expect(after.bestScore).toBe(6);
    expect(after.counts.registered).toBeGreaterThan(before.counts.registered);
    // The initial program is not evaluated again and sample ids go on from the first session.
    expect(sandbox.runs).toBe(12);
    expect(sandbox.ids[0]).toBe('s21');
  });

  it('writes its first checkpoint as soon as the initial program is registered', async () => {
    const llm = new ScriptedModel([], (signal) => untilAborted(signal));
    const { run, store } = makeRun({ sandbox: new FakeSandbox(1), llm });
    const done = run.start();
    await until(() => store.checkpoint !== undefined, 'the first checkpoint');
    expect(store.checkpoint!.finished).toBe(false);
    expect(store.events).toHaveLength(1);
    run.stop();
    const result = await done;
    expect(result.status).toBe('interrupted');
    expect(result.counts.notEvaluated).toBe(0);
  });

  it('resets the weaker islands as simulated hours pass', async () => {
    const clock = new ManualClock();
    let call = 0;
    const llm = new ScriptedModel([], async () => {
      clock.advance(10 * 60 * 1000);
      call++;
      return answer(call % 7);
    });
    const config = testConfig({
      num_samplers: 1,
      samples_per_prompt: 1,
      total_llm_samples: 60,
      programs_database: { num_islands: 4, reset_period: 3600 },
    });
    const { run, store } = makeRun({ sandbox: new FakeSandbox(1), llm, clock }, config);
    const result = await run.start();
    expect(result.counts.islandResets).toBeGreaterThanOrEqual(5);
    expect(store.events.some((e) => e.resetIslands && e.resetIslands.length === 2)).toBe(true);
  });

  it('stops with llm-failing after a streak of failed requests, not spinning', async () => {
    const llm = new ScriptedModel(
      [],
      new LlmApiError('HTTP 503', { provider: 'scripted', statusCode: 503, isRetryable: true }),
    );
    const { run } = makeRun({ sandbox: new FakeSandbox(2), llm }, testConfig({ total_llm_samples: 10_000 }));
    const result = await run.start();
    expect(result.status).toBe('failed');
    expect(result.stopReason).toBe('llm-failing');
    expect(String((result.error as Error).message)).toMatch(/the last \d+ LLM requests all failed/);
    expect(llm.calls).toBeLessThan(30);
  });

  it('goes on after a short streak of failures', async () => {
    const failure = new LlmApiError('HTTP 503', { provider: 'scripted', statusCode: 503, isRetryable: true });
    const llm = new ScriptedModel([failure, failure, failure, failure, failure], answer(3));
    const { run } = makeRun({ sandbox: new FakeSandbox(2), llm });
    const result = await run.start();
    expect(result.status).toBe('finished');
    expect(result.counts.samplesFailed).toBe(5);
    expect(result.bestScore).toBe(3);
  });

  it('stops at once on a fatal model error', async () => {
    const fatal = new LlmApiError('token rejected', {
      provider: 'scripted',
      statusCode: 401,
      isRetryable: false,
      fatal: true,
    });
    const llm = new ScriptedModel([], fatal);
    const { run } = makeRun({ sandbox: new FakeSandbox(2), llm });
    const result = await run.start();
    expect(result.status).toBe('failed');
    expect(result.error).toBe(fatal);
    expect(llm.calls).toBeLessThanOrEqual(4);
  });

  it('waits while the sandbox has no capacity and follows it when workers arrive', async () => {
    // A queue with no worker yet: the spec's own program runs outside the slots, samples wait.
    const sandbox = new FakeSandbox(0);
    const { run } = makeRun({ sandbox, llm: new ScriptedModel() });
    const done = run.start();
    await until(() => run.view()?.queued === 4, 'a full queue');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(run.view()!.stats.evaluations).toBe(0);
    sandbox.setCapacity(2);
    const result = await done;
    expect(result.counts.evaluations).toBe(20);
    expect(result.concurrency.capacity).toBe(2);
    expect(sandbox.maxRunning).toBeLessThanOrEqual(2);
  });
});

describe('a run that cannot start', () => {
  it("throws when the spec's own function fails, and writes nothing", async () => {
    const reportDir = join(dir, 'initial');
    const store = DirectoryStore.forNewRun({
      reportDir,
      specFile: join(dir, 'bad.py'),
      inputsFile: join(dir, 'inputs.txt'),
      config: testConfig(),
    });
    const badSpec = { ...spec, program: spec.program };
    const sandbox = new FakeSandbox(1);
    const broken = new Run({
      config: testConfig(),
      spec: badSpec,
      inputs: tinyInputs(),
      sandbox: Object.assign(sandbox, {
        runBatch: async () => [
          { kind: 'crash' as const, reason: 'NameError', durationMs: 1, stderr: 'NameError' },
        ],
      }),
      llm: new ScriptedModel(),
      store,
    });
    await expect(broken.start()).rejects.toBeInstanceOf(InitialProgramError);
    await expect(readdir(reportDir)).rejects.toThrow(/ENOENT/);
    expect(sandbox.closed).toBe(true);
  });

  it('leaves no run directory when the sandbox cannot start', async () => {
    const reportDir = join(dir, 'nosandbox');
    const store = DirectoryStore.forNewRun({
      reportDir,
      specFile: join(dir, 'x.py'),
      inputsFile: join(dir, 'x.txt'),
      config: testConfig(),
    });
    const { run } = makeRun({
      sandbox: new FakeSandbox(1, new Error('engine unreachable')),
      llm: new ScriptedModel(),
      store,
    });
    await expect(run.start()).rejects.toThrow('engine unreachable');
    await expect(readdir(reportDir)).rejects.toThrow(/ENOENT/);
  });

  it('restarts from the initial program when a resumed directory has no checkpoint', async () => {
    const runDir = join(dir, 'nocheckpoint');
    await rm(runDir, { recursive: true, force: true });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(runDir, { recursive: true });
    await writeFile(join(runDir, 'spec.py'), SPEC_TEXT);
    await writeFile(join(runDir, 'events.jsonl'), '{"outcome":"ok","half-written');
    const store = DirectoryStore.forResume(runDir, testConfig());
    const { run } = makeRun({ sandbox: new FakeSandbox(2), llm: new ScriptedModel(), store });
    const result = await run.start();
    expect(result.status).toBe('finished');
    const lines = (await readFile(join(runDir, 'events.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(21);
    for (const line of lines) sampleEventSchema.parse(JSON.parse(line));
    checkpointSchema.parse(JSON.parse(await readFile(join(runDir, 'checkpoint.json'), 'utf8')));
    summarySchema.parse(JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8')));
  });
});
