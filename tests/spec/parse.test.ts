import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  functionToString,
  initParser,
  type PyFunction,
  PythonSyntaxError,
  textToFunction,
  textToProgram,
} from '../../src/spec/index.js';
import { runPython } from './python.js';

beforeAll(() => initParser());

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

/** Printing, parsing the print and printing again must give the same text. */
function expectStableRoundTrip(text: string): string {
  const first = textToProgram(text).toString();
  expect(textToProgram(first).toString()).toBe(first);
  return first;
}

describe('textToFunction (cases of the originals)', () => {
  const header = 'def get_capset_v0(n: int)';
  const body =
    '  capset = set()\n  for i in range(n):\n    capset.add((0,) * i + (1,) + (0,) * (n - i - 1))\n  return capset';
  it.each([
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ])('return type %s, docstring %s', (hasReturnType, hasDocstring) => {
    const text = `${header}${hasReturnType ? ' -> set[tuple[int, ...]]' : ''}:\n${hasDocstring ? '  """One line docstring."""' : ''}\n${body}\n`;
    const fn = textToFunction(text);
    expect(fn.name).toBe('get_capset_v0');
    expect(fn.args).toBe('n: int');
    expect(fn.returnType).toBe(hasReturnType ? 'set[tuple[int, ...]]' : undefined);
    expect(fn.docstring).toBe(hasDocstring ? 'One line docstring.' : undefined);
    expect(fn.body).toBe(body);
  });

  it('rejects text holding no function, two functions, or code before the function', () => {
    expect(() => textToFunction('x = 1\n')).toThrow('Expected exactly one function, found 0');
    expect(() => textToFunction('def f():\n  pass\n\ndef g():\n  pass\n')).toThrow('found 2');
    expect(() => textToFunction('import os\n\ndef f():\n  pass\n')).toThrow('found `import os` before it');
  });
});

describe('textToProgram (cases of the originals)', () => {
  it('a small program: empty preface, one function, printed back with one more newline', () => {
    const text = 'def test() -> np.ndarray:\n  return np.zeros(1)\n';
    const program = textToProgram(text);
    expect(program.preface).toBe('');
    expect(program.functions).toEqual([
      {
        name: 'test',
        args: '',
        returnType: 'np.ndarray',
        body: '  return np.zeros(1)',
        indent: '  ',
        decorators: [],
      },
    ]);
    expect(program.toString()).toBe(`${text}\n`);
    expect(textToProgram(program.toString()).toString()).toBe(program.toString());
  });

  const IMPORTS = 'import itertools\nimport numpy\n\n\n';
  const CLASS =
    'class Helper:\n  def __init__(self, n: int):\n    self.n = n\n    self.initial_capset = get_capset_v0(n)\n\n\n';
  const ASSIGNMENT = 'some_global_variable = 0\n\n\n';
  const FUNCTIONS = `def get_capset_v0(n: int) -> set[tuple[int, ...]]:
  """Computes a cap set for n number of copies.

  A cap set is a subset of an n-dimensional affine space over a three-element
  field with no three elements in a line.

  Args:
    n: an integer, number of copies.

  Returns:
    A set of tuples in {0, 1, 2}.
  """
  capset = set()
  for i in range(n):
    capset.add((0,) * i + (1,) + (0,) * (n - i - 1))
  return capset


def get_capset_v2(k: int):
  """One line docstring."""
  get_capset_v0 = get_capset_v0(k)
  return get_capset_v0\\

`;
  const combos = [false, true].flatMap((a) =>
    [false, true].flatMap((b) => [false, true].map((c) => [a, b, c])),
  );
  it.each(combos)('imports %s, class %s, assignment %s', (hasImports, hasClass, hasAssignment) => {
    const code =
      (hasImports ? IMPORTS : '') + (hasClass ? CLASS : '') + (hasAssignment ? ASSIGNMENT : '') + FUNCTIONS;
    const program = textToProgram(code);
    expect(program.functions).toHaveLength(2);
    if (!hasImports && !hasClass && !hasAssignment) expect(program.preface).toBe('');
    if (hasImports) expect(program.preface).toContain(IMPORTS.trim());
    if (hasClass) expect(program.preface).toContain(CLASS.trim());
    if (hasAssignment) expect(program.preface).toContain(ASSIGNMENT.trim());
    const [first, second] = program.functions;
    expect(first).toMatchObject({
      name: 'get_capset_v0',
      args: 'n: int',
      returnType: 'set[tuple[int, ...]]',
      body: '  capset = set()\n  for i in range(n):\n    capset.add((0,) * i + (1,) + (0,) * (n - i - 1))\n  return capset',
    });
    expect(first!.docstring).toMatch(/^Computes a cap set for n number of copies\.\n\n {2}A cap set/);
    expect(first!.docstring).toMatch(/A set of tuples in \{0, 1, 2\}\.\n {2}$/);
    // The trailing backslash joins the blank line after it: kept, as the original keeps it.
    expect(second).toMatchObject({
      name: 'get_capset_v2',
      args: 'k: int',
      docstring: 'One line docstring.',
      body: '  get_capset_v0 = get_capset_v0(k)\n  return get_capset_v0\\',
    });
    expect(second!.returnType).toBeUndefined();
    expectStableRoundTrip(code);
    for (const fn of program.functions) expect(textToFunction(functionToString(fn))).toEqual(fn);
  });
});

