/** Candidate programs for sandbox tests, built from the cap-set spec by replacing one body. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { afterAll, expect } from 'vitest';
import type { Outcome, SandboxBatchJob } from '../../src/sandbox/sandbox.js';

/**
 * Puts a fake API token in this process's environment for the calling test file, before any sandbox
 * exists (a sandbox must not pass it on), and restores the variable after the file: test files share
 * a worker's process.
 */
export function fakeTokenInEnvironment(token: string): void {
  const saved = process.env.REPLICATE_API_TOKEN;
  process.env.REPLICATE_API_TOKEN = token;
  afterAll(() => {
    if (saved === undefined) delete process.env.REPLICATE_API_TOKEN;
    else process.env.REPLICATE_API_TOKEN = saved;
  });
}

export const SPEC = readFileSync(new URL('../../specs/cap_set.py', import.meta.url), 'utf8');

const EVALUATE_BODY =
  '  """Returns the size of an `n`-dimensional cap set."""\n  capset = solve(n)\n  return len(capset)\n';

/**
 * Python (needs `os`): the harness's pid as a candidate sees it. A candidate's parent is the
 * harness's fork server, whose parent is the harness.
 */
export const HARNESS_PID = "int(open('/proc/%d/stat' % os.getppid()).read().rsplit(')', 1)[1].split()[1])";

/** The cap-set spec's imports, as `funsearch run` gives them, and one more to see it arrive. */
export const CAP_SET_PRELOAD_AND_FRACTIONS: readonly string[] = ['itertools', 'numpy', 'fractions'];

/**
 * A program whose score says which of `modules` were loaded before its own code ran: bit i is set
 * when modules[i] was (the sandbox's preload).
 */
export const loadedBefore = (modules: readonly string[]) =>
  `import sys\nLOADED = [m in sys.modules for m in ${JSON.stringify(modules)}]\n\n\ndef evaluate(n):\n    return sum(2**i for i, x in enumerate(LOADED) if x)\n`;

/** A batch calling `evaluate` on each input (default one input, 3, with 5 s each). */
export function job(program: string, testInputs = ['3'], timeoutSeconds = 5): SandboxBatchJob {
  return { program, functionToRun: 'evaluate', testInputs, timeoutSeconds };
}

/** The one Outcome of a single-input batch. */
export function only(outcomes: Outcome[]): Outcome {
  expect(outcomes).toHaveLength(1);
  return outcomes[0]!;
}

/** The spec with `priority`'s body (`return 0.0`) replaced; `body` is indented by two spaces. */
export function withPriority(body: string): string {
  if (!SPEC.includes('  return 0.0\n')) throw new Error('spec changed: no `return 0.0` body');
  return SPEC.replace('  return 0.0\n', indent(body));
}

/** The spec with `evaluate`'s body replaced (the function receives `n`). */
export function withEvaluate(body: string): string {
  if (!SPEC.includes(EVALUATE_BODY)) throw new Error('spec changed: unexpected evaluate body');
  return SPEC.replace(EVALUATE_BODY, indent(body));
}

function indent(body: string): string {
  return `${body
    .trim()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')}\n`;
}

/** What the host's own python3 computes for `evaluate(n)` of `program` (an independent oracle). */
export function hostEvaluate(program: string, n: number): number {
  const key = `${n}\0${program}`;
  let value = oracle.get(key);
  if (value === undefined) {
    const script = `${program.replace(/^@funsearch\.\w+\n/gm, '')}\nprint(evaluate(${n}))\n`;
    value = Number(execFileSync('python3', ['-c', script], { encoding: 'utf8' }).trim());
    oracle.set(key, value);
  }
  return value;
}
const oracle = new Map<string, number>();

/** Polls `probe` until it returns a value other than undefined; fails after `limitMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export { SANDBOX_TEST_IMAGE as TEST_IMAGE } from '../helpers/system.js';

/** Ids of the containers carrying `funsearch.run=<session>`. */
export async function sessionContainers(session: string): Promise<string[]> {
  const list = await new Docker().listContainers({
    all: true,
    filters: { label: [`funsearch.run=${session}`] },
  });
  return list.map((c) => c.Id);
}
