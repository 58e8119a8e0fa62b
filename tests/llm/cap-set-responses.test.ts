import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CAP_SET_RESPONSES } from '../../src/llm/mock-responses/cap_set.js';

const verifier = fileURLToPath(new URL('./verify_cap_set.py', import.meta.url));
const spec = fileURLToPath(new URL('../../specs/cap_set.py', import.meta.url));

interface Result {
  scores?: number[];
  error?: string;
}

function score(responses: readonly string[]): Result[] {
  const run = spawnSync('python3', [verifier], {
    input: JSON.stringify({ spec, responses, ns: [3, 4, 5] }),
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (run.status !== 0) throw new Error(`verifier failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Result[];
}

describe('built-in cap-set answers, run on specs/cap_set.py with host python3', () => {
  const results = score(['  return 0.0\n', ...CAP_SET_RESPONSES]);
  const trivial = results[0]!;
  const answers = results.slice(1);

  it('the trivial priority builds cap sets of 8, 16 and 32 for n = 3, 4, 5', () => {
    expect(trivial.scores).toEqual([8, 16, 32]);
  });

  it('several answers build strictly larger cap sets than the trivial priority', () => {
    const total = (r: Result) => (r.scores ?? []).reduce((a, b) => a + b, 0);
    const better = answers.filter((r) => r.scores && total(r) > total(trivial));
    const distinctBetter = new Set(better.map((r) => JSON.stringify(r.scores)));
    expect(distinctBetter.size).toBeGreaterThanOrEqual(5);
    // Every improvement is a valid cap set size, no larger than the known optimum (9, 20, 45).
    for (const r of better) {
      expect(r.scores![0]).toBeLessThanOrEqual(9);
      expect(r.scores![1]).toBeLessThanOrEqual(20);
      expect(r.scores![2]).toBeLessThanOrEqual(45);
    }
    expect(Math.max(...better.map((r) => r.scores![1]!))).toBe(20);
  });

  it('the answers documented as scores score exactly that', () => {
    const byText = new Map(CAP_SET_RESPONSES.map((text, i) => [text, answers[i]!]));
    expect(byText.get('  return float(el.count(2) % 3)\n')?.scores).toEqual([8, 20, 40]);
    expect(byText.get('  return float(sum(x * x for x in el) % 3)\n')?.scores).toEqual([9, 18, 35]);
  });

  it('the set holds broken answers and duplicates', () => {
    const errors = answers.filter((r) => r.error).map((r) => r.error);
    expect(errors).toEqual(expect.arrayContaining(['IndexError', 'Timeout']));
    expect(errors.length).toBeGreaterThanOrEqual(5);
    expect(new Set(CAP_SET_RESPONSES).size).toBeLessThan(CAP_SET_RESPONSES.length);
  });
});
