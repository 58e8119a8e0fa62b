/**
 * When a run stops by itself. Checked before each new LLM request, so a budget is overshot by at
 * most the requests already in flight.
 */
import type { Config } from '../config.js';
import type { RunStats } from './stats.js';

export type StopReason =
  | 'total-llm-samples'
  | 'duration'
  | 'max-tokens'
  | 'max-cost'
  | 'target-score'
  | 'interrupted'
  | 'llm-failing'
  | 'error';

export function budgetStopReason(config: Config, stats: RunStats, bestScore: number): StopReason | undefined {
  const { budget } = config;
  if (budget.target_score !== undefined && bestScore >= budget.target_score) return 'target-score';
  if (budget.duration !== undefined && stats.elapsedMs >= budget.duration * 1000) return 'duration';
  if (budget.max_tokens !== undefined && stats.inputTokens + stats.outputTokens >= budget.max_tokens)
    return 'max-tokens';
  if (budget.max_cost !== undefined && stats.costUsd >= budget.max_cost) return 'max-cost';
  return undefined;
}

/** Whether sampler `index` may send another prompt under `total_llm_samples` (the original's per-sampler count). */
export function samplerHasPrompts(config: Config, stats: RunStats, index: number): boolean {
  return (stats.promptsPerSampler[index] ?? 0) < config.total_llm_samples;
}

/** How much of each configured budget is used, 0..1, for the progress line and summary. */
export function budgetUsage(config: Config, stats: RunStats): Record<string, number> {
  const usage: Record<string, number> = {
    total_llm_samples: stats.prompts / (config.num_samplers * config.total_llm_samples),
  };
  const { budget } = config;
  if (budget.duration !== undefined) usage.duration = stats.elapsedMs / (budget.duration * 1000);
  if (budget.max_tokens !== undefined)
    usage.max_tokens = (stats.inputTokens + stats.outputTokens) / budget.max_tokens;
  if (budget.max_cost !== undefined) usage.max_cost = stats.costUsd / budget.max_cost;
  return usage;
}
