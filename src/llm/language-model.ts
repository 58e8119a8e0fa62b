/**
 * The language-model capability: one call that turns a prompt into text. Providers are built by
 * factories (see the sibling modules) that take the key, base URL and fetch, so tests point them
 * at a local server.
 */

export interface TokenUsage {
  inputTokens?: number;
  outputTokens?: number;
}

export interface Completion {
  text: string;
  usage?: TokenUsage;
}

export interface LanguageModel {
  /** `replicate`, `openai`, `gemini`, `starcoder`, `mock`. */
  readonly provider: string;
  readonly modelId: string;
  /** One sample for `prompt`. Rejects with LlmApiError (./errors.ts) or an AbortError when `signal` aborts. */
  generate(prompt: string, signal?: AbortSignal): Promise<Completion>;
  /** One cheap request that proves the credentials and the model work; throws LlmApiError otherwise. */
  check?(signal?: AbortSignal): Promise<void>;
}
