import { afterEach, describe, expect, it } from 'vitest';
import { CHAT_SYSTEM_PROMPT } from '../../src/llm/chat.js';
import { COMPLETION_STOP } from '../../src/llm/openai.js';
import { UsageMeter } from '../../src/llm/usage.js';
import { type FakeServer, type Handler, startFakeServer } from './fake-server.js';
import { apiError, buildModel } from './helpers.js';

const PROMPT = 'import numpy as np\n\ndef priority_v1(el, n):\n  """Improved version of `priority_v0`."""\n';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const CHAT_ANSWER =
  'Here is an improved version:\n\n```python\ndef priority_v1(el, n):\n    """Better."""\n    return float(el.count(2) % 3)\n```\n\nIt favours twos.';

function openaiApi(): Handler {
  return (req) => {
    if (req.method === 'POST' && req.url === '/v1/chat/completions') {
      return {
        json: {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          choices: [
            { index: 0, message: { role: 'assistant', content: CHAT_ANSWER }, finish_reason: 'stop' },
          ],
          usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150 },
        },
      };
    }
    if (req.method === 'POST' && req.url === '/v1/completions') {
      return {
        json: {
          id: 'cmpl-1',
          object: 'text_completion',
          choices: [{ index: 0, text: '  return float(el.count(1))\n', finish_reason: 'stop' }],
          usage: { prompt_tokens: 50, completion_tokens: 8, total_tokens: 58 },
        },
      };
    }
    return {
      status: 404,
      json: { error: { message: 'The model `x` does not exist', type: 'invalid_request_error' } },
    };
  };
}

function env(url: string) {
  return { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `${url}/v1` };
}

