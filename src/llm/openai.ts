/**
 * GPT-4-class models, and any OpenAI-compatible server (vLLM, Ollama, llama.cpp server, OpenRouter),
 * through the `openai` package. Two endpoints: `chat` (instruction models: a system prompt asks for
 * the next version; the answer's code block is the sample) and `completions` (base
 * code models that continue the prompt as Code Llama does).
 */
import type OpenAI from 'openai';
import { CHAT_SYSTEM_PROMPT, chatAnswerCode } from './chat.js';
import {
  credentialFixFor,
  httpError,
  LlmApiError,
  malformedError,
  networkError,
  type ProviderHints,
} from './errors.js';
import { bufferingFetch, type Fetch } from './http.js';
import type { Completion, LanguageModel } from './language-model.js';
import { mergeParams, type Params, tokenCount } from './params.js';
import { loadOnce } from './sdk.js';

const openaiSdk = loadOnce(() => import('openai'));

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';
export type OpenAIEndpoint = 'chat' | 'completions';

export const OPENAI_DEFAULT_MODELS: Readonly<Record<OpenAIEndpoint, string>> = {
  chat: 'gpt-4o',
  // The only model OpenAI itself still serves on /v1/completions; with another server pass --model.
  completions: 'gpt-3.5-turbo-instruct',
};

/**
 * Stop sequences for completion models: a new top-level statement means the body is over, and
 * tokens after it would be paid for and then trimmed away.
 */
export const COMPLETION_STOP = ['\ndef ', '\nclass ', '\nif __name__', '\n@'];

export const OPENAI_DEFAULT_PARAMS: Readonly<Record<OpenAIEndpoint, Params>> = {
  chat: { temperature: 0.75, top_p: 0.9, max_tokens: 1000 },
  completions: {
    temperature: 0.75,
    top_p: 0.9,
    max_tokens: 500,
    presence_penalty: 0,
    frequency_penalty: 0,
    stop: COMPLETION_STOP,
  },
};

export interface OpenAIModelOptions {
  /** Local servers usually ignore it; the SDK still wants a non-empty string. */
  apiKey: string;
  /** Defaults to https://api.openai.com/v1. */
  baseUrl?: string;
  fetch?: Fetch;
  model?: string;
  endpoint?: OpenAIEndpoint;
  /** Request fields merged over the endpoint's defaults; `null` removes one. */
  params?: Params;
  systemPrompt?: string;
  /** OPENAI_ORG_ID and OPENAI_PROJECT_ID, sent as headers when given. */
  organization?: string;
  project?: string;
}

export function createOpenAIModel(options: OpenAIModelOptions): LanguageModel {
  const endpoint = options.endpoint ?? 'chat';
  const modelId = options.model ?? OPENAI_DEFAULT_MODELS[endpoint];
  const params = mergeParams(OPENAI_DEFAULT_PARAMS[endpoint], options.params);
  const systemPrompt = options.systemPrompt ?? CHAT_SYSTEM_PROMPT;
  const baseURL = options.baseUrl ?? OPENAI_DEFAULT_BASE_URL;
  const custom = options.baseUrl !== undefined && options.baseUrl !== OPENAI_DEFAULT_BASE_URL;
  const hints: ProviderHints = {
    provider: 'openai',
    label: custom ? `The server at ${baseURL}` : 'OpenAI',
    credentialFix: credentialFixFor('OPENAI_API_KEY'),
    modelId,
    modelFixExtra: custom ? 'OPENAI_BASE_URL' : undefined,
  };
  const client = loadOnce(async () => {
    const { default: OpenAI } = await openaiSdk();
    return new OpenAI({
      apiKey: options.apiKey,
      // Passed even when default so the SDK never falls back to process.env.OPENAI_BASE_URL.
      baseURL,
      // null rather than undefined: undefined would make the SDK read process.env.
      organization: options.organization ?? null,
      project: options.project ?? null,
      fetch: bufferingFetch(options.fetch ?? globalThis.fetch),
      maxRetries: 0,
      // The retry policy's per-attempt timeout aborts first; this only bounds a call made without it.
      timeout: 10 * 60 * 1000,
    });
  });

  const request = async (prompt: string, body: Params, signal?: AbortSignal): Promise<Completion> => {
    try {
      if (endpoint === 'chat') {
        const response = await (await client()).chat.completions.create(
          {
            ...body,
            model: modelId,
            messages: [
              { role: 'system', content: systemPrompt },
              { role: 'user', content: prompt },
            ],
            stream: false,
          } as OpenAI.ChatCompletionCreateParamsNonStreaming,
          { signal },
        );
        const choice = (response as { choices?: unknown }).choices;
        const message = Array.isArray(choice)
          ? (choice[0] as { message?: { content?: unknown } })?.message
          : undefined;
        if (!message || (typeof message.content !== 'string' && message.content !== null)) {
          throw malformedError(hints, 'expected `choices[0].message.content`', JSON.stringify(response));
        }
        return { text: chatAnswerCode(message.content ?? ''), usage: usageOf(response) };
      }
      const response = await (await client()).completions.create(
        { ...body, model: modelId, prompt, stream: false } as OpenAI.CompletionCreateParamsNonStreaming,
        { signal },
      );
      const choices = (response as { choices?: unknown }).choices;
      const text = Array.isArray(choices) ? (choices[0] as { text?: unknown })?.text : undefined;
      if (typeof text !== 'string') {
        throw malformedError(hints, 'expected `choices[0].text`', JSON.stringify(response));
      }
      return { text, usage: usageOf(response) };
    } catch (error) {
      throw mapError(hints, error, signal, (await openaiSdk()).default);
    }
  };

  return {
    provider: 'openai',
    modelId,
    load: client,
    generate: (prompt, signal) => request(prompt, params, signal),
    async check(signal?: AbortSignal): Promise<void> {
      // One token through the configured endpoint proves the key, the model and that the server
      // speaks that endpoint; models.retrieve is missing on several compatible servers.
      const limit = 'max_completion_tokens' in params ? { max_completion_tokens: 1 } : { max_tokens: 1 };
      await request('def f():\n  """Returns 0."""\n', { ...params, ...limit }, signal);
    },
  };
}

function usageOf(response: unknown) {
  const usage = (response as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } }).usage;
  if (!usage) return undefined;
  return { inputTokens: tokenCount(usage.prompt_tokens), outputTokens: tokenCount(usage.completion_tokens) };
}

function mapError(
  hints: ProviderHints,
  error: unknown,
  signal: AbortSignal | undefined,
  OpenAI: typeof import('openai').default,
): unknown {
  if (error instanceof LlmApiError) return error;
  if (signal?.aborted) return signal.reason;
  if (error instanceof OpenAI.APIConnectionError) return networkError(hints, error.cause ?? error);
  if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
    return httpError(hints, error.status, error.headers, JSON.stringify(error.error ?? error.message), error);
  }
  // The SDK parsed a 2xx answer and failed (invalid JSON and the like).
  return malformedError(hints, error instanceof Error ? error.message : String(error), undefined, error);
}
