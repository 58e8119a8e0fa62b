import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { initParser, parseSpec, yieldDecorated } from '../../src/spec/index.js';
import { runPython } from './python.js';

beforeAll(() => initParser());

const CAP_SET = readFileSync(new URL('../../specs/cap_set.py', import.meta.url), 'utf8');
const FUNSEARCH_STUB = 'class funsearch:\n  run = evolve = staticmethod(lambda fn: fn)\n\n';

function userError(text: string, file = 'specs/x.py'): string {
  try {
    parseSpec(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a UserError');
}

// The originals' funsearch_test specs.
const PY_PROMPT = `import itertools
import jax


@funsearch.run
@jax.jit
def run(n: int):
  return capset(n)


@funsearch.evolve
def capset(n: int):
  """Trivial implementation of capset.

  Args: ...
  """
  return [[1,] * n]
`;

describe('parseSpec', () => {
  it('finds the functions of specs/cap_set.py and strips only the funsearch decorators', () => {
    const spec = parseSpec(CAP_SET, 'specs/cap_set.py');
    expect(spec.functionToEvolve).toBe('priority');
    expect(spec.functionToRun).toBe('evaluate');
    expect(spec.program.functions.map((f) => [f.name, f.decorators])).toEqual([
      ['evaluate', []],
      ['solve', []],
      ['priority', []],
    ]);
    expect(spec.program.toString()).not.toContain('@funsearch');
  });

  it('the printed cap-set program runs and scores what the original spec scores', () => {
    const printed = parseSpec(CAP_SET, 'specs/cap_set.py').program.toString();
    const ours = runPython(`${printed}\nprint(evaluate(3))\n`);
    expect(ours.stderr).toBe('');
    // The original spec, run as written with stand-in decorators, is the reference.
    const original = runPython(`${FUNSEARCH_STUB}${CAP_SET}\nprint(evaluate(3))\n`);
    expect(original.status, original.stderr).toBe(0);
    expect(ours.stdout).toBe(original.stdout);
    expect(Number(ours.stdout)).toBeGreaterThan(0);
  });

  it('keeps other decorators and accepts the call form @funsearch.evolve()', () => {
    const spec = parseSpec(PY_PROMPT.replace('@funsearch.evolve', '@funsearch.evolve()'), 'p.py');
    expect(spec).toMatchObject({ functionToRun: 'run', functionToEvolve: 'capset' });
    expect(spec.program.getFunction('run').decorators).toEqual(['jax.jit']);
    expect(spec.program.getFunction('capset').decorators).toEqual([]);
  });

  it('no @funsearch.run: names the file and the marker', () => {
    const message = userError(PY_PROMPT.replace('@funsearch.run\n', ''));
    expect(message).toBe(
      'specs/x.py: no function decorated with @funsearch.run; mark the function that scores a program with @funsearch.run',
    );
  });

  it("a commented-out marker, as in DeepMind's notebooks: points at the comment and says to uncomment it", () => {
    const text = PY_PROMPT.replace('@funsearch.run\n', '# @funsearch.run\n');
    expect(userError(text)).toBe(
      'specs/x.py:5: @funsearch.run is commented out (`# @funsearch.run`); remove the `#` so it marks the function below',
    );
    const evolve = PY_PROMPT.replace('@funsearch.evolve\n', '#@funsearch.evolve\n');
    expect(userError(evolve)).toMatch(
      /^specs\/x\.py:11: @funsearch\.evolve is commented out \(`#@funsearch\.evolve`\)/,
    );
  });

  it('a comment that merely mentions a marker gets the plain message', () => {
    const text = PY_PROMPT.replace('@funsearch.run\n', '# TODO: add @funsearch.run here\n');
    expect(userError(text)).toMatch(/^specs\/x\.py: no function decorated with @funsearch\.run;/);
  });

  it('a run function with two required parameters: names the line and shows how to take one input', () => {
    const text = PY_PROMPT.replace(
      'def run(n: int):\n  return capset(n)',
      'def run(n: int, w):\n  return capset(n + w)',
    );
    expect(userError(text)).toBe(
      'specs/x.py:7: @funsearch.run function `run` has 2 required parameters (`n`, `w`), but each test input is passed to it as one argument; take one and unpack it, e.g. rename it `run_args` and mark `def run(t): return run_args(*t)` with @funsearch.run, with inputs like `(1, 2)`',
    );
    const keyword = PY_PROMPT.replace('def run(n: int):', 'def run(n, *, w):');
    expect(userError(keyword)).toMatch(/has 2 required parameters \(`n`, `w`\)/);
  });

  it('a run function taking no positional parameter is refused', () => {
    for (const args of ['', '*, n', '**options']) {
      const text = PY_PROMPT.replace('def run(n: int):\n  return capset(n)', `def run(${args}):\n  return 1`);
      expect(userError(text)).toBe(
        'specs/x.py:7: @funsearch.run function `run` takes no positional parameter, but each test input is passed to it as one argument; give it one parameter',
      );
    }
  });

  it.each(['n', 'n: int', 'n, w=2', 'n: int, w: int = 2, *rest, k=1, **options', '*args', 'n=3', 'n, /'])(
    'a run function (%s) that one argument can call is accepted',
    (args) => {
      const text = PY_PROMPT.replace('def run(n: int):\n  return capset(n)', `def run(${args}):\n  return 1`);
      expect(parseSpec(text, 'p.py').functionToRun).toBe('run');
    },
  );

  it('no @funsearch.evolve', () => {
    expect(userError(PY_PROMPT.replace('@funsearch.evolve\n', ''))).toBe(
      'specs/x.py: no function decorated with @funsearch.evolve; mark the function to evolve with @funsearch.evolve',
    );
  });

  it('two @funsearch.run: the first line, the count and the other line', () => {
    const text = PY_PROMPT.replace('@funsearch.evolve\n', '@funsearch.evolve\n@funsearch.run\n');
    expect(userError(text)).toBe(
      'specs/x.py:5: expected exactly 1 function decorated with @funsearch.run, found 2 (also line 12)',
    );
  });

  it('three @funsearch.evolve lists the other lines', () => {
    const text = `${PY_PROMPT}\n@funsearch.evolve\ndef a():\n  pass\n\n@funsearch.evolve\ndef b():\n  pass\n`;
    expect(userError(text)).toBe(
      'specs/x.py:11: expected exactly 1 function decorated with @funsearch.evolve, found 3 (also lines 19, 23)',
    );
  });

  it('a marker on a method, a nested function or a class', () => {
    const method =
      'class A:\n  @funsearch.evolve\n  def m(self):\n    return 1\n\n@funsearch.run\ndef run(n):\n  return 0\n';
    expect(userError(method)).toBe(
      'specs/x.py:2: @funsearch.evolve is on a method/nested function; it must decorate a top-level function',
    );
    const nested = 'def outer():\n  @funsearch.run\n  def inner(n):\n    return 0\n  return inner\n';
    expect(userError(nested)).toBe(
      'specs/x.py:2: @funsearch.run is on a method/nested function; it must decorate a top-level function',
    );
    const onClass = '@funsearch.run\nclass Run:\n  pass\n';
    expect(userError(onClass)).toBe(
      'specs/x.py:1: @funsearch.run is on a class; it must decorate a top-level function',
    );
  });

  it('one function marked with both markers is refused', () => {
    const text =
      'import itertools\n\n\n@funsearch.run\n@funsearch.evolve\ndef capset(n: int):\n  return [[1,] * n]\n';
    expect(userError(text)).toBe(
      'specs/x.py:4: `capset` is decorated with both @funsearch.evolve and @funsearch.run; the function to evolve and the scoring function must differ',
    );
  });

  it('a marked function defined twice is refused', () => {
    const text = `${PY_PROMPT}\n\ndef capset(n: int):\n  return []\n`;
    expect(userError(text)).toBe(
      'specs/x.py:11: function `capset` is defined 2 times (also line 20); keep one definition',
    );
  });

  it('a syntax error names the file and line', () => {
    const text = PY_PROMPT.replace('  return capset(n)', '  return capset(n'); // line 8
    expect(userError(text, 'specs/broken.py')).toBe(
      'specs/broken.py:8: invalid Python: cannot parse `return capset(n`',
    );
    const indentation = PY_PROMPT.replace('  return [[1,] * n]', '      return [[1,] * n]');
    expect(userError(indentation)).toMatch(/^specs\/x\.py:17: invalid Python: /);
  });
});

describe("a spec's imports", () => {
  it('lists the modules its top-level code imports, once each and in order, and not those for type checkers', () => {
    const text = [
      'from __future__ import annotations',
      'import funsearch',
      'import itertools',
      'import numpy as np, os.path',
      'from scipy import optimize',
      'from . import sibling',
      'import numpy',
      'try:',
      '  import numba',
      'except ImportError:',
      '  numba = None',
      'if typing.TYPE_CHECKING:',
      '  import pandas',
      'else:',
      '  import heapq',
      '',
      '@funsearch.run',
      'def evaluate(n):',
      '  import json',
      '  return priority(n)',
      '',
      'class Helper:',
      '  import re',
      '',
      '@funsearch.evolve',
      'def priority(n):',
      '  return 0.0',
      '',
    ].join('\n');
    expect(parseSpec(text, 'specs/x.py').imports).toEqual([
      'itertools',
      'numpy',
      'os.path',
      'scipy',
      'scipy.optimize',
      'numba',
      'heapq',
    ]);
    expect(parseSpec(CAP_SET, 'specs/cap_set.py').imports).toEqual(['itertools', 'numpy']);
  });
});

describe('yieldDecorated', () => {
  it('names top-level functions decorated @module.name or @module.name(...)', () => {
    const code =
      '@a.b\ndef f():\n  pass\n\n@a.b(1, x=2)\n@other\ndef g():\n  pass\n\n@a.c\ndef h():\n  pass\n\nclass K:\n  @a.b\n  def m(self):\n    pass\n';
    expect(yieldDecorated(code, 'a', 'b')).toEqual(['f', 'g']);
    expect(yieldDecorated(code, 'a', 'c')).toEqual(['h']);
    expect(yieldDecorated(code, 'x', 'b')).toEqual([]);
    expect(yieldDecorated(PY_PROMPT, 'funsearch', 'run')).toEqual(['run']);
    expect(yieldDecorated(PY_PROMPT, 'funsearch', 'evolve')).toEqual(['capset']);
  });
});
