import { describe, expect, it } from 'vitest';
import { getSignature, reduceScore, signatureKey } from '../../src/database/scores.js';

describe('signature', () => {
  it('keeps the order of the inputs file, so input 10 stays after input 3', () => {
    // The seed sorted keys as strings, which puts '10' before '3'.
    const scores = new Map([
      ['3', 5],
      ['10', 7],
      ['4', 6],
    ]);
    expect(getSignature(scores)).toEqual([5, 7, 6]);
  });

  it('gives equal keys to signatures Python would find equal, and different keys otherwise', () => {
    expect(signatureKey([0, 1])).toBe(signatureKey([-0, 1]));
    expect(signatureKey([1, 2])).not.toBe(signatureKey([2, 1]));
    expect(signatureKey([1, 23])).not.toBe(signatureKey([12, 3]));
  });
});

describe('reduceScore', () => {
  const scores = new Map([
    ['3', 5],
    ['10', 7],
    ['4', 6],
  ]);

  it('`last` takes the score of the last input in file order (DeepMind)', () => {
    expect(reduceScore(scores, 'last')).toBe(6);
  });

  it('`max-key` takes the score of the numerically largest input, not the largest string', () => {
    expect(reduceScore(scores, 'max-key')).toBe(7);
    // The seed's own case.
    expect(
      reduceScore(
        new Map([
          ['3', 8],
          ['4', 20],
        ]),
        'max-key',
      ),
    ).toBe(20);
    expect(
      reduceScore(
        new Map([
          [8, 1],
          [3, 2],
        ]),
        'max-key',
      ),
    ).toBe(1);
  });

  it('`max-key` falls back to the last input when some input is not a number', () => {
    const named = new Map<string | number, number>([
      ['small', 1],
      ['large', 2],
      ['medium', 3],
    ]);
    expect(reduceScore(named, 'max-key')).toBe(3);
    const mixed = new Map<string | number, number>([
      [100, 1],
      ['x', 2],
      [5, 3],
    ]);
    expect(reduceScore(mixed, 'max-key')).toBe(3);
  });

  it('`mean` and `sum` use every input', () => {
    expect(reduceScore(scores, 'sum')).toBe(18);
    expect(reduceScore(scores, 'mean')).toBe(6);
  });

  it('rejects empty and non-finite scores', () => {
    expect(() => reduceScore(new Map(), 'last')).toThrow(/at least one test input/);
    expect(() => reduceScore(new Map([['a', Number.NaN]]), 'mean')).toThrow(/finite score for input `a`/);
    expect(() => reduceScore(new Map([['a', Number.POSITIVE_INFINITY]]), 'last')).toThrow(RangeError);
  });
});
