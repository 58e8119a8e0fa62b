/**
 * A deterministic, scripted language model for CI and dry runs: each answer is drawn with the seeded
 * Random from a set of candidate bodies (the built-in cap-set set, or a file), after a latency that
 * stands in for a real API; a share of answers can be faults (retryable errors, hangs, garbage,
 * empty text) to exercise the machinery around the model.
 */
import { UserError } from '../errors.js';
import type { Random } from '../random.js';
import { readUserFileSync } from '../user-file.js';
import { sleep as realSleep, type Sleep, waitForAbort } from './abort.js';
import { LlmApiError } from './errors.js';
import type { Completion, LanguageModel } from './language-model.js';
import { CAP_SET_RESPONSES } from './mock-responses/cap_set.js';

export const MOCK_FAULTS = ['error', 'hang', 'garbage', 'empty'] as const;
export type MockFault = (typeof MOCK_FAULTS)[number];

export const MOCK_DEFAULT_LATENCY_MS = 1000;

/** The line that separates bodies in a text file of mock responses. */
export const MOCK_SEPARATOR = '# ---';

export interface MockModelOptions {
  random: Random;
  /** `mock` by default; a run mixing several mock models tells them apart by it. */
  modelId?: string;
  /** Candidate bodies; the built-in cap-set set by default. */
  responses?: readonly string[];
  /** Wait before each answer (abortable). */
  latencyMs?: number;
  /** Share of answers (0..1) that are faults. */
  faultRate?: number;
  /** Fault kinds to draw from; all by default. */
  faults?: readonly MockFault[];
  /** Injected in tests. */
  sleep?: Sleep;
}

export function createMockModel(options: MockModelOptions): LanguageModel {
  const responses = options.responses ?? CAP_SET_RESPONSES;
  const latencyMs = options.latencyMs ?? MOCK_DEFAULT_LATENCY_MS;
  const faultRate = options.faultRate ?? 0;
  const faults = options.faults ?? MOCK_FAULTS;
  const sleep = options.sleep ?? realSleep;
  const { random } = options;
  if (responses.length === 0) throw new RangeError('Expected at least one mock response');
  if (!Number.isFinite(latencyMs) || latencyMs < 0) {
    throw new RangeError(`Expected \`latencyMs\` to be a finite number >= 0, got \`${latencyMs}\``);
  }
  if (!(faultRate >= 0 && faultRate <= 1)) {
    throw new RangeError(`Expected \`faultRate\` to be a number from 0 to 1, got \`${faultRate}\``);
  }
  if (faultRate > 0 && faults.length === 0) throw new RangeError('Expected at least one fault kind');

  return {
    provider: 'mock',
    modelId: options.modelId ?? 'mock',

    async generate(prompt: string, signal?: AbortSignal): Promise<Completion> {
      // Every draw happens before the first await, so the answers depend on the order of the
      // calls only, not on how their latencies interleave.
      const fault = random.next() < faultRate ? faults[random.int(faults.length)] : undefined;
      const text = fault === 'garbage' ? garbage(random) : fault === 'empty' ? '' : random.pick(responses);
      signal?.throwIfAborted();
      if (fault === 'hang') return waitForAbort(signal);
      await sleep(latencyMs, signal);
      if (fault === 'error') {
        throw new LlmApiError('mock: injected server error (500)', {
          provider: 'mock',
          statusCode: 500,
          responseBody: '{"error":"injected fault"}',
          isRetryable: true,
        });
      }
      // Stand-in counts (about four characters a token) so dry runs exercise the usage meter.
      return {
        text,
        usage: { inputTokens: Math.ceil(prompt.length / 4), outputTokens: Math.ceil(text.length / 4) },
      };
    },

    async check(signal?: AbortSignal): Promise<void> {
      signal?.throwIfAborted();
    },
  };
}

/** What a broken gateway or a confused model might send: printable noise of random length. */
function garbage(random: Random): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 <>{}()[]:;=+-*/#@!?"\'\n\t';
  const length = 20 + random.int(180);
  let text = '';
  for (let i = 0; i < length; i++) text += alphabet[random.int(alphabet.length)];
  return text;
}

/**
 * Candidate bodies from a file: a JSON array of strings, or text with the bodies separated by lines
 * `# ---` (blank-only pieces are dropped; each body keeps its indentation).
 */
export function loadMockResponses(path: string): string[] {
  const text = readUserFileSync({ path, what: 'the mock responses file', fix: 'check --mock-responses' });
  return parseMockResponses(text, path);
}

export function parseMockResponses(text: string, source: string): string[] {
  let responses: string[];
  if (text.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new UserError(`${source}: not valid JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
      throw new UserError(`${source}: expected a JSON array of strings`);
    }
    responses = parsed;
  } else {
    responses = text
      .replace(/\r\n?/g, '\n')
      .split(/^# ---[ \t]*(?:\n|$)/m)
      .filter((piece) => piece.trim() !== '');
  }
  if (responses.length === 0) throw new UserError(`${source}: no responses found`);
  return responses;
}
