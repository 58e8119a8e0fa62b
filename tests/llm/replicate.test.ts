import { afterEach, describe, expect, it } from 'vitest';
import { REPLICATE_DEFAULT_MODEL } from '../../src/llm/replicate.js';
import { UsageMeter } from '../../src/llm/usage.js';
import { type FakeServer, type Handler, type RecordedRequest, startFakeServer } from './fake-server.js';
import { apiError, buildModel, rejection } from './helpers.js';

const VERSION = 'e4cb69045bdb604862e80b5dd17ef39c9559ad3533e9fd3bd513cc68ff023656';
const PROMPT = 'def priority_v1(el, n):\n  """Improved version of `priority_v0`."""\n';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/**
 * Replicate's predictions API as the SDK uses it: POST /predictions answers `starting`, each
 * GET /predictions/:id advances the prediction, the last poll carries the output tokens.
 */
function replicateApi(
  options: { pollsUntilDone?: number; output?: unknown; metrics?: object } = {},
): Handler {
  const polls = new Map<string, number>();
  let created = 0;
  return (req, fake) => {
    if (
      req.method === 'POST' &&
      (req.url === '/predictions' || /^\/models\/[^/]+\/[^/]+\/predictions$/.test(req.url))
    ) {
      const id = `p${++created}`;
      polls.set(id, 0);
      return {
        status: 201,
        json: {
          id,
          status: 'starting',
          urls: { get: `${fake.url}/predictions/${id}`, cancel: `${fake.url}/predictions/${id}/cancel` },
        },
      };
    }
    const get = /^\/predictions\/(\w+)$/.exec(req.url);
    if (req.method === 'GET' && get) {
      const id = get[1]!;
      const count = (polls.get(id) ?? 0) + 1;
      polls.set(id, count);
      if (count < (options.pollsUntilDone ?? 2))
        return { json: { id, status: 'processing', output: ['  return'] } };
      return {
        json: {
          id,
          status: 'succeeded',
          output: options.output ?? ['  return', ' float(', 'el.count(2) % 3)', '\n'],
          metrics: options.metrics ?? { predict_time: 1.2, input_token_count: 42, output_token_count: 9 },
        },
      };
    }
    if (req.method === 'POST' && /^\/predictions\/\w+\/cancel$/.test(req.url))
      return { json: { status: 'canceled' } };
    if (req.method === 'GET' && req.url === `/models/meta/codellama-34b-python/versions/${VERSION}`) {
      return { json: { id: VERSION } };
    }
    return { status: 404, json: { detail: 'Not found.' } };
  };
}

function env(url: string) {
  return { REPLICATE_API_TOKEN: 'r8_test', REPLICATE_BASE_URL: url };
}

const creations = (requests: RecordedRequest[]) =>
  requests.filter((r) => r.method === 'POST' && !r.url.endsWith('/cancel'));

