/**
 * The one error type every provider maps its SDK's failures into, and the constructors that
 * classify a failure once (retryable? fatal?) so the retry policy and the CLI never inspect
 * provider-specific errors or message text.
 */

/** Bytes of a response body kept on an error: enough to read the server's reason, not a whole HTML page. */
export const RESPONSE_BODY_LIMIT = 2000;

export interface LlmApiErrorOptions {
  provider: string;
  statusCode?: number;
  responseBody?: string;
  isRetryable: boolean;
  /** A mistake only the user can fix (token, model, base URL): the run must stop, the CLI exits 2. */
  fatal?: boolean;
  /** How long the server asked us to wait before the next request (Retry-After and relatives). */
  retryAfterMs?: number;
  /** `provider:modelId` of the model that failed, set by a mix of several models. */
  model?: string;
  cause?: unknown;
}

export class LlmApiError extends Error {
  override readonly name = 'LlmApiError';
  readonly provider: string;
  readonly statusCode?: number;
  readonly responseBody?: string;
  readonly isRetryable: boolean;
  readonly fatal: boolean;
  readonly retryAfterMs?: number;
  readonly model?: string;

  constructor(message: string, options: LlmApiErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.provider = options.provider;
    this.statusCode = options.statusCode;
    this.responseBody = options.responseBody === undefined ? undefined : truncate(options.responseBody);
    this.fatal = options.fatal ?? false;
    // A fatal error is never worth another attempt, whatever the status says.
    this.isRetryable = options.isRetryable && !this.fatal;
    this.retryAfterMs = options.retryAfterMs;
    this.model = options.model;
  }
}

export function isLlmApiError(error: unknown): error is LlmApiError {
  return error instanceof LlmApiError;
}

/** What a provider tells the user to fix when the server rejects the credentials or the model. */
export interface ProviderHints {
  provider: string;
  /** Human name of the service, e.g. `Replicate`, `the server at http://localhost:8000/v1`. */
  label: string;
  /** What to set when the credentials are rejected, e.g. `set REPLICATE_API_TOKEN in the environment or .env`. */
  credentialFix: string;
  modelId: string;
  /** Extra places to check on a 404 besides --model (e.g. `OPENAI_BASE_URL`). */
  modelFixExtra?: string;
}

export function credentialFixFor(variable: string): string {
  return `set ${variable} in the environment or .env`;
}

/** 408 (timeout), 409 (conflict, e.g. a busy lock), 429 (rate limit) and 5xx are worth another attempt. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Classifies an HTTP failure response. */
export function httpError(
  hints: ProviderHints,
  status: number,
  headers: Headers | undefined,
  body: string,
  cause?: unknown,
): LlmApiError {
  const base = { provider: hints.provider, statusCode: status, responseBody: body, cause };
  if (status === 401 || status === 403 || isInvalidApiKeyBody(body)) {
    const verb = status === 403 ? 'refused access' : 'rejected the token';
    return new LlmApiError(`${hints.label} ${verb} (${status}): ${hints.credentialFix}`, {
      ...base,
      isRetryable: false,
      fatal: true,
    });
  }
  if (status === 404) {
    const extra = hints.modelFixExtra ? ` and ${hints.modelFixExtra}` : '';
    return new LlmApiError(
      `${hints.label}: model not found (404): check --model (${hints.modelId})${extra}`,
      { ...base, isRetryable: false, fatal: true },
    );
  }
  const retryable = isRetryableStatus(status);
  return new LlmApiError(`${hints.label} answered ${status}${summary(body)}`, {
    ...base,
    isRetryable: retryable,
    retryAfterMs: retryable ? (retryAfterFromHeaders(headers) ?? retryAfterFromBody(body)) : undefined,
  });
}

/** The connection failed (refused, reset, DNS, TLS, cut mid-body): worth another attempt. */
export function networkError(hints: ProviderHints, cause: unknown): LlmApiError {
  const reason = cause instanceof Error ? describeCause(cause) : String(cause);
  return new LlmApiError(`${hints.label} could not be reached: ${reason}`, {
    provider: hints.provider,
    isRetryable: true,
    cause,
  });
}

/** The server answered 2xx with something that is not the promised shape; asking again rarely helps. */
export function malformedError(
  hints: ProviderHints,
  detail: string,
  body?: string,
  cause?: unknown,
): LlmApiError {
  return new LlmApiError(`${hints.label} sent a malformed response: ${detail}`, {
    provider: hints.provider,
    responseBody: body,
    isRetryable: false,
    cause,
  });
}

/**
 * Milliseconds to wait from `retry-after-ms` (OpenAI and Azure), or `Retry-After` as seconds or an
 * HTTP date. Undefined when absent or unreadable.
 */
export function retryAfterFromHeaders(
  headers: Headers | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Number(ms);
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Google APIs put the wait into the body as a `google.rpc.RetryInfo` detail (`"retryDelay": "30s"`). */
function retryAfterFromBody(body: string): number | undefined {
  const details = parseErrorDetails(body);
  for (const detail of details) {
    const delay = (detail as { retryDelay?: unknown }).retryDelay;
    if (typeof delay === 'string') {
      const match = /^(\d+(?:\.\d+)?)s$/.exec(delay.trim());
      if (match) return Number(match[1]) * 1000;
    }
  }
  return undefined;
}

/** The Gemini API answers a bad key with 400 and a structured `API_KEY_INVALID` reason, not 401. */
function isInvalidApiKeyBody(body: string): boolean {
  return parseErrorDetails(body).some(
    (detail) => (detail as { reason?: unknown }).reason === 'API_KEY_INVALID',
  );
}

function parseErrorDetails(body: string): object[] {
  if (!body.includes('"details"')) return [];
  try {
    const parsed = JSON.parse(body) as { error?: { details?: unknown } };
    const details = parsed?.error?.details;
    return Array.isArray(details)
      ? details.filter((d): d is object => typeof d === 'object' && d !== null)
      : [];
  } catch {
    return [];
  }
}

function summary(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  if (!text) return '';
  return `: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`;
}

function describeCause(error: Error): string {
  // Node's fetch hides the useful part (ECONNREFUSED, UND_ERR_SOCKET…) in `cause`.
  const inner = (error as { cause?: unknown }).cause;
  if (inner instanceof Error) {
    const code = (inner as { code?: unknown }).code;
    return `${error.message} (${typeof code === 'string' ? `${code}: ` : ''}${inner.message})`;
  }
  return error.message;
}

function truncate(text: string): string {
  return text.length > RESPONSE_BODY_LIMIT ? `${text.slice(0, RESPONSE_BODY_LIMIT)}… [truncated]` : text;
}
