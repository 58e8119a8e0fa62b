import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { parseTestInputs } from '../../src/run/test-inputs.js';
import { isPythonLiteral } from '../../src/spec/literal.js';
import { initParser } from '../../src/spec/parser.js';

beforeAll(async () => {
  await initParser();
});

describe('isPythonLiteral', () => {
  it.each([
    '3',
    '-4',
    '+2.5e3',
    '0x1F',
    '1_000',
    "'abc'",
    '"a\\"b"',
    "b'raw'",
    "'a' 'b'",
    'True',
    'None',
    '(4, 2)',
    '(1,)',
    '()',
    '[1, [2, 3]]',
    "{'n': 3, 'w': (1, 2)}",
    '{1, 2}',
    '1+2j',
    '-1-0.5j',
    '(-3)',
  ])('accepts %s', (text) => {
    expect(isPythonLiteral(text)).toBe(true);
  });

  it.each([
    'n',
    'f(3)',
    '__import__("os").system("id")',
    "f'{x}'",
    '[x for x in range(3)]',
    '1 + 2',
    '3 4',
    '(1, 2',
    'lambda: 0',
    '{**a}',
    'x = 3',
    '2 ** 10',
    'not True',
  ])('rejects %s', (text) => {
    expect(isPythonLiteral(text)).toBe(false);
  });
});

describe('parseTestInputs', () => {
  it('keeps the file order, skips blank and comment lines and trims', () => {
    const inputs = parseTestInputs('# sizes\n10\n\n  3\r\n(4, 2)\n', 'inputs.txt');
    expect(inputs).toEqual([
      { text: '10', line: 2 },
      { text: '3', line: 4 },
      { text: '(4, 2)', line: 5 },
    ]);
  });

  it('names the file and line of a line that is not a literal', () => {
    expect(() => parseTestInputs('3\nn + 1\n', 'in.txt')).toThrow(UserError);
    expect(() => parseTestInputs('3\nn + 1\n', 'in.txt')).toThrow(
      /^in\.txt:2: `n \+ 1` is not a Python literal; write one literal per line/,
    );
  });

  it('rejects a repeated input, naming both lines', () => {
    expect(() => parseTestInputs('3\n4\n3\n', 'in.txt')).toThrow(
      'in.txt:3: `3` repeats line 1; list each test input once',
    );
  });

  it('rejects a file without inputs', () => {
    expect(() => parseTestInputs('\n# nothing\n', 'empty.txt')).toThrow(
      'empty.txt: no test inputs; write one Python literal per line (e.g. 3)',
    );
  });
});
