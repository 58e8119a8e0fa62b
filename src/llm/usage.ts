/**
 * Tokens, requests and estimated cost per model. Counts are what the providers reported: a provider
 * that reports no token counts (StarCoder through @huggingface/inference, Replicate models without
 * token metrics) leaves them undefined rather than guessed, and its cost stays unknown.
 */
import type { Completion, LanguageModel, TokenUsage } from './language-model.js';

/** US dollars per million tokens. */
export interface Price {
  input: number;
  output: number;
}

/**
 * List prices (standard tier, USD per 1M tokens) as published in mid-2025; they change, so
 * `pricePerMillionTokens` overrides them. A dated snapshot (`gpt-4o-2024-08-06`) takes the price of
 * the longest id it starts with. Replicate bills most models per second of hardware time, which
 * the token counts cannot express: configure a price to get an estimate.
 */
export const PRICES_PER_MILLION_TOKENS: Readonly<Record<string, Price>> = {
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4-turbo': { input: 10, output: 30 },
  'gpt-4': { input: 30, output: 60 },
  'gpt-3.5-turbo-instruct': { input: 1.5, output: 2 },
  'gemini-2.5-pro': { input: 1.25, output: 10 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5 },
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4 },
  'gemini-2.0-flash': { input: 0.1, output: 0.4 },
  'gemini-2.0-flash-lite': { input: 0.075, output: 0.3 },
  mock: { input: 0, output: 0 },
};

export interface ModelUsage {
  provider: string;
  modelId: string;
  /** Attempts that reached the provider, retries included. */
  requests: number;
  failedRequests: number;
  /** Successful requests whose answer carried token counts. */
  requestsWithUsage: number;
  /** Undefined while no request reported counts. */
  inputTokens?: number;
  outputTokens?: number;
  /** Undefined without a known price or without any token counts; a lower bound when some requests lacked counts. */
  costUsd?: number;
}

export interface UsageTotals {
  requests: number;
  failedRequests: number;
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: number;
}

interface Entry {
  provider: string;
  modelId: string;
  requests: number;
  failedRequests: number;
  requestsWithUsage: number;
  inputTokens: number;
  outputTokens: number;
}

export class UsageMeter {
  private readonly entries = new Map<string, Entry>();
  private readonly prices = new Map<string, Price>();

  constructor(options: { prices?: Record<string, Price> } = {}) {
    for (const [modelId, price] of Object.entries(options.prices ?? {})) this.setPrice(modelId, price);
  }

  /** Overrides the built-in price of `modelId`. */
  setPrice(modelId: string, price: Price): void {
    for (const [side, value] of Object.entries(price)) {
      if (!Number.isFinite(value) || value < 0) {
        throw new RangeError(
          `Expected \`pricePerMillionTokens.${side}\` to be a finite number >= 0, got \`${value}\``,
        );
      }
    }
    this.prices.set(modelId, { input: price.input, output: price.output });
  }

  priceOf(modelId: string): Price | undefined {
    return this.prices.get(modelId) ?? builtInPrice(modelId);
  }

  record(provider: string, modelId: string, usage: TokenUsage | undefined): void {
    const entry = this.entry(provider, modelId);
    entry.requests++;
    if (!usage || (usage.inputTokens === undefined && usage.outputTokens === undefined)) return;
    entry.requestsWithUsage++;
    entry.inputTokens += usage.inputTokens ?? 0;
    entry.outputTokens += usage.outputTokens ?? 0;
  }

  recordFailure(provider: string, modelId: string): void {
    const entry = this.entry(provider, modelId);
    entry.requests++;
    entry.failedRequests++;
  }

  snapshot(): ModelUsage[] {
    return [...this.entries.values()].map((entry) => {
      const counted = entry.requestsWithUsage > 0;
      const price = this.priceOf(entry.modelId);
      return {
        provider: entry.provider,
        modelId: entry.modelId,
        requests: entry.requests,
        failedRequests: entry.failedRequests,
        requestsWithUsage: entry.requestsWithUsage,
        inputTokens: counted ? entry.inputTokens : undefined,
        outputTokens: counted ? entry.outputTokens : undefined,
        costUsd:
          counted && price
            ? (entry.inputTokens * price.input + entry.outputTokens * price.output) / 1e6
            : undefined,
      };
    });
  }

  totals(): UsageTotals {
    const models = this.snapshot();
    const sum = (pick: (m: ModelUsage) => number | undefined): number | undefined => {
      const values = models.map(pick).filter((v): v is number => v !== undefined);
      return values.length ? values.reduce((a, b) => a + b, 0) : undefined;
    };
    return {
      requests: models.reduce((a, m) => a + m.requests, 0),
      failedRequests: models.reduce((a, m) => a + m.failedRequests, 0),
      inputTokens: sum((m) => m.inputTokens),
      outputTokens: sum((m) => m.outputTokens),
      costUsd: sum((m) => m.costUsd),
    };
  }

  private entry(provider: string, modelId: string): Entry {
    const key = `${provider}\u0000${modelId}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = {
        provider,
        modelId,
        requests: 0,
        failedRequests: 0,
        requestsWithUsage: 0,
        inputTokens: 0,
        outputTokens: 0,
      };
      this.entries.set(key, entry);
    }
    return entry;
  }
}

/** USD of one answer's tokens; undefined when the price or every count is unknown. */
export function costOfUsage(price: Price | undefined, usage: TokenUsage | undefined): number | undefined {
  if (!price || !usage || (usage.inputTokens === undefined && usage.outputTokens === undefined)) {
    return undefined;
  }
  return ((usage.inputTokens ?? 0) * price.input + (usage.outputTokens ?? 0) * price.output) / 1e6;
}

function builtInPrice(modelId: string): Price | undefined {
  const exact = PRICES_PER_MILLION_TOKENS[modelId];
  if (exact) return exact;
  let best: string | undefined;
  for (const known of Object.keys(PRICES_PER_MILLION_TOKENS)) {
    if (modelId.startsWith(`${known}-`) && (!best || known.length > best.length)) best = known;
  }
  return best ? PRICES_PER_MILLION_TOKENS[best] : undefined;
}

/** `model` with every generate call, failed or not, counted by `meter`. */
export function withUsage(model: LanguageModel, meter: UsageMeter): LanguageModel {
  const metered: LanguageModel = {
    provider: model.provider,
    modelId: model.modelId,
    async generate(prompt: string, signal?: AbortSignal): Promise<Completion> {
      let completion: Completion;
      try {
        completion = await model.generate(prompt, signal);
      } catch (error) {
        meter.recordFailure(model.provider, model.modelId);
        throw error;
      }
      meter.record(model.provider, model.modelId, completion.usage);
      return completion;
    },
  };
  if (model.check) metered.check = model.check.bind(model);
  return metered;
}
