import { describe, expect, it } from 'vitest';
import type { LanguageModel } from '../../src/llm/language-model.js';
import { UsageMeter, withUsage } from '../../src/llm/usage.js';

describe('UsageMeter', () => {
  it('counts tokens, requests and cost per model with the built-in price table', () => {
    const meter = new UsageMeter();
    meter.record('openai', 'gpt-4o', { inputTokens: 1000, outputTokens: 200 });
    meter.record('openai', 'gpt-4o', { inputTokens: 500, outputTokens: 100 });
    meter.recordFailure('openai', 'gpt-4o');
    meter.record('openai', 'gpt-4o-mini-2024-07-18', { inputTokens: 1_000_000, outputTokens: 0 });

    const [big, mini] = meter.snapshot();
    expect(big).toEqual({
      provider: 'openai',
      modelId: 'gpt-4o',
      requests: 3,
      failedRequests: 1,
      requestsWithUsage: 2,
      inputTokens: 1500,
      outputTokens: 300,
      costUsd: (1500 * 2.5 + 300 * 10) / 1e6,
    });
    // A dated snapshot takes the price of the longest known id it starts with (gpt-4o-mini, not gpt-4o).
    expect(mini!.costUsd).toBeCloseTo(0.15, 12);
    expect(meter.totals()).toEqual({
      requests: 4,
      failedRequests: 1,
      inputTokens: 1_001_500,
      outputTokens: 300,
      costUsd: (1500 * 2.5 + 300 * 10) / 1e6 + 0.15,
    });
  });

  it('leaves tokens and cost undefined when the provider reported no counts, and cost without a price', () => {
    const meter = new UsageMeter();
    meter.record('starcoder', 'bigcode/starcoder2-15b', undefined);
    meter.record('replicate', 'meta/codellama-34b-python:e4cb', { inputTokens: 10, outputTokens: 5 });
    const [starcoder, replicate] = meter.snapshot();
    expect(starcoder).toMatchObject({
      requests: 1,
      requestsWithUsage: 0,
      inputTokens: undefined,
      costUsd: undefined,
    });
    expect(replicate).toMatchObject({ inputTokens: 10, outputTokens: 5, costUsd: undefined });
    expect(meter.totals()).toMatchObject({ requests: 2, inputTokens: 10, costUsd: undefined });
  });

  it('a configured price overrides the table and prices an unknown model', () => {
    const meter = new UsageMeter({ prices: { 'gpt-4o': { input: 1, output: 1 } } });
    meter.setPrice('meta/codellama-34b-python:e4cb', { input: 0.5, output: 2 });
    meter.record('openai', 'gpt-4o', { inputTokens: 1_000_000, outputTokens: 1_000_000 });
    meter.record('replicate', 'meta/codellama-34b-python:e4cb', {
      inputTokens: 2_000_000,
      outputTokens: 1_000_000,
    });
    expect(meter.snapshot().map((m) => m.costUsd)).toEqual([2, 3]);
    expect(() => meter.setPrice('x', { input: -1, output: 0 })).toThrow(
      'Expected `pricePerMillionTokens.input` to be a finite number >= 0, got `-1`',
    );
  });

  it('withUsage records successes with their usage and failures', async () => {
    const meter = new UsageMeter();
    let calls = 0;
    const model: LanguageModel = {
      provider: 'p',
      modelId: 'm',
      async generate() {
        if (++calls === 2) throw new Error('boom');
        return { text: 't', usage: { inputTokens: 3, outputTokens: 4 } };
      },
    };
    const metered = withUsage(model, meter);
    await metered.generate('a');
    await expect(metered.generate('b')).rejects.toThrow('boom');
    expect(meter.snapshot()[0]).toMatchObject({
      requests: 2,
      failedRequests: 1,
      inputTokens: 3,
      outputTokens: 4,
    });
    expect(metered.check).toBeUndefined();
  });
});
