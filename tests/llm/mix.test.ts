import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import type { ModelMix } from '../../src/llm/mix.js';
import { UsageMeter } from '../../src/llm/usage.js';
import { Random } from '../../src/random.js';
import { type FakeServer, startFakeServer } from './fake-server.js';
import { apiError, buildModel, rejection } from './helpers.js';

const PROMPT = 'def priority_v1(el, n):\n  """Improved version of `priority_v0`."""\n';

let dir: string;
let cheapFile: string;
let strongFile: string;
let server: FakeServer | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'funsearch-mix-'));
  cheapFile = join(dir, 'cheap.txt');
  strongFile = join(dir, 'strong.txt');
  await writeFile(cheapFile, '  return 1.0\n# ---\n  return 1.5\n');
  await writeFile(strongFile, JSON.stringify(['  return 2.0', '  return 2.5']));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function twoMocks(weights: [number, number], seed = 1, meter?: UsageMeter) {
  return buildModel({
    llm: 'mock',
    env: {},
    latencyMs: 0,
    meter,
    random: new Random(seed),
    models: [
      { llm: 'mock', model: 'cheap', mockResponsesFile: cheapFile, weight: weights[0] },
      { llm: 'mock', model: 'strong', mockResponsesFile: strongFile, weight: weights[1] },
    ],
  }).model as ModelMix;
}

describe('a mix of two mock models, each with its own answer file', () => {
  it('sends each prompt to one model drawn by weight, and says which answered', async () => {
    const meter = new UsageMeter();
    const mix = twoMocks([3, 1], 7, meter);
    const n = 800;
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const completion = await mix.generate(PROMPT);
      counts[completion.model!] = (counts[completion.model!] ?? 0) + 1;
      // Each model answers from its own file.
      const expected =
        completion.model === 'mock:cheap'
          ? ['  return 1.0\n', '  return 1.5\n']
          : ['  return 2.0', '  return 2.5'];
      expect(expected).toContain(completion.text);
    }
    expect(Object.keys(counts).sort()).toEqual(['mock:cheap', 'mock:strong']);
    // Binomial(800, 3/4): mean 600, standard deviation about 12; four deviations either side.
    expect(Math.abs(counts['mock:cheap']! - 600)).toBeLessThan(4 * Math.sqrt(n * 0.75 * 0.25));
    // The meter counts each model apart.
    const usage = Object.fromEntries(meter.snapshot().map((m) => [m.modelId, m.requests]));
    expect(usage).toEqual({ cheap: counts['mock:cheap'], strong: counts['mock:strong'] });
    expect(mix.weightHistory()).toEqual([{ observations: 0, weights: [0.75, 0.25] }]);
  });

  it('draws the same models in the same order under the same seed', async () => {
    const sequence = async (seed: number) => {
      const mix = twoMocks([1, 1], seed);
      const models: string[] = [];
      for (let i = 0; i < 40; i++) models.push((await mix.generate(PROMPT)).model!);
      return models.join(',');
    };
    expect(await sequence(5)).toBe(await sequence(5));
    expect(await sequence(5)).not.toBe(await sequence(6));
  });

  it('a single model reports itself in Completion.model too', async () => {
    const { model } = buildModel({ llm: 'mock', env: {}, latencyMs: 0 });
    expect((await model.generate(PROMPT)).model).toBe('mock:mock');
  });
});

describe('keys and faults per model', () => {
  it('a missing token for any model of the mix stops before the run, naming its variable', () => {
    const error = rejectionSync(() =>
      buildModel({
        llm: 'mock',
        env: { OPENAI_API_KEY: 'sk-test' },
        models: [{ llm: 'openai', model: 'gpt-4o-mini', weight: 3 }, { llm: 'replicate' }],
      }),
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(
      'Replicate needs REPLICATE_API_TOKEN: set it in the environment or .env',
    );
  });

  it('a fatal failure (rejected key) of one model names that model; the other keeps answering', async () => {
    server = await startFakeServer((req) => {
      if (req.headers.authorization === 'Bearer sk-bad') {
        return {
          status: 401,
          json: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } },
        };
      }
      return {
        json: {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: '```python\nreturn 3.0\n```' },
              finish_reason: 'stop',
            },
          ],
          usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
        },
      };
    });
    const { model } = buildModel({
      llm: 'mock',
      env: { OPENAI_API_KEY: 'sk-bad', OPENAI_BASE_URL: `${server.url}/v1` },
      latencyMs: 0,
      models: [
        { llm: 'openai', model: 'gpt-4o-mini' },
        { llm: 'mock', mockResponsesFile: cheapFile },
      ],
    });
    const mix = model as ModelMix;

    const outcomes: string[] = [];
    let fatal: Error | undefined;
    for (let i = 0; i < 30 && !fatal; i++) {
      try {
        outcomes.push((await mix.generate(PROMPT)).model!);
      } catch (error) {
        fatal = error as Error;
      }
    }
    expect(fatal).toMatchObject({ fatal: true, provider: 'openai' });
    expect(fatal!.message).toMatch(
      /^model openai:gpt-4o-mini: .*rejected the token \(401\): set OPENAI_API_KEY/,
    );
    expect(fatal!.message).not.toContain('\n');
    expect(outcomes.every((m) => m === 'mock:mock')).toBe(true);

    const checked = await apiError(mix.check!());
    expect(checked.message).toMatch(/^model openai:gpt-4o-mini: /);
  });

  it('a model listed twice is refused', () => {
    const error = rejectionSync(() =>
      buildModel({
        llm: 'mock',
        env: {},
        models: [{ llm: 'mock' }, { llm: 'mock', model: 'mock' }],
      }),
    );
    expect((error as Error).message).toMatch(/lists `mock:mock` twice/);
  });

  it('an abort is not counted against the model', async () => {
    const mix = twoMocks([1, 1]);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    expect(await rejection(mix.generate(PROMPT, controller.signal))).toEqual(new Error('stop'));
    expect(mix.selector.armStates().map((arm) => arm.rewards)).toEqual([0, 0]);
  });
});

function rejectionSync(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('lost samples', () => {
  it('an error of a mix says which model lost the sample, and counts as reward 0 for it', async () => {
    const { model } = buildModel({
      llm: 'mock',
      env: {},
      latencyMs: 0,
      faultRate: 1,
      faults: ['error'],
      retry: { maxRetries: 0 },
      models: [{ llm: 'mock', model: 'flaky' }],
      selection: 'ucb',
    });
    const mix = model as ModelMix;
    const error = await apiError(mix.generate(PROMPT));
    expect(error).toMatchObject({ model: 'mock:flaky', fatal: false, isRetryable: true });
    expect(error.message).toBe('mock: injected server error (500)');
    expect(mix.selector.armStates()[0]).toMatchObject({ picks: 1, rewards: 1, rewardSum: 0 });
  });
});

describe('feedback from the run', () => {
  it('observe() credits the model that answered; an unknown model is ignored', async () => {
    const mix = twoMocks([1, 1]);
    mix.observe!({ model: 'mock:strong', reward: 1 });
    mix.observe!({ model: 'mock:cheap', reward: 0 });
    mix.observe!({ model: 'openai:gpt-4o', reward: 1 });
    expect(mix.selector.armStates().map((arm) => [arm.rewards, arm.rewardSum])).toEqual([
      [1, 0],
      [1, 1],
    ]);
  });
});
