import { describe, expect, it } from 'vitest';
import { Random } from '../../src/random.js';

describe('Random state', () => {
  it('resumes the same sequence from a saved state, through JSON', () => {
    const random = new Random(42);
    for (let i = 0; i < 5; i++) random.next();
    const state = JSON.parse(JSON.stringify(random.getState()));
    const expected = Array.from({ length: 10 }, () => random.nextUint32());
    const resumed = new Random(1);
    resumed.setState(state);
    expect(Array.from({ length: 10 }, () => resumed.nextUint32())).toEqual(expected);
  });

  it('returns unsigned words and rejects states it could not have produced', () => {
    const random = new Random(3);
    for (let i = 0; i < 100; i++) {
      random.next();
      for (const word of random.getState()) expect(word >>> 0).toBe(word);
    }
    expect(() => random.setState([0, 0, 0, 0])).toThrow(RangeError);
    expect(() => random.setState([1, 2, 3])).toThrow(RangeError);
    expect(() => random.setState([1, 2, 3, 2 ** 32])).toThrow(RangeError);
    expect(() => random.setState([1, 2, 3, 1.5])).toThrow(RangeError);
  });
});
