/**
 * Per-test scores and the two things made of them: the signature that names a program's cluster and
 * the single score that ranks it. Both keep the order of the inputs file (the seed sorted the keys
 * as strings, so input `10` came before `3`).
 */
import type { ScoreReduction } from '../config.js';

/** The key of a per-input score: the test input as the inputs file gives it (a literal, or a number). */
export type ScoreKey = string | number;

/** A program's score on each test input, in the order of the inputs file (a Map keeps insertion order). */
export type ScoresPerTest = ReadonlyMap<ScoreKey, number>;

/** The scores in input order; programs with equal signatures share a cluster. */
export type Signature = readonly number[];

export function getSignature(scoresPerTest: ScoresPerTest): Signature {
  return [...scoresPerTest.values()];
}

/** A Map key for a signature (`-0` and `0` meet, as they do in a Python tuple). */
export function signatureKey(signature: Signature): string {
  return JSON.stringify(signature);
}

/**
 * The one score of a program:
 * - `last`: the score on the last input of the file (DeepMind);
 * - `max-key`: the score on the largest input (the seed fork). Inputs compare as numbers when every
 *   one of them is a number or a numeric string; otherwise the largest is the last in file order;
 * - `mean`, `sum`: over all inputs.
 */
export function reduceScore(scoresPerTest: ScoresPerTest, reduction: ScoreReduction): number {
  checkScores(scoresPerTest);
  const entries = [...scoresPerTest.entries()];
  switch (reduction) {
    case 'last':
      return entries[entries.length - 1]![1];
    case 'max-key':
      return entries[largestInputIndex(entries.map(([input]) => input))]![1];
    case 'sum':
      return entries.reduce((total, [, score]) => total + score, 0);
    case 'mean':
      return entries.reduce((total, [, score]) => total + score, 0) / entries.length;
    default:
      throw new RangeError(`Unknown score reduction \`${reduction satisfies never}\``);
  }
}

/** Scores reach the database from the evaluator, which lets only finite numbers through; anything else is a bug. */
export function checkScores(scoresPerTest: ScoresPerTest): void {
  if (scoresPerTest.size === 0) throw new RangeError('Expected scores for at least one test input, got none');
  for (const [input, score] of scoresPerTest) {
    if (typeof score !== 'number' || !Number.isFinite(score)) {
      throw new RangeError(`Expected a finite score for input \`${input}\`, got \`${score}\``);
    }
  }
}

/** The index of the largest input (`max-key`). */
export function largestInputIndex(inputs: readonly ScoreKey[]): number {
  const numbers = inputs.map(asNumber);
  if (numbers.some((value) => value === undefined)) return inputs.length - 1;
  let best = 0;
  for (let i = 1; i < numbers.length; i++) if (numbers[i]! > numbers[best]!) best = i;
  return best;
}

function asNumber(input: ScoreKey): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined;
  if (input.trim() === '') return undefined;
  const value = Number(input);
  return Number.isFinite(value) ? value : undefined;
}
