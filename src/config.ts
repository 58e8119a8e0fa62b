/**
 * Every setting of a run, validated once at the boundary. Field names follow the originals'
 * `Config` and `ProgramsDatabaseConfig` (snake_case), so a JSON config written for them reads here.
 */
import { z } from 'zod';

export const SCORE_REDUCTIONS = ['last', 'max-key', 'mean', 'sum'] as const;
export type ScoreReduction = (typeof SCORE_REDUCTIONS)[number];

const positiveInt = z.number().int().positive();

export const programsDatabaseConfigSchema = z
  .object({
    /** Number of previous programs to include in prompts. */
    functions_per_prompt: positiveInt.default(2),
    /** Number of islands kept as a diversity mechanism. */
    num_islands: positiveInt.default(10),
    /** How often (seconds) the weaker half of the islands is reset. */
    reset_period: z
      .number()
      .positive()
      .default(4 * 60 * 60),
    /** Initial temperature of the softmax over cluster scores. */
    cluster_sampling_temperature_init: z.number().positive().default(0.1),
    /** Period (in registered programs) of the linear decay of that temperature. */
    cluster_sampling_temperature_period: positiveInt.default(30_000),
    /**
     * How per-test scores become one score: `last` input (DeepMind), `max-key` (the score of the
     * largest input, the seed fork), `mean` or `sum` of all inputs.
     */
    score_reduction: z.enum(SCORE_REDUCTIONS).default('last'),
  })
  .strict();

export const SANDBOX_KINDS = ['docker', 'process', 'bwrap'] as const;
export const LLM_PROVIDERS = ['replicate', 'openai', 'gemini', 'starcoder', 'mock'] as const;

export const sandboxConfigSchema = z
  .object({
    /**
     * `docker` (a warm pool of locked-down containers), `bwrap` (host python3 inside bubblewrap
     * namespaces, no daemon) or `process` (host python3; not a security boundary).
     */
    kind: z.enum(SANDBOX_KINDS).default('docker'),
    /** Memory limit per container (and per candidate in the process sandbox), MiB. */
    memory_mb: positiveInt.default(512),
    /** Process/thread limit per container. */
    pids_limit: positiveInt.default(64),
    /** Size of the writable tmpfs /tmp per container, MiB. */
    tmpfs_mb: positiveInt.default(64),
    /** CPUs per container (fractional allowed). */
    cpus: z.number().positive().default(1),
    /** Bytes of stdout+stderr kept per candidate before it is cut off as `output-limit`. */
    output_limit_bytes: positiveInt.default(1024 * 1024),
  })
  .strict();

export const MODEL_SELECTIONS = ['weighted', 'ucb'] as const;

const priceSchema = z.object({ input: z.number().nonnegative(), output: z.number().nonnegative() }).strict();

/** One model of a run that mixes several (`llm.models`). */
export const modelEntrySchema = z
  .object({
    provider: z.enum(LLM_PROVIDERS),
    /** Model id; the provider's default when left out. For `mock`, a label that tells mock models apart. */
    model: z.string().min(1).optional(),
    /** Provider-specific generation parameters, merged over the provider's defaults. */
    params: z.record(z.string(), z.unknown()).default({}),
    /** Share of prompts this model answers, relative to the others' weights. */
    weight: z.number().positive().finite().default(1),
    /** Price override for the cost estimate, USD per million tokens. */
    price_per_million_tokens: priceSchema.optional(),
    /** Mock provider: this model's file of candidate bodies (default: `llm.mock_responses`). */
    mock_responses: z.string().min(1).optional(),
  })
  .strict();

export const llmConfigSchema = z
  .object({
    /** Which provider samples new functions. */
    provider: z.enum(LLM_PROVIDERS).default('replicate'),
    /** Model id; each provider has its own default. */
    model: z.string().min(1).optional(),
    /** Provider-specific generation parameters (e.g. temperature), merged over the provider's defaults. */
    params: z.record(z.string(), z.unknown()).default({}),
    /** OpenAI-compatible servers: the chat endpoint, or plain completions for base code models. */
    openai_endpoint: z.enum(['chat', 'completions']).default('chat'),
    /** Price override for the cost estimate, USD per million tokens. */
    price_per_million_tokens: priceSchema.optional(),
    /** Retries of a failed request (network, 408, 409, 429, 5xx, timeout) before the sample is given up. */
    max_retries: z.number().int().nonnegative().default(4),
    /** Seconds one request may take before it is aborted and retried. */
    request_timeout: z.number().positive().optional(),
    /** Send one cheap request before the run to prove credentials and model. */
    check: z.boolean().default(true),
    /** Mock provider: file of candidate bodies (default: the built-in cap-set set). */
    mock_responses: z.string().min(1).optional(),
    /** Mock provider: latency per answer, ms. */
    mock_latency_ms: z.number().nonnegative().default(1000),
    /** Mock provider: share of answers that are faults (errors, hangs, garbage, empty). */
    mock_fault_rate: z.number().min(0).max(1).default(0),
    /**
     * Several models in one run, each prompt going to one of them; replaces `provider`, `model`,
     * `params` and `price_per_million_tokens`, which describe the single model of a run.
     */
    models: z.array(modelEntrySchema).optional(),
    /** How a mix picks each prompt's model: by the fixed `weight`s, or by a cost-aware UCB bandit. */
    model_selection: z.enum(MODEL_SELECTIONS).default('weighted'),
  })
  .strict()
  .superRefine((llm, context) => {
    if (!llm.models) return;
    if (llm.models.length === 0) {
      context.addIssue({ code: 'custom', path: ['models'], message: 'expected at least one model' });
    }
    // These describe the single model; in a mix each model carries its own.
    const single = {
      model: llm.model !== undefined,
      params: Object.keys(llm.params).length > 0,
      price_per_million_tokens: llm.price_per_million_tokens !== undefined,
    };
    for (const [field, set] of Object.entries(single)) {
      if (set) {
        context.addIssue({
          code: 'custom',
          path: [field],
          message: `applies to a run with one model; with llm.models give each model its own ${field}`,
        });
      }
    }
    const keys = llm.models.map((entry) => `${entry.provider}:${entry.model ?? ''}`);
    const repeated = keys.find((key, i) => keys.indexOf(key) !== i);
    if (repeated !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['models'],
        message: `\`${repeated.replace(/:$/, '')}\` is listed twice; give it one entry with the summed weight`,
      });
    }
  });

