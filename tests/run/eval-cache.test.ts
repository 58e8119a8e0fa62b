import { beforeAll, describe, expect, it } from 'vitest';
import { CACHED_STDERR_CHARS, contextFingerprint, EvalCache } from '../../src/run/eval-cache.js';
import type { Outcome } from '../../src/sandbox/sandbox.js';
import { initParser } from '../../src/spec/index.js';

beforeAll(async () => {
  await initParser();
});

const CONTEXT = contextFingerprint({ functionToRun: 'evaluate', inputs: ['8'], timeout: 10 });
const ok = (score: number, durationMs = 5): Outcome => ({ kind: 'ok', score, durationMs, stderr: '' });
const program = (n: number) => `def priority(x):\n  return x * ${n}\n`;

/** A sandbox stand-in that counts its runs and answers when told to. */
function counter(outcomes: (p: string) => Outcome[] = () => [ok(1)]) {
  const runs: string[] = [];
  return {
    runs,
    run: (p: string) => async () => {
      runs.push(p);
      return outcomes(p);
    },
  };
}

describe('EvalCache', () => {
  it('runs a program once and reuses its outcomes for repeats, comments and blank lines aside', async () => {
    const cache = new EvalCache({ maxEntries: 10, context: CONTEXT });
    const sandbox = counter(() => [ok(3, 40), ok(4, 60)]);
    const first = await cache.evaluate(program(2), sandbox.run(program(2)), { origin: 's1' });
    const repeat = `# a comment\ndef priority(x):\n\n  return x * 2   # same\n`;
    const second = await cache.evaluate(repeat, sandbox.run(repeat), { origin: 's2' });
    expect(sandbox.runs).toEqual([program(2)]);
    expect(first).toMatchObject({ source: 'sandbox', origin: 's1', savedMs: 0 });
    expect(second).toEqual({ outcomes: [ok(3, 40), ok(4, 60)], source: 'cache', origin: 's1', savedMs: 100 });
    await cache.evaluate(program(3), sandbox.run(program(3)));
    expect(sandbox.runs).toHaveLength(2);
  });

  it('caches failures with their reason, timeouts and memory failures included', async () => {
    const cache = new EvalCache({ maxEntries: 10, context: CONTEXT });
    const failures: Outcome[] = [
      { kind: 'timeout', reason: 'exceeded 10 s', durationMs: 10_000, stderr: '' },
      { kind: 'memory', reason: 'exceeded 512 MiB', durationMs: 300, stderr: 'MemoryError' },
    ];
    for (const [n, failure] of failures.entries()) {
      const sandbox = counter(() => [failure]);
      await cache.evaluate(program(n), sandbox.run(program(n)));
      const again = await cache.evaluate(program(n), sandbox.run(program(n)));
      expect(sandbox.runs).toHaveLength(1);
      expect(again?.outcomes).toEqual([failure]);
      expect(again?.savedMs).toBe(failure.durationMs);
    }
  });

  it('keeps the end of a long stderr, where a traceback names the error', async () => {
    const cache = new EvalCache({ maxEntries: 10, context: CONTEXT });
    const stderr = `${'x'.repeat(5000)}\nZeroDivisionError: division by zero`;
    const crash: Outcome = { kind: 'crash', reason: 'ZeroDivisionError', durationMs: 1, stderr };
    const own = await cache.evaluate(program(1), async () => [crash]);
    expect(own?.outcomes[0]?.stderr).toBe(stderr);
    const reused = await cache.evaluate(program(1), async () => [crash]);
    expect(reused?.outcomes[0]?.stderr).toHaveLength(CACHED_STDERR_CHARS);
    expect(reused?.outcomes[0]?.stderr.endsWith('ZeroDivisionError: division by zero')).toBe(true);
  });

  it('makes a concurrent repeat wait for the first run instead of running again', async () => {
    const cache = new EvalCache({ maxEntries: 10, context: CONTEXT });
    let release!: (outcomes: Outcome[]) => void;
    let runs = 0;
    const slow = () => {
      runs++;
      return new Promise<Outcome[]>((resolve) => {
        release = resolve;
      });
    };
    const waits: string[] = [];
    const first = cache.evaluate(program(1), slow, { origin: 's1', onWait: () => waits.push('s1') });
    const second = cache.evaluate(`${program(1)}# repeat\n`, slow, {
      origin: 's2',
      onWait: () => waits.push('s2'),
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toBe(1);
    expect(waits).toEqual(['s2']);
    release([ok(7, 30)]);
    expect(await first).toMatchObject({ source: 'sandbox', outcomes: [ok(7, 30)] });
    expect(await second).toEqual({ source: 'in-flight', origin: 's1', outcomes: [ok(7, 30)], savedMs: 30 });
  });

  it('lets a waiter run the program itself when the first run fails, and caches nothing from a run that did not happen', async () => {
    const cache = new EvalCache({ maxEntries: 10, context: CONTEXT });
    let fail!: (error: Error) => void;
    const first = cache.evaluate(program(1), () => new Promise<Outcome[]>((_, reject) => (fail = reject)));
    let secondRuns = 0;
    const second = cache.evaluate(program(1), async () => {
      secondRuns++;
      return [ok(2)];
    });
    await new Promise((resolve) => setImmediate(resolve));
    fail(new Error('sandbox lost'));
    await expect(first).rejects.toThrow('sandbox lost');
    expect(await second).toMatchObject({ source: 'sandbox', outcomes: [ok(2)] });
    expect(secondRuns).toBe(1);

    const stopped = await cache.evaluate(program(9), async () => undefined);
    expect(stopped).toBeUndefined();
    expect(cache.get(EvalCache.keyOf(program(9)))).toBeUndefined();
  });

  it('holds at most maxEntries programs, forgetting the least recently used; a forgotten one runs again', async () => {
    const cache = new EvalCache({ maxEntries: 2, context: CONTEXT });
    const sandbox = counter();
    const evaluate = (n: number) => cache.evaluate(program(n), sandbox.run(program(n)));
    await evaluate(1);
    await evaluate(2);
    await evaluate(1); // hit: 1 is now the most recently used
    await evaluate(3); // evicts 2
    expect(cache.size).toBe(2);
    expect(cache.evictions).toBe(1);
    expect(sandbox.runs).toEqual([program(1), program(2), program(3)]);
    await evaluate(1);
    expect(sandbox.runs).toHaveLength(3);
    await evaluate(2);
    expect(sandbox.runs).toEqual([program(1), program(2), program(3), program(2)]);
    expect(cache.size).toBe(2);
  });

  it('survives a JSON round trip with its entries and their order', async () => {
    const cache = new EvalCache({ maxEntries: 3, context: CONTEXT });
    for (const n of [1, 2, 3]) await cache.evaluate(program(n), async () => [ok(n)], { origin: `s${n}` });
    cache.get(EvalCache.keyOf(program(1))); // 1 becomes the most recent
    const json = JSON.parse(JSON.stringify(cache));
    const { cache: restored, note } = EvalCache.restore(json, { maxEntries: 3, context: CONTEXT });
    expect(note).toBeUndefined();
    expect(restored.toJSON()).toEqual(cache.toJSON());
    const reused = await restored.evaluate(program(2), async () => [ok(99)]);
    expect(reused).toMatchObject({ source: 'cache', origin: 's2', outcomes: [ok(2)] });

    // A smaller cap keeps the most recently used entries: 2 (just touched) and 1.
    const { cache: smaller } = EvalCache.restore(JSON.parse(JSON.stringify(restored)), {
      maxEntries: 2,
      context: CONTEXT,
    });
    expect(smaller.size).toBe(2);
    expect(smaller.get(EvalCache.keyOf(program(3)))).toBeUndefined();
    expect(smaller.get(EvalCache.keyOf(program(1)))).toEqual([ok(1)]);
  });

  it('starts empty, saying why, from a snapshot it cannot use', async () => {
    const cache = new EvalCache({ maxEntries: 3, context: CONTEXT });
    await cache.evaluate(program(1), async () => [ok(1)]);
    const json = cache.toJSON();

    const other = EvalCache.restore(json, { maxEntries: 3, context: contextFingerprint({ timeout: 5 }) });
    expect(other.cache.size).toBe(0);
    expect(other.note).toMatch(/test inputs, timeout.*differ/);

    const badScore = structuredClone(json);
    (badScore.entries[0]!.outcomes[0] as { score: unknown }).score = 'high';
    const broken = EvalCache.restore(badScore, { maxEntries: 3, context: CONTEXT });
    expect(broken.cache.size).toBe(0);
    expect(broken.note).toMatch(/^the checkpoint's evaluation cache is unreadable \(entries\.0\.outcomes\.0/);

    const badKey = { ...json, entries: [{ ...json.entries[0], key: 'not-a-hash' }] };
    expect(EvalCache.restore(badKey, { maxEntries: 3, context: CONTEXT }).note).toMatch(/sha256/);
    expect(EvalCache.restore(undefined, { maxEntries: 3, context: CONTEXT }).note).toMatch(/unreadable/);
  });

  it('keys a program that does not parse by its exact text', () => {
    const broken = 'def priority(x):\n  return (x\n';
    expect(EvalCache.keyOf(broken)).toBe(EvalCache.keyOf(broken));
    expect(EvalCache.keyOf(broken)).not.toBe(EvalCache.keyOf(`${broken}# c\n`));
    expect(EvalCache.keyOf(program(1))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects a cap that is not a positive integer', () => {
    expect(() => new EvalCache({ maxEntries: 0, context: CONTEXT })).toThrow(
      'Expected `maxEntries` to be a positive integer, got `0`',
    );
  });
});
