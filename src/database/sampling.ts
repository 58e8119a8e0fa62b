/** The probability helpers of the evolutionary algorithm, all drawing from the run's one `Random`. */
import type { Random } from '../random.js';

/** The tempered softmax of finite `logits`, as the original `_softmax`. */
export function softmax(logits: readonly number[], temperature: number): number[] {
  const nonFinite = logits.filter((logit) => !Number.isFinite(logit));
  if (nonFinite.length > 0) {
    throw new RangeError(`\`logits\` contains non-finite value(s): ${[...new Set(nonFinite)].join(', ')}`);
  }
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`Expected \`temperature\` to be a finite number > 0, got \`${temperature}\``);
  }
  const scaled = logits.map((logit) => logit / temperature);
  const max = Math.max(...scaled);
  const exps = scaled.map((value) => Math.exp(value - max));
  const total = exps.reduce((sum, value) => sum + value, 0);
  const result = exps.map((value) => value / total);
  // As the original: the largest entry absorbs the rounding so the probabilities sum to exactly 1.
  let argmax = 0;
  for (let i = 1; i < result.length; i++) if (result[i]! > result[argmax]!) argmax = i;
  result[argmax] = 1 - result.reduce((sum, value, i) => (i === argmax ? sum : sum + value), 0);
  return result;
}

/**
 * The cluster-sampling temperature: it decays linearly from `init` towards 0 over `period`
 * registrations on the island, then starts again.
 */
export function clusterTemperature(init: number, period: number, programsOnIsland: number): number {
  return init * (1 - (programsOnIsland % period) / period);
}

/** A standard normal draw (Box–Muller), for the tie-breaking noise of resets. */
export function gaussian(random: Random): number {
  const u1 = 1 - random.next(); // in (0, 1], so the logarithm is finite
  const u2 = random.next();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Indices that sort `values` ascending; equal values keep their order (numpy's argsort leaves it open). */
export function argsort(values: readonly number[]): number[] {
  return values
    .map((_, index) => index)
    .sort((a, b) => {
      const x = values[a]!;
      const y = values[b]!;
      if (x < y) return -1;
      if (x > y) return 1;
      return a - b; // also orders -Infinity against -Infinity, where `x - y` would be NaN
    });
}
