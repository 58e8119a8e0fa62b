/**
 * The run directory's file formats, each defined once: an events.jsonl line, summary.json and
 * checkpoint.json. The writers build these types, the report's reader and the tests parse with
 * these schemas, and a format version lets a later release read older files or refuse them clearly.
 */
import { z } from 'zod';
import { OUTCOME_KINDS, type SandboxWorkerStatus } from '../sandbox/sandbox.js';
import { runStatsSchema } from './stats.js';

/** Bumped when a file's meaning changes; readers accept every version up to their own. */
export const FORMAT_VERSIONS = { event: 1, summary: 2, checkpoint: 2 } as const;

/**
 * Everything that can happen to a sample, in the order reports show them: the sandbox's outcomes,
 * the rejections before the sandbox, and the two ways a sample never reached an evaluation.
 */
export const SAMPLE_OUTCOMES = [
  ...OUTCOME_KINDS,
  'empty',
  'calls-ancestor',
  'llm-error',
  'not-evaluated',
] as const;

/** One line of events.jsonl: what happened to one sample (or to the spec's own program). */
export const sampleEventSchema = z.object({
  /** The run's id of the sample (`s1`, `s2`, …); absent on the initial program's event. */
  sample: z.string().optional(),
  time: z.string(),
  elapsedMs: z.number(),
  island: z.number().int().nullable(),
  islandGeneration: z.number().int().nullable(),
  version: z.number().int().nullable(),
  /** `provider:modelId` of the model that answered. */
  model: z.string(),
  /** `ok`, an Outcome kind, a rejection kind (`empty`, `calls-ancestor`), `llm-error`, or `not-evaluated`. */
  outcome: z.string(),
  score: z.number().optional(),
  scoresPerTest: z.record(z.string(), z.number()).optional(),
  registered: z.boolean().optional(),
  newBest: z.boolean().optional(),
  reason: z.string().optional(),
  llmLatencyMs: z.number().optional(),
  /** From drawing the sample (the LLM's answer) to the start of its evaluation: time spent queued. */
  queueMs: z.number().optional(),
  /** From the start of the evaluation to its result, waiting for a sandbox worker included. */
  evaluationMs: z.number().optional(),
  /** The candidate's own running time in the sandbox, summed over the inputs it ran (0 when `cached`). */
  sandboxMs: z.number().optional(),
  /** The outcome is a repeat's, reused from the evaluation cache: the sandbox did not run it. */
  cached: z.boolean().optional(),
  /** The sample whose run gave the reused outcome (absent when it was the spec's own program). */
  cachedFrom: z.string().optional(),
  inputTokens: z.number().optional(),
  outputTokens: z.number().optional(),
  /** Set on the event that triggered a reset of the weaker islands. */
  resetIslands: z.array(z.number().int()).optional(),
  /** For each reset island (same order), the surviving island whose best program re-seeded it. */
  resetFounders: z.array(z.number().int()).optional(),
});
export type SampleEvent = z.infer<typeof sampleEventSchema>;

