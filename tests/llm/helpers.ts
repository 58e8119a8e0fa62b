/** Shared pieces of the provider contract tests. */

import { type Sleep, sleep } from '../../src/llm/abort.js';
import { LlmApiError } from '../../src/llm/errors.js';
import { type CreateLanguageModelOptions, createLanguageModel } from '../../src/llm/index.js';
import { Random } from '../../src/random.js';

/** Real sleep that remembers each requested delay, so tests assert on the delay asked for, not on time. */
export function recordingSleep(): { sleep: Sleep; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep: (ms, signal) => {
      delays.push(ms);
      return sleep(ms, signal);
    },
  };
}

/** createLanguageModel with quick backoffs and a short per-attempt timeout, fit for a local server. */
export function buildModel(options: Omit<CreateLanguageModelOptions, 'random'> & { random?: Random }) {
  const recorder = recordingSleep();
  const model = createLanguageModel({
    random: new Random(1),
    ...options,
    retry: {
      initialDelayMs: 1,
      maxDelayMs: 5,
      requestTimeoutMs: 2000,
      sleep: recorder.sleep,
      ...options.retry,
    },
  });
  return { model, delays: recorder.delays };
}

export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

export async function apiError(promise: Promise<unknown>): Promise<LlmApiError> {
  const error = await rejection(promise);
  if (!(error instanceof LlmApiError)) throw new Error(`expected an LlmApiError, got ${String(error)}`);
  return error;
}
