import { describe, expect, it } from 'vitest';
import { LlmApiError, retryAfterFromHeaders } from '../../src/llm/errors.js';
import type { LanguageModel } from '../../src/llm/language-model.js';
import {
  backoffDelay,
  callWithRetry,
  DEFAULT_RETRY_POLICY,
  resolvePolicy,
  withRetry,
} from '../../src/llm/retry.js';
import { rejection } from './helpers.js';

/** Sleep that takes no time and remembers what it was asked for. */
function fakeSleep() {
  const delays: number[] = [];
  const sleep = async (ms: number, signal?: AbortSignal) => {
    signal?.throwIfAborted();
    delays.push(ms);
  };
  return { delays, sleep };
}

const fixedRandom = (value: number) => ({ next: () => value });

const retryable = (extra: Partial<{ retryAfterMs: number; statusCode: number }> = {}) =>
  new LlmApiError('busy', { provider: 'test', isRetryable: true, ...extra });

/** An attempt function that fails with the given errors, then succeeds with 'ok'. */
function failing(...errors: unknown[]) {
  const signals: AbortSignal[] = [];
  const attempt = async (signal: AbortSignal) => {
    signals.push(signal);
    const error = errors[signals.length - 1];
    if (error !== undefined) throw error;
    return 'ok';
  };
  return { attempt, signals };
}