export const RUN_STATUSES = ['running', 'finished', 'interrupted', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

const scoresRecord = z.record(z.string(), z.number());

/** One model's figures in summary.json (src/run/model-figures.ts counts them from the events). */
export const modelFiguresSchema = z.object({
  /** `provider:modelId`. */
  model: z.string(),
  /** Samples drawn from this model, lost ones included. */
  samples: z.number().int().nonnegative(),
  /** Samples lost to the LLM call (after retries). */
  llmErrors: z.number().int().nonnegative(),
  /** Samples whose candidate was evaluated or rejected (not lost, not left unevaluated by a stop). */
  evaluated: z.number().int().nonnegative(),
  /** Evaluated samples whose outcome was `ok`. */
  valid: z.number().int().nonnegative(),
  /** valid / evaluated; null before any evaluation. */
  validRate: z.number().nullable(),
  registered: z.number().int().nonnegative(),
  newBests: z.number().int().nonnegative(),
  inputTokens: z.number().nonnegative(),
  outputTokens: z.number().nonnegative(),
  /** Estimated USD from the tokens and the model's price; null when the price is unknown. */
  costUsd: z.number().nullable(),
  /** Median LLM latency of the answered samples, ms; null before any. */
  medianLatencyMs: z.number().nullable(),
});

/** How a mix of several models picked each prompt's model, and how its probabilities moved. */
export const modelSelectionSchema = z.object({
  kind: z.string(),
  /** `provider:modelId` of each model, in the order of `weights`. */
  models: z.array(z.string()),
  /** The selection probabilities after `observations` results had come back. */
  weightHistory: z.array(
    z.object({ observations: z.number().int().nonnegative(), weights: z.array(z.number()) }),
  ),
});

/** One worker of a queue sandbox, as summary.json keeps it (see SandboxWorkerStatus). */
const sandboxWorkerStatusSchema = z.object({
  id: z.string(),
  host: z.string(),
  sandbox: z.string(),
  concurrency: z.number().int(),
  busy: z.number().int(),
  live: z.boolean(),
  evaluations: z.number().int(),
  perMinute: z.number(),
  share: z.number(),
}) satisfies z.ZodType<SandboxWorkerStatus>;

/** summary.json: the machine-readable state of a run, rewritten at each checkpoint and at the end. */
export const summarySchema = z.object({
  format: z.literal('funsearch-summary'),
  version: z.number().int().positive(),
  bestScore: z.number().nullable(),
  samples: z.number().int().nonnegative(),
  evaluations: z.number().int().nonnegative(),
  status: z.enum(RUN_STATUSES),
  stopReason: z.string().nullable(),
  error: z.string().nullable(),
  initialScore: z.number().nullable(),
  bestProgram: z
    .object({
      score: z.number(),
      island: z.number().int().nullable(),
      scoresPerTest: scoresRecord,
      function: z.string(),
      program: z.string(),
    })
    .nullable(),
  islands: z.array(
    z.object({
      id: z.number().int(),
      bestScore: z.number().nullable(),
      bestScoresPerTest: scoresRecord.nullable(),
      clusters: z.number().int(),
      programs: z.number().int(),
      generation: z.number().int(),
    }),
  ),
  counts: z.object({
    prompts: z.number().int(),
    samplesOk: z.number().int(),
    samplesFailed: z.number().int(),
    evaluations: z.number().int(),
    outcomes: z.record(z.string(), z.number().int()),
    failures: z.number().int(),
    registered: z.number().int(),
    staleDropped: z.number().int(),
    islandResets: z.number().int(),
    /** Samples the LLM answered that a stop left unevaluated (never more than depth + capacity per stop). */
    notEvaluated: z.number().int(),
    /** Candidates actually run in a sandbox. */
    sandboxRuns: z.number().int(),
    /** Candidates whose outcome was reused from the evaluation cache. */
    cacheHits: z.number().int(),
  }),
  /** The evaluation cache: null when it is off (`--no-eval-cache`). */
  evalCache: z
    .object({
      /** Programs remembered now, at most `maxEntries`. */
      entries: z.number().int().nonnegative(),
      maxEntries: z.number().int().positive(),
      /** Programs forgotten in this session to stay under the cap (a forgotten one runs again if it comes back). */
      evictions: z.number().int().nonnegative(),
      /** cacheHits / (sandboxRuns + cacheHits): the share of candidates that were repeats. */
      repeatRate: z.number().min(0).max(1),
      /** Sandbox time not spent thanks to the cache (what the reused outcomes' first runs took). */
      sandboxSecondsSaved: z.number().nonnegative(),
    })
    .nullable(),
  concurrency: z.object({
    /** Evaluation slots: the sandbox's capacity. */
    capacity: z.number().int().nonnegative(),
    /** Depth of the one queue between samplers and evaluators. */
    channelDepth: z.number().int().positive(),
    /** The largest number of samples drawn and not yet evaluated at any moment of this session. */
    maxDrawnNotEvaluated: z.number().int().nonnegative(),
    /** With `--redis`: the workers that served this session, their throughput and share. */
    workers: z.array(sandboxWorkerStatusSchema).optional(),
  }),
  tokens: z.object({ input: z.number(), output: z.number(), total: z.number() }),
  costUsd: z.number(),
  timings: z.object({
    elapsedSeconds: z.number(),
    samplesPerSecond: z.number(),
    evaluationsPerSecond: z.number(),
    meanLlmLatencyMs: z.number().nullable(),
    meanEvaluationMs: z.number().nullable(),
  }),
  budgetUsed: z.record(z.string(), z.number()),
  model: z.string(),
  /** One row per model (one for a run with one model). */
  models: z.array(modelFiguresSchema),
  /** Only for a run that mixes several models. */
  modelSelection: modelSelectionSchema.optional(),
  specFile: z.string(),
  testInputs: z.array(z.string()),
  startedAt: z.string(),
  updatedAt: z.string(),
  config: z.record(z.string(), z.unknown()),
});
export type Summary = z.infer<typeof summarySchema>;

/** checkpoint.json: the database and the counters, enough to resume the run. */
export const checkpointSchema = z.object({
  format: z.literal('funsearch-checkpoint'),
  version: z.number().int().positive(),
  savedAt: z.string(),
  /** Set once the run ended by itself (budget reached); a resume of it only runs with raised budgets. */
  finished: z.boolean(),
  stats: runStatsSchema,
  // Checked by ProgramsDatabase.fromJSON, which knows its own schema.
  database: z.unknown(),
  /** Extensions (the evaluation cache, …) keyed by owner; each checks its own part. */
  extras: z.record(z.string(), z.unknown()).optional(),
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

/**
 * Why a file of a given format version cannot be read, or undefined when it can: newer files than
 * this release knows are refused with a clear way out instead of being half-read.
 */
export function versionProblem(kind: keyof typeof FORMAT_VERSIONS, version: unknown): string | undefined {
  const known = FORMAT_VERSIONS[kind];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
    return `its ${kind} format version is missing or not a positive integer`;
  if (version > known)
    return `it was written by a newer funsearch (${kind} format ${version}; this one reads up to ${known}); upgrade funsearch`;
  return undefined;
}