describe('the Program model', () => {
  it.each([
    ['two spaces', '  '],
    ['four spaces', '    '],
    ['a tab', '\t'],
  ])('keeps bodies indented with %s as written', (_name, unit) => {
    const text = `def f(x):\n${unit}"""Doc."""\n${unit}if x:\n${unit}${unit}return 1\n${unit}return 0\n`;
    const fn = textToFunction(text);
    expect(fn.indent).toBe(unit);
    expect(fn.body).toBe(`${unit}if x:\n${unit}${unit}return 1\n${unit}return 0`);
    expect(functionToString(fn)).toBe(`${text}\n`);
  });

  it.each([
    ['"""double"""', 'double'],
    ["'''single'''", 'single'],
    ["'one-line single quotes'", 'one-line single quotes'],
    ['"one-line double quotes"', 'one-line double quotes'],
    ['u"unicode prefix"', 'unicode prefix'],
    ['r"""raw without backslashes"""', 'raw without backslashes'],
    ["'It\\'s escaped'", "It\\'s escaped"],
    ['"""Says "hi\\""""', 'Says "hi\\"'],
  ])('reads the docstring %s', (literal, content) => {
    const fn = textToFunction(`def f():\n  ${literal}\n  return 1\n`);
    expect(fn.docstring).toBe(content);
    expect(fn.body).toBe('  return 1');
    const again = textToFunction(functionToString(fn));
    expect(again.docstring).toBe(content);
  });

  it.each([
    ['a raw docstring with a backslash', '  r"""\\d+"""'],
    ['an f-string', '  f"""{x}"""'],
    ['a bytes literal', '  b"bytes"'],
    ['implicitly concatenated strings', '  "a" "b"'],
    ['a string after a comment', '  # comment\n  """Doc."""'],
    ['a string followed by a statement on its line', '  """Doc."""; x = 1'],
  ])('keeps %s in the body, as written', (_name, first) => {
    const fn = textToFunction(`def f(x):\n${first}\n  return x\n`);
    expect(fn.docstring).toBeUndefined();
    expect(fn.body).toBe(`${first}\n  return x`);
  });

  it('keeps type hints, defaults, multi-line parameters and other decorators as written', () => {
    const text =
      '@functools.lru_cache(maxsize=None)\n@other.thing\nasync def f(\n    x: dict[str, list[int]],\n    *args: int,\n    y: "Fwd" = None,\n    **kw,\n) -> tuple[int, ...] | None:\n    return None\n';
    const fn = textToFunction(text);
    expect(fn).toMatchObject({
      name: 'f',
      args: '\n    x: dict[str, list[int]],\n    *args: int,\n    y: "Fwd" = None,\n    **kw,\n',
      returnType: 'tuple[int, ...] | None',
      decorators: ['functools.lru_cache(maxsize=None)', 'other.thing'],
      isAsync: true,
    });
    expect(functionToString(fn)).toBe(`${text}\n`);
  });

  it('keeps every top-level statement: code after a function is its trailer', () => {
    const text = [
      'import math',
      '',
      'def f():',
      '  return 1',
      '  # an indented comment after the body stays in it',
      '# a comment between functions',
      'CONSTANT = 3',
      '',
      'class A:',
      '  pass',
      '',
      'def g():',
      '  return CONSTANT',
      '',
      "if __name__ == '__main__':",
      '  print(f(), g())',
      '',
    ].join('\n');
    const program = textToProgram(text);
    expect(program.preface).toBe('import math');
    const [f, g] = program.functions;
    expect(f!.body).toBe('  return 1\n  # an indented comment after the body stays in it');
    expect(f!.trailer).toBe('# a comment between functions\nCONSTANT = 3\n\nclass A:\n  pass');
    expect(g!.trailer).toBe("if __name__ == '__main__':\n  print(f(), g())");
    const printed = expectStableRoundTrip(text);
    expect(runPython(printed).stdout).toBe('1 3\n');
  });

  it('moves a comment after the header into the body and a one-line def onto its own line', () => {
    const program = textToProgram('def f(x):  # why\n  return x\n\ndef g(x): return x * 2  # twice\n');
    expect(program.functions[0]!.body).toBe('  # why\n  return x');
    expect(program.functions[1]!.body).toBe('  return x * 2  # twice');
    expectStableRoundTrip(program.toString());
  });

  it('handles unicode (tree-sitter positions are not byte offsets here)', () => {
    const text = 'S = "😀 ü"\n\ndef grö(ä: str = "é") -> str:\n  """Dök 😀."""\n  return ä + "ß"  # ✓\n';
    const program = textToProgram(text);
    expect(program.preface).toBe('S = "😀 ü"');
    expect(program.functions[0]).toMatchObject({
      name: 'grö',
      args: 'ä: str = "é"',
      docstring: 'Dök 😀.',
      body: '  return ä + "ß"  # ✓',
    });
    expect(runPython(`${expectStableRoundTrip(text)}print(grö())\n`).stdout).toBe('éß\n');
  });

  it('normalises CRLF line ends and a byte-order mark', () => {
    const program = textToProgram('\uFEFFimport os\r\n\r\ndef f():\r\n  return 1\r\n');
    expect(program.preface).toBe('import os');
    expect(program.functions[0]!.body).toBe('  return 1');
  });

  it('keeps a continuation line indented less than its block as written, in bodies and preface', () => {
    const text = [
      'if True:',
      '    X = (1 +',
      '2)',
      '',
      '',
      'def f():',
      '    """Doc."""',
      '    return (X +',
      '  2)',
      '',
    ].join('\n');
    const program = textToProgram(text);
    expect(program.preface).toBe('if True:\n    X = (1 +\n2)');
    expect(program.functions[0]!.body).toBe('    return (X +\n  2)');
    expect(program.toString()).toBe(`${text}\n`);
  });

  it('a program without functions is all preface', () => {
    const program = textToProgram('x = 1\n\nprint(x)\n');
    expect(program.functions).toEqual([]);
    expect(program.toString()).toBe('x = 1\n\nprint(x)\n\n');
  });

  it('methods and nested functions are not top-level functions', () => {
    const program = textToProgram(
      'class A:\n  def m(self):\n    return 1\n\ndef f():\n  def g():\n    return 2\n  return g()\n',
    );
    expect(program.functions.map((f: PyFunction) => f.name)).toEqual(['f']);
    expect(program.preface).toContain('def m(self)');
  });

  it('throws PythonSyntaxError naming the line', () => {
    const error = (() => {
      try {
        textToProgram('import os\n\ndef f(:\n  return 1\n');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(PythonSyntaxError);
    expect((error as PythonSyntaxError).line).toBe(3);
    expect((error as PythonSyntaxError).message).toMatch(/^line 3: /);
    expect(() => textToProgram('def f():\n  x = 1\n    y = 2\n')).toThrow('line 3: ');
  });
});

describe('round trips over real and tricky specs', () => {
  it.each(['tabs_async.py', 'four_spaces_decorators.py', 'two_spaces_tricky.py'])(
    '%s: printing is stable and the printed program prints what the original prints',
    (name) => {
      const text = fixture(name);
      const printed = expectStableRoundTrip(text);
      const original = runPython(text);
      expect(original.status, original.stderr).toBe(0);
      const reprinted = runPython(printed);
      expect(reprinted.stderr).toBe('');
      expect(reprinted.stdout).toBe(original.stdout);
    },
  );

  it('specs/cap_set.py', () => {
    const text = readFileSync(new URL('../../specs/cap_set.py', import.meta.url), 'utf8');
    const program = textToProgram(text);
    expect(program.functions.map((f) => f.name)).toEqual(['evaluate', 'solve', 'priority']);
    expectStableRoundTrip(text);
  });
});
