/**
 * The sandbox capability: run an untrusted candidate program against test inputs and report
 * what happened as data. A failing candidate is an Outcome; only infrastructure faults throw
 * (InfrastructureError from src/errors.ts).
 */

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

export interface Sandbox {
  readonly kind: 'docker' | 'process';
  /** Prepares the sandbox (image, pool, sweep of leftovers). Idempotent. */
  start(): Promise<void>;
  /** Runs one job. Resolves with an Outcome for anything the candidate does. */
  run(job: SandboxJob, signal?: AbortSignal): Promise<Outcome>;
  /** Releases every container / process. Idempotent; safe on every path. */
  close(): Promise<void>;
}
