/**
 * The sandbox capability: run an untrusted candidate program against test inputs and report
 * what happened as data. A failing candidate is an Outcome; only infrastructure faults throw
 * (InfrastructureError from src/errors.ts).
 */
import type { Logger } from '../logger.js';

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

/** All test inputs of one candidate: one sandbox child runs them in order (one fork, not one per input). */
export interface SandboxBatchJob {
  program: string;
  functionToRun: string;
  /** Test inputs as Python literals, run in this order. */
  testInputs: readonly string[];
  /** Seconds the candidate may run for each input (measured separately per input). */
  timeoutSeconds: number;
  /** A stable id of this evaluation, unique in the run (its sample id), so a queue can make jobs idempotent. */
  id?: string;
}

/** The library's logger (pino-shaped); kept under this name for the sandbox modules. */
export type SandboxLogger = Logger;

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
