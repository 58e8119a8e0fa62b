/**
 * The only place that retries LLM requests (every SDK's own retries are switched off): exponential
 * backoff with jitter for retryable LlmApiErrors (network, 408, 409, 429, 5xx, timeouts), honouring
 * the server's Retry-After, with a timeout per attempt. The caller's abort is final: it is never
 * retried and cuts a backoff short.
 */
import { sleep as realSleep, type Sleep } from './abort.js';
import { isLlmApiError, LlmApiError } from './errors.js';
import type { Completion, LanguageModel } from './language-model.js';

export interface RetryPolicy {
  /** Attempts after the first. */
  maxRetries: number;
  /** Backoff before the first retry, before jitter. */
  initialDelayMs: number;
  /** Growth of the backoff per retry. */
  factor: number;
  /** Cap of the exponential backoff. */
  maxDelayMs: number;
  /**
   * A Retry-After longer than this is not waited out: the error is returned instead (a server that
   * asks for an hour has a quota problem, not a blip).
   */
  maxRetryAfterMs: number;
  /** Per-attempt timeout; the attempt is aborted and counts as a retryable failure. */
  requestTimeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 4,
  initialDelayMs: 1000,
  factor: 2,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 60_000,
  requestTimeoutMs: 180_000,
};

export interface RetryEvent {
  /** 1 for the first retry. */
  retry: number;
  delayMs: number;
  error: LlmApiError;
}

export interface RetryOptions extends Partial<RetryPolicy> {
  /** Source of jitter in [0, 1): the run's seeded Random, so backoffs are reproducible. */
  random: { next(): number };
  /** Injected in tests so backoffs take no time. */
  sleep?: Sleep;
  /** Told before each backoff, for logging. */
  onRetry?: (event: RetryEvent) => void;
}

/** Validates a policy eagerly so a bad value names itself instead of surfacing as a strange wait. */
export function resolvePolicy(options: Partial<RetryPolicy>): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY };
  for (const key of Object.keys(DEFAULT_RETRY_POLICY) as (keyof RetryPolicy)[]) {
    const value = options[key];
    if (value === undefined) continue;
    const min = key === 'factor' || key === 'requestTimeoutMs' ? 1 : 0;
    const ok = Number.isFinite(value) && value >= min && (key !== 'maxRetries' || Number.isInteger(value));
    if (!ok) throw new RangeError(`Expected \`${key}\` to be a finite number >= ${min}, got \`${value}\``);
    policy[key] = value;
  }
  return policy;
}

/**
 * The wait before retry number `retry` (1-based): initial × factor^(retry-1), capped, with "equal
 * jitter" (between half and all of it) so concurrent samplers that failed together spread out.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: { next(): number }): number {
  const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** (retry - 1));
  return Math.round(exponential / 2 + (exponential / 2) * random.next());
}

/**
 * Runs `attempt` until it succeeds, fails for good, or `signal` aborts. Each attempt gets a signal
 * that aborts when the caller's does or when the per-attempt timeout passes.
 */
export async function callWithRetry<T>(
  provider: string,
  attempt: (signal: AbortSignal) => Promise<T>,
  options: RetryOptions,
  signal?: AbortSignal,
): Promise<T> {
  const policy = resolvePolicy(options);
  const sleep = options.sleep ?? realSleep;
  for (let retry = 0; ; retry++) {
    signal?.throwIfAborted();
    let error: unknown;
    try {
      return await attemptWithTimeout(provider, attempt, policy.requestTimeoutMs, signal);
    } catch (caught) {
      error = caught;
    }
    if (signal?.aborted) throw signal.reason;
    if (!isLlmApiError(error) || !error.isRetryable || retry >= policy.maxRetries) throw error;
    let delayMs = backoffDelay(retry + 1, policy, options.random);
    if (error.retryAfterMs !== undefined) {
      if (error.retryAfterMs > policy.maxRetryAfterMs) throw error;
      // The server's wait is a floor: coming back earlier only earns another 429.
      delayMs = Math.max(error.retryAfterMs, 0);
    }
    options.onRetry?.({ retry: retry + 1, delayMs, error });
    await sleep(delayMs, signal);
  }
}

async function attemptWithTimeout<T>(
  provider: string,
  attempt: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<T> {
  // Linked by hand rather than with AbortSignal.any so that no reference to the run-long caller
  // signal outlives the attempt.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`attempt timed out after ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await attempt(controller.signal);
  } catch (error) {
    if (timedOut && !signal?.aborted) {
      throw new LlmApiError(`${provider} request timed out after ${timeoutMs} ms`, {
        provider,
        isRetryable: true,
        cause: error,
      });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** `model` with every call (generate and check) going through the retry policy. */
export function withRetry(model: LanguageModel, options: RetryOptions): LanguageModel {
  resolvePolicy(options);
  const retrying: LanguageModel = {
    provider: model.provider,
    modelId: model.modelId,
    generate: (prompt: string, signal?: AbortSignal): Promise<Completion> =>
      callWithRetry(
        model.provider,
        (attemptSignal) => model.generate(prompt, attemptSignal),
        options,
        signal,
      ),
  };
  const check = model.check?.bind(model);
  if (check) {
    retrying.check = (signal?: AbortSignal) =>
      callWithRetry(model.provider, (attemptSignal) => check(attemptSignal), options, signal);
  }
  return retrying;
}
