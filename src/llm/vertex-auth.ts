/**
 * Vertex AI's credentials: the google-auth-library options the Gemini client gets, and the one
 * classification of what google-auth throws before a Gemini request goes out. An access token is
 * renewed about every hour, so the token endpoint is called throughout a long run, and a passing
 * outage there must be retried like any other request; only a definite refusal ends the run.
 */
import type { GoogleGenAIOptions } from '@google/genai';
import { isRetryableStatus, LlmApiError, retryAfterFromHeaders } from './errors.js';
import type { Fetch } from './http.js';

export type GoogleAuthOptions = NonNullable<GoogleGenAIOptions['googleAuthOptions']>;

/** A token exchange takes well under a second; one that takes a minute is a hung endpoint. */
export const TOKEN_REQUEST_TIMEOUT_MS = 60_000;

export const VERTEX_CREDENTIAL_FIX =
  'run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS, and check GOOGLE_CLOUD_PROJECT';

/**
 * `given` with google-auth's own retries switched off (retries belong to the retry policy), a
 * timeout on token requests, the key file, and the provider's fetch for token requests too (so a
 * test's loopback redirect reaches the token endpoint as well). Options the caller set win.
 */
export function vertexAuthOptions(
  given: GoogleAuthOptions | undefined,
  keyFile: string | undefined,
  fetch: Fetch | undefined,
): GoogleAuthOptions {
  const clientOptions = (given?.clientOptions ?? {}) as { transporterOptions?: object };
  return {
    ...(keyFile === undefined ? {} : { keyFilename: keyFile }),
    ...given,
    clientOptions: {
      ...(clientOptions as object),
      transporterOptions: {
        retryConfig: { retry: 0, noResponseRetries: 0 },
        timeout: TOKEN_REQUEST_TIMEOUT_MS,
        ...(fetch === undefined ? {} : { fetchImplementation: fetch }),
        ...clientOptions.transporterOptions,
      },
    },
  };
}

/** The parts of gaxios' GaxiosError read here (gaxios is google-auth's, not a dependency of ours). */
interface TokenRequestFailure extends Error {
  config: object;
  response?: { status: number; headers?: unknown; data?: unknown };
  cause?: unknown;
}

/** The mark gaxios itself uses to recognise its errors across copies of the library. */
const GAXIOS_ERROR = Symbol.for('gaxios-gaxios-error');

function isTokenRequestFailure(error: unknown): error is TokenRequestFailure {
  return error instanceof Error && GAXIOS_ERROR in error;
}

/**
 * Maps a failure of google-auth-library (Vertex AI only, before the Gemini request was sent):
 * - the token endpoint unreachable, timed out, or answering 408/429/5xx: retryable;
 * - the token endpoint refusing the grant (invalid_grant, unauthorized_client, any other 4xx):
 *   fatal, with Google's `error_description`;
 * - no credentials found, a key file missing, unreadable or malformed: fatal.
 */
export function vertexAuthError(error: unknown): LlmApiError {
  if (!isTokenRequestFailure(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return new LlmApiError(
      `Vertex AI credentials are missing or unusable (${oneLine(message)}): ${VERTEX_CREDENTIAL_FIX}`,
      { provider: 'gemini', isRetryable: false, fatal: true, cause: error },
    );
  }
  const response = error.response;
  if (response === undefined) {
    return new LlmApiError(`Google's token endpoint could not be reached: ${describeCause(error)}`, {
      provider: 'gemini',
      isRetryable: true,
      cause: error,
    });
  }
  const status = response.status;
  const reason = oauthReason(response.data);
  const body = typeof response.data === 'string' ? response.data : JSON.stringify(response.data);
  if (isRetryableStatus(status)) {
    const headers = response.headers instanceof Headers ? response.headers : undefined;
    return new LlmApiError(`Google's token endpoint answered ${status}${reason ? ` (${reason})` : ''}`, {
      provider: 'gemini',
      statusCode: status,
      responseBody: body,
      isRetryable: true,
      retryAfterMs: retryAfterFromHeaders(headers),
      cause: error,
    });
  }
  return new LlmApiError(
    `Vertex AI credentials were refused (${status}${reason ? `, ${reason}` : ''}): ${VERTEX_CREDENTIAL_FIX}`,
    {
      provider: 'gemini',
      statusCode: status,
      responseBody: body,
      isRetryable: false,
      fatal: true,
      cause: error,
    },
  );
}

/** `invalid_grant: Invalid JWT Signature.` from an OAuth 2.0 error body (RFC 6749 §5.2), if it is one. */
function oauthReason(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { error, error_description: description } = data as Record<string, unknown>;
  if (typeof error !== 'string') return undefined;
  return typeof description === 'string' && description.trim() ? `${error}: ${oneLine(description)}` : error;
}

function describeCause(error: Error): string {
  // gaxios says only "fetch failed"; the useful part (ECONNREFUSED, a timeout) is in the causes.
  const parts = [error.message];
  let inner = (error as { cause?: unknown }).cause;
  for (let depth = 0; inner instanceof Error && depth < 3; depth++) {
    const code = (inner as { code?: unknown }).code;
    parts.push(
      typeof code === 'string' && !inner.message.includes(code) ? `${code}: ${inner.message}` : inner.message,
    );
    inner = (inner as { cause?: unknown }).cause;
  }
  return oneLine([...new Set(parts)].join(': '));
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
