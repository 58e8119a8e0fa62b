/**
 * The language-model capability: one call that turns a prompt into text. Providers are built by
 * factories (see the sibling modules) that take the key, base URL and fetch, so tests point them
 * at a local server; `createLanguageModel` (./index.ts) picks one and wraps it with the retry
 * policy (./retry.ts) and the usage meter (./usage.ts).
 */

/** Token counts as the provider reported them; a count the provider did not report is left undefined. */
export interface TokenUsage {
  inputTokens?: number;
  outputTokens?: number;
}

export interface Completion {
  /**
   * The sample: a continuation of the prompt (completion models), or for chat models the body of
   * the next version extracted from the answer and indented like the prompt.
   */
  text: string;
  usage?: TokenUsage;
  /** `provider:modelId` of the model that answered, when a run mixes several. */
  model?: string;
}

export interface LanguageModel {
  /** `replicate`, `openai`, `gemini`, `starcoder`, `mock`. */
  readonly provider: string;
  readonly modelId: string;
  /**
   * One sample for `prompt`. Rejects with an LlmApiError (./errors.ts), or with `signal.reason`
   * (an AbortError unless the caller chose another reason) once `signal` aborts.
   */
  generate(prompt: string, signal?: AbortSignal): Promise<Completion>;
  /**
   * One cheap request that proves the credentials and the model work; rejects with an LlmApiError
   * (`fatal` for a rejected token or unknown model) otherwise.
   */
  check?(signal?: AbortSignal): Promise<void>;
}
