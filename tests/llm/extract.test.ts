import { describe, expect, it } from 'vitest';
import { extractFunctionBody, firstFencedBlock, promptIndent, reindent } from '../../src/llm/extract.js';

const PROMPT = [
  'def priority_v0(el: tuple[int, ...], n: int) -> float:',
  '  """Returns the priority."""',
  '  return 0.0',
  '',
  '',
  'def priority_v1(el: tuple[int, ...], n: int) -> float:',
  '  """Improved version of `priority_v0`."""',
  '',
].join('\n');

describe('extractFunctionBody', () => {
  it('takes the body of the repeated def from a fenced block and indents it like the prompt', () => {
    const answer = [
      'Sure! Here is a better version:',
      '',
      '```python',
      'def priority_v1(el: tuple[int, ...], n: int) -> float:',
      '    """Prefers twos."""',
      '    score = 0.0',
      '    for x in el:',
      '        if x == 2:',
      '            score += 1.0',
      '    return score',
      '```',
      '',
      'This counts the twos.',
    ].join('\n');
    expect(extractFunctionBody(answer, PROMPT)).toBe(
      [
        '  """Prefers twos."""',
        '  score = 0.0',
        '  for x in el:',
        '      if x == 2:',
        '          score += 1.0',
        '  return score',
      ].join('\n'),
    );
  });

  it('prefers the def named in the prompt over helpers, and stops at the next top-level statement', () => {
    const answer = [
      '```py',
      'import math',
      '',
      'def helper(x):',
      '    return x * 2',
      '',
      'def priority_v1(',
      '    el: tuple[int, ...],',
      '    n: int,',
      ') -> float:',
      '    return float(helper(el.count(1)))',
      '',
      'print(priority_v1((1,), 1))',
      '```',
    ].join('\n');
    expect(extractFunctionBody(answer, PROMPT)).toBe('  return float(helper(el.count(1)))');
  });

  it('indents a bare body answered without a def', () => {
    expect(extractFunctionBody('```python\nx = el.count(2)\nreturn float(x % 3)\n```', PROMPT)).toBe(
      '  x = el.count(2)\n  return float(x % 3)',
    );
  });

  it('keeps a one-line def', () => {
    expect(extractFunctionBody('def priority_v1(el, n) -> float: return 1.0', PROMPT)).toBe('  return 1.0');
  });

  it('takes an unterminated block (answer cut by the token limit) to the end', () => {
    expect(firstFencedBlock('text\n```python\n  return 1.0\n  # cut')).toBe('  return 1.0\n  # cut');
    expect(extractFunctionBody('```python\ndef priority_v1(el, n):\n    s = 0\n    for x in', PROMPT)).toBe(
      '  s = 0\n  for x in',
    );
  });

  it('uses the whole answer when there is no fence', () => {
    expect(extractFunctionBody('    return 2.0\n', PROMPT)).toBe('  return 2.0');
  });

  it('an empty answer stays empty', () => {
    expect(extractFunctionBody('', PROMPT)).toBe('');
  });
});

describe('helpers', () => {
  it('promptIndent reads the indentation of the last line, defaulting to four spaces', () => {
    expect(promptIndent(PROMPT)).toBe('  ');
    expect(promptIndent('def f():\n\t"""Doc."""\n')).toBe('\t');
    expect(promptIndent('x = 1\n')).toBe('    ');
  });

  it('reindent keeps relative indentation and blank lines inside', () => {
    expect(reindent('\n\n    a = 1\n\n      b = 2\n  \n', '  ')).toBe('  a = 1\n\n    b = 2');
  });
});
