/**
 * The network boundary of the HTTP providers: a fetch wrapper that turns every transport failure and
 * every non-2xx answer into an LlmApiError where the status, headers and body are all in hand, and
 * reads the whole body so a connection cut mid-answer is a network error rather than an SDK parse
 * error. The SDKs still build the requests and parse the successful answers.
 */
import { httpError, type LlmApiError, networkError, type ProviderHints } from './errors.js';

export type Fetch = typeof globalThis.fetch;

/** Statuses whose responses must not carry a body (the Response constructor refuses one). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

const FAILURE = Symbol('funsearch.llm.failure');

/** Fetch that throws the LlmApiError itself; for SDKs that let a fetch rejection through untouched. */
export function throwingFetch(inner: Fetch, hints: ProviderHints): Fetch {
  return async (input, init) => {
    const outcome = await guardedRequest(inner, hints, input, init);
    if (outcome instanceof Response) return outcome;
    throw outcome.error;
  };
}

/**
 * Fetch for SDKs that retry on their own and offer no switch to stop it (replicate 1.x retries 429
 * and GET 5xx five times and swallows fetch rejections): a failure comes back as a stand-in 400
 * response, which those SDKs never retry, carrying the real error for `failureOf` to recover.
 */
export function standInFetch(inner: Fetch, hints: ProviderHints): Fetch {
  return async (input, init) => {
    const outcome = await guardedRequest(inner, hints, input, init);
    if (outcome instanceof Response) return outcome;
    const standIn = new Response(null, { status: 400, statusText: 'funsearch stand-in' });
    Object.defineProperty(standIn, FAILURE, { value: outcome.error });
    return standIn;
  };
}

/**
 * Fetch that reads the whole body before handing the response over, so a connection cut mid-answer
 * fails here, where the SDK reports it as a connection error, instead of in its JSON parsing.
 */
export function bufferingFetch(inner: Fetch): Fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    const body = await response.arrayBuffer();
    return rebuild(response, body);
  };
}

/** The error a stand-in response carries (an LlmApiError, or the abort reason), if `response` is one. */
export function failureOf(response: unknown): unknown {
  if (typeof response === 'object' && response !== null && FAILURE in response) {
    return (response as { [FAILURE]: unknown })[FAILURE];
  }
  return undefined;
}

async function guardedRequest(
  inner: Fetch,
  hints: ProviderHints,
  input: Parameters<Fetch>[0],
  init: Parameters<Fetch>[1],
): Promise<Response | { error: unknown }> {
  const signal = init?.signal ?? undefined;
  let response: Response;
  let body: ArrayBuffer;
  try {
    response = await inner(input, init);
    body = await response.arrayBuffer();
  } catch (error) {
    // An abort is the caller's (or the retry policy's timeout): pass the reason on untouched.
    if (signal?.aborted) return { error: signal.reason ?? error };
    return { error: networkError(hints, error) };
  }
  if (!response.ok) {
    const text = new TextDecoder().decode(body);
    const error: LlmApiError = httpError(hints, response.status, response.headers, text);
    return { error };
  }
  return rebuild(response, body);
}

function rebuild(response: Response, body: ArrayBuffer): Response {
  return new Response(NULL_BODY_STATUSES.has(response.status) ? null : body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
