/**
 * The benchmarks' candidates: specs/cap_set.py with a fixed set of `priority` bodies, most valid,
 * a few failing the way model answers do.
 */
import { readFileSync } from 'node:fs';

export const CAP_SET_SPEC = readFileSync(new URL('../../specs/cap_set.py', import.meta.url), 'utf8');
export const CAP_SET_INPUTS = ['3', '4'];

/** Quick, valid `priority` bodies (each line of the function's body, unindented). */
export const VALID_BODIES = [
  'return 0.0',
  'return float(sum(el))',
  'return -float(sum(el))',
  'return float(el.count(0))',
  'return float(el.count(1) - el.count(2))',
  'return float(sum((i + 1) * v for i, v in enumerate(el)) % 3)',
  'return float(np.prod(np.array(el) + 1))',
  'return float(max(el) - min(el))',
];
const FAILING_BODIES = [
  'return 1 / 0', // crash
  'return 0.0 +', // syntax error
  'return undefined_name', // crash (NameError)
  'return float(el[n])', // crash (IndexError)
];

function program(body: string): string {
  return CAP_SET_SPEC.replace('  return 0.0\n', `  ${body}\n`);
}

/** `count` whole programs, cycling through the bodies (only the valid ones with `validOnly`). */
export function capSetPrograms(count: number, options: { validOnly?: boolean } = {}): string[] {
  const bodies = options.validOnly ? VALID_BODIES : [...VALID_BODIES, ...FAILING_BODIES];
  return Array.from({ length: count }, (_, i) => program(bodies[i % bodies.length]!));
}
