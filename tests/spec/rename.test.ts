import { beforeAll, describe, expect, it } from 'vitest';
import { callsAncestor, getFunctionsCalled, initParser, renameFunctionCalls } from '../../src/spec/index.js';

beforeAll(() => initParser());

describe('renameFunctionCalls', () => {
  it('renames calls whose callee is the bare name, in a whole function', () => {
    const code = 'def priority(el, n):\n  if n == 0:\n    return 0.0\n  return priority(el, n - 1) + 1\n';
    expect(renameFunctionCalls(code, 'priority', 'priority_v1')).toBe(
      'def priority(el, n):\n  if n == 0:\n    return 0.0\n  return priority_v1(el, n - 1) + 1\n',
    );
  });

  it('works on an indented body fragment', () => {
    expect(renameFunctionCalls('  x = priority_v2(el, n)\n  return x\n', 'priority_v2', 'priority')).toBe(
      '  x = priority(el, n)\n  return x\n',
    );
  });

  it('leaves attribute calls, definitions, strings, comments, keyword arguments and bare references alone', () => {
    const code = [
      '  def priority(x):  # priority(x) in a comment',
      '    return x',
      '  s = "priority(1)" + f"{priority(2)}"',
      '  helper(priority=3, key=priority)',
      '  obj.priority(4)',
      '  module.sub.priority(5)',
      '  priority_v1(6)',
      '  fn = priority',
      '  return priority (7)',
    ].join('\n');
    expect(renameFunctionCalls(code, 'priority', 'P')).toBe(
      [
        '  def priority(x):  # priority(x) in a comment',
        '    return x',
        '  s = "priority(1)" + f"{P(2)}"',
        '  helper(priority=3, key=priority)',
        '  obj.priority(4)',
        '  module.sub.priority(5)',
        '  priority_v1(6)',
        '  fn = priority',
        '  return P (7)',
      ].join('\n'),
    );
  });

  it('renames nested calls and calls spread over lines, keeping every other byte', () => {
    const code = '  return priority(priority(a,\n      b), [priority(c)\n for c in d])  # ✓ ünïcode 😀\n\n';
    expect(renameFunctionCalls(code, 'priority', 'p_v10')).toBe(
      '  return p_v10(p_v10(a,\n      b), [p_v10(c)\n for c in d])  # ✓ ünïcode 😀\n\n',
    );
  });

  it('keeps text byte for byte where tree-sitter needed continuation lines re-indented', () => {
    const code = '  x = (1 +\npriority(2))\n\treturn  priority(x)\n'.replace('\treturn', '  return');
    expect(renameFunctionCalls(code, 'priority', 'q')).toBe('  x = (1 +\nq(2))\n  return  q(x)\n');
  });

  it('returns the code untouched when the name does not occur or is unchanged', () => {
    const code = '  return  other(1)   \n';
    expect(renameFunctionCalls(code, 'priority', 'x')).toBe(code);
    expect(renameFunctionCalls('  priority(1)\n', 'priority', 'priority')).toBe('  priority(1)\n');
  });

  it('renames the call of a decorator', () => {
    expect(renameFunctionCalls('@priority(1)\ndef f():\n  pass\n', 'priority', 'q')).toBe(
      '@q(1)\ndef f():\n  pass\n',
    );
  });
});

describe('getFunctionsCalled', () => {
  it('collects bare-identifier callees (the originals case)', () => {
    const code = [
      'def f(n: int) -> int:',
      '  if n == 1:',
      '    return a(n)',
      '  elif n == 2:',
      '    return b(n) + object.c(n - 1)',
      '  a = object.property',
      '  g()',
      '  return f(n - 1)',
      '',
    ].join('\n');
    expect(getFunctionsCalled(code)).toEqual(new Set(['a', 'b', 'f', 'g']));
  });

  it('does not count a definition as a call (the originals tokenizer does)', () => {
    expect(getFunctionsCalled('def f():\n  return g()\n')).toEqual(new Set(['g']));
    expect(getFunctionsCalled('  return [h(x) for x in range(3)]\n')).toEqual(new Set(['h', 'range']));
  });
});

describe('callsAncestor', () => {
  it('is true for a call of <name>_v<digits>', () => {
    expect(callsAncestor('  return priority_v0(el, n) + 1\n', 'priority')).toBe(true);
    expect(callsAncestor('def priority(el, n):\n  return priority_v12(el, n)\n', 'priority')).toBe(true);
  });

  it('is false for the function itself, other names, references and text', () => {
    expect(callsAncestor('  return priority(el, n - 1)\n', 'priority')).toBe(false);
    expect(callsAncestor('  return priority_variant(el) + priority_v(el)\n', 'priority')).toBe(false);
    expect(
      callsAncestor('  f = priority_v1\n  s = "priority_v1(x)"  # priority_v1(x)\n  return 0\n', 'priority'),
    ).toBe(false);
    expect(callsAncestor('  return obj.priority_v1(el)\n', 'priority')).toBe(false);
  });
});
