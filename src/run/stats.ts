/** The run's counters: what the progress line, summary.json and the budgets read; checkpointed. */
import { z } from 'zod';

export const runStatsSchema = z.object({
  /** Prompts sent to the LLM (each asks for `samples_per_prompt` samples). */
  prompts: z.number().int().nonnegative(),
  /** Samples the LLM answered. */
  samplesOk: z.number().int().nonnegative(),
  /** Samples that failed after retries (network, 5xx, timeouts). */
  samplesFailed: z.number().int().nonnegative(),
  /** Candidates evaluated (including those rejected before the sandbox). */
  evaluations: z.number().int().nonnegative(),
  /** Evaluations by outcome kind (ok, timeout, memory, crash, syntax-error, invalid-score, output-limit, empty, calls-ancestor). */
  outcomes: z.record(z.string(), z.number().int().nonnegative()),
  inputTokens: z.number().nonnegative(),
  outputTokens: z.number().nonnegative(),
  /** Estimated LLM cost in USD, for models whose price is known or configured. */
  costUsd: z.number().nonnegative(),
  /** Run time over every session of the run (resumes add to it), ms. */
  elapsedMs: z.number().nonnegative(),
  llmLatencyTotalMs: z.number().nonnegative(),
  /** The candidates' own running time in the sandbox, summed. */
  evaluationTotalMs: z.number().nonnegative(),
  /** Reduced score of the spec's own function, once it ran. */
  initialScore: z.number().optional(),
  /** Prompts each sampler has sent, so a resumed run keeps `total_llm_samples` per sampler. */
  promptsPerSampler: z.array(z.number().int().nonnegative()),
  /** Samples answered by the LLM that a stop left unevaluated (0 in checkpoints of format 1). */
  notEvaluated: z.number().int().nonnegative().default(0),
  /** The last sample id handed out (`s<n>`), so ids stay unique across resumed sessions. */
  lastSampleId: z.number().int().nonnegative().default(0),
  /** Candidates actually run in a sandbox (samples only; repeats reused from the evaluation cache are not). */
  sandboxRuns: z.number().int().nonnegative().default(0),
  /** Candidates whose outcome was reused from the evaluation cache instead of running again. */
  cacheHits: z.number().int().nonnegative().default(0),
  /** The sandbox time those reuses did not spend: what their first runs took, ms. */
  sandboxMsSaved: z.number().nonnegative().default(0),
});

export type RunStats = z.infer<typeof runStatsSchema>;

export function emptyStats(numSamplers: number): RunStats {
  return {
    prompts: 0,
    samplesOk: 0,
    samplesFailed: 0,
    evaluations: 0,
    outcomes: {},
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    elapsedMs: 0,
    llmLatencyTotalMs: 0,
    evaluationTotalMs: 0,
    promptsPerSampler: Array.from({ length: numSamplers }, () => 0),
    notEvaluated: 0,
    lastSampleId: 0,
    sandboxRuns: 0,
    cacheHits: 0,
    sandboxMsSaved: 0,
  };
}

export function countOutcome(stats: RunStats, kind: string): void {
  stats.outcomes[kind] = (stats.outcomes[kind] ?? 0) + 1;
}

export function totalSamples(stats: RunStats): number {
  return stats.samplesOk + stats.samplesFailed;
}

/** The share of candidates past the rejection checks that were repeats, reused from the cache (0 before any). */
export function repeatRate(stats: Pick<RunStats, 'sandboxRuns' | 'cacheHits'>): number {
  const total = stats.sandboxRuns + stats.cacheHits;
  return total > 0 ? stats.cacheHits / total : 0;
}
