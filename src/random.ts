/**
 * One seeded generator for every random choice in a run (cluster and program sampling, the mock
 * model, jitter), so a run and its tests are reproducible from `--seed` alone.
 * xoshiro128** seeded through splitmix32: small, fast, and good enough for sampling.
 */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number = Date.now()) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float in [0, 1) with 53 bits of randomness. */
  next(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0)
      throw new RangeError(`Expected \`n\` to be a positive integer, got \`${n}\``);
    return Math.floor(this.next() * n);
  }

  /** An index drawn with the given probabilities (which must sum to about 1), as numpy's `choice(p=...)`. */
  weightedIndex(probabilities: readonly number[]): number {
    if (probabilities.length === 0) throw new RangeError('Expected at least one probability');
    const u = this.next();
    let cumulative = 0;
    for (let i = 0; i < probabilities.length; i++) {
      cumulative += probabilities[i]!;
      if (u < cumulative) return i;
    }
    // Rounding can leave the cumulative sum a hair under 1: the last non-zero entry takes the rest.
    for (let i = probabilities.length - 1; i >= 0; i--) if (probabilities[i]! > 0) return i;
    return probabilities.length - 1;
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** An independent generator derived from this one (for a component that must not disturb the others). */
  fork(): Random {
    return new Random(this.nextUint32());
  }

  /** The generator's position as four 32-bit unsigned integers (plain JSON), for checkpoints. */
  getState(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** Resumes from a position taken by `getState()`: the draws that follow are the ones that followed then. */
  setState(state: readonly number[]): void {
    const valid =
      state.length === 4 && state.every((word) => Number.isInteger(word) && word >= 0 && word <= 0xffffffff);
    // xoshiro never leaves the all-zero state, so such a state cannot come from `getState()`.
    if (!valid || state.every((word) => word === 0)) {
      throw new RangeError(
        `Expected \`state\` to be four 32-bit unsigned integers not all 0, got \`${state}\``,
      );
    }
    [this.s0, this.s1, this.s2, this.s3] = state as [number, number, number, number];
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