describe('callWithRetry', () => {
  it('retries retryable errors with exponential backoff and jitter from the injected random', async () => {
    const { delays, sleep } = fakeSleep();
    const { attempt, signals } = failing(retryable(), retryable(), retryable());

    const result = await callWithRetry('test', attempt, {
      random: fixedRandom(0.5),
      sleep,
      initialDelayMs: 100,
      factor: 2,
      maxDelayMs: 10_000,
    });

    expect(result).toBe('ok');
    expect(signals).toHaveLength(4);
    // Equal jitter: half of 100·2^k fixed, the other half scaled by random = 0.5.
    expect(delays).toEqual([75, 150, 300]);
  });

  it('jitter spans half to all of the exponential delay, capped by maxDelayMs', () => {
    const policy = resolvePolicy({ initialDelayMs: 1000, factor: 2, maxDelayMs: 5000 });
    expect(backoffDelay(1, policy, fixedRandom(0))).toBe(500);
    expect(backoffDelay(1, policy, fixedRandom(0.999999))).toBe(1000);
    expect(backoffDelay(10, policy, fixedRandom(0))).toBe(2500);
    expect(backoffDelay(10, policy, fixedRandom(0.999999))).toBe(5000);
  });

  it('waits what Retry-After asked instead of the backoff', async () => {
    const { delays, sleep } = fakeSleep();
    const { attempt } = failing(retryable({ retryAfterMs: 7000 }));
    await callWithRetry('test', attempt, { random: fixedRandom(0), sleep, initialDelayMs: 10 });
    expect(delays).toEqual([7000]);
  });

  it('gives up at once when Retry-After is longer than maxRetryAfterMs', async () => {
    const { delays, sleep } = fakeSleep();
    const error = retryable({ retryAfterMs: 3_600_000 });
    const { attempt, signals } = failing(error);
    await expect(callWithRetry('test', attempt, { random: fixedRandom(0), sleep })).rejects.toBe(error);
    expect(signals).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('does not retry non-retryable, fatal or foreign errors', async () => {
    const { sleep } = fakeSleep();
    const fatal = new LlmApiError('no', {
      provider: 'test',
      statusCode: 401,
      isRetryable: true,
      fatal: true,
    });
    const plain = new LlmApiError('bad request', { provider: 'test', statusCode: 400, isRetryable: false });
    const bug = new TypeError('bug');
    for (const error of [fatal, plain, bug]) {
      const { attempt, signals } = failing(error);
      await expect(callWithRetry('test', attempt, { random: fixedRandom(0), sleep })).rejects.toBe(error);
      expect(signals).toHaveLength(1);
    }
    expect(fatal.isRetryable).toBe(false);
  });

  it('stops after maxRetries and rethrows the last error', async () => {
    const { sleep } = fakeSleep();
    const errors = [retryable(), retryable(), retryable()];
    const { attempt, signals } = failing(...errors);
    await expect(
      callWithRetry('test', attempt, { random: fixedRandom(0), sleep, maxRetries: 2 }),
    ).rejects.toBe(errors[2]);
    expect(signals).toHaveLength(3);
  });

  it("never retries after the caller's abort, and rejects with the abort reason", async () => {
    const { sleep } = fakeSleep();
    const controller = new AbortController();
    const attempt = async () => {
      controller.abort();
      throw retryable();
    };
    const retries: number[] = [];
    const error = await rejection(
      callWithRetry(
        'test',
        attempt,
        { random: fixedRandom(0), sleep, onRetry: (event) => retries.push(event.retry) },
        controller.signal,
      ),
    );
    expect((error as Error).name).toBe('AbortError');
    expect(retries).toEqual([]);
  });

  it('an abort during the backoff ends the wait and the call', async () => {
    const controller = new AbortController();
    let attempts = 0;
    const attempt = async () => {
      attempts++;
      throw retryable();
    };
    const pending = callWithRetry(
      'test',
      attempt,
      { random: fixedRandom(0), initialDelayMs: 60_000 },
      controller.signal,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    expect(attempts).toBe(1);
  });

  it('does not start when the signal is already aborted', async () => {
    const { attempt, signals } = failing();
    const error = await rejection(
      callWithRetry('test', attempt, { random: fixedRandom(0) }, AbortSignal.abort()),
    );
    expect((error as Error).name).toBe('AbortError');
    expect(signals).toHaveLength(0);
  });

  it('times an attempt out through its signal, as a retryable error, then retries', async () => {
    const { sleep } = fakeSleep();
    let attempts = 0;
    const attempt = (signal: AbortSignal) => {
      attempts++;
      if (attempts > 1) return Promise.resolve('second time lucky');
      return new Promise<string>((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason)),
      );
    };
    const events: string[] = [];
    const result = await callWithRetry('test', attempt, {
      random: fixedRandom(0),
      sleep,
      requestTimeoutMs: 20,
      onRetry: (event) => events.push(event.error.message),
    });
    expect(result).toBe('second time lucky');
    expect(events).toEqual(['test request timed out after 20 ms']);
  });

  it("the attempt's signal follows the caller's signal", async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const attempt = (signal: AbortSignal) => {
      seen = signal;
      return new Promise<string>((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason)),
      );
    };
    const pending = callWithRetry('test', attempt, { random: fixedRandom(0) }, controller.signal);
    controller.abort(new Error('caller gone'));
    await expect(pending).rejects.toThrow('caller gone');
    expect(seen?.aborted).toBe(true);
  });

  it('rejects invalid policies eagerly, naming the option', () => {
    expect(() => resolvePolicy({ maxRetries: -1 })).toThrow(
      'Expected `maxRetries` to be a finite number >= 0, got `-1`',
    );
    expect(() => resolvePolicy({ maxRetries: 1.5 })).toThrow(/maxRetries/);
    expect(() => resolvePolicy({ requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs/);
    expect(resolvePolicy({})).toEqual(DEFAULT_RETRY_POLICY);
  });
});

describe('withRetry', () => {
  it('wraps generate and check, keeping provider and model id', async () => {
    const { sleep } = fakeSleep();
    let generateCalls = 0;
    let checkCalls = 0;
    const model: LanguageModel = {
      provider: 'p',
      modelId: 'm',
      async generate() {
        if (++generateCalls === 1) throw retryable();
        return { text: 'body' };
      },
      async check() {
        if (++checkCalls === 1) throw retryable({ statusCode: 503 });
      },
    };
    const wrapped = withRetry(model, { random: fixedRandom(0), sleep });
    expect([wrapped.provider, wrapped.modelId]).toEqual(['p', 'm']);
    await expect(wrapped.generate('x')).resolves.toEqual({ text: 'body' });
    await expect(wrapped.check!()).resolves.toBeUndefined();
    expect([generateCalls, checkCalls]).toEqual([2, 2]);
  });
});

describe('retryAfterFromHeaders', () => {
  it('reads retry-after-ms, seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterFromHeaders(new Headers({ 'retry-after-ms': '250' }), now)).toBe(250);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': '3' }), now)).toBe(3000);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': '1.5' }), now)).toBe(1500);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:10 GMT' }), now)).toBe(
      10_000,
    );
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': 'Tue, 31 Dec 2024 00:00:00 GMT' }), now)).toBe(
      0,
    );
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterFromHeaders(new Headers(), now)).toBeUndefined();
    // retry-after-ms is the more precise of the two.
    expect(retryAfterFromHeaders(new Headers({ 'retry-after-ms': '20', 'retry-after': '1' }), now)).toBe(20);
  });
});
