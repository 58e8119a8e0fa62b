/**
 * Built-in answers of the mock model for specs/cap_set.py, written as a completion model would
 * continue the prompt: the indented body of `priority_vN` (2-space indentation, as the spec),
 * sometimes followed by prose or by the header of yet another version. Scores of the greedy cap
 * set for n = 3, 4, 5 (measured with python3 on the spec; see tests/llm/cap-set-responses.test.ts):
 * the trivial `return 0.0` builds 8, 16, 32, and the improvements below build up to 9, 20, 40.
 * Some answers are broken on purpose and some are duplicates, as real samples are.
 */
export const CAP_SET_RESPONSES: readonly string[] = [
  // 8, 20, 40: vectors whose count of 2s is not a multiple of 3 first.
  '  return float(el.count(2) % 3)\n',
  // 9, 18, 40
  `  score = 3.0 * ((n - el.count(0)) % 3)
  score += el.count(2) % 3
  return float(score)


def priority_v3(el: tuple[int, ...], n: int) -> float:
  """Improved version of \`priority_v2\`."""
  return 0.0
`,
  // 9, 18, 37, followed by prose (a syntax error that trimming cuts off).
  `  nonzero = sum(1 for x in el if x != 0)
  return float(nonzero == n // 2 + 1) + 0.01 * nonzero


This version prefers vectors whose weight is just over half of the dimension,
which tends to leave more room for later vectors.
`,
  // 8, 18, 38
  `  ones = el.count(1)
  zeros = el.count(0)
  return float(ones % 3) + 0.1 * zeros
`,
  // 9, 18, 35
  '  return float(sum(x * x for x in el) % 3)\n',
  // 8, 18, 36
  `  weight = n - el.count(0)
  if weight % 3 == 0:
    return 1.0 - 0.1 * weight
  return -0.1 * weight
`,
  // 8, 16, 32: no better than the trivial function.
  '  return 0.0\n',
  '  return float(el.count(0))\n',
  // Duplicates of answers above, as a sampler sees them.
  '  return float(el.count(2) % 3)\n',
  '  return float(sum(x * x for x in el) % 3)\n',
  // Broken: a syntax error on the first line (nothing survives trimming).
  `  if el[0] = 1:
    return 1.0
  return 0.0
`,
  // Broken: IndexError.
  '  return float(el[n])\n',
  // Broken: never returns. It sleeps rather than spins: a timeout costs the machine no CPU.
  `  import time
  while True:
    time.sleep(1)
  return 0.0
`,
  // Broken: compares the tuple itself with a number (TypeError). It fails at once: an answer
  // that returns a string would fail too, but only after spinning for the whole timeout, since
  // the spec's loop never ends on string priorities.
  `  if el > n:
    return 1.0
  return 0.0
`,
  // Broken: no return statement, so None.
  '  score = el.count(2) % 3\n',
];
