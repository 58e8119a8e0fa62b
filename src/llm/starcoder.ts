/**
 * StarCoder 2 (or any base code model) through `@huggingface/inference` textGeneration: against a
 * text-generation-inference server or Inference Endpoint URL, or else Hugging Face's router. The
 * client speaks the OpenAI-style `/v1/completions` route, and returns only the generated text, so
 * token counts stay unknown.
 */
import { credentialFixFor, LlmApiError, malformedError, type ProviderHints } from './errors.js';
import { type Fetch, throwingFetch } from './http.js';
import type { Completion, LanguageModel } from './language-model.js';
import { COMPLETION_STOP } from './openai.js';
import { mergeParams, type Params } from './params.js';
import { loadOnce } from './sdk.js';

const ignore = () => {};
const quiet = { debug: ignore, info: ignore, warn: ignore, error: ignore, log: ignore };

const huggingFaceSdk = loadOnce(async () => {
  const sdk = await import('@huggingface/inference');
  // The client narrates its provider routing on the console for every call; failures reach us as
  // exceptions anyway.
  sdk.setLogger(quiet);
  return sdk;
});

export const STARCODER_DEFAULT_MODEL = 'bigcode/starcoder2-15b';

/** text-generation parameters; the original's sampling settings, in TGI's names. */
export const STARCODER_DEFAULT_PARAMS: Readonly<Params> = {
  max_new_tokens: 500,
  temperature: 0.75,
  top_p: 0.9,
  stop: COMPLETION_STOP,
};

export interface StarCoderModelOptions {
  /** HF_TOKEN; optional for a server of your own. */
  apiKey?: string;
  /** A text-generation-inference server or Inference Endpoint; without it, Hugging Face's router. */
  baseUrl?: string;
  fetch?: Fetch;
  model?: string;
  /** Parameters merged over the defaults; `null` removes one. */
  params?: Params;
}

export function createStarCoderModel(options: StarCoderModelOptions): LanguageModel {
  const modelId = options.model ?? STARCODER_DEFAULT_MODEL;
  const params = mergeParams(STARCODER_DEFAULT_PARAMS, options.params);
  const hints: ProviderHints = {
    provider: 'starcoder',
    label: options.baseUrl ? `The server at ${options.baseUrl}` : 'Hugging Face',
    credentialFix: credentialFixFor('HF_TOKEN'),
    modelId,
    modelFixExtra: options.baseUrl ? 'STARCODER_BASE_URL' : undefined,
  };
  const fetch = throwingFetch(options.fetch ?? globalThis.fetch, hints);
  const client = loadOnce(async () => {
    const { InferenceClient } = await huggingFaceSdk();
    return new InferenceClient(options.apiKey ?? '', {
      ...(options.baseUrl ? { endpointUrl: options.baseUrl } : {}),
      fetch,
      // Its only retry is an immediate, unbounded loop on 503.
      retry_on_error: false,
    });
  });

  const request = async (prompt: string, parameters: Params, signal?: AbortSignal): Promise<Completion> => {
    try {
      const output = await (await client()).textGeneration(
        { model: modelId, inputs: prompt, parameters },
        { signal, fetch, retry_on_error: false },
      );
      if (typeof output?.generated_text !== 'string') {
        throw malformedError(hints, 'expected `generated_text`', JSON.stringify(output));
      }
      return { text: output.generated_text };
    } catch (error) {
      throw mapError(hints, error, signal, Boolean(options.baseUrl), await huggingFaceSdk());
    }
  };

  return {
    provider: 'starcoder',
    modelId,
    load: client,
    generate: (prompt, signal) => request(prompt, params, signal),
    async check(signal?: AbortSignal): Promise<void> {
      // text-generation-inference has no model lookup this client can reach: one token proves it.
      await request('def f():\n', { ...params, max_new_tokens: 1 }, signal);
    },
  };
}

function mapError(
  hints: ProviderHints,
  error: unknown,
  signal: AbortSignal | undefined,
  hasUrl: boolean,
  sdk: typeof import('@huggingface/inference'),
): unknown {
  if (error instanceof LlmApiError) return error;
  if (signal?.aborted) return signal.reason;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof sdk.InferenceClientInputError || error instanceof sdk.InferenceClientRoutingError) {
    const fix = hasUrl
      ? 'check --model and STARCODER_BASE_URL'
      : 'set STARCODER_BASE_URL to a text-generation-inference server or Inference Endpoint URL, or check --model';
    return new LlmApiError(`Hugging Face cannot serve ${hints.modelId}: ${message}: ${fix}`, {
      provider: 'starcoder',
      isRetryable: false,
      fatal: true,
      cause: error,
    });
  }
  return malformedError(hints, message, undefined, error);
}