export const budgetConfigSchema = z
  .object({
    /** Stop after this many seconds of run time. */
    duration: z.number().positive().optional(),
    /** Stop once this many LLM tokens (input + output) were used. */
    max_tokens: positiveInt.optional(),
    /** Stop once the estimated LLM cost reaches this many US dollars. */
    max_cost: z.number().positive().optional(),
    /** Stop once a program reaches this score. */
    target_score: z.number().optional(),
  })
  .strict();

export const checkpointConfigSchema = z
  .object({
    /** Write a checkpoint after this many registered programs… */
    every_registrations: positiveInt.default(50),
    /** …or this many seconds, whichever comes first (and always at stop). */
    every_seconds: z.number().positive().default(60),
  })
  .strict();

export const evalCacheConfigSchema = z
  .object({
    /**
     * Reuse the outcome of a candidate already run (same program once comments, blank lines and
     * trailing whitespace are dropped). Turn off for specs whose scores are not deterministic.
     */
    enabled: z.boolean().default(true),
    /** Programs remembered at most (least recently used forgotten first; a forgotten one is run again). */
    max_entries: positiveInt.default(50_000),
  })
  .strict();

export const configSchema = z
  .object({
    programs_database: programsDatabaseConfigSchema.default(() => programsDatabaseConfigSchema.parse({})),
    /** Number of concurrent samplers (each asks the LLM for `samples_per_prompt` samples per prompt). */
    num_samplers: positiveInt.default(15),
    /** Evaluations in flight at most. */
    num_evaluators: positiveInt.default(140),
    /** Samples requested per prompt. */
    samples_per_prompt: positiveInt.default(4),
    /** Where run directories are written. */
    report_dir: z.string().min(1).default('./reports'),
    /** Image the Docker sandbox runs candidates in. */
    docker_image: z.string().min(1).default('funsearch_evaluator:latest'),
    /** Prompts each sampler sends before it stops (the original's meaning): samples = samplers × this × samples_per_prompt. */
    total_llm_samples: positiveInt.default(10),
    /** Seconds one test input may run. */
    timeout: z.number().positive().default(10),
    /** Seed of the one random generator of the run. */
    seed: z.number().int().nonnegative().optional(),
    sandbox: sandboxConfigSchema.default(() => sandboxConfigSchema.parse({})),
    llm: llmConfigSchema.default(() => llmConfigSchema.parse({})),
    budget: budgetConfigSchema.default(() => budgetConfigSchema.parse({})),
    checkpoint: checkpointConfigSchema.default(() => checkpointConfigSchema.parse({})),
    eval_cache: evalCacheConfigSchema.default(() => evalCacheConfigSchema.parse({})),
  })
  .strict();

export type ProgramsDatabaseConfig = z.infer<typeof programsDatabaseConfigSchema>;
export type SandboxConfig = z.infer<typeof sandboxConfigSchema>;
export type LlmConfig = z.infer<typeof llmConfigSchema>;
export type ModelEntry = z.infer<typeof modelEntrySchema>;
export type ModelSelection = (typeof MODEL_SELECTIONS)[number];
export type BudgetConfig = z.infer<typeof budgetConfigSchema>;
export type EvalCacheConfig = z.infer<typeof evalCacheConfigSchema>;
export type Config = z.infer<typeof configSchema>;

/** Validates raw config; on failure the error lists each problem as `path: message`. */
export function parseConfig(raw: unknown): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map(formatIssue));
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? issue.path.join('.') : '(config)';
  return `${path}: ${issue.message}`;
}

export const defaultConfig: Config = configSchema.parse({});
