import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as spec from '../../src/spec/index.js';
import { pythonAccepts } from './python.js';

describe('before initParser()', () => {
  // A fresh copy of the modules: test files share a worker's modules, and another file may have
  // loaded the parser already.
  let fresh: typeof spec;
  beforeAll(async () => {
    vi.resetModules();
    fresh = await import('../../src/spec/index.js');
  });
  const calls: [string, () => unknown][] = [
    ['textToProgram', () => fresh.textToProgram('def f():\n  return 1\n')],
    ['textToFunction', () => fresh.textToFunction('def f():\n  return 1\n')],
    ['yieldDecorated', () => fresh.yieldDecorated('x = 1', 'funsearch', 'run')],
    ['parseSpec', () => fresh.parseSpec('x = 1', 'spec.py')],
    ['renameFunctionCalls', () => fresh.renameFunctionCalls('x = 1', 'f', 'g')],
    ['getFunctionsCalled', () => fresh.getFunctionsCalled('f(x)')],
    ['callsAncestor', () => fresh.callsAncestor('x = 1', 'priority')],
    ['trimFunctionBody', () => fresh.trimFunctionBody('')],
    ['bodyFromCandidateFile', () => fresh.bodyFromCandidateFile('')],
    ['syntaxProblem', () => fresh.syntaxProblem('x = 1')],
  ];
  it.each(calls)('%s throws a clear error', (_name, call) => {
    expect(fresh.isParserReady()).toBe(false);
    expect(call).toThrow('`await initParser()` before calling the spec functions');
  });
});

describe('initParser()', () => {
  it('is memoised: concurrent calls share one load, later calls resolve at once', async () => {
    const first = spec.initParser();
    expect(spec.initParser()).toBe(first);
    await first;
    expect(spec.isParserReady()).toBe(true);
    await expect(spec.initParser()).resolves.toBeUndefined();
    expect(spec.syntaxProblem('x = 1\n')).toBeUndefined();
  });
});

// Valid and invalid Python, judged by host python3's ast.parse: tree-sitter alone accepts several
// of the invalid ones (indentation errors, Python 2 print, a header without a block).
const SNIPPETS = [
  'def f():\n  return 1\n',
  'def f():\n  x = 1\n    y = 2\n',
  'def f():\n    x = 1\n  y = 2\n',
  '  x = 1\n',
  'x = 1; y = 2\n',
  'def f():\n  x = 1; y = 2\n  return x\n',
  'if x: y()\n',
  'if x: y()\n  z()\n',
  'def f():\n  if x:\n    a()\n  else:\n    b()\n',
  'def f():\n  if x:\n    a()\n else:\n    b()\n',
  'def f():\n  try:\n    a()\n  except ValueError:\n    b()\n  finally:\n    c()\n',
  'def f():\n  try:\n    a()\n   except ValueError:\n    b()\n',
  'def f():\n',
  'def f():\n  # only a comment\n',
  'print x\n',
  'print(x)\n',
  'def f():\n  return (1 +\n2)\n',
  'def f():\n  return [1,\n2]\n',
  'def f():\n  s = """a\nb\n        c"""\n  return s\n',
  'def f():\n  s = """unterminated\n  return s\n',
  'def f():\n\tif x:\n\t\treturn 1\n\treturn 0\n',
  'def f():\n\tif x:\n\t\treturn 1\n        return 0\n',
  'def f():\n  # a comment at an odd column\n      # and another\n  return 1\n',
  'def f():\n  x = (1,\n       2)  # comment\n  return x\n',
  'def f():\n  return 1 + \\\n2\n',
  'class A:\n  def m(self):\n    return 1\n',
  'async def f():\n  return [await g() async for g in h()]\n',
  'def f(x):\n  match x:\n    case 1:\n      return 2\n    case _:\n      return 3\n',
  'def f():\n  if (n := 10) > 5:\n    return n\n',
  'def f(:\n  return 1\n',
  'def f():\n  return 1 +\n',
  'x = 1\nThis is prose.\n',
  '@decorator\ndef f():\n  return 1\n',
  'def f():\n  @decorator\n  def g():\n    return 1\n  return g\n',
  'def f():\n  return f"{x!r:>{width}}"\n',
  'for i in range(3):\n  pass\nelse:\n  pass\n',
];

describe('syntaxProblem agrees with python3 ast.parse', () => {
  const verdicts = pythonAccepts(SNIPPETS);
  it.each(SNIPPETS.map((s, i) => [s, verdicts[i]!] as const))('%j parses: %s', (snippet, accepted) => {
    const problem = spec.syntaxProblem(snippet);
    expect(problem === undefined).toBe(accepted);
  });

  it('reports the line of the first problem', () => {
    expect(spec.syntaxProblem('def f():\n  x = 1\n    y = 2\n')).toMatchObject({ row: 2 });
    expect(spec.syntaxProblem('x = 1\n\nprint x\n')).toMatchObject({
      row: 2,
      message: 'a Python 2 `print` statement',
    });
    expect(spec.syntaxProblem('def f():\n  x = 1\n\ndef g():\n')).toMatchObject({
      row: 3,
      message: 'expected an indented block',
    });
  });
});
