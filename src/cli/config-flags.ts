/**
 * Every config field as a command-line flag. One table drives the flags' help (with defaults),
 * their parsing, and where each lands in the config object, so no option can be silently ignored
 * (the original parsed its flags and then dropped them).
 */
import {
  defaultConfig,
  LLM_PROVIDERS,
  MODEL_SELECTIONS,
  SANDBOX_KINDS,
  SCORE_REDUCTIONS,
} from '../config.js';
import { UserError } from '../errors.js';

/**
 * `switch-off`: a flag without a value that sets the field to false (`--skip-x` or `--no-x`);
 * `key-value`: repeatable `key=value` pairs collected into an object (values read as JSON when they
 * parse, else strings); `model-entry`: repeatable `PROVIDER[:MODEL][=WEIGHT]` collected into a list
 * of models.
 */
type ValueKind = 'int' | 'number' | 'string' | 'switch-off' | 'key-value' | 'model-entry' | readonly string[];

export interface ConfigFlag {
  /** kebab-case long flag without dashes; the snake_case spelling is accepted too. */
  flag: string;
  /** Where the value lands in the config object. */
  path: readonly string[];
  kind: ValueKind;
  description: string;
  /** Shown in --help when the config has no default. */
  defaultText?: string;
}

export const CONFIG_FLAGS: readonly ConfigFlag[] = [
  {
    flag: 'functions-per-prompt',
    path: ['programs_database', 'functions_per_prompt'],
    kind: 'int',
    description: 'previous versions shown in each prompt',
  },
  {
    flag: 'num-islands',
    path: ['programs_database', 'num_islands'],
    kind: 'int',
    description: 'islands kept as a diversity mechanism',
  },
  {
    flag: 'reset-period',
    path: ['programs_database', 'reset_period'],
    kind: 'number',
    description: 'seconds between resets of the weaker half of the islands',
  },
  {
    flag: 'cluster-sampling-temperature-init',
    path: ['programs_database', 'cluster_sampling_temperature_init'],
    kind: 'number',
    description: 'initial temperature of cluster sampling',
  },
  {
    flag: 'cluster-sampling-temperature-period',
    path: ['programs_database', 'cluster_sampling_temperature_period'],
    kind: 'int',
    description: 'programs per period of the temperature decay',
  },
  {
    flag: 'score-reduction',
    path: ['programs_database', 'score_reduction'],
    kind: SCORE_REDUCTIONS,
    description: 'how per-input scores become one score',
  },
  { flag: 'num-samplers', path: ['num_samplers'], kind: 'int', description: 'concurrent samplers' },
  {
    flag: 'num-evaluators',
    path: ['num_evaluators'],
    kind: 'int',
    description: 'evaluations in flight at most (the Docker pool is also capped by CPU count)',
  },
  {
    flag: 'samples-per-prompt',
    path: ['samples_per_prompt'],
    kind: 'int',
    description: 'samples requested per prompt',
  },
  {
    flag: 'report-dir',
    path: ['report_dir'],
    kind: 'string',
    description: 'where run directories are written',
  },
  {
    flag: 'docker-image',
    path: ['docker_image'],
    kind: 'string',
    description: 'sandbox image (built from the bundled Dockerfile if missing)',
  },
  {
    flag: 'total-llm-samples',
    path: ['total_llm_samples'],
    kind: 'int',
    description: 'prompts per sampler (samples = samplers x this x samples per prompt)',
  },
  { flag: 'timeout', path: ['timeout'], kind: 'number', description: 'seconds one test input may run' },
  {
    flag: 'seed',
    path: ['seed'],
    kind: 'int',
    description: "seed of the run's random generator",
    defaultText: 'random',
  },
  {
    flag: 'sandbox',
    path: ['sandbox', 'kind'],
    kind: SANDBOX_KINDS,
    description: 'where candidates run (process is not a security boundary)',
  },
  {
    flag: 'memory-mb',
    path: ['sandbox', 'memory_mb'],
    kind: 'int',
    description: 'memory limit per container / candidate, MiB',
  },
  {
    flag: 'pids-limit',
    path: ['sandbox', 'pids_limit'],
    kind: 'int',
    description: 'process and thread limit per container',
  },
  {
    flag: 'tmpfs-mb',
    path: ['sandbox', 'tmpfs_mb'],
    kind: 'int',
    description: 'size of the writable /tmp per container, MiB',
  },
  { flag: 'cpus', path: ['sandbox', 'cpus'], kind: 'number', description: 'CPUs per container' },
  {
    flag: 'output-limit-bytes',
    path: ['sandbox', 'output_limit_bytes'],
    kind: 'int',
    description: 'stdout+stderr bytes a candidate may write',
  },
  { flag: 'llm', path: ['llm', 'provider'], kind: LLM_PROVIDERS, description: 'language model provider' },
  {
    flag: 'model',
    path: ['llm', 'model'],
    kind: 'string',
    description: 'model id',
    defaultText: "the provider's default",
  },
  {
    flag: 'model-mix',
    path: ['llm', 'models'],
    kind: 'model-entry',
    description:
      'one model of a mix, repeatable: PROVIDER[:MODEL][=WEIGHT] (e.g. openai:gpt-4o-mini=3); for mock, MODEL is its answers file',
    defaultText: 'one model, from --llm and --model',
  },
  {
    flag: 'model-selection',
    path: ['llm', 'model_selection'],
    kind: MODEL_SELECTIONS,
    description: "how a mix picks each prompt's model: by weight, or ucb (cost-aware bandit)",
  },
  {
    flag: 'openai-endpoint',
    path: ['llm', 'openai_endpoint'],
    kind: ['chat', 'completions'],
    description: 'OpenAI-compatible endpoint: chat, or completions for base code models',
  },
  {
    flag: 'price-input',
    path: ['llm', 'price_per_million_tokens', 'input'],
    kind: 'number',
    description: 'USD per million input tokens, for the cost estimate',
    defaultText: 'built-in table',
  },
  {
    flag: 'price-output',
    path: ['llm', 'price_per_million_tokens', 'output'],
    kind: 'number',
    description: 'USD per million output tokens, for the cost estimate',
    defaultText: 'built-in table',
  },
  {
    flag: 'llm-retries',
    path: ['llm', 'max_retries'],
    kind: 'int',
    description: 'retries of a failed LLM request before the sample is given up',
  },
  {
    flag: 'llm-timeout',
    path: ['llm', 'request_timeout'],
    kind: 'number',
    description: 'seconds one LLM request may take before it is retried',
    defaultText: '180 (mock: 5 x latency)',
  },
  {
    flag: 'llm-param',
    path: ['llm', 'params'],
    kind: 'key-value',
    description: 'provider parameter override, repeatable (e.g. temperature=0.5)',
    defaultText: "the provider's defaults",
  },
  {
    flag: 'skip-llm-check',
    path: ['llm', 'check'],
    kind: 'switch-off',
    description: 'skip the cheap request that checks credentials and model before the run',
  },
  {
    flag: 'mock-responses',
    path: ['llm', 'mock_responses'],
    kind: 'string',
    description: 'file of candidate bodies for --llm mock',
    defaultText: 'built-in cap-set set',
  },
  {
    flag: 'mock-latency',
    path: ['llm', 'mock_latency_ms'],
    kind: 'number',
    description: 'latency of each mock answer, ms',
  },
  {
    flag: 'mock-fault-rate',
    path: ['llm', 'mock_fault_rate'],
    kind: 'number',
    description: 'share of mock answers that are faults (0..1)',
  },
  {
    flag: 'duration',
    path: ['budget', 'duration'],
    kind: 'number',
    description: 'stop after this many seconds',
    defaultText: 'none',
  },
  {
    flag: 'max-tokens',
    path: ['budget', 'max_tokens'],
    kind: 'int',
    description: 'stop after this many LLM tokens',
    defaultText: 'none',
  },
  {
    flag: 'max-cost',
    path: ['budget', 'max_cost'],
    kind: 'number',
    description: 'stop at this estimated LLM cost in USD',
    defaultText: 'none',
  },
  {
    flag: 'target-score',
    path: ['budget', 'target_score'],
    kind: 'number',
    description: 'stop once a program reaches this score',
    defaultText: 'none',
  },
  {
    flag: 'checkpoint-every',
    path: ['checkpoint', 'every_registrations'],
    kind: 'int',
    description: 'checkpoint after this many registered programs',
  },
  {
    flag: 'checkpoint-seconds',
    path: ['checkpoint', 'every_seconds'],
    kind: 'number',
    description: 'checkpoint at least this often, seconds',
  },
  {
    flag: 'no-eval-cache',
    path: ['eval_cache', 'enabled'],
    kind: 'switch-off',
    description:
      'run every candidate in the sandbox, repeats too (for specs whose scores are not deterministic)',
    defaultText: 'cache on',
  },
  {
    flag: 'eval-cache-entries',
    path: ['eval_cache', 'max_entries'],
    kind: 'int',
    description: 'programs the evaluation cache remembers (least recently used forgotten first)',
  },
];

