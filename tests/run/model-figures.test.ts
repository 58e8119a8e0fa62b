import { describe, expect, it } from 'vitest';
import type { Price } from '../../src/llm/usage.js';
import { ModelFiguresCounter, modelFigures, modelStatus } from '../../src/run/model-figures.js';
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

  it('give the status line each model’s share of samples and valid rate', () => {
    expect(modelStatus(modelFigures(events))).toBe(
      'openai:gpt-4o-mini 71% valid 50%, gemini:gemini-2.5-pro 29% valid 100%',
    );
  });
});
