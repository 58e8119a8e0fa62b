import { beforeAll, test } from 'vitest';
import { initParser, syntaxProblem } from '../../src/spec/parser.js';
beforeAll(() => initParser());
test('scratch', () => {
  const PY = `import itertools\nimport jax\n\n\n@funsearch.run\n@jax.jit\ndef run(n: int):\n  return capset(n\n\n\n@funsearch.evolve\ndef capset(n: int):\n  """Trivial implementation of capset.\n\n  Args: ...\n  """\n  return [[1,] * n]\n`;
  console.log(syntaxProblem(PY));
});
