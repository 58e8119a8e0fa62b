/**
 * Gemini on Vertex AI with a service-account key: the real @google/genai and google-auth-library
 * clients sign a JWT and exchange it at Google's token endpoint, which a fetch redirect sends to a
 * local server, as it does the Vertex AI requests.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Fetch } from '../../src/llm/http.js';
import { Run } from '../../src/run/run.js';
import { FakeSandbox, testConfig, tinyInputs, tinySpec } from '../run/parts.js';
import { type FakeServer, type Handler, type Reply, startFakeServer } from './fake-server.js';
import { apiError, buildModel } from './helpers.js';

const PROMPT = 'def priority_v1(el, n):\n  """Improved version of `priority_v0`."""\n';
const TOKEN_ENDPOINT = 'https://oauth2.googleapis.com/token';

let dir: string;
let keyFile: string;
let server: FakeServer | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'funsearch-vertex-'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  keyFile = join(dir, 'service-account.json');
  await writeFile(
    keyFile,
    JSON.stringify({
      type: 'service_account',
      project_id: 'my-project',
      private_key_id: 'key-1',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: 'funsearch@my-project.iam.gserviceaccount.com',
      client_id: '1234',
      token_uri: TOKEN_ENDPOINT,
    }),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Sends Google's token endpoint to `tokenUrl` (default: the fake server's /token). */
function redirecting(tokenUrl?: string): { fetch: Fetch; tokenCalls: () => number } {
  let calls = 0;
  const fetch: Fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url === TOKEN_ENDPOINT) {
      calls++;
      return globalThis.fetch(tokenUrl ?? `${server!.url}/token`, init);
    }
    return globalThis.fetch(input, init);
  };
  return { fetch, tokenCalls: () => calls };
}

const ANSWER = {
  candidates: [{ content: { role: 'model', parts: [{ text: '```python\nreturn 1.0\n```' }] } }],
};

/** Vertex AI plus a token endpoint whose successive answers are `tokenReplies` (the last repeats). */
function googleApis(...tokenReplies: Reply[]): Handler {
  let next = 0;
  return (req) => {
    if (req.url === '/token') return tokenReplies[Math.min(next++, tokenReplies.length - 1)]!;
    if (req.url.endsWith(':generateContent')) return { json: ANSWER };
    return { status: 404, json: { error: { code: 404 } } };
  };
}

const token = (value: string, expiresIn = 3600): Reply => ({
  json: { access_token: value, token_type: 'Bearer', expires_in: expiresIn },
});
const unavailable: Reply = {
  status: 503,
  json: { error: 'temporarily_unavailable', error_description: 'The token service is busy' },
};

function vertexModel(fetch: Fetch, env: Record<string, string> = {}, tokenTimeoutMs?: number) {
  return buildModel({
    llm: 'gemini',
    fetch,
    ...(tokenTimeoutMs === undefined
      ? {}
      : { googleAuthOptions: { clientOptions: { transporterOptions: { timeout: tokenTimeoutMs } } } }),
    env: {
      GOOGLE_CLOUD_PROJECT: 'my-project',
      GOOGLE_VERTEX_BASE_URL: server!.url,
      GOOGLE_APPLICATION_CREDENTIALS: keyFile,
      ...env,
    },
  });
}

const tokenRequests = () => server!.requests.filter((r) => r.url === '/token');
const geminiRequests = () => server!.requests.filter((r) => r.url !== '/token');

