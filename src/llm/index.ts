/**
 * Picks and builds the language model of a run from the provider name, the environment (tokens and
 * base URLs, looked up in the record given, never in process.env) and the options, wrapped with the
 * usage meter and the retry policy.
 */
import { LLM_PROVIDERS, type LlmConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { Random } from '../random.js';
import type { Sleep } from './abort.js';
import { createGeminiModel, VERTEX_DEFAULT_LOCATION, type VertexOptions } from './gemini.js';
import type { Fetch } from './http.js';
import type { Completion, LanguageModel, TokenUsage } from './language-model.js';
import { createModelMix, type ModelMix, modelKey } from './mix.js';
import { createMockModel, loadMockResponses, MOCK_DEFAULT_LATENCY_MS, type MockFault } from './mock.js';
import { ModelSelector, type SelectionKind } from './model-selection.js';
import { createOpenAIModel, type OpenAIEndpoint } from './openai.js';
import type { Params } from './params.js';
import { createReplicateModel } from './replicate.js';
import { type RetryEvent, type RetryPolicy, resolvePolicy, withRetry } from './retry.js';
import { loadOnce } from './sdk.js';
import { createStarCoderModel } from './starcoder.js';
import { costOfUsage, type Price, UsageMeter, withUsage } from './usage.js';

export type LlmProviderName = (typeof LLM_PROVIDERS)[number];

export interface CreateLanguageModelOptions {
  llm: LlmProviderName;
  /** Model id; each provider has its default. */
  model?: string;
  /** Where tokens and base URLs are looked up (the CLI passes process.env merged with .env). */
  env: Record<string, string | undefined>;
  /** Replaces globalThis.fetch for the HTTP providers. */
  fetch?: Fetch;
  /** The run's seeded generator: the mock's answers and the retry jitter are drawn from forks of it. */
  random: Random;
  /** Provider-specific request parameters merged over the defaults (`null` removes a default). */
  params?: Params;
  /** OpenAI: `chat` (default) or `completions` for base code models. */
  endpoint?: OpenAIEndpoint;
  /** Mock: file of candidate bodies (JSON array of strings, or bodies separated by `# ---` lines). */
  mockResponsesFile?: string;
  /** Mock: latency per answer, ms (default 1000). */
  latencyMs?: number;
  /** Mock: share of answers that are faults, 0..1 (default 0). */
  faultRate?: number;
  /** Mock: fault kinds to inject (default all). */
  faults?: readonly MockFault[];
  /** Retry policy overrides; `sleep` is injected in tests. */
  retry?: Partial<RetryPolicy> & { sleep?: Sleep; onRetry?: (event: RetryEvent) => void };
  /** Counts tokens, requests and cost of every attempt. */
  meter?: UsageMeter;
  /** Price of this model for the meter, USD per million tokens (overrides the built-in table). */
  pricePerMillionTokens?: Price;
  /** Gemini on Vertex AI: google-auth-library options (default: Application Default Credentials). */
  googleAuthOptions?: VertexOptions['googleAuthOptions'];
  /** Replicate: between polls of a prediction, ms (default 500). */
  pollIntervalMs?: number;
  /**
   * Several models in one run (each prompt goes to one); each entry replaces `llm`, `model`,
   * `params`, `pricePerMillionTokens` and `mockResponsesFile` for its model.
   */
  models?: readonly ModelChoice[];
  /** How a mix picks each prompt's model (default `weighted`). */
  selection?: SelectionKind;
}

export interface ModelChoice {
  llm: LlmProviderName;
  model?: string;
  params?: Params;
  /** Relative share of prompts (default 1). */
  weight?: number;
  pricePerMillionTokens?: Price;
  mockResponsesFile?: string;
}

/**
 * The model part of createLanguageModel's options from the validated `llm` config: one model, or
 * with `llm.models` a mix of several.
 */
export function modelOptionsFromConfig(
  llm: LlmConfig,
): Pick<
  CreateLanguageModelOptions,
  'llm' | 'model' | 'params' | 'pricePerMillionTokens' | 'mockResponsesFile' | 'models' | 'selection'
> {
  return {
    llm: llm.provider,
    model: llm.model,
    params: llm.params,
    pricePerMillionTokens: llm.price_per_million_tokens,
    mockResponsesFile: llm.mock_responses,
    models: llm.models?.map((entry) => ({
      llm: entry.provider,
      model: entry.model,
      params: entry.params,
      weight: entry.weight,
      pricePerMillionTokens: entry.price_per_million_tokens,
      mockResponsesFile: entry.mock_responses,
    })),
    selection: llm.model_selection,
  };
}

/** The request timeout of the mock: its hangs should cost seconds, not the three minutes of a real API. */
function mockTimeoutMs(latencyMs: number): number {
  return Math.max(1000, 5 * latencyMs);
}

/**
 * The run's language model: one model, or with `models` a mix of several. Throws UserError for a
 * missing token (naming the variable, for every provider of a mix) or an invalid option; the
 * model's calls reject with LlmApiError (see ./errors.ts). Completions carry `provider:modelId`.
 */
export function createLanguageModel(options: CreateLanguageModelOptions): LanguageModel {
  return options.models ? createMix(options, options.models) : createSingle(options);
}

function createMix(options: CreateLanguageModelOptions, choices: readonly ModelChoice[]): ModelMix {
  let selector: ModelSelector;
  try {
    selector = new ModelSelector(
      options.selection ?? 'weighted',
      choices.map((choice) => choice.weight ?? 1),
      options.random.fork(),
    );
  } catch (error) {
    if (error instanceof RangeError) throw new UserError(error.message);
    throw error;
  }
  // The meter also knows the prices, which a UCB selection weighs.
  const meter = options.meter ?? new UsageMeter();
  const members = choices.map((choice) => {
    const model = createSingle({
      ...options,
      llm: choice.llm,
      model: choice.model,
      params: choice.params,
      pricePerMillionTokens: choice.pricePerMillionTokens,
      mockResponsesFile: choice.mockResponsesFile ?? options.mockResponsesFile,
      meter,
      models: undefined,
    });
    return {
      model,
      costOf: (usage: TokenUsage | undefined) => costOfUsage(meter.priceOf(model.modelId), usage),
    };
  });
  const seen = new Set<string>();
  for (const { model } of members) {
    const key = modelKey(model);
    if (seen.has(key))
      throw new UserError(`The model mix lists \`${key}\` twice: give it one entry with the summed weight`);
    seen.add(key);
  }
  return createModelMix(members, selector);
}

function createSingle(options: CreateLanguageModelOptions): LanguageModel {
  let provider: LanguageModel;
  try {
    provider = buildProvider(options);
  } catch (error) {
    // Option checks throw RangeError with a message naming the option: a user mistake here.
    if (error instanceof RangeError) throw new UserError(error.message);
    throw error;
  }
  let model = provider;
  if (options.meter) {
    if (options.pricePerMillionTokens) options.meter.setPrice(model.modelId, options.pricePerMillionTokens);
    // Mock models are free whatever they are called.
    else if (options.llm === 'mock' && !options.meter.priceOf(model.modelId)) {
      options.meter.setPrice(model.modelId, { input: 0, output: 0 });
    }
    model = withUsage(model, options.meter);
  }
  const { sleep, onRetry, ...policy } = options.retry ?? {};
  const requestTimeoutMs =
    policy.requestTimeoutMs ??
    (options.llm === 'mock' ? mockTimeoutMs(options.latencyMs ?? MOCK_DEFAULT_LATENCY_MS) : undefined);
  const retryOptions = {
    ...policy,
    ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
    random: options.random.fork(),
    sleep,
    onRetry,
  };
  try {
    resolvePolicy(retryOptions);
  } catch (error) {
    throw new UserError((error as Error).message);
  }
  return answeredBy(withRetry(model, retryOptions), provider.load?.bind(provider));
}

/**
 * `model` with `Completion.model` set, so a run reads which model answered the same way for one or
 * several; the provider's `load` is awaited before its first request, outside the retry's timeout.
 */
function answeredBy(model: LanguageModel, load: (() => Promise<unknown>) | undefined): LanguageModel {
  const key = modelKey(model);
  const generate = model.generate.bind(model);
  const check = model.check?.bind(model);
  const loaded = loadOnce(async () => load?.());
  return {
    ...model,
    generate: async (prompt: string, signal?: AbortSignal): Promise<Completion> => {
      await loaded();
      return { ...(await generate(prompt, signal)), model: key };
    },
    ...(check
      ? {
          check: async (signal?: AbortSignal) => {
            await loaded();
            await check(signal);
          },
        }
      : {}),
  };
}

function buildProvider(options: CreateLanguageModelOptions): LanguageModel {
  const { env, fetch, params, model } = options;
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  switch (options.llm) {
    case 'replicate':
      return createReplicateModel({
        apiKey: required(get('REPLICATE_API_TOKEN'), 'REPLICATE_API_TOKEN', 'Replicate'),
        baseUrl: get('REPLICATE_BASE_URL'),
        fetch,
        model,
        params,
        pollIntervalMs: options.pollIntervalMs,
      });
    case 'openai': {
      const baseUrl = get('OPENAI_BASE_URL');
      // Local OpenAI-compatible servers rarely check the key, but the SDK insists on one.
      const apiKey = baseUrl ? (get('OPENAI_API_KEY') ?? 'not-needed') : get('OPENAI_API_KEY');
      return createOpenAIModel({
        apiKey: required(
          apiKey,
          'OPENAI_API_KEY',
          'OpenAI',
          'or set OPENAI_BASE_URL for a local OpenAI-compatible server',
        ),
        baseUrl,
        fetch,
        model,
        params,
        endpoint: options.endpoint,
        organization: get('OPENAI_ORG_ID'),
        project: get('OPENAI_PROJECT_ID'),
      });
    }
    case 'gemini': {
      const apiKey = get('GEMINI_API_KEY') ?? get('GOOGLE_API_KEY');
      const project = get('GOOGLE_CLOUD_PROJECT');
      const useVertex = isTrue(get('GOOGLE_GENAI_USE_VERTEXAI')) || (!apiKey && project !== undefined);
      if (useVertex) {
        return createGeminiModel({
          vertex: {
            project: required(project, 'GOOGLE_CLOUD_PROJECT', 'Gemini on Vertex AI'),
            location: get('GOOGLE_CLOUD_LOCATION') ?? VERTEX_DEFAULT_LOCATION,
            // Read here rather than by google-auth from process.env, so a .env file can set it.
            keyFile: get('GOOGLE_APPLICATION_CREDENTIALS'),
            googleAuthOptions: options.googleAuthOptions,
          },
          baseUrl: get('GOOGLE_VERTEX_BASE_URL'),
          fetch,
          model,
          params,
        });
      }
      return createGeminiModel({
        apiKey: required(apiKey, 'GEMINI_API_KEY', 'Gemini', 'or set GOOGLE_CLOUD_PROJECT to use Vertex AI'),
        baseUrl: get('GOOGLE_GEMINI_BASE_URL'),
        fetch,
        model,
        params,
      });
    }
    case 'starcoder': {
      const baseUrl = get('STARCODER_BASE_URL');
      const apiKey = get('HF_TOKEN');
      return createStarCoderModel({
        // Hugging Face's router needs a token; a server of your own may not.
        apiKey: baseUrl
          ? apiKey
          : required(
              apiKey,
              'HF_TOKEN',
              'StarCoder on Hugging Face',
              'or set STARCODER_BASE_URL to a server of your own',
            ),
        baseUrl,
        fetch,
        model,
        params,
      });
    }
    case 'mock':
      return createMockModel({
        random: options.random.fork(),
        modelId: model,
        responses: options.mockResponsesFile ? loadMockResponses(options.mockResponsesFile) : undefined,
        latencyMs: options.latencyMs,
        faultRate: options.faultRate,
        faults: options.faults,
      });
    default:
      throw new UserError(
        `Unknown language model provider \`${String(options.llm)}\`: expected one of ${LLM_PROVIDERS.join(', ')}`,
      );
  }
}

function required(value: string | undefined, variable: string, what: string, alternative?: string): string {
  if (value === undefined) {
    const other = alternative ? ` (${alternative})` : '';
    throw new UserError(`${what} needs ${variable}: set it in the environment or .env${other}`);
  }
  return value;
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes'].includes(value.toLowerCase());
}

export { isLlmApiError, LlmApiError } from './errors.js';
export { createGeminiModel } from './gemini.js';
export type { Completion, LanguageModel, SampleFeedback, TokenUsage } from './language-model.js';
export { createModelMix, isModelMix, type MixMember, type ModelMix, modelKey } from './mix.js';
export { createMockModel, MOCK_FAULTS, type MockFault } from './mock.js';
export {
  type ArmState,
  ModelSelector,
  type SelectionKind,
  type SelectorState,
  UCB,
  type WeightSnapshot,
} from './model-selection.js';
export { createOpenAIModel, type OpenAIEndpoint } from './openai.js';
export { createReplicateModel } from './replicate.js';
export {
  callWithRetry,
  DEFAULT_RETRY_POLICY,
  type RetryEvent,
  type RetryPolicy,
  withRetry,
} from './retry.js';
export { createStarCoderModel } from './starcoder.js';
export {
  type ModelUsage,
  PRICES_PER_MILLION_TOKENS,
  type Price,
  UsageMeter,
  type UsageTotals,
  withUsage,
} from './usage.js';
