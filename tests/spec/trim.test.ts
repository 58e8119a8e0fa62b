import { beforeAll, describe, expect, it } from 'vitest';
import { initParser, syntaxProblem, trimFunctionBody } from '../../src/spec/index.js';

beforeAll(() => initParser());

const TWO = { indent: '  ', functionName: 'priority', version: 2 };
const trim = (output: string) => trimFunctionBody(output, TWO);
const lines = (...rows: string[]) => rows.join('\n');

/** Every result must be a valid body under a def with the template's indentation. */
function expectValidBody(body: string, indent = '  '): void {
  expect(syntaxProblem(`def priority_v2(el, n):\n${indent}"""Doc."""\n${body}\n`)).toBeUndefined();
}

describe('the originals cases', () => {
  it('drops a top-level docstring after the body, keeping blank lines inside it', () => {
    expect(trim('  x = 1\n\n  return 0\n"""Docstring"""')).toBe('  x = 1\n\n  return 0');
  });

  it('stops before the next function, even an unfinished one', () => {
    expect(trim('  return 0\ndef new_f():')).toBe('  return 0');
  });

  it('keeps a body that is already complete', () => {
    expect(trim('  return 0\n')).toBe('  return 0');
  });

  it('keeps a bracket continuation line written at column 0 where the model wrote it', () => {
    expect(trim('  return (1 +\n2)\ndef unfinished_code(')).toBe('  return (1 +\n2)');
  });

  it('keeps backslash continuations, including one joined with the blank line after it', () => {
    const code = lines(
      '  return score + ((el[0] + 1) * (el[0] + 2) * el[1] / 6 == el[2])\\',
      ' + ((el[0] + 1) * (el[0] + 2) * (el[0] + 3) * el[1] / 24 == el[2])\\',
      ' + ((el[0] + 1) * (el[0] + 2) * el[1] * el[2] / 3 == n + el[0])\\',
      '',
      '',
    );
    expect(trim(code)).toBe(code.trimEnd());
  });
});

describe('completion-model continuations (Code Llama, StarCoder)', () => {
  it('stops at the next version header the model went on to write', () => {
    const output = lines(
      '  score = 0.0',
      '  for i, x in enumerate(el):',
      '    score += (x == 1) * (i + 1)',
      '  return score / n',
      '',
      '',
      'def priority_v3(el: tuple[int, ...], n: int) -> float:',
      '  """Improved version of `priority_v2`."""',
      '  ',
    );
    expect(trim(output)).toBe(
      lines(
        '  score = 0.0',
        '  for i, x in enumerate(el):',
        '    score += (x == 1) * (i + 1)',
        '  return score / n',
      ),
    );
  });

  it('drops a last statement cut off by the token limit', () => {
    const output = lines('  s = sum(el)', '  if s % 3 == 0:', '    return 1.0', '  return float(s) / (n +');
    expect(trim(output)).toBe(lines('  s = sum(el)', '  if s % 3 == 0:', '    return 1.0'));
  });

  it('drops a repeated docstring at the start of the body', () => {
    expect(trim('  """Improved version of `priority_v1`."""\n  return -sum(el)\n')).toBe('  return -sum(el)');
  });

  it('drops test code and prose after the body', () => {
    const output = lines(
      '  return el.count(0) / n',
      '',
      '',
      '# Test the function',
      'print(priority_v2((0, 1, 2), 3))',
      'This prints the priority.',
    );
    expect(trim(output)).toBe('  return el.count(0) / n');
    expect(trim('  return 1.0\n\nThe function above returns a constant, which is')).toBe('  return 1.0');
    expect(trim("  return 0.5\n\n\nif __name__ == '__main__':\n  print(priority_v2((1,), 1))\n")).toBe(
      '  return 0.5',
    );
  });

  it('keeps comments inside the body, drops those after it', () => {
    const output = lines(
      '  # Prefer vectors with many 2s.',
      '  twos = el.count(2)  # how many',
      '  return float(twos)',
      '  # done',
      '# end',
    );
    expect(trim(output)).toBe(
      lines('  # Prefer vectors with many 2s.', '  twos = el.count(2)  # how many', '  return float(twos)'),
    );
  });

  it('keeps a body that defines and calls a local helper', () => {
    const output = lines(
      '  def weight(v):',
      '    return sum(v)',
      '  return weight(el) / n',
      '',
      'def priority_v3(el, n):',
    );
    expect(trim(output)).toBe(lines('  def weight(v):', '    return sum(v)', '  return weight(el) / n'));
  });

  it('brings a helper the body calls, written after it at top level, into the body', () => {
    const output = lines(
      '  score = helper(el)',
      '  return score',
      '',
      'def helper(el):',
      '  return sum(el) * 2',
      '',
      'def unused():',
      '  return 0',
      '',
      'print(priority_v2((1, 2), 2))',
    );
    const body = trim(output);
    expect(body).toBe(
      lines('  def helper(el):', '    return sum(el) * 2', '  score = helper(el)', '  return score'),
    );
    expectValidBody(body);
  });

  it('never brings in a version of the evolved function', () => {
    const output = lines('  return priority_v1(el, n) + 1', '', 'def priority_v1(el, n):', '  return 0.0');
    expect(trim(output)).toBe('  return priority_v1(el, n) + 1');
  });

  it('cuts at a line Python rejects for its indentation', () => {
    expect(trim(lines('    x = 1', '      y = 2', '    return x'))).toBe('  x = 1');
  });

  it('returns nothing for a Python 2 print statement on the first line', () => {
    expect(trim('  print el\n  return 1.0\n')).toBe('');
  });

  it('drops an unterminated string and what follows', () => {
    expect(trim(lines('  x = 1', '  return x', '"""', 'Some notes that never end'))).toBe(
      lines('  x = 1', '  return x'),
    );
  });
});