describe('replicate provider against a local Replicate API', () => {
  it('creates a prediction with the original model, version and inputs, polls it, and joins the output', async () => {
    server = await startFakeServer(replicateApi({ pollsUntilDone: 3 }));
    const meter = new UsageMeter();
    const { model } = buildModel({ llm: 'replicate', env: env(server.url), pollIntervalMs: 5, meter });

    const completion = await model.generate(PROMPT);

    expect(model.modelId).toBe(REPLICATE_DEFAULT_MODEL);
    expect(completion.text).toBe('  return float(el.count(2) % 3)\n');
    expect(completion.usage).toEqual({ inputTokens: 42, outputTokens: 9 });
    const [create, ...polls] = server.requests;
    expect(create!.url).toBe('/predictions');
    expect(create!.headers.authorization).toBe('Bearer r8_test');
    expect(create!.json).toEqual({
      version: VERSION,
      input: {
        prompt: PROMPT,
        top_k: 50,
        top_p: 0.9,
        max_tokens: 500,
        temperature: 0.75,
        repeat_penalty: 1.1,
        presence_penalty: 0,
        frequency_penalty: 0,
      },
    });
    expect(polls.map((r) => `${r.method} ${r.url}`)).toEqual(Array(3).fill('GET /predictions/p1'));
    expect(meter.snapshot()).toEqual([
      expect.objectContaining({
        provider: 'replicate',
        requests: 1,
        inputTokens: 42,
        outputTokens: 9,
        costUsd: undefined,
      }),
    ]);
  });

  it('overrides inputs, drops a null one, and runs an official model without a version', async () => {
    server = await startFakeServer(replicateApi({ pollsUntilDone: 1, metrics: { predict_time: 1 } }));
    const { model } = buildModel({
      llm: 'replicate',
      model: 'meta/meta-llama-3-70b',
      env: env(server.url),
      params: { temperature: 0.2, repeat_penalty: null, max_tokens: 64 },
      pollIntervalMs: 1,
    });

    const completion = await model.generate(PROMPT);

    expect(server.requests[0]!.url).toBe('/models/meta/meta-llama-3-70b/predictions');
    const input = (server.requests[0]!.json as { input: Record<string, unknown> }).input;
    expect(input).toMatchObject({ temperature: 0.2, max_tokens: 64, top_k: 50 });
    expect(input).not.toHaveProperty('repeat_penalty');
    // Replicate reported no token counts: none are invented.
    expect(completion.usage).toEqual({ inputTokens: undefined, outputTokens: undefined });
  });

  it('a rejected token is fatal, names REPLICATE_API_TOKEN, and is sent once (no SDK retries)', async () => {
    server = await startFakeServer(() => ({ status: 401, json: { detail: 'Invalid token.' } }));
    const { model } = buildModel({ llm: 'replicate', env: env(server.url) });

    const error = await apiError(model.generate(PROMPT));

    expect(error.fatal).toBe(true);
    expect(error.isRetryable).toBe(false);
    expect(error.statusCode).toBe(401);
    expect(error.message).toBe(
      'Replicate rejected the token (401): set REPLICATE_API_TOKEN in the environment or .env',
    );
    expect(error.responseBody).toContain('Invalid token.');
    expect(server.requests).toHaveLength(1);
  });

  it('429 with retry-after-ms is retried after the delay the server asked for', async () => {
    const api = replicateApi({ pollsUntilDone: 1 });
    let limited = false;
    server = await startFakeServer((req, fake) => {
      if (req.method === 'POST' && !limited) {
        limited = true;
        return { status: 429, headers: { 'retry-after-ms': '30' }, json: { detail: 'throttled' } };
      }
      return api(req, fake);
    });
    const { model, delays } = buildModel({ llm: 'replicate', env: env(server.url), pollIntervalMs: 1 });

    await expect(model.generate(PROMPT)).resolves.toMatchObject({
      text: '  return float(el.count(2) % 3)\n',
    });

    expect(creations(server.requests)).toHaveLength(2);
    expect(delays[0]).toBe(30);
  });

  it('a 500 while polling is retried with a new prediction', async () => {
    const api = replicateApi({ pollsUntilDone: 1 });
    let failed = false;
    server = await startFakeServer((req, fake) => {
      if (req.method === 'GET' && !failed) {
        failed = true;
        return { status: 500, text: 'upstream exploded' };
      }
      return api(req, fake);
    });
    const { model } = buildModel({ llm: 'replicate', env: env(server.url), pollIntervalMs: 1 });

    await expect(model.generate(PROMPT)).resolves.toMatchObject({ text: expect.stringContaining('return') });
    // The SDK alone would have sent the failed GET six times.
    expect(server.requests.filter((r) => r.method === 'GET')).toHaveLength(2);
    expect(creations(server.requests)).toHaveLength(2);
  });

  it('a hung connection times out and the request is sent again', async () => {
    const api = replicateApi({ pollsUntilDone: 1 });
    let hung = false;
    server = await startFakeServer((req, fake) => {
      if (req.method === 'POST' && !hung) {
        hung = true;
        return 'hang';
      }
      return api(req, fake);
    });
    const { model } = buildModel({
      llm: 'replicate',
      env: env(server.url),
      pollIntervalMs: 1,
      retry: { requestTimeoutMs: 300 },
    });

    await expect(model.generate(PROMPT)).resolves.toMatchObject({ text: expect.stringContaining('return') });
    expect(creations(server.requests)).toHaveLength(2);
  });

  it('a dropped connection is a retryable network error', async () => {
    server = await startFakeServer(() => 'drop');
    const { model } = buildModel({ llm: 'replicate', env: env(server.url), retry: { maxRetries: 2 } });

    const error = await apiError(model.generate(PROMPT));

    expect(error.isRetryable).toBe(true);
    expect(error.message).toMatch(/^Replicate could not be reached/);
    expect(server.requests).toHaveLength(3);
  });

  it('a malformed body is an LlmApiError, not a crash, and is not retried', async () => {
    server = await startFakeServer(() => ({
      status: 201,
      headers: { 'content-type': 'application/json' },
      text: '{"id": "p1", "stat',
    }));
    const { model } = buildModel({ llm: 'replicate', env: env(server.url) });

    const error = await apiError(model.generate(PROMPT));

    expect(error.isRetryable).toBe(false);
    expect(error.fatal).toBe(false);
    expect(error.message).toMatch(/^Replicate sent a malformed response/);
    expect(server.requests).toHaveLength(1);
  });

  it('output that is not strings is malformed', async () => {
    server = await startFakeServer(replicateApi({ pollsUntilDone: 1, output: { text: 'x' } }));
    const { model } = buildModel({ llm: 'replicate', env: env(server.url), pollIntervalMs: 1 });

    const error = await apiError(model.generate(PROMPT));
    expect(error.message).toContain('expected the output to be an array of strings');
  });

  it('a failed prediction is a non-retryable error carrying the model error', async () => {
    server = await startFakeServer((req) =>
      req.method === 'POST'
        ? { status: 201, json: { id: 'p1', status: 'starting' } }
        : { json: { id: 'p1', status: 'failed', error: 'CUDA out of memory' } },
    );
    const { model } = buildModel({ llm: 'replicate', env: env(server.url), pollIntervalMs: 1 });

    const error = await apiError(model.generate(PROMPT));
    expect(error.message).toBe('Replicate prediction p1 failed: CUDA out of memory');
    expect(error.isRetryable).toBe(false);
    expect(creations(server.requests)).toHaveLength(1);
  });

  it("the caller's abort stops polling, cancels the prediction, and is not retried", async () => {
    server = await startFakeServer(replicateApi({ pollsUntilDone: 1_000_000 }));
    const { model } = buildModel({ llm: 'replicate', env: env(server.url), pollIntervalMs: 5 });
    const controller = new AbortController();

    const pending = model.generate(PROMPT, controller.signal);
    while (server.requests.filter((r) => r.method === 'GET').length < 2)
      await new Promise((r) => setTimeout(r, 5));
    controller.abort();

    const error = await rejection(pending);
    expect((error as Error).name).toBe('AbortError');
    while (!server.requests.some((r) => r.url === '/predictions/p1/cancel'))
      await new Promise((r) => setTimeout(r, 5));
    expect(creations(server.requests)).toHaveLength(1);
  });

  it('check gets the model version; an unknown one is fatal and points at --model', async () => {
    server = await startFakeServer(replicateApi());
    const good = buildModel({ llm: 'replicate', env: env(server.url) }).model;
    await expect(good.check!()).resolves.toBeUndefined();
    expect(server.requests[0]!.url).toBe(`/models/meta/codellama-34b-python/versions/${VERSION}`);

    const bad = buildModel({ llm: 'replicate', model: 'meta/nope:abc123', env: env(server.url) }).model;
    const error = await apiError(bad.check!());
    expect(error.fatal).toBe(true);
    expect(error.message).toBe(
      'Replicate: model not found (404): check --model (meta/nope:abc123) and REPLICATE_BASE_URL',
    );
  });
});
