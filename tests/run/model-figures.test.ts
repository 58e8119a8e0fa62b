import { describe, expect, it } from 'vitest';
import { createLanguageModel } from '../../src/llm/index.js';
import type { Price } from '../../src/llm/usage.js';
import { UsageMeter } from '../../src/llm/usage.js';
import { Random } from '../../src/random.js';
import {
  ModelFiguresCounter,
  modelFigures,
  modelFiguresCounterFor,
  modelStatus,
  modelSummary,
} from '../../src/run/model-figures.js';
import { CHEAP, MIXED_EVENTS, STRONG } from '../helpers/model-events.js';

const cheap = CHEAP;
const strong = STRONG;
const events = MIXED_EVENTS;

describe('per-model figures', () => {
  it('count samples, valid rate, registered, new bests, tokens, cost and median latency per model', () => {
    const prices: Record<string, Price> = {
      [cheap]: { input: 0.15, output: 0.6 },
      [strong]: { input: 1.25, output: 10 },
    };
    const rows = modelFigures(events, (model) => prices[model]);

    expect(rows).toEqual([
      {
        model: cheap,
        samples: 5,
        llmErrors: 1,
        evaluated: 4,
        valid: 2,
        validRate: 0.5,
        registered: 2,
        newBests: 1,
        inputTokens: 4000,
        outputTokens: 800,
        costUsd: (4000 * 0.15 + 800 * 0.6) / 1e6,
        medianLatencyMs: 975,
      },
      {
        model: strong,
        samples: 2,
        llmErrors: 0,
        evaluated: 1,
        valid: 1,
        validRate: 1,
        registered: 1,
        newBests: 1,
        inputTokens: 4000,
        outputTokens: 1500,
        costUsd: (4000 * 1.25 + 1500 * 10) / 1e6,
        medianLatencyMs: 7000,
      },
    ]);
  });

  it('keep the configured order, show a model without samples, and leave unknown prices and rates null', () => {
    const counter = new ModelFiguresCounter([strong, cheap, 'mock:idle']);
    counter.add(events[0]!);
    counter.add({ outcome: 'ok' }); // the initial program: no model
    const rows = counter.figures();
    expect(rows.map((row) => row.model)).toEqual([strong, cheap, 'mock:idle']);
    expect(rows[1]).toMatchObject({ samples: 1, costUsd: null });
    expect(rows[2]).toMatchObject({ samples: 0, validRate: null, medianLatencyMs: null });
  });

  it('give the median latency of many samples, and keep it across a checkpoint as one sorted list', () => {
    const latencies = Array.from({ length: 2001 }, (_, i) => (i * 7919) % 503); // repeats, unsorted
    const counter = new ModelFiguresCounter();
    const sorted: number[] = [];
    for (const [i, ms] of latencies.entries()) {
      counter.add({ model: cheap, outcome: 'ok', llmLatencyMs: ms });
      sorted.push(ms);
      sorted.sort((a, b) => a - b);
      if (i % 250 === 0 || i >= latencies.length - 2) {
        const n = sorted.length;
        const expected = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
        expect(counter.figures()[0]!.medianLatencyMs, `after ${n} samples`).toBe(expected);
      }
    }
    const saved = JSON.parse(JSON.stringify(counter.toJSON()));
    expect(saved[cheap].latencies).toEqual(sorted); // the checkpoint's format is unchanged
    const resumed = new ModelFiguresCounter();
    resumed.restore(saved);
    expect(resumed.figures()).toEqual(counter.figures());
  });

  it('give the status line each model’s share of samples and valid rate', () => {
    expect(modelStatus(modelFigures(events))).toBe(
      'openai:gpt-4o-mini 71% valid 50%, gemini:gemini-2.5-pro 29% valid 100%',
    );
  });
});

describe('the model part of summary.json', () => {
  it('for a mix: rows in the mix order with built-in prices, the selection kind and the weight history', async () => {
    const meter = new UsageMeter();
    const mix = createLanguageModel({
      llm: 'mock',
      env: { OPENAI_API_KEY: 'sk-test', GEMINI_API_KEY: 'AIza-test' },
      random: new Random(1),
      meter,
      selection: 'ucb',
      models: [
        { llm: 'gemini', model: 'gemini-2.5-pro' },
        { llm: 'openai', model: 'gpt-4o-mini' },
      ],
    });
    const counter = modelFiguresCounterFor(mix);
    for (const event of MIXED_EVENTS) counter.add(event);

    const summary = modelSummary(counter, mix, meter);

    expect(summary.models.map((row) => [row.model, row.samples, row.costUsd])).toEqual([
      [STRONG, 2, (4000 * 1.25 + 1500 * 10) / 1e6],
      [CHEAP, 5, (4000 * 0.15 + 800 * 0.6) / 1e6],
    ]);
    expect(summary.modelSelection).toEqual({
      kind: 'ucb',
      models: [STRONG, CHEAP],
      weightHistory: [{ observations: 0, weights: [0.5, 0.5] }],
    });
  });

  it('for one model: its one row and no selection', () => {
    const model = createLanguageModel({ llm: 'mock', env: {}, random: new Random(1) });
    const counter = modelFiguresCounterFor(model);
    expect(modelSummary(counter, model)).toEqual({
      models: [expect.objectContaining({ model: 'mock:mock', samples: 0 })],
    });
  });
});
