/**
 * Parts for in-process runs: a scripted language model, a fake sandbox with a chosen capacity,
 * and a tiny spec. The sandbox scores a candidate by the number it returns (`return 7` → 7), so
 * every test knows what a sample is worth without running Python.
 */
import { parseConfig } from '../../src/config.js';
import type { Completion, LanguageModel } from '../../src/llm/language-model.js';
import { parseTestInputs } from '../../src/run/test-inputs.js';
import type { Outcome, Sandbox, SandboxBatchJob, SandboxJob } from '../../src/sandbox/sandbox.js';
import { parseSpec } from '../../src/spec/parse.js';
import { initParser } from '../../src/spec/parser.js';

export const SPEC_TEXT = `import funsearch

@funsearch.run
def evaluate(n):
  return priority(n)

@funsearch.evolve
def priority(n):
  """Returns a number."""
  return 1
`;

export async function tinySpec() {
  await initParser();
  const { program, functionToEvolve, functionToRun } = parseSpec(SPEC_TEXT, 'tiny.py');
  return { program, functionToEvolve, functionToRun, specFile: 'tiny.py' };
}

export function tinyInputs() {
  return parseTestInputs('3\n4\n', 'inputs.txt');
}

/** A config for tests: small, seeded, everything else at its default. */
export function testConfig(fields: Record<string, unknown> = {}) {
  return parseConfig({
    seed: 7,
    num_samplers: 2,
    samples_per_prompt: 2,
    total_llm_samples: 5,
    llm: { provider: 'mock' },
    programs_database: { num_islands: 3 },
    ...fields,
  });
}

/** A body the fake sandbox scores as `score`. */
export function answer(score: number): string {
  return `  return ${score}\n`;
}

type Step = string | Error | ((signal: AbortSignal | undefined) => Promise<Completion | string>);

/**
 * Answers from a script, then `fallback`; each call can wait, fail or answer. Counts calls and
 * how many are open at once.
 */
export class ScriptedModel implements LanguageModel {
  readonly provider = 'scripted';
  readonly modelId = 'test';
  calls = 0;
  open = 0;
  constructor(
    private readonly steps: Step[] = [],
    private readonly fallback: Step = answer(2),
    private readonly usage?: Completion['usage'],
  ) {}

  async generate(_prompt: string, signal?: AbortSignal): Promise<Completion> {
    const step = this.steps[this.calls] ?? this.fallback;
    this.calls++;
    this.open++;
    try {
      if (signal?.aborted) throw signal.reason;
      if (step instanceof Error) throw step;
      const value = typeof step === 'string' ? step : await step(signal);
      if (signal?.aborted) throw signal.reason;
      return typeof value === 'string'
        ? { text: value, ...(this.usage ? { usage: this.usage } : {}) }
        : value;
    } finally {
      this.open--;
    }
  }
}

/** Resolves when `signal` aborts (never otherwise): an LLM request that hangs until cancelled. */
export function untilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
}

/**
 * A sandbox of `capacity` slots that scores `return N` as N and `raise` as a crash. Evaluations of
 * samples can be held (`hold()`) until `release()`; it records the most it ran at once and every job id.
 */
export class FakeSandbox implements Sandbox {
  readonly kind = 'process' as const;
  running = 0;
  maxRunning = 0;
  runs = 0;
  started = false;
  closed = false;
  readonly ids: string[] = [];
  private held = false;
  private waiting: Array<() => void> = [];
  private listeners = new Set<(capacity: number) => void>();
  /** Called as each evaluation starts (to check invariants at that moment). */
  onRun?: () => void;

  constructor(
    public capacity: number,
    private readonly failStart?: Error,
  ) {}

  async start(): Promise<void> {
    if (this.failStart) throw this.failStart;
    this.started = true;
  }

  onCapacityChange(listener: (capacity: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setCapacity(capacity: number): void {
    this.capacity = capacity;
    for (const listener of this.listeners) listener(capacity);
  }

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    for (const wake of this.waiting.splice(0)) wake();
  }

  async run(job: SandboxJob, signal?: AbortSignal): Promise<Outcome> {
    const [outcome] = await this.runBatch({ ...job, testInputs: [job.testInput] }, signal);
    return outcome!;
  }

  async runBatch(job: SandboxBatchJob, signal?: AbortSignal): Promise<Outcome[]> {
    if (job.id) this.ids.push(job.id);
    this.runs++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.onRun?.();
    try {
      // Only samples (which carry an id) are held: the spec's own program always runs.
      if (this.held && job.id) {
        await new Promise<void>((resolve, reject) => {
          this.waiting.push(resolve);
          signal?.addEventListener('abort', () => reject(signal.reason));
        });
      }
      if (signal?.aborted) throw signal.reason;
      const body = job.program.slice(job.program.lastIndexOf('def priority'));
      if (/raise/.test(body))
        return [{ kind: 'crash', reason: 'RuntimeError: boom', durationMs: 1, stderr: 'RuntimeError: boom' }];
      const score = Number(/return (-?\d+)/.exec(body)?.[1] ?? Number.NaN);
      if (!Number.isFinite(score))
        return [{ kind: 'invalid-score', reason: 'no score', durationMs: 1, stderr: '' }];
      return job.testInputs.map(() => ({ kind: 'ok', score, durationMs: 1, stderr: '' }));
    } finally {
      this.running--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Resolves once `condition` holds, checking after each turn of the event loop. */
export async function until(condition: () => boolean, what = 'condition'): Promise<void> {
  for (let turn = 0; turn < 20_000; turn++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`timed out waiting for ${what}`);
}
