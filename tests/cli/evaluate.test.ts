/** `funsearch evaluate` as a command function, on the process sandbox (host python3). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateCommand, pythonFloatRepr, toJsonKeepingFloats } from '../../src/commands/evaluate.js';
import { parseConfig } from '../../src/config.js';
import { ExitError } from '../../src/errors.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'funsearch-evaluate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SPEC = `@funsearch.run
def evaluate(data) -> float:
  return priority(len(data))


@funsearch.evolve
def priority(n: int) -> float:
  """Returns a score."""
  if n > 100:
    return float(-n)
  return n * 2
`;

/** Runs the command; resolves with the parsed JSON, the raw JSON text and the exit error if any. */
async function evaluate(inputs: string, overrides: object = {}, candidate?: string, spec = SPEC) {
  const specFile = join(dir, 'spec.py');
  const inputsFile = join(dir, 'inputs.txt');
  writeFileSync(specFile, spec);
  writeFileSync(inputsFile, inputs);
  let candidateFile: string | undefined;
  if (candidate !== undefined) {
    candidateFile = join(dir, 'candidate.py');
    writeFileSync(candidateFile, candidate);
  }
  const config = parseConfig({ sandbox: { kind: 'process', memory_mb: 256, tmpfs_mb: 8 }, ...overrides });
  let text = '';
  const logs: string[] = [];
  let exit: unknown;
  try {
    await evaluateCommand({
      specFile,
      inputsFile,
      ...(candidateFile ? { candidateFile } : {}),
      config,
      write: (chunk) => {
        text += chunk;
      },
      log: (line) => logs.push(line),
    });
  } catch (error) {
    exit = error;
  }
  return { json: JSON.parse(text) as Record<string, unknown>, text, exit, logs };
}

const BIG = `[${Array.from({ length: 5000 }, (_, i) => i).join(', ')}]`;

describe('funsearch evaluate', () => {
  it('shows a short preview and the line of each input, not the whole input', async () => {
    const { json, text } = await evaluate(`# the inputs\n"ab"\n\n${BIG}\n`);
    expect(json.outcomes).toMatchObject([
      { line: 2, input: '"ab"', kind: 'ok', score: 4 },
      { line: 4, input: `${BIG.slice(0, 57)}...`, kind: 'ok', score: -5000 },
    ]);
    expect(text.length).toBeLessThan(2000);
  });

  it('keeps int and float apart: a float score is written -5000.0, an int 4', async () => {
    const { json, text } = await evaluate(`"ab"\n${BIG}\n`);
    expect(text).toMatch(/"score": 4,\n\s*"scoreType": "int"/);
    expect(text).toMatch(/"score": -5000\.0,\n\s*"scoreType": "float"/);
    // The reduced score (last input by default) is the last input's float.
    expect(json).toMatchObject({ score: -5000, scoreType: 'float', scoreReduction: 'last' });
    expect(text).toMatch(/\n {2}"score": -5000\.0,\n {2}"scoreType": "float",\n {2}"scoreReduction": "last"/);
  });

  it('says which sandbox ran the candidate, with one worker for the one candidate', async () => {
    const { json, logs } = await evaluate('"ab"\n', { num_evaluators: 8 });
    expect(json.sandbox).toEqual({ kind: 'process', workers: 1 });
    expect(logs.join('\n')).toMatch(/not a security boundary/);
  });

  it("has the sandbox import the spec's modules before the candidate runs", async () => {
    // Its top-level code sees whether `fractions` was loaded before its own import of it.
    const spec = `import sys\nPRELOADED = "fractions" in sys.modules\nimport fractions\n\n${SPEC.replace('return n * 2', 'return int(PRELOADED)')}`;
    const { json } = await evaluate('"ab"\n', {}, undefined, spec);
    expect(json).toMatchObject({ ok: true, score: 1 });
  });

  it('a timeout names the --timeout flag and its value, and exits 1', async () => {
    const { json, exit } = await evaluate('"ab"\n', { timeout: 1 }, 'import time\ntime.sleep(60)\n');
    expect(exit).toBeInstanceOf(ExitError);
    expect((exit as ExitError).exitCode).toBe(1);
    expect(json).toMatchObject({ ok: false, kind: 'timeout' });
    expect((json.outcomes as { reason: string }[])[0]!.reason).toBe(
      'exceeded the time limit of 1 s; raise --timeout (now 1 s per input) if the candidate needs longer',
    );
  });
});

describe('JSON that keeps floats', () => {
  it.each([
    [-212, '-212.0'],
    [0.5, '0.5'],
    [-0, '-0.0'],
    [1e16, '1e+16'],
    [1.5e16, '1.5e+16'],
    [123456789012345.6, '123456789012345.6'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.25e-7, '1.25e-07'],
    [1e300, '1e+300'],
  ])("writes %s as Python's repr does (%s)", (value, repr) => {
    expect(pythonFloatRepr(value)).toBe(repr);
  });

  it('marks only scores whose scoreType is float, and never a string a candidate printed', () => {
    const json = toJsonKeepingFloats({
      a: { score: 3, scoreType: 'float' },
      b: { score: 3, scoreType: 'int' },
      stderr: '\u0000float:1',
    });
    expect(json).toContain('"score": 3.0');
    expect(json).toContain('"score": 3,');
    expect(JSON.parse(json).stderr).toBe('\u0000float:1');
  });
});