/** The flag's option name as commander stores it (camelCase of the kebab flag; `no-x` is stored as `x`). */
export function attributeName(flag: string): string {
  return flag.replace(/^no-/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function defaultOf(flag: ConfigFlag): string | undefined {
  if (flag.kind === 'switch-off' || flag.kind === 'key-value' || flag.kind === 'model-entry') {
    return flag.defaultText;
  }
  const value = getPath(defaultConfig, flag.path);
  return value === undefined ? flag.defaultText : String(value);
}

/** Parses one flag value eagerly, so a bad value names the flag. */
export function parseFlagValue(flag: ConfigFlag, raw: string): unknown {
  const fail = (expected: string): never => {
    throw new UserError(`--${flag.flag}: expected ${expected}, got \`${raw}\``);
  };
  if (Array.isArray(flag.kind)) {
    if (!flag.kind.includes(raw)) fail(`one of ${flag.kind.join(', ')}`);
    return raw;
  }
  switch (flag.kind) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(raw.trim())) fail('an integer');
      return Number(raw);
    }
    case 'number': {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) fail('a number');
      return value;
    }
    case 'key-value': {
      const eq = raw.indexOf('=');
      if (eq <= 0) fail('key=value');
      const value = raw.slice(eq + 1);
      let parsed: unknown = value;
      try {
        parsed = JSON.parse(value);
      } catch {
        // A bare word is a string value.
      }
      return { [raw.slice(0, eq)]: parsed };
    }
    case 'model-entry':
      return parseModelEntry(flag, raw);
    default:
      return raw;
  }
}

