import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { createLanguageModel } from '../../src/llm/index.js';
import { COMPLETION_STOP } from '../../src/llm/openai.js';
import { UsageMeter } from '../../src/llm/usage.js';
import { Random } from '../../src/random.js';
import { type FakeServer, type Handler, startFakeServer } from './fake-server.js';
import { apiError, buildModel } from './helpers.js';

const PROMPT = 'def priority_v1(el, n):\n  """Improved version of `priority_v0`."""\n';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** text-generation-inference's OpenAI-style completions route, which @huggingface/inference calls. */
function tgi(): Handler {
  return (req) => {
    if (req.method === 'POST' && req.url === '/v1/completions') {
      return {
        json: {
          id: '',
          object: 'text_completion',
          model: 'bigcode/starcoder2-15b',
          choices: [{ index: 0, text: '  return float(el.count(2) % 3)\n', finish_reason: 'stop' }],
          usage: { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 },
        },
      };
    }
    return { status: 404, json: { error: 'Not found' } };
  };
}

const env = (url: string) => ({ HF_TOKEN: 'hf_test', STARCODER_BASE_URL: url });

describe('starcoder provider against a local text-generation-inference server', () => {
  it('sends the model, prompt and parameters, and returns the generated text without token counts', async () => {
    server = await startFakeServer(tgi());
    const meter = new UsageMeter();
    const { model } = buildModel({ llm: 'starcoder', env: env(server.url), meter, params: { top_p: 0.95 } });

    const completion = await model.generate(PROMPT);

    expect(model.modelId).toBe('bigcode/starcoder2-15b');
    expect(completion.text).toBe('  return float(el.count(2) % 3)\n');
    // The client keeps only `generated_text`: counts are unknown, not estimated.
    expect(completion.usage).toBeUndefined();
    const request = server.requests[0]!;
    expect(request.headers.authorization).toBe('Bearer hf_test');
    expect(request.json).toEqual({
      model: 'bigcode/starcoder2-15b',
      prompt: PROMPT,
      max_tokens: 500,
      temperature: 0.75,
      top_p: 0.95,
      stop: COMPLETION_STOP,
    });
    expect(meter.snapshot()[0]).toMatchObject({
      requests: 1,
      requestsWithUsage: 0,
      inputTokens: undefined,
      costUsd: undefined,
    });
  });

  it('works without HF_TOKEN against a server of your own', async () => {
    server = await startFakeServer(tgi());
    const { model } = buildModel({ llm: 'starcoder', env: { STARCODER_BASE_URL: server.url } });
    await model.generate(PROMPT);
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('401 is fatal and names HF_TOKEN', async () => {
    server = await startFakeServer(() => ({ status: 401, json: { error: 'Invalid credentials' } }));
    const { model } = buildModel({ llm: 'starcoder', env: env(server.url) });
    const error = await apiError(model.generate(PROMPT));
    expect(error).toMatchObject({ fatal: true, statusCode: 401, provider: 'starcoder' });
    expect(error.message).toBe(
      `The server at ${server.url} rejected the token (401): set HF_TOKEN in the environment or .env`,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('429 with Retry-After as an HTTP date is retried', async () => {
    const api = tgi();
    let calls = 0;
    server = await startFakeServer((req, fake) =>
      ++calls === 1
        ? {
            status: 429,
            headers: { 'retry-after': new Date(Date.now() - 1000).toUTCString() },
            json: { error: 'busy' },
          }
        : api(req, fake),
    );
    const { model, delays } = buildModel({ llm: 'starcoder', env: env(server.url) });

    await expect(model.generate(PROMPT)).resolves.toMatchObject({ text: expect.stringContaining('return') });
    expect(server.requests).toHaveLength(2);
    // A date in the past means "now".
    expect(delays).toEqual([0]);
  });

  it('503 (model loading) is retried by the policy, not by the client loop', async () => {
    const api = tgi();
    let calls = 0;
    server = await startFakeServer((req, fake) =>
      ++calls <= 2 ? { status: 503, json: { error: 'Model is loading' } } : api(req, fake),
    );
    const { model, delays } = buildModel({ llm: 'starcoder', env: env(server.url) });

    await expect(model.generate(PROMPT)).resolves.toMatchObject({ text: expect.stringContaining('return') });
    expect(server.requests).toHaveLength(3);
    expect(delays).toHaveLength(2);
  });

  it('a hung connection times out and is retried', async () => {
    const api = tgi();
    let calls = 0;
    server = await startFakeServer((req, fake) => (++calls === 1 ? 'hang' : api(req, fake)));
    const { model } = buildModel({
      llm: 'starcoder',
      env: env(server.url),
      retry: { requestTimeoutMs: 300 },
    });
    await expect(model.generate(PROMPT)).resolves.toMatchObject({ text: expect.stringContaining('return') });
    expect(server.requests).toHaveLength(2);
  });

  it('malformed bodies are LlmApiErrors', async () => {
    server = await startFakeServer(() => ({ json: { choices: [{ content: 'wrong shape' }] } }));
    const { model } = buildModel({ llm: 'starcoder', env: env(server.url) });
    const error = await apiError(model.generate(PROMPT));
    expect(error).toMatchObject({ isRetryable: false, fatal: false });
    expect(error.message).toMatch(/sent a malformed response/);
    expect(server.requests).toHaveLength(1);
  });

  it('check sends a one-token generation', async () => {
    server = await startFakeServer(tgi());
    const { model } = buildModel({ llm: 'starcoder', env: env(server.url) });
    await expect(model.check!()).resolves.toBeUndefined();
    expect(server.requests[0]!.json).toMatchObject({ max_tokens: 1 });
  });

  it('without STARCODER_BASE_URL, HF_TOKEN is required', () => {
    expect(() => createLanguageModel({ llm: 'starcoder', env: {}, random: new Random(1) })).toThrow(
      UserError,
    );
    expect(() => createLanguageModel({ llm: 'starcoder', env: {}, random: new Random(1) })).toThrow(
      /HF_TOKEN/,
    );
  });
});

describe('starcoder provider through Hugging Face (hub and router redirected to loopback)', () => {
  /** Sends huggingface.co and router.huggingface.co requests to the local server, path intact. */
  const redirect =
    (url: string): typeof fetch =>
    (input, init) => {
      const target = String(input instanceof Request ? input.url : input).replace(
        /^https:\/\/(router\.)?huggingface\.co/,
        (_, router) => `${url}${router ? '/router' : '/hub'}`,
      );
      if (!target.startsWith('http://127.0.0.1:')) throw new Error(`test fetch refused ${target}`);
      return fetch(target, init);
    };

  it('a model no provider serves is fatal and points at STARCODER_BASE_URL', async () => {
    server = await startFakeServer((req) =>
      req.url.startsWith('/hub/api/models/')
        ? { json: { id: 'bigcode/starcoder2-3b', inferenceProviderMapping: {} } }
        : { status: 404, json: {} },
    );
    const { model } = buildModel({
      llm: 'starcoder',
      model: 'bigcode/starcoder2-3b',
      env: { HF_TOKEN: 'hf_test' },
      fetch: redirect(server.url),
    });

    const error = await apiError(model.generate(PROMPT));

    expect(error.fatal).toBe(true);
    expect(error.message).toContain('Hugging Face cannot serve bigcode/starcoder2-3b');
    expect(error.message).toContain('set STARCODER_BASE_URL');
    expect(server.requests.map((r) => r.url)).toEqual([
      '/hub/api/models/bigcode/starcoder2-3b?expand[]=inferenceProviderMapping',
    ]);
  });

  it('a model served by hf-inference goes through the router with the token', async () => {
    server = await startFakeServer((req) => {
      if (req.url.startsWith('/hub/api/models/')) {
        return {
          json: {
            id: 'bigcode/starcoder2-7b',
            inferenceProviderMapping: {
              'hf-inference': {
                providerId: 'bigcode/starcoder2-7b',
                status: 'live',
                task: 'text-generation',
              },
            },
          },
        };
      }
      if (req.method === 'POST' && req.url.startsWith('/router/')) {
        return { json: { choices: [{ index: 0, text: '  return 1.0\n', finish_reason: 'stop' }] } };
      }
      return { status: 404, json: {} };
    });
    const { model } = buildModel({
      llm: 'starcoder',
      model: 'bigcode/starcoder2-7b',
      env: { HF_TOKEN: 'hf_test' },
      fetch: redirect(server.url),
    });

    await expect(model.generate(PROMPT)).resolves.toEqual({
      text: '  return 1.0\n',
      model: 'starcoder:bigcode/starcoder2-7b',
    });
    const routed = server.requests.find((r) => r.url.startsWith('/router/'))!;
    expect(routed.url).toBe('/router/hf-inference/models/bigcode/starcoder2-7b/v1/completions');
    expect(routed.headers.authorization).toBe('Bearer hf_test');
    expect(routed.json).toMatchObject({ model: 'bigcode/starcoder2-7b', prompt: PROMPT, max_tokens: 500 });
  });
});
