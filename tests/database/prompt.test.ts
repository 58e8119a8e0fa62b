import { beforeAll, describe, expect, it } from 'vitest';
import { buildPrompt } from '../../src/database/prompt.js';
import { initParser } from '../../src/spec/parser.js';
import { Program } from '../../src/spec/program.js';
import { priority } from './helpers.js';

const PREFACE = '"""Finds large cap sets."""\nimport numpy as np\nimport utils_capset';

const evaluate = {
  name: 'evaluate',
  args: 'n: int',
  returnType: 'int',
  docstring: 'Returns the size of an `n`-dimensional cap set.',
  body: '  capset = solve(n)\n  return len(capset)',
  indent: '  ',
  decorators: [],
};

const template = new Program(PREFACE, [evaluate, priority('  return 0.0')]);

const SAMPLE_A =
  '  priority = element\n  #######\n  # Code from lowest-scoring sampled program.\n  #######\n  return ...';
const SAMPLE_B =
  '  priority = element ** 2\n  #######\n  # Code from highest-scoring sampled program.\n  #######\n  return ...';

beforeAll(async () => {
  await initParser();
});

describe('buildPrompt', () => {
  it('builds the prompt of the paper: versions in order, improved docstrings, header of the next version', () => {
    const { code, versionGenerated } = buildPrompt(template, 'priority', [
      priority(SAMPLE_A),
      priority(SAMPLE_B),
    ]);
    expect(code).toBe(
      `${PREFACE}


def priority_v0(element, n):
  """Returns the priority with which we want to add \`element\` to the cap set."""
${SAMPLE_A}


def priority_v1(element, n):
  """Improved version of \`priority_v0\`."""
${SAMPLE_B}


def priority_v2(element, n):
  """Improved version of \`priority_v1\`."""

`,
    );
    // The header is `priority_v2`, and that is the version the evaluator must rename back.
    expect(versionGenerated).toBe(2);
  });

  it('renames recursive calls inside each version to that version and keeps the return type', () => {
    const recursive = (body: string) => priority(body, { args: 'element, n: int', returnType: 'float' });
    const { code, versionGenerated } = buildPrompt(template, 'priority', [
      recursive('  if n == 0:\n    return 0.0\n  return priority(element, n - 1)'),
      recursive('  return 1.0 + priority(element, n - 1) + other.priority(n)'),
      recursive('  return 2.0'),
    ]);
    expect(versionGenerated).toBe(3);
    expect(code).toContain(
      'def priority_v0(element, n: int) -> float:\n' +
        '  """Returns the priority with which we want to add `element` to the cap set."""\n' +
        '  if n == 0:\n    return 0.0\n  return priority_v0(element, n - 1)\n',
    );
    expect(code).toContain(
      'def priority_v1(element, n: int) -> float:\n  """Improved version of `priority_v0`."""\n',
    );
    expect(code).toContain('  return 1.0 + priority_v1(element, n - 1)');
    expect(code).toContain(
      'def priority_v2(element, n: int) -> float:\n  """Improved version of `priority_v1`."""\n  return 2.0\n',
    );
    expect(
      code.endsWith(
        'def priority_v3(element, n: int) -> float:\n  """Improved version of `priority_v2`."""\n\n',
      ),
    ).toBe(true);
    expect(code).not.toContain('def evaluate');
  });

  it('leaves out the code that follows the evolved function in the spec', () => {
    const withTrailer = priority('  return 1', { trailer: 'LIMIT = 3' });
    const { code } = buildPrompt(template, 'priority', [withTrailer]);
    expect(code).not.toContain('LIMIT');
    expect(code.match(/def priority_v/g)).toHaveLength(2);
  });

  it('still builds a prompt when a version cannot be parsed back, leaving its calls as they were', () => {
    const unreadable = priority('  return priority(element, n) +');
    const { code } = buildPrompt(template, 'priority', [unreadable]);
    expect(code).toContain('def priority_v0(element, n):\n');
    expect(code).toContain('  return priority(element, n) +\n');
    expect(code).toContain('def priority_v1(element, n):\n');
  });

  it('keeps decorators and async on the versions and on the header', () => {
    const decorated = priority('  return 1', { decorators: ['functools.cache'], isAsync: true });
    const { code } = buildPrompt(template, 'priority', [decorated]);
    expect(code).toContain('@functools.cache\nasync def priority_v0(element, n):\n');
    expect(code).toContain('@functools.cache\nasync def priority_v1(element, n):\n');
  });
});