describe('chat answers (GPT, Gemini)', () => {
  it('takes a fenced body', () => {
    expect(trim('```python\n    return 0.5 * sum(el)\n```')).toBe('  return 0.5 * sum(el)');
    expect(trim('~~~\n  return 1.0\n~~~\n')).toBe('  return 1.0');
  });

  it('takes the body of a fenced whole function after prose, with the imports it uses', () => {
    const answer = lines(
      'Here is an improved version:',
      '',
      '```python',
      'import math',
      'import numpy as np',
      '',
      'def priority_v2(el: tuple[int, ...], n: int) -> float:',
      '    """Improved version of `priority_v1`."""',
      '    s = sum(el)',
      '    if s > n:',
      '        return math.sqrt(s)',
      '    return 0.0',
      '```',
      '',
      'This version uses the sum of the coordinates.',
    );
    const body = trim(answer);
    expect(body).toBe(
      lines('  import math', '  s = sum(el)', '  if s > n:', '    return math.sqrt(s)', '  return 0.0'),
    );
    expectValidBody(body);
  });

  it('ignores a closing fence after a continued body and the prose after it', () => {
    expect(trim('  return float(el.count(1))\n```\n\nExplanation: counts ones.')).toBe(
      '  return float(el.count(1))',
    );
  });

  it('uses the first fenced block that holds code', () => {
    expect(trim('Sure\n```\n```\n\n```python\n  return 2.0\n```\n```python\nprint(1)\n```')).toBe(
      '  return 2.0',
    );
  });

  it('reads an unfenced whole function with decorators, docstring and constants', () => {
    const answer = lines(
      'WEIGHT = 0.5',
      'UNUSED = 3',
      '',
      '@funsearch.evolve',
      'def priority(el, n):',
      "  '''Repeated docstring.'''",
      '  return WEIGHT * el.count(2)',
      '',
      'print(priority((2, 2), 2))',
    );
    expect(trim(answer)).toBe(lines('  WEIGHT = 0.5', '  return WEIGHT * el.count(2)'));
  });

  it('prefers the asked-for version when the answer repeats earlier ones', () => {
    const answer = lines(
      'def priority_v1(el, n):',
      '  return 1.0',
      '',
      'def priority_v2(el, n):',
      '  return 2.0',
      '',
      'def priority_v3(el, n):',
      '  return 3.0',
    );
    expect(trim(answer)).toBe('  return 2.0');
    expect(trimFunctionBody(answer, { indent: '  ', functionName: 'priority' })).toBe('  return 3.0');
    expect(trimFunctionBody(answer, { indent: '  ' })).toBe('  return 1.0');
  });

  it('brings helper functions the chosen function uses, transitively, before its body', () => {
    const answer = lines(
      '```python',
      'def norm(v):',
      '    return sum(x * x for x in v)',
      '',
      'def score(v, n):',
      '    return norm(v) / n',
      '',
      'def priority_v2(el, n):',
      '    return score(el, n)',
      '```',
    );
    const body = trim(answer);
    expect(body).toBe(
      lines(
        '  def norm(v):',
        '    return sum(x * x for x in v)',
        '  def score(v, n):',
        '    return norm(v) / n',
        '  return score(el, n)',
      ),
    );
    expectValidBody(body);
  });

  it('reads a one-line def', () => {
    expect(trim('def priority_v2(el, n): return float(sum(el) % 3)')).toBe('  return float(sum(el) % 3)');
  });

  it('an import that is a parameter name is not brought in', () => {
    expect(trim('import n\n\ndef priority_v2(el, n):\n    return n * 2.0\n')).toBe('  return n * 2.0');
  });

  it('reads a whole function after prose without a fence, with the helper, import and constant above it', () => {
    const answer = lines(
      'Sure, I can help. The idea: count the twos.',
      'import numpy as np',
      'K = 2',
      'def twos(v):',
      '    return float(np.sum(np.array(v) == K))',
      '',
      'def priority_v2(el, n):',
      '    """Improved."""',
      '    return twos(el) / n',
      '',
      'This is better because it counts.',
    );
    const body = trim(answer);
    expect(body).toBe(
      lines(
        '  import numpy as np',
        '  K = 2',
        '  def twos(v):',
        '    return float(np.sum(np.array(v) == K))',
        '  return twos(el) / n',
      ),
    );
    expectValidBody(body);
  });
});

