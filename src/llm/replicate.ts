/**
 * Code Llama (or any language model) on Replicate through the `replicate` package, as the original:
 * create a prediction, poll it until it settles, join the output strings. Token counts come from
 * the prediction's metrics when Replicate reports them.
 */
import { sleep } from './abort.js';
import { credentialFixFor, LlmApiError, malformedError, type ProviderHints } from './errors.js';
import { type Fetch, failureOf, standInFetch } from './http.js';
import type { Completion, LanguageModel } from './language-model.js';
import { mergeParams, type Params, tokenCount } from './params.js';
import { loadOnce } from './sdk.js';

/** The original's model: https://replicate.com/meta/codellama-34b-python */
export const REPLICATE_DEFAULT_MODEL =
  'meta/codellama-34b-python:e4cb69045bdb604862e80b5dd17ef39c9559ad3533e9fd3bd513cc68ff023656';

/** The original's inputs (implementation/sampler.py DEFAULT_INPUT_ARGS). */
export const REPLICATE_DEFAULT_PARAMS: Readonly<Params> = {
  top_k: 50,
  top_p: 0.9,
  max_tokens: 500,
  temperature: 0.75,
  repeat_penalty: 1.1,
  presence_penalty: 0,
  frequency_penalty: 0,
};

export interface ReplicateModelOptions {
  apiKey: string;
  /** Defaults to https://api.replicate.com/v1. */
  baseUrl?: string;
  fetch?: Fetch;
  /** `owner/name:version` or `owner/name` (an official model's latest version). */
  model?: string;
  /** Model inputs merged over the original's; `null` removes one. */
  params?: Params;
  /** Between polls of a running prediction. */
  pollIntervalMs?: number;
}

interface ModelRef {
  owner: string;
  name: string;
  version?: string;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'aborted']);

export function parseReplicateModel(model: string): ModelRef {
  const match = /^([^/\s]+)\/([^/:\s]+)(?::([0-9A-Za-z]+))?$/.exec(model);
  if (!match) {
    throw new RangeError(
      `Expected a Replicate model as \`owner/name\` or \`owner/name:version\`, got \`${model}\``,
    );
  }
  return { owner: match[1]!, name: match[2]!, version: match[3] };
}

export function createReplicateModel(options: ReplicateModelOptions): LanguageModel {
  const modelId = options.model ?? REPLICATE_DEFAULT_MODEL;
  const ref = parseReplicateModel(modelId);
  const params = mergeParams(REPLICATE_DEFAULT_PARAMS, options.params);
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const hints: ProviderHints = {
    provider: 'replicate',
    label: 'Replicate',
    credentialFix: credentialFixFor('REPLICATE_API_TOKEN'),
    modelId,
    modelFixExtra: options.baseUrl ? 'REPLICATE_BASE_URL' : undefined,
  };
  const client = loadOnce(async () => {
    const { default: Replicate } = await import('replicate');
    return new Replicate({
      auth: options.apiKey,
      baseUrl: options.baseUrl,
      fetch: standInFetch(options.fetch ?? globalThis.fetch, hints),
      userAgent: 'funsearch',
      useFileOutput: false,
    });
  });

  /** Rethrows what a stand-in response carried; anything else from the SDK is a malformed answer. */
  const rethrow = (error: unknown): never => {
    const carried = failureOf((error as { response?: unknown })?.response);
    if (carried !== undefined) throw carried;
    if (error instanceof LlmApiError) throw error;
    throw malformedError(hints, error instanceof Error ? error.message : String(error), undefined, error);
  };

  const cancel = (id: string) => {
    // Best effort and not awaited: a prediction nobody waits for still costs money until it ends.
    client()
      .then((api) => api.predictions.cancel(id, { signal: AbortSignal.timeout(10_000) }))
      .catch(() => {});
  };

  return {
    provider: 'replicate',
    modelId,
    load: client,

    async generate(prompt: string, signal?: AbortSignal): Promise<Completion> {
      const input = { ...params, prompt };
      let prediction: unknown;
      try {
        prediction = await (await client()).predictions.create(
          ref.version
            ? { version: ref.version, input, signal }
            : { model: `${ref.owner}/${ref.name}`, input, signal },
        );
      } catch (error) {
        return rethrow(error);
      }
      let current = checkPrediction(hints, prediction);
      try {
        while (!TERMINAL.has(current.status)) {
          await sleep(pollIntervalMs, signal);
          try {
            current = checkPrediction(hints, await (await client()).predictions.get(current.id, { signal }));
          } catch (error) {
            rethrow(error);
          }
        }
      } catch (error) {
        if (signal?.aborted) cancel(current.id);
        throw error;
      }
      if (current.status !== 'succeeded') {
        const reason =
          current.error === undefined || current.error === null ? '' : `: ${String(current.error)}`;
        throw new LlmApiError(`Replicate prediction ${current.id} ${current.status}${reason}`, {
          provider: 'replicate',
          responseBody: JSON.stringify(current.raw),
          isRetryable: false,
        });
      }
      return {
        text: joinOutput(hints, current),
        usage: {
          inputTokens: tokenCount(current.metrics?.input_token_count),
          outputTokens: tokenCount(current.metrics?.output_token_count),
        },
      };
    },

    async check(signal?: AbortSignal): Promise<void> {
      try {
        if (ref.version)
          await (await client()).models.versions.get(ref.owner, ref.name, ref.version, { signal });
        else await (await client()).models.get(ref.owner, ref.name, { signal });
      } catch (error) {
        rethrow(error);
      }
    },
  };
}

interface CheckedPrediction {
  id: string;
  status: string;
  output: unknown;
  error: unknown;
  metrics?: { input_token_count?: unknown; output_token_count?: unknown };
  raw: unknown;
}

function checkPrediction(hints: ProviderHints, value: unknown): CheckedPrediction {
  const p = value as Record<string, unknown> | null;
  if (typeof p !== 'object' || p === null || typeof p.id !== 'string' || typeof p.status !== 'string') {
    throw malformedError(hints, 'expected a prediction with `id` and `status`', safeJson(value));
  }
  const metrics =
    typeof p.metrics === 'object' && p.metrics !== null
      ? (p.metrics as CheckedPrediction['metrics'])
      : undefined;
  return { id: p.id, status: p.status, output: p.output, error: p.error, metrics, raw: value };
}

/** Language models on Replicate stream tokens, so `output` is an array of strings to concatenate. */
function joinOutput(hints: ProviderHints, prediction: CheckedPrediction): string {
  const { output } = prediction;
  if (typeof output === 'string') return output;
  if (Array.isArray(output) && output.every((part) => typeof part === 'string')) return output.join('');
  throw malformedError(hints, 'expected the output to be an array of strings', safeJson(prediction.raw));
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
