/**
 * Runs that mix two mock models, each with its own answer file, in-process with the fake sandbox
 * (which scores `return N` as N): the picks follow the weights, and the per-model figures reach
 * the events, summary.json, the status line, the checkpoint and the report page.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLanguageModel, modelOptionsFromConfig } from '../../src/llm/index.js';
import type { ModelMix } from '../../src/llm/mix.js';
import { UsageMeter } from '../../src/llm/usage.js';
import { Random } from '../../src/random.js';
import { renderHtmlReport } from '../../src/report/index.js';
import { summarySchema } from '../../src/run/formats.js';
import { statusLines } from '../../src/run/progress.js';
import { Run } from '../../src/run/run.js';
import { DirectoryStore, MemoryStore, type RunStore } from '../../src/run/store.js';
import { FakeSandbox, testConfig, tinyInputs, tinySpec } from './parts.js';

let spec: Awaited<ReturnType<typeof tinySpec>>;
let dir: string;
let cheapFile: string;
let strongFile: string;
beforeAll(async () => {
  spec = await tinySpec();
  dir = await mkdtemp(join(tmpdir(), 'funsearch-run-models-'));
  cheapFile = join(dir, 'cheap.txt');
  strongFile = join(dir, 'strong.txt');
  // The cheap model never beats the spec's own `return 1` and often breaks; the strong one climbs.
  await writeFile(cheapFile, ['  return 0', '  raise ValueError()', '  return 1'].join('\n# ---\n'));
  await writeFile(strongFile, JSON.stringify(Array.from({ length: 40 }, (_, i) => `  return ${i + 2}`)));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function mixConfig(
  weights: [number, number],
  selection: 'weighted' | 'ucb',
  fields: Record<string, unknown> = {},
) {
  return testConfig({
    num_samplers: 2,
    samples_per_prompt: 4,
    total_llm_samples: 50,
    llm: {
      provider: 'mock',
      mock_latency_ms: 0,
      model_selection: selection,
      models: [
        { provider: 'mock', model: 'cheap', mock_responses: cheapFile, weight: weights[0] },
        { provider: 'mock', model: 'strong', mock_responses: strongFile, weight: weights[1] },
      ],
    },
    ...fields,
  });
}

function mixFor(config: ReturnType<typeof testConfig>, seed = 3) {
  const meter = new UsageMeter();
  const llm = createLanguageModel({
    ...modelOptionsFromConfig(config.llm),
    env: {},
    random: new Random(seed),
    latencyMs: 0,
    meter,
  }) as ModelMix;
  return { llm, meter };
}

function mixRun(config: ReturnType<typeof testConfig>, llm: ModelMix, store: RunStore, prices?: UsageMeter) {
  return new Run({ config, spec, inputs: tinyInputs(), sandbox: new FakeSandbox(2), llm, store, prices });
}

describe('a run with two mock models', () => {
  it('sends prompts by weight and reports each model in events, summary.json, the status line and the report', async () => {
    const config = mixConfig([3, 1], 'weighted');
    const { llm, meter } = mixFor(config);
    const store = DirectoryStore.forNewRun({
      reportDir: join(dir, 'weighted'),
      specFile: join(dir, 'tiny.py'),
      inputsFile: join(dir, 'inputs.txt'),
      config,
    });
    await writeFile(join(dir, 'tiny.py'), '');
    await writeFile(join(dir, 'inputs.txt'), '3\n4\n');
    const run = mixRun(config, llm, store, meter);

    const result = await run.start();

    expect(result.status).toBe('finished');
    const summary = summarySchema.parse(
      JSON.parse(await readFile(join(result.runDir!, 'summary.json'), 'utf8')),
    );
    const [cheap, strong] = summary.models;
    expect([cheap!.model, strong!.model]).toEqual(['mock:cheap', 'mock:strong']);
    // 2 samplers × 50 prompts × 4 samples = 400, split 3 : 1; four standard deviations either side.
    expect(cheap!.samples + strong!.samples).toBe(400);
    expect(Math.abs(cheap!.samples - 300)).toBeLessThan(4 * Math.sqrt(400 * 0.75 * 0.25));
    // The cheap model's `raise` is a crash; the strong one always runs.
    expect(cheap!.validRate!).toBeLessThan(0.9);
    expect(strong!.validRate).toBe(1);
    expect(strong!.newBests).toBeGreaterThan(0);
    expect(cheap!.newBests).toBe(0);
    expect(cheap!.inputTokens).toBeGreaterThan(0);
    expect(cheap!.costUsd).toBe(0);
    expect(cheap!.medianLatencyMs).not.toBeNull();
    expect(summary.modelSelection).toMatchObject({ kind: 'weighted', models: ['mock:cheap', 'mock:strong'] });

    const events = (await readFile(join(result.runDir!, 'events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { model: string; sample?: string });
    const fromEvents = events.filter((e) => e.sample && e.model === 'mock:cheap').length;
    expect(fromEvents).toBe(cheap!.samples);

    const view = run.view()!;
    expect(statusLines(view)).toContain(
      `models: mock:cheap ${Math.round((100 * cheap!.samples) / 400)}% valid ${Math.round(100 * cheap!.validRate!)}%, mock:strong ${Math.round((100 * strong!.samples) / 400)}% valid 100%`,
    );

    const html = await renderHtmlReport(result.runDir!);
    const row = new RegExp(
      `<tr data-model="mock:cheap"><td><code>mock:cheap</code></td><td class="num" data-field="samples" data-value="${cheap!.samples}">`,
    );
    expect(html).toMatch(row);
    expect(html).toContain('<table id="model-weights">');
  });

  it('with UCB moves most prompts to the model whose samples beat their island, and keeps its state in the checkpoint', async () => {
    const config = mixConfig([1, 1], 'ucb');
    const { llm, meter } = mixFor(config);
    const store = new MemoryStore();
    const run = mixRun(config, llm, store, meter);

    await run.start();

    const summary = summarySchema.parse(store.reports!.summary);
    const [cheap, strong] = summary.models;
    expect(strong!.samples).toBeGreaterThan(cheap!.samples);
    const history = summary.modelSelection!.weightHistory;
    expect(history[0]!.weights).toEqual([0.5, 0.5]);
    expect(history.at(-1)!.weights[1]).toBeGreaterThan(0.5);
    // The selection's state and the per-model counts survive into the checkpoint.
    const extras = store.checkpoint!.extras as {
      models: { mix: { selection: { arms: { picks: number }[] } } };
    };
    expect(extras.models.mix.selection.arms.map((arm) => arm.picks)).toEqual(
      llm.selector.armStates().map((arm) => arm.picks),
    );
  });

  it('a resumed run goes on counting per model from its checkpoint', async () => {
    const config = mixConfig([1, 1], 'weighted', { total_llm_samples: 5 });
    const first = new MemoryStore();
    await mixRun(config, mixFor(config).llm, first).start();
    const before = summarySchema.parse(first.reports!.summary).models;

    const store = new MemoryStore({ checkpoint: first.checkpoint! });
    const more = mixConfig([1, 1], 'weighted', { total_llm_samples: 10 });
    await mixRun(more, mixFor(more, 4).llm, store).start();

    const after = summarySchema.parse(store.reports!.summary).models;
    expect(before.reduce((sum, row) => sum + row.samples, 0)).toBe(40);
    expect(after.reduce((sum, row) => sum + row.samples, 0)).toBe(80);
    for (const [i, row] of after.entries()) expect(row.samples).toBeGreaterThanOrEqual(before[i]!.samples);
  });
});