describe('openai provider against a local OpenAI-compatible server', () => {
  it('chat: sends the system prompt and the program, and returns the code of the fenced answer as written', async () => {
    server = await startFakeServer(openaiApi());
    const meter = new UsageMeter();
    const { model } = buildModel({ llm: 'openai', env: env(server.url), meter });

    const completion = await model.generate(PROMPT);

    expect(model.modelId).toBe('gpt-4o');
    expect(completion.text).toBe(
      'def priority_v1(el, n):\n    """Better."""\n    return float(el.count(2) % 3)\n',
    );
    expect(completion.usage).toEqual({ inputTokens: 120, outputTokens: 30 });
    const request = server.requests[0]!;
    expect(request.headers.authorization).toBe('Bearer sk-test');
    expect(request.json).toEqual({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: CHAT_SYSTEM_PROMPT },
        { role: 'user', content: PROMPT },
      ],
      temperature: 0.75,
      top_p: 0.9,
      max_tokens: 1000,
      stream: false,
    });
    // gpt-4o has a built-in price: 120 × 2.5 + 30 × 10 per million.
    expect(meter.totals().costUsd).toBeCloseTo((120 * 2.5 + 30 * 10) / 1e6, 12);
  });

  it('completions: sends the raw prompt with stop sequences to a base code model and returns the continuation', async () => {
    server = await startFakeServer(openaiApi());
    const { model } = buildModel({
      llm: 'openai',
      endpoint: 'completions',
      model: 'bigcode/starcoder2-15b',
      env: env(server.url),
      params: { temperature: 1, max_tokens: null },
    });

    const completion = await model.generate(PROMPT);

    expect(completion).toEqual({
      text: '  return float(el.count(1))\n',
      usage: { inputTokens: 50, outputTokens: 8 },
      model: 'openai:bigcode/starcoder2-15b',
    });
    expect(server.requests[0]!.url).toBe('/v1/completions');
    expect(server.requests[0]!.json).toEqual({
      model: 'bigcode/starcoder2-15b',
      prompt: PROMPT,
      temperature: 1,
      top_p: 0.9,
      presence_penalty: 0,
      frequency_penalty: 0,
      stop: COMPLETION_STOP,
      stream: false,
    });
  });

  it('sends OPENAI_ORG_ID and OPENAI_PROJECT_ID from the env record only', async () => {
    server = await startFakeServer(openaiApi());
    const saved = process.env.OPENAI_ORG_ID;
    process.env.OPENAI_ORG_ID = 'org-from-process-env';
    try {
      const { model: plain } = buildModel({ llm: 'openai', env: env(server.url) });
      await plain.generate(PROMPT);
      const { model } = buildModel({
        llm: 'openai',
        env: { ...env(server.url), OPENAI_ORG_ID: 'org-1', OPENAI_PROJECT_ID: 'proj-1' },
      });
      await model.generate(PROMPT);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_ORG_ID;
      else process.env.OPENAI_ORG_ID = saved;
    }
    expect(server.requests[0]!.headers['openai-organization']).toBeUndefined();
    expect(server.requests[1]!.headers).toMatchObject({
      'openai-organization': 'org-1',
      'openai-project': 'proj-1',
    });
  });

  it('a local server without OPENAI_API_KEY gets a placeholder key', async () => {
    server = await startFakeServer(openaiApi());
    const { model } = buildModel({ llm: 'openai', env: { OPENAI_BASE_URL: `${server.url}/v1` } });
    await model.generate(PROMPT);
    expect(server.requests[0]!.headers.authorization).toBe('Bearer not-needed');
  });

  it('401 is fatal, names OPENAI_API_KEY, and is sent once', async () => {
    server = await startFakeServer(() => ({
      status: 401,
      json: {
        error: {
          message: 'Incorrect API key provided',
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      },
    }));
    const { model } = buildModel({ llm: 'openai', env: env(server.url) });

    const error = await apiError(model.generate(PROMPT));

    expect(error).toMatchObject({ fatal: true, isRetryable: false, statusCode: 401, provider: 'openai' });
    expect(error.message).toBe(
      `The server at ${server.url}/v1 rejected the token (401): set OPENAI_API_KEY in the environment or .env`,
    );
    expect(error.responseBody).toContain('Incorrect API key');
    expect(server.requests).toHaveLength(1);
  });

  it('429 with Retry-After (seconds) is retried after that many seconds', async () => {
    const api = openaiApi();
    let calls = 0;
    server = await startFakeServer((req, fake) =>
      ++calls === 1
        ? { status: 429, headers: { 'retry-after': '1' }, json: { error: { message: 'Rate limit' } } }
        : api(req, fake),
    );
    const { model, delays } = buildModel({ llm: 'openai', env: env(server.url) });

    await expect(model.generate(PROMPT)).resolves.toMatchObject({ usage: { inputTokens: 120 } });
    expect(server.requests).toHaveLength(2);
    expect(delays).toEqual([1000]);
  });

  it('500 is retried until the retries run out', async () => {
    server = await startFakeServer(() => ({ status: 500, json: { error: { message: 'boom' } } }));
    const { model } = buildModel({ llm: 'openai', env: env(server.url), retry: { maxRetries: 2 } });

    const error = await apiError(model.generate(PROMPT));

    expect(error).toMatchObject({ statusCode: 500, isRetryable: true, fatal: false });
    expect(server.requests).toHaveLength(3);
  });

  it('a hung connection times out per attempt and is retried', async () => {
    const api = openaiApi();
    let calls = 0;
    server = await startFakeServer((req, fake) => (++calls === 1 ? 'hang' : api(req, fake)));
    const { model } = buildModel({ llm: 'openai', env: env(server.url), retry: { requestTimeoutMs: 300 } });

    await expect(model.generate(PROMPT)).resolves.toMatchObject({ text: expect.stringContaining('return') });
    expect(server.requests).toHaveLength(2);
  });

  it('malformed bodies are LlmApiErrors, not crashes', async () => {
    server = await startFakeServer(() => ({
      headers: { 'content-type': 'application/json' },
      text: '{"choices": [',
    }));
    const { model } = buildModel({ llm: 'openai', env: env(server.url) });
    const broken = await apiError(model.generate(PROMPT));
    expect(broken).toMatchObject({ isRetryable: false, fatal: false });
    expect(broken.message).toMatch(/malformed response/);
    await server.close();

    server = await startFakeServer(() => ({ json: { id: 'x', choices: [] } }));
    const { model: other } = buildModel({ llm: 'openai', env: env(server.url) });
    const empty = await apiError(other.generate(PROMPT));
    expect(empty.message).toContain('expected `choices[0].message.content`');
  });

  it('check sends one token through the configured endpoint; an unknown model is fatal', async () => {
    server = await startFakeServer(openaiApi());
    const { model } = buildModel({ llm: 'openai', env: env(server.url) });
    await expect(model.check!()).resolves.toBeUndefined();
    expect(server.requests[0]!.json).toMatchObject({ model: 'gpt-4o', max_tokens: 1 });
    await server.close();

    server = await startFakeServer(() => ({
      status: 404,
      json: { error: { message: 'The model `gpt-5o` does not exist', code: 'model_not_found' } },
    }));
    const { model: missing } = buildModel({ llm: 'openai', model: 'gpt-5o', env: env(server.url) });
    const error = await apiError(missing.check!());
    expect(error.fatal).toBe(true);
    expect(error.message).toBe(
      `The server at ${server.url}/v1: model not found (404): check --model (gpt-5o) and OPENAI_BASE_URL`,
    );
  });
});
