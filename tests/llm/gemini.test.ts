import { afterEach, describe, expect, it } from 'vitest';
import { CHAT_SYSTEM_PROMPT } from '../../src/llm/chat.js';
import { type FakeServer, type Handler, startFakeServer } from './fake-server.js';
import { apiError, buildModel } from './helpers.js';

const PROMPT = 'def priority_v1(el, n):\n  """Improved version of `priority_v0`."""\n';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const ANSWER = '```python\nscore = el.count(2) % 3\nreturn float(score)\n```';

function geminiApi(): Handler {
  return (req) => {
    if (req.method === 'POST' && req.url.endsWith('/models/gemini-2.5-flash:generateContent')) {
      return {
        json: {
          candidates: [
            {
              content: { role: 'model', parts: [{ text: 'thinking…', thought: true }, { text: ANSWER }] },
              finishReason: 'STOP',
            },
          ],
          usageMetadata: {
            promptTokenCount: 80,
            candidatesTokenCount: 20,
            thoughtsTokenCount: 100,
            totalTokenCount: 200,
          },
          modelVersion: 'gemini-2.5-flash',
        },
      };
    }
    if (req.method === 'GET' && req.url.endsWith('/models/gemini-2.5-flash')) {
      return { json: { name: 'models/gemini-2.5-flash', displayName: 'Gemini 2.5 Flash' } };
    }
    return {
      status: 404,
      json: { error: { code: 404, message: 'models/x is not found', status: 'NOT_FOUND' } },
    };
  };
}

const apiKeyEnv = (url: string) => ({ GEMINI_API_KEY: 'AIza-test', GOOGLE_GEMINI_BASE_URL: url });

describe('gemini provider with an API key against a local Gemini API', () => {
  it('sends the program with the system instruction and config, and returns the fenced code (thoughts left out)', async () => {
    server = await startFakeServer(geminiApi());
    const { model } = buildModel({ llm: 'gemini', env: apiKeyEnv(server.url), params: { temperature: 1.1 } });

    const completion = await model.generate(PROMPT);

    expect(completion.text).toBe('score = el.count(2) % 3\nreturn float(score)\n');
    // Thinking tokens are billed as output.
    expect(completion.usage).toEqual({ inputTokens: 80, outputTokens: 120 });
    const request = server.requests[0]!;
    expect(request.url).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(request.headers['x-goog-api-key']).toBe('AIza-test');
    expect(request.json).toEqual({
      contents: [{ role: 'user', parts: [{ text: PROMPT }] }],
      systemInstruction: { role: 'user', parts: [{ text: CHAT_SYSTEM_PROMPT }] },
      generationConfig: { temperature: 1.1, topP: 0.9, maxOutputTokens: 4096 },
    });
  });

  it('a bad key (400 API_KEY_INVALID, as the Gemini API answers) is fatal and names GEMINI_API_KEY', async () => {
    server = await startFakeServer(() => ({
      status: 400,
      json: {
        error: {
          code: 400,
          message: 'API key not valid. Please pass a valid API key.',
          status: 'INVALID_ARGUMENT',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
        },
      },
    }));
    const { model } = buildModel({ llm: 'gemini', env: apiKeyEnv(server.url) });

    const error = await apiError(model.generate(PROMPT));

    expect(error).toMatchObject({ fatal: true, isRetryable: false, statusCode: 400 });
    expect(error.message).toBe(
      'The Gemini API rejected the token (400): set GEMINI_API_KEY in the environment or .env',
    );
    expect(server.requests).toHaveLength(1);
  });

  it('401 is fatal too', async () => {
    server = await startFakeServer(() => ({
      status: 401,
      json: { error: { code: 401, status: 'UNAUTHENTICATED' } },
    }));
    const { model } = buildModel({ llm: 'gemini', env: apiKeyEnv(server.url) });
    expect((await apiError(model.generate(PROMPT))).fatal).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('429 is retried after the RetryInfo delay in the body', async () => {
    const api = geminiApi();
    let calls = 0;
    server = await startFakeServer((req, fake) =>
      ++calls === 1
        ? {
            status: 429,
            json: {
              error: {
                code: 429,
                status: 'RESOURCE_EXHAUSTED',
                details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '0.05s' }],
              },
            },
          }
        : api(req, fake),
    );
    const { model, delays } = buildModel({ llm: 'gemini', env: apiKeyEnv(server.url) });

    await expect(model.generate(PROMPT)).resolves.toMatchObject({ usage: { inputTokens: 80 } });
    expect(server.requests).toHaveLength(2);
    expect(delays).toEqual([50]);
  });

  it('503 is retried; a hung connection times out and is retried', async () => {
    const api = geminiApi();
    let calls = 0;
    server = await startFakeServer((req, fake) => {
      calls++;
      if (calls === 1) return { status: 503, json: { error: { code: 503, status: 'UNAVAILABLE' } } };
      if (calls === 2) return 'hang';
      return api(req, fake);
    });
    const { model } = buildModel({
      llm: 'gemini',
      env: apiKeyEnv(server.url),
      retry: { requestTimeoutMs: 300 },
    });

    await expect(model.generate(PROMPT)).resolves.toMatchObject({ text: expect.stringContaining('return') });
    expect(server.requests).toHaveLength(3);
  });

  it('malformed bodies are LlmApiErrors', async () => {
    server = await startFakeServer(() => ({
      headers: { 'content-type': 'application/json' },
      text: 'not json at all',
    }));
    const { model } = buildModel({ llm: 'gemini', env: apiKeyEnv(server.url) });
    const error = await apiError(model.generate(PROMPT));
    expect(error).toMatchObject({ isRetryable: false, fatal: false, provider: 'gemini' });
    expect(error.message).toMatch(/^The Gemini API sent a malformed response/);
    expect(server.requests).toHaveLength(1);
  });

  it('check gets the model; an unknown model is fatal', async () => {
    server = await startFakeServer(geminiApi());
    const { model } = buildModel({ llm: 'gemini', env: apiKeyEnv(server.url) });
    await expect(model.check!()).resolves.toBeUndefined();
    expect(`${server.requests[0]!.method} ${server.requests[0]!.url}`).toBe(
      'GET /v1beta/models/gemini-2.5-flash',
    );

    const { model: missing } = buildModel({ llm: 'gemini', model: 'gemini-0', env: apiKeyEnv(server.url) });
    const error = await apiError(missing.check!());
    expect(error.fatal).toBe(true);
    expect(error.message).toBe('The Gemini API: model not found (404): check --model (gemini-0)');
  });
});

