import type { ProgramsDatabaseConfig } from '../../src/config.js';
import { programsDatabaseConfigSchema } from '../../src/config.js';
import type { PyFunction } from '../../src/spec/program.js';

/** A version of `priority(element, n)` with the given body (two-space indentation, as the original tests). */
export function priority(body: string, extra: Partial<PyFunction> = {}): PyFunction {
  return {
    name: 'priority',
    args: 'element, n',
    docstring: 'Returns the priority with which we want to add `element` to the cap set.',
    body,
    indent: '  ',
    decorators: [],
    ...extra,
  };
}

export function dbConfig(overrides: Partial<ProgramsDatabaseConfig> = {}): ProgramsDatabaseConfig {
  return programsDatabaseConfigSchema.parse(overrides);
}

export function one(score: number, input: string | number = 'unused'): Map<string | number, number> {
  return new Map([[input, score]]);
}

/** Pearson's chi-square statistic of observed counts against expected probabilities. */
export function chiSquare(counts: readonly number[], probabilities: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.reduce((sum, count, i) => {
    const expected = total * probabilities[i]!;
    return sum + (count - expected) ** 2 / expected;
  }, 0);
}