describe('indentation', () => {
  it('re-indents four spaces per level to the template unit', () => {
    const output = lines(
      '    s = 0',
      '    for i in range(n):',
      '        if el[i]:',
      '            s += el[i]',
      '    return s',
    );
    expect(trim(output)).toBe(
      lines('  s = 0', '  for i in range(n):', '    if el[i]:', '      s += el[i]', '  return s'),
    );
  });

  it('re-indents tabs, and two spaces to four', () => {
    expect(trim('\tif n:\n\t\treturn 1.0\n\treturn 0.0\n')).toBe('  if n:\n    return 1.0\n  return 0.0');
    expect(trimFunctionBody('  if n:\n    return 1.0\n  return 0.0\n', { indent: '    ' })).toBe(
      '    if n:\n        return 1.0\n    return 0.0',
    );
    expect(trimFunctionBody('  return 1.0\n', { indent: '\t' })).toBe('\treturn 1.0');
  });

  it('repairs a first line whose indentation a client stripped', () => {
    expect(trim('s = sum(el)\n  if s:\n    return 1.0\n  return 0.0\n')).toBe(
      '  s = sum(el)\n  if s:\n    return 1.0\n  return 0.0',
    );
    expect(trim('for x in el:\n        n += x\n    return n\n')).toBe(
      '  for x in el:\n    n += x\n  return n',
    );
  });

  it('indents a body written flush left', () => {
    expect(trim('x = sum(el)\nreturn x / n\n')).toBe('  x = sum(el)\n  return x / n');
  });

  it('leaves the lines inside a multi-line string as they are', () => {
    const output = lines('    s = """a', 'b', '        c"""', '    return len(s)');
    expect(trim(output)).toBe(lines('  s = """a', 'b', '        c"""', '  return len(s)'));
  });

  it('moves continuation lines with the body and keeps odd indentation valid', () => {
    const output = lines(
      '    values = [x',
      '              for x in el]',
      '    if values:',
      '       return 1.0',
      '    return 0.0',
    );
    const body = trim(output);
    expect(body).toBe(
      lines('  values = [x', '            for x in el]', '  if values:', '    return 1.0', '  return 0.0'),
    );
    expectValidBody(body);
  });

  it('leaves a continuation line indented less than its block as written while the body moves', () => {
    const body = trim(lines('    x = 1', '    if x:', '        return (x +', '  2)', '    return 0'));
    expect(body).toBe(lines('  x = 1', '  if x:', '    return (x +', '  2)', '  return 0'));
    expectValidBody(body);
  });

  it('keeps such a line as written in a helper brought into the body', () => {
    const body = trim(
      lines('def helper(a):', '    return (a +', '1)', '', 'def priority_v2(el, n):', '    return helper(n)'),
    );
    expect(body).toBe(lines('  def helper(a):', '    return (a +', '  1)', '  return helper(n)'));
    expectValidBody(body);
  });
});

describe('nothing usable', () => {
  it.each([
    ['empty', ''],
    ['whitespace', '  \n\n\t\n'],
    ['prose', "I'm sorry, but I can't help with that."],
    ['a lone word', 'Sure'],
    ['a lone docstring', '  """Improved version."""\n'],
    ['an empty fence', '```python\n```'],
    ['a header without a body', 'def priority_v2(el, n):\n'],
    ['a syntax error on the first line', '  if el[0] = 1:\n    return 1.0\n'],
  ])('%s gives the empty string', (_name, output) => {
    expect(trim(output)).toBe('');
  });

  it('rejects an indent that is not whitespace', () => {
    expect(() => trimFunctionBody('  return 1', { indent: '' })).toThrow(RangeError);
    expect(() => trimFunctionBody('  return 1', { indent: 'xx' })).toThrow(
      'Expected `indent` to be spaces or tabs',
    );
  });
});

describe('properties', () => {
  const OUTPUTS = [
    '  score = helper(el)\n  return score\n\ndef helper(el):\n  """Doc."""\n  return sum(el)\n',
    '```python\nimport math\n\ndef priority_v2(el, n):\n    return math.sqrt(sum(el))\n```',
    '    s = """a\nb"""\n    for c in s:\n        n += 1\n    return n\n',
    '\treturn (1 +\n2)\n',
    'x = 1\nreturn x\n',
    '  # ünïcode ✓ 😀\n  return len("é😀") / n\n',
  ];

  it.each(OUTPUTS)('trimming is idempotent and gives a valid body: %j', (output) => {
    const once = trim(output);
    expect(once).not.toBe('');
    expectValidBody(once);
    expect(trim(once)).toBe(once);
  });

  it('normalises CRLF output', () => {
    expect(trim('  x = 1\r\n  return x\r\n')).toBe('  x = 1\n  return x');
  });
});
