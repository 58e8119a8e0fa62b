/**
 * Several models behind one LanguageModel: each prompt goes to one of them, picked by the selector
 * (./model-selection.ts), and the Completion says which answered (`provider:modelId`), so the run
 * keys its per-model figures on it. Retries stay inside each member (per request, as for one model).
 */
import { isLlmApiError, LlmApiError } from './errors.js';
import type { Completion, LanguageModel, SampleFeedback, TokenUsage } from './language-model.js';
import type { ModelSelector, WeightSnapshot } from './model-selection.js';

export interface MixMember {
  model: LanguageModel;
  /** USD of one answer from its token counts; undefined when the price or the counts are unknown. */
  costOf?: (usage: TokenUsage | undefined) => number | undefined;
}

/** A LanguageModel over several models, with what the report shows of the selection. */
export interface ModelMix extends LanguageModel {
  /** `provider:modelId` of each member, in configuration order. */
  readonly models: readonly string[];
  readonly selector: ModelSelector;
  /** The selection probabilities over time (fixed for weighted selection). */
  weightHistory(): WeightSnapshot[];
}

export function isModelMix(model: LanguageModel): model is ModelMix {
  return 'selector' in model && 'models' in model && typeof (model as ModelMix).weightHistory === 'function';
}

export function modelKey(model: Pick<LanguageModel, 'provider' | 'modelId'>): string {
  return `${model.provider}:${model.modelId}`;
}

export function createModelMix(members: readonly MixMember[], selector: ModelSelector): ModelMix {
  if (members.length === 0) throw new RangeError('Expected at least one model in the mix');
  const keys = members.map((member) => modelKey(member.model));
  const indexOf = new Map(keys.map((key, i) => [key, i]));

  /**
   * The error says which model failed (`model`), so the run counts a lost sample against it; a
   * fatal one (bad key, unknown model) names it in the message, since several providers are in play.
   */
  const named = (error: unknown, index: number): unknown => {
    if (!isLlmApiError(error)) return error;
    return new LlmApiError(error.fatal ? `model ${keys[index]}: ${error.message}` : error.message, {
      provider: error.provider,
      statusCode: error.statusCode,
      responseBody: error.responseBody,
      isRetryable: error.isRetryable,
      fatal: error.fatal,
      retryAfterMs: error.retryAfterMs,
      model: keys[index],
      cause: error,
    });
  };

  return {
    provider: 'mix',
    modelId: keys.join('+'),
    models: keys,
    selector,

    async generate(prompt: string, signal?: AbortSignal): Promise<Completion> {
      const index = selector.pick();
      const member = members[index]!;
      let completion: Completion;
      try {
        completion = await member.model.generate(prompt, signal);
      } catch (error) {
        // A lost sample earns nothing; a stopped run's abort says nothing about the model.
        if (!signal?.aborted) selector.recordReward(index, 0);
        throw named(error, index);
      }
      selector.recordCost(index, member.costOf?.(completion.usage));
      return { ...completion, model: keys[index] };
    },

    async check(signal?: AbortSignal): Promise<void> {
      for (const [index, member] of members.entries()) {
        try {
          await member.model.check?.(signal);
        } catch (error) {
          throw named(error, index);
        }
      }
    },

    observe(feedback: SampleFeedback): void {
      const index = indexOf.get(feedback.model);
      if (index !== undefined) selector.recordReward(index, feedback.reward);
    },

    weightHistory: () => selector.weightHistory(),
  };
}
