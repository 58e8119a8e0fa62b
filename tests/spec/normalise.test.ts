import { beforeAll, describe, expect, it } from 'vitest';
import { initParser } from '../../src/spec/index.js';
import { normaliseForCache } from '../../src/spec/normalise.js';
import { runPython } from './python.js';

beforeAll(async () => {
  await initParser();
});

const norm = (program: string) => normaliseForCache(program);

const PRIORITY = `import numpy as np


def priority(el: tuple[int, ...], n: int) -> float:
  """Returns the priority with which we want to add \`element\` to the cap set."""
  score = 0.0
  for x in el:
    score += x * 2
  return score
`;

describe('normaliseForCache', () => {
  it('drops comments, blank lines and trailing whitespace', () => {
    const noisy = `# a header comment
import numpy as np   


def priority(el: tuple[int, ...], n: int) -> float:  # the evolved one
  """Returns the priority with which we want to add \`element\` to the cap set."""
  # start at zero

  score = 0.0\t
  for x in el:   # every coordinate
    score += x * 2

    # doubled
  return score
# trailing comment

`;
    expect(norm(noisy)).toBe(norm(PRIORITY));
    expect(norm(PRIORITY)).toBe(
      [
        'import numpy as np',
        'def priority(el: tuple[int, ...], n: int) -> float:',
        '  """Returns the priority with which we want to add `element` to the cap set."""',
        '  score = 0.0',
        '  for x in el:',
        '    score += x * 2',
        '  return score',
      ].join('\n'),
    );
  });

  it('reads CRLF line ends as LF', () => {
    expect(norm(PRIORITY.replaceAll('\n', '\r\n'))).toBe(norm(PRIORITY));
  });

  it('keeps a # inside a string: it is not a comment', () => {
    const a = norm('def f():\n  return "a # b"\n');
    const b = norm('def f():\n  return "a "\n');
    expect(a).toContain('"a # b"');
    expect(a).not.toBe(b);
    expect(norm("s = '''x\n# not a comment\n'''\n")).toContain('# not a comment');
  });

  it('keeps blank lines and trailing whitespace inside a multi-line string', () => {
    const base = 's = """first\nsecond"""\nprint(len(s))\n';
    const variants = [
      base,
      's = """first\n\nsecond"""\nprint(len(s))\n',
      's = """first   \nsecond"""\nprint(len(s))\n',
      's = """first\n   \nsecond"""\nprint(len(s))\n',
      's = "first \\\nsecond"\nprint(len(s))\n',
      's = "first\\\nsecond"\nprint(len(s))\n',
    ];
    const normalised = variants.map(norm);
    expect(new Set(normalised).size).toBe(variants.length);
    expect(normalised[2]).toContain('first   \nsecond');
  });

  it('keeps docstrings, which a program can read, and drops other string statements', () => {
    const withDoc = (doc: string) => `def f():\n  """${doc}"""\n  return f.__doc__\n`;
    expect(norm(withDoc('one'))).not.toBe(norm(withDoc('two')));
    const classDoc = (doc: string) => `class C:\n  '${doc}'\n  x = 1\n`;
    expect(norm(classDoc('one'))).not.toBe(norm(classDoc('two')));
    const moduleDoc = (doc: string) => `"${doc}"\nx = __doc__\n`;
    expect(norm(moduleDoc('one'))).not.toBe(norm(moduleDoc('two')));

    const plain = 'def f(x):\n  y = x + 1\n  return y\n';
    const commented = [
      'def f(x):\n  y = x + 1\n  """Now return it."""\n  return y\n',
      "def f(x):\n  y = x + 1\n  'step' 'two'\n  return y\n",
      'def f(x):\n  y = x + 1\n  b"bytes"\n  return y\n',
      'def f(x):\n  y = x + 1\n  f"no fields"\n  return y\n',
      'def f(x):\n  y = x + 1\n  """Spread\n\n  over lines."""\n  return y\n',
    ];
    for (const program of commented) expect(norm(program), program).toBe(norm(plain));
  });

  it('keeps a string statement whose f-string fields run code', () => {
    expect(norm('def f(x):\n  f"{g()}"\n  return x\n')).not.toBe(norm('def f(x):\n  return x\n'));
  });

  it('keeps string statements when a __future__ import makes their place matter', () => {
    const future = 'from __future__ import annotations\nx = 1\n';
    expect(norm(`"doc"\n"not doc"\n${future}`)).not.toBe(norm(`"doc"\n${future}`));
  });

  it('keeps an encoding declaration', () => {
    expect(norm('# -*- coding: latin-1 -*-\nx = "é"\n')).toContain('coding: latin-1');
    expect(norm('x = 1\n# -*- coding: latin-1 -*-\ny = 2\n')).not.toContain('coding');
  });

  it('gives undefined for text that is not valid Python', () => {
    expect(norm('def f(:\n  return 1\n')).toBeUndefined();
    expect(norm('x = 1 + \\ \n  2\n')).toBeUndefined();
  });

  it('tells apart programs that differ in behaviour', () => {
    const programs = [
      'def f(x):\n  return x + 1\n',
      'def f(x):\n  return x + 2\n',
      'def f(x):\n  return x+1\n',
      'def f(x):\n  if x:\n    g()\n  h()\n',
      'def f(x):\n  if x:\n    g()\n    h()\n',
      'def f(x):\n\tif x:\n\t\tg()\n\th()\n',
      'def f(x):\n  return "#"\n',
      'def f(x):\n  return "# "\n',
      'def f(x):\n  return "#" + "#"\n',
      'def f(x):\n  "doc"\n  return x\n',
      'def f(x):\n  return x\n',
    ];
    const distinct = programs.filter((p, i) => programs.indexOf(p) === i);
    const normalised = distinct.map(norm);
    expect(normalised.every((n) => n !== undefined)).toBe(true);
    expect(new Set(normalised).size).toBe(distinct.length);
  });

  it('never changes what Python compiles (beyond string statements that are not docstrings)', () => {
    const corpus = [
      PRIORITY,
      '# -*- coding: utf-8 -*-\n"""Module doc."""\n\nimport math  # for sqrt\n\n\nX = [1,  # one\n     2]  # two\n\n\ndef f(a, b):   \n    # c\n    """Doc\n\n    with blank line.   \n    """\n\n    s = """a\n\n  b   \n"""  # t\n    "mid-body note"\n    if a:\n        "only a note"\n    return (a +\n# inside brackets\n            b) * len(s)\n',
      'class C:\n\t"""Doc."""\n\n\tdef m(self):  # m\n\t\treturn f"{self!r:>10} # not a comment"\n',
      'x = 1 + \\\n    2  # continued\ny = "a\\\n   b"   \n',
      'def g():\n  f"{h()}"\n  b"raw"\n  return 1\n\n\n\n# end\n',
      'from __future__ import annotations\n"doc"\n\ndef k() -> "T":  # annotated\n  "note"\n  return 0\n',
    ];
    const pairs = corpus.map((program) => [program, norm(program)]);
    const script = `
import ast, json, sys

def strip(tree):
    for node in ast.walk(tree):
        body = getattr(node, 'body', None)
        if not isinstance(body, list):
            continue
        keep = []
        for i, stmt in enumerate(body):
            doc = i == 0 and isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            value = stmt.value if isinstance(stmt, ast.Expr) else None
            noop = isinstance(value, ast.Constant) and isinstance(value.value, (str, bytes)) or (
                isinstance(value, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in value.values))
            if doc or not noop or any(isinstance(s, ast.ImportFrom) and s.module == '__future__' for s in ast.walk(tree)):
                keep.append(stmt)
        node.body = keep
    return ast.dump(tree)

out = []
for original, normalised in json.load(sys.stdin):
    out.append(strip(ast.parse(original)) == strip(ast.parse(normalised)))
print(json.dumps(out))
`;
    const run = runPython(script, JSON.stringify(pairs));
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual(corpus.map(() => true));
    // And the normalisation did drop something in each.
    for (const [program, normalised] of pairs) expect(normalised!.length).toBeLessThan(program!.length);
  });
});
