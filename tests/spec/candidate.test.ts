import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import {
  bodyFromCandidateFile,
  buildCandidate,
  type Candidate,
  type CandidateBuild,
  initParser,
  Program,
  parseSpec,
} from '../../src/spec/index.js';
import { runPython } from './python.js';

let template: Program;

beforeAll(async () => {
  await initParser();
  template = parseSpec(
    readFileSync(new URL('../../specs/cap_set.py', import.meta.url), 'utf8'),
    'specs/cap_set.py',
  ).program;
});

function ok(result: CandidateBuild): Candidate {
  if ('error' in result) throw new Error(`expected a candidate, got ${result.error}: ${result.reason}`);
  return result;
}

/** The cap-set size the program builds for n (host python3). */
function capSetSize(program: string, n: number): number {
  const run = runPython(`${program}\nprint(evaluate(${n}))\n`);
  expect(run.stderr).toBe('');
  return Number(run.stdout);
}

describe('buildCandidate', () => {
  it('puts the trimmed body into the template, keeping its header and docstring', () => {
    const output =
      '  return float(el.count(2) % 3)\n\n\ndef priority_v2(el: tuple[int, ...], n: int) -> float:\n  """Improved version of `priority_v1`."""\n';
    const candidate = ok(buildCandidate(template, 'priority', output, 2));
    expect(candidate.body).toBe('  return float(el.count(2) % 3)');
    expect(candidate.fn).toEqual({ ...template.getFunction('priority'), body: candidate.body });
    expect(candidate.program).toBe(template.withFunction('priority', candidate.fn).toString());
    expect(candidate.program).toContain(
      'def priority(el: tuple[int, ...], n: int) -> float:\n  """Returns the priority with which we want to add `element` to the cap set."""\n  return float(el.count(2) % 3)\n',
    );
    // Same body in the original spec, run as written, is the reference score.
    const reference = runPython(
      `class funsearch:\n  run = evolve = staticmethod(lambda fn: fn)\n\n${readFileSync(new URL('../../specs/cap_set.py', import.meta.url), 'utf8').replace('  return 0.0', '  return float(el.count(2) % 3)')}\nprint(evaluate(4))\n`,
    );
    expect(capSetSize(candidate.program, 4)).toBe(Number(reference.stdout));
  });

  it('renames calls to the version being generated back to the evolved function (recursion works)', () => {
    const output = '  if not el:\n    return 0.0\n  return float(el[0] == 2) + priority_v3(el[1:], n)\n';
    const candidate = ok(buildCandidate(template, 'priority', output, 3));
    expect(candidate.body).toBe(
      '  if not el:\n    return 0.0\n  return float(el[0] == 2) + priority(el[1:], n)',
    );
    expect(capSetSize(candidate.program, 3)).toBeGreaterThan(0);
  });

  it('renames exactly `_v<versionGenerated>`: a call to another version disqualifies the candidate', () => {
    const output = '  return priority_v1(el, n) + 1\n';
    expect(buildCandidate(template, 'priority', output, 2)).toEqual({
      error: 'calls-ancestor',
      reason: 'the candidate calls `priority_v1`, an earlier version that does not exist in the program',
    });
    expect('error' in buildCandidate(template, 'priority', output, 1)).toBe(false);
  });

  it('without a version, nothing is renamed', () => {
    expect(buildCandidate(template, 'priority', '  return priority_v0(el, n)\n')).toMatchObject({
      error: 'calls-ancestor',
    });
    const candidate = ok(buildCandidate(template, 'priority', '  return 1.0\n'));
    expect(candidate.body).toBe('  return 1.0');
  });

  it('an output with no usable body is an `empty` failure, as data', () => {
    for (const output of ['', 'I cannot help with that.', '  if el[0] = 1:\n    return 1.0\n']) {
      expect(buildCandidate(template, 'priority', output, 2)).toEqual({
        error: 'empty',
        reason: 'the model output holds no usable function body (nothing in it parses as Python)',
      });
    }
  });

  it('a function that does not parse once assembled is a `syntax-error` failure', () => {
    const broken = new Program('', [
      { name: 'priority', args: 'el,,', body: '  return 0.0', indent: '  ', decorators: [] },
    ]);
    expect(buildCandidate(broken, 'priority', '  return 1.0\n')).toMatchObject({
      error: 'syntax-error',
      reason: expect.stringMatching(/^the candidate function does not parse: line 1: /),
    });
  });

  it('a chat answer with an import and a helper becomes a program that runs', () => {
    const answer = [
      'Here is a better priority function:',
      '',
      '```python',
      'import math',
      '',
      'def priority_v2(el: tuple[int, ...], n: int) -> float:',
      '    """Prefers vectors with many 2s."""',
      '    return math.log1p(twos(el)) - 0.01 * el.count(1)',
      '',
      'def twos(v):',
      '    return v.count(2)',
      '```',
    ].join('\n');
    const candidate = ok(buildCandidate(template, 'priority', answer, 2));
    expect(candidate.body).toBe(
      '  import math\n  def twos(v):\n    return v.count(2)\n  return math.log1p(twos(el)) - 0.01 * el.count(1)',
    );
    expect(capSetSize(candidate.program, 4)).toBeGreaterThan(0);
  });
});

describe('bodyFromCandidateFile', () => {
  it('reads a bare body', () => {
    expect(bodyFromCandidateFile('  return float(el.count(2) % 3)\n', { indent: '  ' })).toBe(
      '  return float(el.count(2) % 3)',
    );
    expect(bodyFromCandidateFile('return 1.0\n', { indent: '  ' })).toBe('  return 1.0');
  });

  it('reads a whole def of any name, with the imports it uses, and drops test code after it', () => {
    const file =
      'import math\n\n\ndef my_priority(el, n):\n    """Mine."""\n    return math.sqrt(sum(el))\n\n\nprint(my_priority((1, 2), 2))\n';
    expect(bodyFromCandidateFile(file, { indent: '  ' })).toBe('  import math\n  return math.sqrt(sum(el))');
  });

  it('defaults to four spaces and normalises CRLF', () => {
    expect(bodyFromCandidateFile('def f(el, n):\r\n  return 1.0\r\n')).toBe('    return 1.0');
  });

  it('an empty file gives the empty string', () => {
    expect(bodyFromCandidateFile('\n\n')).toBe('');
  });

  it('a syntax error is a UserError naming the file and line, not a silently shortened body', () => {
    const file = 'def f(el, n):\n    x = 1\n    return (x +\n\nprint("done")\n';
    expect(() => bodyFromCandidateFile(file, { fileName: 'cand.py' })).toThrow(UserError);
    expect(() => bodyFromCandidateFile(file, { fileName: 'cand.py' })).toThrow(
      /^cand\.py:3: invalid Python: /,
    );
    expect(() => bodyFromCandidateFile('  x = 1\n    y = 2\n')).toThrow(
      'the candidate file:2: invalid Python: unexpected indent; the file must hold an indented function body or a whole def',
    );
  });
});
