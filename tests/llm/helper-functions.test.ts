/**
 * An answer that defines a helper beside the new version, through every provider (the real SDKs
 * against local fake servers), built into a candidate by the spec code and run in the process
 * sandbox: the helper travels into the body, so the candidate scores instead of failing with
 * NameError.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import type { LlmProviderName } from '../../src/llm/index.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { buildCandidate, initParser, parseSpec } from '../../src/spec/index.js';
import { hostEvaluate, SPEC, withPriority } from '../sandbox/programs.js';
import { type FakeServer, type Handler, startFakeServer } from './fake-server.js';
import { buildModel } from './helpers.js';

const PROMPT =
  'def priority_v1(el: tuple[int, ...], n: int) -> float:\n  """Improved version of `priority_v0`."""\n';

/** What a chat model answers: prose, then the helper and the new version in one fenced block. */
const CHAT_ANSWER = [
  'Counting ones gives a better ordering:',
  '',
  '```python',
  'import numpy as np',
  '',
  '',
  'def ones(v):',
  '    """How many ones `v` holds."""',
  '    return int(np.sum(np.array(v) == 1))',
  '',
  '',
  'def priority_v1(el: tuple[int, ...], n: int) -> float:',
  '    """Improved version of `priority_v0`."""',
  '    return float(ones(el)) - 0.5 * (n - ones(el))',
  '```',
  '',
  'The helper keeps the function short.',
].join('\n');

/** What a completion model continues the prompt with: the body, then the helper it calls. */
const CONTINUATION = [
  '  return float(ones(el)) - 0.5 * (n - ones(el))',
  '',
  '',
  'def ones(v):',
  '  """How many ones `v` holds."""',
  '  return sum(1 for x in v if x == 1)',
  '',
].join('\n');

/** The same priority written inline: the host's python3 scores it independently. */
const EXPECTED = hostEvaluate(
  withPriority('ones = sum(1 for x in el if x == 1)\nreturn float(ones) - 0.5 * (n - ones)'),
  3,
);

const openaiLike = (route: 'chat' | 'completions'): Handler => {
  return (req) => {
    if (req.method !== 'POST') return { status: 404, json: {} };
    if (route === 'chat') {
      const message = { role: 'assistant', content: CHAT_ANSWER };
      return { json: { object: 'chat.completion', choices: [{ index: 0, message, finish_reason: 'stop' }] } };
    }
    return {
      json: { object: 'text_completion', choices: [{ index: 0, text: CONTINUATION, finish_reason: 'stop' }] },
    };
  };
};

const gemini: Handler = () => ({
  json: {
    candidates: [{ content: { role: 'model', parts: [{ text: CHAT_ANSWER }] }, finishReason: 'STOP' }],
  },
});

/** Replicate's predictions API: created `starting`, succeeded on the first poll. */
const replicate: Handler = (req, fake) => {
  if (req.method === 'POST') {
    const urls = { get: `${fake.url}/predictions/p1`, cancel: `${fake.url}/predictions/p1/cancel` };
    return { status: 201, json: { id: 'p1', status: 'starting', urls } };
  }
  return { json: { id: 'p1', status: 'succeeded', output: CONTINUATION.split(/(?<=\n)/) } };
};

interface Case {
  name: string;
  llm: LlmProviderName;
  handler?: Handler;
  env: (url: string) => Record<string, string>;
  endpoint?: 'chat' | 'completions';
}

const CASES: Case[] = [
  {
    name: 'openai chat',
    llm: 'openai',
    handler: openaiLike('chat'),
    env: (url) => ({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `${url}/v1` }),
  },
  {
    name: 'openai completions',
    llm: 'openai',
    endpoint: 'completions',
    handler: openaiLike('completions'),
    env: (url) => ({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `${url}/v1` }),
  },
  {
    name: 'gemini',
    llm: 'gemini',
    handler: gemini,
    env: (url) => ({ GEMINI_API_KEY: 'AIza-test', GOOGLE_GEMINI_BASE_URL: url }),
  },
  {
    name: 'replicate',
    llm: 'replicate',
    handler: replicate,
    env: (url) => ({ REPLICATE_API_TOKEN: 'r8_test', REPLICATE_BASE_URL: url }),
  },
  {
    name: 'starcoder',
    llm: 'starcoder',
    handler: openaiLike('completions'),
    env: (url) => ({ HF_TOKEN: 'hf_test', STARCODER_BASE_URL: url }),
  },
  { name: 'mock', llm: 'mock', env: () => ({}) },
];

let server: FakeServer | undefined;
let sandbox: Sandbox;
let dir: string;
beforeAll(async () => {
  await initParser();
  dir = mkdtempSync(join(tmpdir(), 'funsearch-helpers-'));
  const config = parseConfig({ sandbox: { memory_mb: 256, tmpfs_mb: 8, output_limit_bytes: 64 * 1024 } });
  sandbox = createSandbox({ kind: 'process', config, poolSize: 1 });
  await sandbox.start();
});
afterAll(async () => {
  await sandbox?.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('an answer that defines a helper beside the new version', () => {
  it.each(CASES)('through $name: the helper moves into the body and the candidate runs', async (c) => {
    let env: Record<string, string> = {};
    let mockResponsesFile: string | undefined;
    if (c.handler) {
      server = await startFakeServer(c.handler);
      env = c.env(server.url);
    } else {
      mockResponsesFile = join(dir, 'responses.json');
      writeFileSync(mockResponsesFile, JSON.stringify([CHAT_ANSWER]));
    }
    const { model } = buildModel({
      llm: c.llm,
      env,
      pollIntervalMs: 1,
      latencyMs: 0,
      ...(c.endpoint ? { endpoint: c.endpoint } : {}),
      ...(mockResponsesFile ? { mockResponsesFile } : {}),
    });

    const { text } = await model.generate(PROMPT);
    const spec = parseSpec(SPEC, 'cap_set.py');
    const candidate = buildCandidate(spec.program, spec.functionToEvolve, text, 1);

    if ('error' in candidate) throw new Error(candidate.reason);
    expect(candidate.body).toMatch(/^ {2}def ones\(v\):$/m);
    const outcomes = await sandbox.runBatch({
      program: candidate.program,
      functionToRun: spec.functionToRun,
      testInputs: ['3'],
      timeoutSeconds: 30,
    });
    expect(outcomes).toMatchObject([{ kind: 'ok', score: EXPECTED }]);
  });
});
