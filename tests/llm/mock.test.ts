import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { LlmApiError } from '../../src/llm/errors.js';
import { createLanguageModel } from '../../src/llm/index.js';
import { createMockModel, loadMockResponses, parseMockResponses } from '../../src/llm/mock.js';
import { CAP_SET_RESPONSES } from '../../src/llm/mock-responses/cap_set.js';
import { UsageMeter } from '../../src/llm/usage.js';
import { Random } from '../../src/random.js';
import { rejection } from './helpers.js';

const noSleep = async (_ms: number, signal?: AbortSignal) => signal?.throwIfAborted();

async function texts(seed: number, count: number, options: { faultRate?: number } = {}): Promise<string[]> {
  const model = createMockModel({
    random: new Random(seed),
    sleep: noSleep,
    faults: ['garbage', 'empty'],
    ...options,
  });
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push((await model.generate('prompt')).text);
  return out;
}

describe('mock model', () => {
  it('answers from the built-in cap-set set, the same answers for the same seed', async () => {
    const first = await texts(7, 30);
    expect(await texts(7, 30)).toEqual(first);
    expect(await texts(8, 30)).not.toEqual(first);
    for (const text of first) expect(CAP_SET_RESPONSES).toContain(text);
    // 30 draws over 15 answers hit many distinct ones.
    expect(new Set(first).size).toBeGreaterThan(5);
  });

  it('answers depend on the order of the calls, not on how concurrent latencies interleave', async () => {
    const sequential = await texts(3, 8);
    const model = createMockModel({ random: new Random(3), latencyMs: 5 });
    const concurrent = await Promise.all(Array.from({ length: 8 }, () => model.generate('prompt')));
    expect(concurrent.map((c) => c.text)).toEqual(sequential);
  });

  it('injects faults at about the configured rate, deterministically', async () => {
    const model = createMockModel({
      random: new Random(11),
      sleep: noSleep,
      faultRate: 0.3,
      faults: ['error', 'garbage', 'empty'],
    });
    const kinds: string[] = [];
    for (let i = 0; i < 400; i++) {
      try {
        const { text } = await model.generate('prompt');
        kinds.push(text === '' ? 'empty' : CAP_SET_RESPONSES.includes(text) ? 'answer' : 'garbage');
      } catch (error) {
        expect(error).toBeInstanceOf(LlmApiError);
        expect(error).toMatchObject({ isRetryable: true, statusCode: 500, provider: 'mock' });
        kinds.push('error');
      }
    }
    const faults = kinds.filter((k) => k !== 'answer').length;
    expect(faults).toBeGreaterThan(80);
    expect(faults).toBeLessThan(160);
    for (const kind of ['error', 'garbage', 'empty']) expect(kinds).toContain(kind);
    expect(await texts(11, 50, { faultRate: 0.3 })).toEqual(await texts(11, 50, { faultRate: 0.3 }));
  });

  it('a hang fault lasts until the caller aborts', async () => {
    const model = createMockModel({ random: new Random(1), faultRate: 1, faults: ['hang'], latencyMs: 0 });
    const controller = new AbortController();
    const pending = model.generate('prompt', controller.signal);
    let settled = false;
    pending.catch(() => {}).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    controller.abort();
    expect(((await rejection(pending)) as Error).name).toBe('AbortError');
  });

  it('the latency is abortable', async () => {
    const model = createMockModel({ random: new Random(1), latencyMs: 60_000 });
    const controller = new AbortController();
    const pending = model.generate('prompt', controller.signal);
    setTimeout(() => controller.abort(new Error('run stopped')), 10);
    await expect(pending).rejects.toThrow('run stopped');
  });

  it('reports stand-in token counts from the text length', async () => {
    const model = createMockModel({ random: new Random(1), sleep: noSleep, responses: ['  return 1.0\n'] });
    expect(await model.generate('x'.repeat(40))).toEqual({
      text: '  return 1.0\n',
      usage: { inputTokens: 10, outputTokens: 4 },
    });
  });

  it('checks its options eagerly', () => {
    const random = new Random(1);
    expect(() => createMockModel({ random, faultRate: 2 })).toThrow(
      'Expected `faultRate` to be a number from 0 to 1, got `2`',
    );
    expect(() => createMockModel({ random, latencyMs: -1 })).toThrow(/latencyMs/);
    expect(() => createMockModel({ random, responses: [] })).toThrow(/at least one/);
    expect(() => createLanguageModel({ llm: 'mock', env: {}, random, faultRate: -0.5 })).toThrow(UserError);
  });
});

describe('mock responses files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'funsearch-mock-'));

  it('reads a JSON array of strings', () => {
    const path = join(dir, 'answers.json');
    writeFileSync(path, JSON.stringify(['  return 1.0\n', '  return 2.0\n']));
    expect(loadMockResponses(path)).toEqual(['  return 1.0\n', '  return 2.0\n']);
  });

  it('reads text with bodies separated by `# ---` lines, keeping indentation', () => {
    const text = '  x = 1\n  return float(x)\n# ---\n  return 2.0\n\n# ---   \n\n# ---\n  return 3.0\n';
    expect(parseMockResponses(text, 'answers.txt')).toEqual([
      '  x = 1\n  return float(x)\n',
      '  return 2.0\n\n',
      '  return 3.0\n',
    ]);
  });

  it('names the file in errors', () => {
    expect(() => loadMockResponses(join(dir, 'missing.txt'))).toThrow(
      /missing\.txt: cannot read the mock responses file \(ENOENT\); check --mock-responses$/,
    );
    expect(() => parseMockResponses('[1, 2]', 'a.json')).toThrow('a.json: expected a JSON array of strings');
    expect(() => parseMockResponses('[oops', 'a.json')).toThrow(/a\.json: not valid JSON/);
    expect(() => parseMockResponses('# ---\n\n', 'a.txt')).toThrow('a.txt: no responses found');
  });

  it('createLanguageModel uses mockResponsesFile, meters the calls, and retries injected errors', async () => {
    const path = join(dir, 'one.txt');
    writeFileSync(path, '  return 42.0\n');
    const meter = new UsageMeter();
    const model = createLanguageModel({
      llm: 'mock',
      env: {},
      random: new Random(5),
      mockResponsesFile: path,
      latencyMs: 0,
      faultRate: 0.5,
      faults: ['error'],
      meter,
      retry: { sleep: noSleep, maxRetries: 20 },
    });
    for (let i = 0; i < 10; i++) expect((await model.generate('p')).text).toBe('  return 42.0\n');
    const usage = meter.snapshot()[0]!;
    expect(usage).toMatchObject({ provider: 'mock', modelId: 'mock', requestsWithUsage: 10, costUsd: 0 });
    expect(usage.failedRequests).toBeGreaterThan(0);
    expect(usage.requests).toBe(10 + usage.failedRequests);
  });
});
