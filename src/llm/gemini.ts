/**
 * Gemini through `@google/genai`, either with a Gemini API key or on Vertex AI (Google Cloud
 * project, location and Application Default Credentials). Gemini succeeds the PaLM 2 code models
 * (code-bison, code-gecko) on Vertex AI that the original README names; Google retired those.
 * Gemini models are instruction-tuned, so they get the chat treatment: a system instruction, and
 * the answer's code block as the sample.
 */
import type { GenerateContentResponse, GoogleGenAIOptions } from '@google/genai';
import { untilAborted } from './abort.js';
import { CHAT_SYSTEM_PROMPT, chatAnswerCode } from './chat.js';
import { credentialFixFor, LlmApiError, malformedError, type ProviderHints } from './errors.js';
import { type Fetch, throwingFetch } from './http.js';
import type { Completion, LanguageModel } from './language-model.js';
import { mergeParams, type Params, tokenCount } from './params.js';
import { loadOnce } from './sdk.js';
import { VERTEX_CREDENTIAL_FIX, vertexAuthError, vertexAuthOptions } from './vertex-auth.js';

export const GEMINI_DEFAULT_MODEL = 'gemini-2.5-flash';
export const VERTEX_DEFAULT_LOCATION = 'us-central1';

/**
 * `GenerateContentConfig` fields. The output cap leaves room for the thinking tokens Gemini 2.5
 * models spend (and bill) before answering, which count against it.
 */
export const GEMINI_DEFAULT_PARAMS: Readonly<Params> = {
  temperature: 0.75,
  topP: 0.9,
  maxOutputTokens: 4096,
};

export interface VertexOptions {
  project: string;
  location?: string;
  /** A key file (GOOGLE_APPLICATION_CREDENTIALS); without one Application Default Credentials are looked up. */
  keyFile?: string;
  /** Passed to google-auth-library (tests inject an auth client or a transporter here). */
  googleAuthOptions?: GoogleGenAIOptions['googleAuthOptions'];
}

export interface GeminiModelOptions {
  /** Gemini API key; ignored when `vertex` is given. */
  apiKey?: string;
  vertex?: VertexOptions;
  /** Replaces https://generativelanguage.googleapis.com (or the Vertex AI endpoint). */
  baseUrl?: string;
  fetch?: Fetch;
  model?: string;
  /** GenerateContentConfig fields merged over the defaults; `null` removes one. */
  params?: Params;
  systemPrompt?: string;
}

export function createGeminiModel(options: GeminiModelOptions): LanguageModel {
  const modelId = options.model ?? GEMINI_DEFAULT_MODEL;
  const params = mergeParams(GEMINI_DEFAULT_PARAMS, options.params);
  const systemPrompt = options.systemPrompt ?? CHAT_SYSTEM_PROMPT;
  const vertex = options.vertex;
  if (!vertex && !options.apiKey)
    throw new RangeError('Expected `apiKey` or `vertex` for the Gemini provider');
  const hints: ProviderHints = {
    provider: 'gemini',
    label: vertex ? `Vertex AI (project ${vertex.project})` : 'The Gemini API',
    credentialFix: vertex ? VERTEX_CREDENTIAL_FIX : credentialFixFor('GEMINI_API_KEY'),
    modelId,
    modelFixExtra: vertex ? 'GOOGLE_CLOUD_LOCATION' : undefined,
  };
  const fetch = throwingFetch(options.fetch ?? globalThis.fetch, hints);
  const httpOptions = {
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    fetch,
    // One attempt: retries belong to the retry policy.
    retryOptions: { attempts: 1 },
  };
  // Every value is passed explicitly so the SDK's own process.env fallbacks never decide anything.
  const clientOptions: GoogleGenAIOptions = vertex
    ? {
        vertexai: true,
        project: vertex.project,
        location: vertex.location ?? VERTEX_DEFAULT_LOCATION,
        googleAuthOptions: vertexAuthOptions(vertex.googleAuthOptions, vertex.keyFile, options.fetch),
        httpOptions,
      }
    : { vertexai: false, apiKey: options.apiKey, httpOptions };
  const client = loadOnce(async () => new (await import('@google/genai')).GoogleGenAI(clientOptions));

  /**
   * Maps what the SDK threw. On Vertex, an error before any request went out comes from
   * google-auth-library: the token endpoint or the credentials (see ./vertex-auth.ts).
   */
  const mapError = (error: unknown, signal: AbortSignal | undefined, sent: boolean): unknown => {
    if (error instanceof LlmApiError) return error;
    if (signal?.aborted) return signal.reason;
    if (!sent && vertex) return vertexAuthError(error);
    const message = error instanceof Error ? error.message : String(error);
    if (!sent) {
      return new LlmApiError(`Gemini request could not be built: ${message}`, {
        provider: 'gemini',
        isRetryable: false,
        cause: error,
      });
    }
    return malformedError(hints, message, undefined, error);
  };

  /** Per-call fetch so this call alone knows whether its request reached the network. */
  const tracked = () => {
    const call: { sent: boolean; fetch: Fetch } = {
      sent: false,
      fetch: (input, init) => {
        call.sent = true;
        return fetch(input, init);
      },
    };
    return call;
  };

  return {
    provider: 'gemini',
    modelId,
    load: client,

    async generate(prompt: string, signal?: AbortSignal): Promise<Completion> {
      const call = tracked();
      let response: GenerateContentResponse;
      try {
        // google-auth's token request does not take the signal: stop waiting for it on an abort.
        response = await untilAborted(
          (await client()).models.generateContent({
            model: modelId,
            contents: prompt,
            config: {
              ...params,
              systemInstruction: systemPrompt,
              abortSignal: signal,
              httpOptions: { ...httpOptions, fetch: call.fetch },
            },
          }),
          signal,
        );
      } catch (error) {
        throw mapError(error, signal, call.sent);
      }
      return { text: chatAnswerCode(answerText(hints, response)), usage: usageOf(response) };
    },

    async check(signal?: AbortSignal): Promise<void> {
      const call = tracked();
      try {
        await untilAborted(
          (await client()).models.get({
            model: modelId,
            config: { abortSignal: signal, httpOptions: { ...httpOptions, fetch: call.fetch } },
          }),
          signal,
        );
      } catch (error) {
        throw mapError(error, signal, call.sent);
      }
    },
  };
}

/**
 * Text parts of the first candidate, without thoughts. A blocked prompt (feedback, no candidates)
 * is an empty answer; a body with neither is not a generateContent response at all.
 */
function answerText(hints: ProviderHints, response: GenerateContentResponse): string {
  const candidates = response.candidates;
  if (!Array.isArray(candidates)) {
    if (response.promptFeedback) return '';
    throw malformedError(hints, 'expected `candidates`', JSON.stringify(response));
  }
  const parts = candidates[0]?.content?.parts ?? [];
  return parts
    .filter((part) => typeof part.text === 'string' && !part.thought)
    .map((part) => part.text)
    .join('');
}

function usageOf(response: GenerateContentResponse) {
  const meta = response.usageMetadata;
  if (!meta) return undefined;
  const candidates = tokenCount(meta.candidatesTokenCount);
  const thoughts = tokenCount(meta.thoughtsTokenCount);
  // Thinking tokens are billed as output.
  const output =
    candidates === undefined && thoughts === undefined ? undefined : (candidates ?? 0) + (thoughts ?? 0);
  return { inputTokens: tokenCount(meta.promptTokenCount), outputTokens: output };
}