/**
 * `PROVIDER[:MODEL][=WEIGHT]`: the provider up to the first `:` (model ids may hold more, as
 * Replicate's `owner/name:version` does), the weight after the last `=`. A mock model's MODEL is
 * its answers file, which also names it.
 */
function parseModelEntry(flag: ConfigFlag, raw: string): Record<string, unknown> {
  const usage = `PROVIDER[:MODEL][=WEIGHT] (e.g. openai:gpt-4o-mini=3)`;
  const fail = (problem: string): never => {
    throw new UserError(`--${flag.flag}: ${problem} in \`${raw}\`; expected ${usage}`);
  };
  let spec = raw.trim();
  const entry: Record<string, unknown> = {};
  const eq = spec.lastIndexOf('=');
  if (eq >= 0) {
    const text = spec.slice(eq + 1).trim();
    const weight = Number(text);
    if (text === '' || !Number.isFinite(weight) || weight <= 0) fail('the weight must be a number > 0');
    entry.weight = weight;
    spec = spec.slice(0, eq);
  }
  const colon = spec.indexOf(':');
  const provider = colon < 0 ? spec : spec.slice(0, colon);
  if (!(LLM_PROVIDERS as readonly string[]).includes(provider)) {
    fail(`unknown provider \`${provider}\` (one of ${LLM_PROVIDERS.join(', ')})`);
  }
  entry.provider = provider;
  if (colon >= 0) {
    const model = spec.slice(colon + 1).trim();
    if (model === '') fail('the model after `:` is empty');
    entry.model = model;
    if (provider === 'mock') entry.mock_responses = model;
  }
  return entry;
}

export function getPath(object: unknown, path: readonly string[]): unknown {
  let current: unknown = object;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

export function setPath(object: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let current = object;
  for (const key of path.slice(0, -1)) {
    const next = current[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) current[key] = {};
    current = current[key] as Record<string, unknown>;
  }
  current[path[path.length - 1]!] = value;
}

/** Deep merge of plain objects, `over` winning; arrays and scalars are replaced whole. */
export function mergeConfig(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const existing = result[key];
    if (isPlainObject(existing) && isPlainObject(value)) result[key] = mergeConfig(existing, value);
    else result[key] = value;
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
