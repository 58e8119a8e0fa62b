export const OUTCOME_KINDS = [
  'ok',
  'timeout',
  'memory',
  'crash',
  'syntax-error',
  'invalid-score',
  'output-limit',
] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

export type Outcome =
  | {
      kind: 'ok';
      score: number;
      /**
       * Whether the run function returned an int or a float (`-212` vs `-212.0`), which a JS number
       * cannot tell. Set by every sandbox here; optional so outcomes built elsewhere still type-check.
       */
      scoreType?: 'int' | 'float';
      /** Candidate's own running time, ms (not time spent queued). */
      durationMs: number;
      stderr: string;
    }
  | {
      kind: Exclude<OutcomeKind, 'ok'>;
      /** Short human-readable reason, e.g. `exceeded 10 s`, `ZeroDivisionError: division by zero`. */
      reason: string;
      durationMs: number;
      /** The first few KiB of the candidate's stderr (tracebacks), decoded leniently. */
      stderr: string;
    };

export interface SandboxJob {
  /** The whole runnable program text (template with the candidate's function in it). */
  program: string;
  /** Name of the `@funsearch.run` function to call. */
  functionToRun: string;
  /** One test input as a Python literal, exactly as written in the inputs file. */
  testInput: string;
  /** Seconds the candidate may run for this input. */
  timeoutSeconds: number;
}

/** All test inputs of one candidate: one sandbox child runs them in order (one fork, not one per input). */
export interface SandboxBatchJob {
  /**
   * A stable id of this evaluation, unique in the run (the run's sample id, e.g. `s42`), so a
   * queue can make jobs idempotent. Local sandboxes ignore it.
   */
  id?: string;
  program: string;
  functionToRun: string;
  /** Test inputs as Python literals, run in this order. */
  testInputs: readonly string[];
  /** Seconds the candidate may run for each input (measured separately per input). */
  timeoutSeconds: number;
}

/** One evaluator worker serving a queue sandbox, as the run sees it. */
export interface SandboxWorkerStatus {
  /** `host.pid.tag`, stable for the worker's lifetime. */
  id: string;
  host: string;
  /** Its local sandbox: docker, process or bwrap. */
  sandbox: string;
  /** Candidates it runs at once. */
  concurrency: number;
  /** Jobs it is running now (of any run using the same Redis). */
  busy: number;
  /** False once it left (its connection closed or its heartbeat stopped); kept for the totals. */
  live: boolean;
  /** Evaluations of this run it returned. */
  evaluations: number;
  /** This run's evaluations per minute from it, over the time it has served this run. */
  perMinute: number;
  /** Its share of this run's evaluations, 0..1. */
  share: number;
}

/** What a sandbox that spreads work over workers reports for the status line, summary.json and the report. */
export interface SandboxStatus {
  kind: Sandbox['kind'];
  /** Candidates the live workers can run at once. */
  capacity: number;
  /** Jobs enqueued by this run and not yet answered. */
  inFlight: number;
  workers: SandboxWorkerStatus[];
}

export interface Sandbox {
  readonly kind: 'docker' | 'process' | 'bwrap' | 'queue';
  /**
   * How many candidates it can run at once right now. The run starts exactly this many
   * evaluation slots; it is the only concurrency knob below the samplers.
   */
  readonly capacity: number;
  /**
   * For a sandbox whose capacity changes while it runs (a queue whose workers join and leave):
   * calls `listener` on each change; returns the unsubscribe function. Fixed-size sandboxes omit it.
   */
  onCapacityChange?(listener: (capacity: number) => void): () => void;
  /** Workers, their throughput and share (a queue sandbox); the run shows it in its status and report. */
  status?(): SandboxStatus;
  /** Set when the sandbox is no security boundary; the CLI prints it at start. */
  readonly warning?: string;
  /** Prepares the sandbox (image, pool, sweep of leftovers). Idempotent; run() calls it too. */
  start(): Promise<void>;
  /** Runs one job. Resolves with an Outcome for anything the candidate does. */
  run(job: SandboxJob, signal?: AbortSignal): Promise<Outcome>;
  /**
   * Runs every input of one candidate in one fresh child, in order, and stops at the first
   * input that is not `ok`: the result has one Outcome per input run, so it is shorter than
   * `testInputs` when an input failed (the last element is then the failure).
   */
  runBatch(job: SandboxBatchJob, signal?: AbortSignal): Promise<Outcome[]>;
  /** Releases every container / process. Idempotent; safe on every path. */
  close(): Promise<void>;
}

/** `run` in terms of `runBatch`: one input is a batch of one. */
export async function runOne(
  sandbox: Pick<Sandbox, 'runBatch'>,
  job: SandboxJob,
  signal?: AbortSignal,
): Promise<Outcome> {
  const { testInput, ...rest } = job;
  const [outcome] = await sandbox.runBatch({ ...rest, testInputs: [testInput] }, signal);
  return outcome!;
}
