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
   * The sample as the model wrote it: a continuation of the prompt (completion models), or for chat
   * models the code of the answer's first fenced block. src/spec/ shapes it into a body.
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
  /**
   * Loads what the first request needs (the provider's SDK). Called before the first request and
   * awaited outside its timeout, which should measure the service, not this process's start.
   */
  load?(): Promise<unknown>;
  /**
   * Told how a sample this model answered fared, for a model that learns from it (a mix choosing
   * its models by UCB, ./mix.ts); `model` is the Completion's. Others leave it out.
   */
  observe?(feedback: SampleFeedback): void;
}

export interface SampleFeedback {
  /** `provider:modelId`, from `Completion.model`. */
  model: string;
  /**
   * How much the sample helped, in [0, 1]: 1 when its program scored above the best program of
   * its island (as the island stood when the result came in), 0 when it did not or failed.
   */
  reward: number;
}