describe('Vertex AI token endpoint', () => {
  it('exchanges a signed JWT from the key file for the Bearer token on generateContent', async () => {
    server = await startFakeServer(googleApis(token('ya29.first')));
    const { fetch } = redirecting();
    const { model } = vertexModel(fetch);

    await expect(model.generate(PROMPT)).resolves.toMatchObject({
      text: expect.stringContaining('return 1.0'),
    });

    const exchange = tokenRequests()[0]!;
    const form = new URLSearchParams(exchange.body);
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const claims = JSON.parse(Buffer.from(form.get('assertion')!.split('.')[1]!, 'base64url').toString());
    expect(claims.iss).toBe('funsearch@my-project.iam.gserviceaccount.com');
    expect(geminiRequests()[0]!.headers.authorization).toBe('Bearer ya29.first');
  });

  it('a streak of 503s from the token endpoint is retried by the retry policy until a token comes', async () => {
    server = await startFakeServer(googleApis(unavailable, unavailable, unavailable, token('ya29.late')));
    const { fetch, tokenCalls } = redirecting();
    const { model, delays } = vertexModel(fetch);

    await expect(model.generate(PROMPT)).resolves.toMatchObject({
      text: expect.stringContaining('return 1.0'),
    });

    // One token request per attempt: google-auth's own retries are off, the policy's backoffs count.
    expect(tokenCalls()).toBe(4);
    expect(delays).toHaveLength(3);
    expect(geminiRequests()).toHaveLength(1);
    expect(geminiRequests()[0]!.headers.authorization).toBe('Bearer ya29.late');
  });

  it('an outage at token renewal loses at most that sample: the error is retryable, not fatal, and the next call goes on', async () => {
    // Tokens that expire at once, so every call renews; the second renewal meets a long outage.
    server = await startFakeServer(
      googleApis(
        token('ya29.a', 1),
        unavailable,
        unavailable,
        unavailable,
        unavailable,
        unavailable,
        token('ya29.b', 1),
      ),
    );
    const { fetch } = redirecting();
    const { model } = vertexModel(fetch);

    await model.generate(PROMPT);
    const error = await apiError(model.generate(PROMPT));
    expect(error).toMatchObject({ fatal: false, statusCode: 503 });
    expect(error.message).toBe(
      "Google's token endpoint answered 503 (temporarily_unavailable: The token service is busy)",
    );
    await expect(model.generate(PROMPT)).resolves.toMatchObject({
      text: expect.stringContaining('return 1.0'),
    });
    expect(geminiRequests().map((r) => r.headers.authorization)).toEqual(['Bearer ya29.a', 'Bearer ya29.b']);
  });

  it('429 with Retry-After from the token endpoint waits as asked', async () => {
    server = await startFakeServer(
      googleApis(
        { status: 429, headers: { 'retry-after': '0.04' }, json: { error: 'rate_limit_exceeded' } },
        token('ya29.x'),
      ),
    );
    const { fetch } = redirecting();
    const { model, delays } = vertexModel(fetch);

    await expect(model.generate(PROMPT)).resolves.toBeDefined();
    expect(delays).toEqual([40]);
  });

  it('an unreachable token endpoint is a network error, retried, and never fatal', async () => {
    server = await startFakeServer(googleApis(token('unused')));
    const closed = await startFakeServer(() => ({ status: 500 }));
    const closedUrl = closed.url;
    await closed.close();
    const { fetch, tokenCalls } = redirecting(`${closedUrl}/token`);
    const { model } = vertexModel(fetch);

    const error = await apiError(model.generate(PROMPT));

    expect(error).toMatchObject({ fatal: false, isRetryable: true });
    expect(error.message).toMatch(/^Google's token endpoint could not be reached: .*ECONNREFUSED/);
    expect(tokenCalls()).toBe(5); // the first attempt and the policy's 4 retries
    expect(geminiRequests()).toHaveLength(0);
  });

  it('a hung token request times out, and the retry gets a token', async () => {
    server = await startFakeServer(googleApis('hang', token('ya29.after-hang')));
    const { fetch } = redirecting();
    const { model, delays } = vertexModel(fetch, {}, 200);

    await expect(model.generate(PROMPT)).resolves.toMatchObject({
      text: expect.stringContaining('return 1.0'),
    });
    expect(tokenRequests()).toHaveLength(2);
    expect(delays).toHaveLength(1);
  });

  it('the caller’s abort ends a call that waits for a hung token request', async () => {
    server = await startFakeServer(googleApis('hang'));
    const { fetch } = redirecting();
    const { model } = vertexModel(fetch);
    const controller = new AbortController();
    const reason = new Error('run stopped');

    const call = model.generate(PROMPT, controller.signal);
    await vi.waitFor(() => expect(tokenRequests()).toHaveLength(1));
    controller.abort(reason);

    await expect(call).rejects.toBe(reason);
  });

  it('a refused grant (invalid_grant) is fatal at once, shows Google’s description and names GOOGLE_APPLICATION_CREDENTIALS', async () => {
    server = await startFakeServer(
      googleApis({
        status: 400,
        json: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' },
      }),
    );
    const { fetch } = redirecting();
    const { model } = vertexModel(fetch);

    const error = await apiError(model.generate(PROMPT));

    expect(error).toMatchObject({ fatal: true, isRetryable: false, statusCode: 400 });
    expect(error.message).toBe(
      'Vertex AI credentials were refused (400, invalid_grant: Invalid JWT Signature.): run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS, and check GOOGLE_CLOUD_PROJECT',
    );
    expect(tokenRequests()).toHaveLength(1);
    expect(geminiRequests()).toHaveLength(0);
  });

  it('unauthorized_client is fatal too, on check() before a run as on generate', async () => {
    server = await startFakeServer(googleApis({ status: 401, json: { error: 'unauthorized_client' } }));
    const { fetch } = redirecting();
    const { model } = vertexModel(fetch);

    const error = await apiError(model.check!());

    expect(error.fatal).toBe(true);
    expect(error.message).toMatch(/^Vertex AI credentials were refused \(401, unauthorized_client\): run/);
    expect(tokenRequests()).toHaveLength(1);
  });

  it('a missing key file is fatal before any request, naming the file and GOOGLE_APPLICATION_CREDENTIALS', async () => {
    server = await startFakeServer(googleApis(token('unused')));
    const { fetch } = redirecting();
    const missing = join(dir, 'deleted-key.json');
    const { model } = vertexModel(fetch, { GOOGLE_APPLICATION_CREDENTIALS: missing });

    const error = await apiError(model.generate(PROMPT));

    expect(error.fatal).toBe(true);
    expect(error.message).toContain(missing);
    expect(error.message).toContain('GOOGLE_APPLICATION_CREDENTIALS');
    expect(error.message).not.toContain('\n');
    expect(server.requests).toHaveLength(0);
  });

  it('a key file that is not a key is fatal before any request', async () => {
    server = await startFakeServer(googleApis(token('unused')));
    const { fetch } = redirecting();
    const garbled = join(dir, 'garbled.json');
    await writeFile(garbled, '{"type": "service_account", "private_key": "not a key"');
    const { model } = vertexModel(fetch, { GOOGLE_APPLICATION_CREDENTIALS: garbled });

    const error = await apiError(model.generate(PROMPT));

    expect(error.fatal).toBe(true);
    expect(error.message).toMatch(/^Vertex AI credentials are missing or unusable \(.+\): run `gcloud/);
    expect(server.requests).toHaveLength(0);
  });
});

describe('a run on Vertex AI', () => {
  it('goes on through a token-endpoint outage, and stops failed with the fatal error on a refused grant', async () => {
    const spec = await tinySpec();
    const config = testConfig({ llm: { provider: 'gemini', check: false }, total_llm_samples: 2 });
    // Every token expires at once, so each sample renews it: the second renewal meets three 503s.
    server = await startFakeServer(
      googleApis(token('ya29.a', 1), unavailable, unavailable, unavailable, token('ya29.b', 1)),
    );
    const { fetch } = redirecting();
    const ok = new Run({
      config,
      spec,
      inputs: tinyInputs(),
      sandbox: new FakeSandbox(1),
      llm: vertexModel(fetch).model,
    });
    const finished = await ok.start();
    expect(finished).toMatchObject({ status: 'finished', counts: { samplesOk: 8, samplesFailed: 0 } });
    await server.close();

    server = await startFakeServer(
      googleApis({
        status: 400,
        json: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' },
      }),
    );
    const refused = new Run({
      config,
      spec,
      inputs: tinyInputs(),
      sandbox: new FakeSandbox(1),
      llm: vertexModel(redirecting().fetch).model,
    });
    const failed = await refused.start();
    // The CLI turns a fatal error into its one-line message and exit 2.
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ fatal: true });
    expect((failed.error as Error).message).toMatch(
      /^Vertex AI credentials were refused \(400, invalid_grant: Invalid JWT Signature\.\)/,
    );
    expect(tokenRequests().length).toBeLessThanOrEqual(4);
  });
});
