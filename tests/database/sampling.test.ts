import { describe, expect, it } from 'vitest';
import { argsort, clusterTemperature, gaussian, softmax } from '../../src/database/sampling.js';
import { Random } from '../../src/random.js';

describe('softmax (ported cases of the original)', () => {
  const cases: number[][] = [[10, 9, -1000], new Array(50).fill(0)];
  it.each(cases)(
    'gives probabilities that sum to 1 and sharpen as the temperature drops (%#)',
    (...logits) => {
      const cold = softmax(logits, 1);
      const hot = softmax(logits, 5);
      for (const probabilities of [cold, hot]) {
        expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
        for (const p of probabilities) expect(p).toBeGreaterThanOrEqual(0);
        for (const p of probabilities) expect(p).toBeLessThanOrEqual(1);
      }
      if (!logits.every((logit) => logit === logits[0])) {
        expect(Math.max(...cold)).toBeGreaterThan(Math.max(...hot));
      }
    },
  );

  it.each([
    { temperature: 1, expected: [0.6590012, 0.242433, 0.0985659] },
    { temperature: 2, expected: [0.50168777, 0.304289, 0.19402324] },
  ])('matches scipy at temperature $temperature', ({ temperature, expected }) => {
    const probabilities = softmax([2.0, 1.0, 0.1], temperature);
    probabilities.forEach((p, i) => {
      expect(p).toBeCloseTo(expected[i]!, 5);
    });
  });

  it.each([
    [[100, 200, 300, Number.NaN]],
    [[100, Number.POSITIVE_INFINITY, 300, 200]],
    [[Number.NEGATIVE_INFINITY, 200, 300, 100]],
  ])('rejects non-finite logits %j', (logits) => {
    expect(() => softmax(logits, 1)).toThrow(/`logits` contains non-finite value\(s\)/);
  });

  it('stays finite for huge logits at a tiny temperature', () => {
    const probabilities = softmax([1000, 999, 0], 1e-4);
    expect(probabilities).toEqual([1, 0, 0]);
  });
});

describe('clusterTemperature', () => {
  it('decays linearly from init over one period, then starts again', () => {
    expect(clusterTemperature(0.1, 30_000, 0)).toBe(0.1);
    expect(clusterTemperature(0.1, 30_000, 15_000)).toBeCloseTo(0.05, 15);
    expect(clusterTemperature(0.1, 30_000, 29_999)).toBeCloseTo(0.1 / 30_000, 15);
    expect(clusterTemperature(0.1, 30_000, 30_000)).toBe(0.1);
    expect(clusterTemperature(2, 4, 3)).toBe(0.5);
    expect(clusterTemperature(2, 4, 5)).toBe(1.5);
  });
});

describe('argsort', () => {
  it('sorts ascending, keeps ties in order, and handles -Infinity', () => {
    expect(argsort([3, Number.NEGATIVE_INFINITY, 1, 3, Number.NEGATIVE_INFINITY])).toEqual([1, 4, 2, 0, 3]);
  });
});

describe('gaussian', () => {
  it('draws a standard normal from the seeded generator', () => {
    const random = new Random(7);
    const draws = Array.from({ length: 20_000 }, () => gaussian(random));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    const again = new Random(7);
    expect(gaussian(again)).toBe(draws[0]);
  });
});