describe('gemini provider on Vertex AI (credentials injected, no Google network)', () => {
  /** An auth client as google-auth-library would hand out, minus the token exchange. */
  const authClient = { getRequestHeaders: async () => new Headers({ authorization: 'Bearer ya29.test' }) };
  const vertexEnv = (url: string) => ({
    GOOGLE_CLOUD_PROJECT: 'my-project',
    GOOGLE_CLOUD_LOCATION: 'europe-west4',
    GOOGLE_VERTEX_BASE_URL: url,
  });

  it('calls the project and location path with the OAuth token', async () => {
    server = await startFakeServer(geminiApi());
    const { model } = buildModel({
      llm: 'gemini',
      env: vertexEnv(server.url),
      googleAuthOptions: { authClient: authClient as never },
    });

    const completion = await model.generate(PROMPT);

    expect(completion.text).toContain('return float(score)');
    const request = server.requests[0]!;
    expect(request.url).toBe(
      '/v1beta1/projects/my-project/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent',
    );
    expect(request.headers.authorization).toBe('Bearer ya29.test');
    expect(request.headers['x-goog-api-key']).toBeUndefined();
  });

  it('GOOGLE_GENAI_USE_VERTEXAI=true wins over an API key in the environment', async () => {
    server = await startFakeServer(geminiApi());
    const { model } = buildModel({
      llm: 'gemini',
      env: { ...vertexEnv(server.url), GEMINI_API_KEY: 'AIza-ignored', GOOGLE_GENAI_USE_VERTEXAI: 'true' },
      googleAuthOptions: { authClient: authClient as never },
    });
    await model.generate(PROMPT);
    expect(server.requests[0]!.url).toContain('/projects/my-project/');
  });

  it('credentials that cannot be loaded are fatal before any request', async () => {
    server = await startFakeServer(geminiApi());
    const broken = {
      getRequestHeaders: async () => {
        throw new Error('Could not load the default credentials');
      },
    };
    const { model } = buildModel({
      llm: 'gemini',
      env: vertexEnv(server.url),
      googleAuthOptions: { authClient: broken as never },
    });

    const error = await apiError(model.generate(PROMPT));

    expect(error.fatal).toBe(true);
    expect(error.message).toContain('gcloud auth application-default login');
    expect(error.message).toContain('GOOGLE_APPLICATION_CREDENTIALS');
    expect(server.requests).toHaveLength(0);
  });

  it('403 from Vertex AI is fatal and says how to fix the credentials', async () => {
    server = await startFakeServer(() => ({
      status: 403,
      json: { error: { code: 403, status: 'PERMISSION_DENIED' } },
    }));
    const { model } = buildModel({
      llm: 'gemini',
      env: vertexEnv(server.url),
      googleAuthOptions: { authClient: authClient as never },
    });
    const error = await apiError(model.generate(PROMPT));
    expect(error.fatal).toBe(true);
    expect(error.message).toMatch(
      /^Vertex AI \(project my-project\) refused access \(403\): run `gcloud auth/,
    );
  });
});
