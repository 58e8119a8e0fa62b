/**
 * Turns one LLM sample into scores: trim it to a function body, put it in the template, run the
 * `@funsearch.run` function on every test input in the sandbox. Every way a candidate can fail
 * ends as data in the result; only infrastructure faults (from the sandbox) throw.
 */
import type { Outcome, OutcomeKind, Sandbox } from '../sandbox/sandbox.js';
import { buildCandidate, type Candidate } from '../spec/candidate.js';
import type { Program, PyFunction } from '../spec/program.js';
import type { TestInput } from './test-inputs.js';

/** Why a sample never reached the sandbox. */
export type RejectionKind = 'empty' | 'syntax-error' | 'calls-ancestor';

export interface InputOutcome {
  input: string;
  outcome: Outcome;
}

export type CandidateResult =
  | { status: 'rejected'; kind: RejectionKind; reason: string }
  | {
      status: 'evaluated';
      /** `ok` when every input was ok; otherwise the kind of the first failing input. */
      kind: OutcomeKind;
      fn: PyFunction;
      program: string;
      outcomes: InputOutcome[];
      /** Per-input scores in the inputs file's order; present only when every input was ok. */
      scoresPerTest?: Map<string, number>;
    };

export interface EvaluatorOptions {
  sandbox: Sandbox;
  template: Program;
  functionToEvolve: string;
  functionToRun: string;
  testInputs: readonly TestInput[];
  timeoutSeconds: number;
}

export interface EvaluateOptions {
  /** The version number of the prompt's header (`priority_v{k}`), so recursive calls are renamed back. */
  versionGenerated?: number;
  /**
   * Stop at the first failing input (the run: a candidate registers only when every input is ok, so
   * the rest is wasted sandbox time) or run them all (`funsearch evaluate`, to show each outcome).
   */
  stopAtFirstFailure?: boolean;
  signal?: AbortSignal;
  /** The run's id of the sample, passed to the sandbox so a queue can make its job idempotent. */
  id?: string;
}

export class Evaluator {
  constructor(private readonly options: EvaluatorOptions) {}

  async evaluate(
    sample: string,
    { versionGenerated, stopAtFirstFailure = true, signal, id }: EvaluateOptions = {},
  ): Promise<CandidateResult> {
    const candidate = this.build(sample, versionGenerated);
    if ('status' in candidate) return candidate;
    return this.evaluateProgram(candidate.fn, candidate.program, { stopAtFirstFailure, signal, id });
  }

  /** The runnable candidate of a sample, or why it cannot run. */
  build(
    sample: string,
    versionGenerated?: number,
  ): Candidate | Extract<CandidateResult, { status: 'rejected' }> {
    const { template, functionToEvolve } = this.options;
    const candidate = buildCandidate(template, functionToEvolve, sample, versionGenerated);
    if ('error' in candidate) return { status: 'rejected', kind: candidate.error, reason: candidate.reason };
    return candidate;
  }

  async evaluateProgram(
    fn: PyFunction,
    program: string,
    {
      stopAtFirstFailure = true,
      signal,
      id,
    }: Pick<EvaluateOptions, 'stopAtFirstFailure' | 'signal' | 'id'> = {},
  ): Promise<CandidateResult> {
    if (stopAtFirstFailure) return this.result(fn, program, await this.runBatch(program, { signal, id }));
    const { sandbox, functionToRun, testInputs, timeoutSeconds } = this.options;
    const outcomes: Outcome[] = [];
    for (const input of testInputs) {
      outcomes.push(
        await sandbox.run({ program, functionToRun, testInput: input.text, timeoutSeconds }, signal),
      );
    }
    return this.result(fn, program, outcomes);
  }

  /**
   * Every input of one program in one sandbox child, in order, stopping at the first failure (one
   * fork per candidate): one outcome per input run.
   */
  runBatch(program: string, { signal, id }: Pick<EvaluateOptions, 'signal' | 'id'> = {}): Promise<Outcome[]> {
    const { sandbox, functionToRun, testInputs, timeoutSeconds } = this.options;
    return sandbox.runBatch(
      {
        program,
        functionToRun,
        testInputs: testInputs.map((input) => input.text),
        timeoutSeconds,
        ...(id === undefined ? {} : { id }),
      },
      signal,
    );
  }

  /** The result of a program from its outcomes (one per input run, in the inputs' order). */
  result(fn: PyFunction, program: string, results: readonly Outcome[]): CandidateResult {
    const outcomes = results.map((outcome, index) => ({
      input: this.options.testInputs[index]!.text,
      outcome,
    }));
    const failed = outcomes.find((o) => o.outcome.kind !== 'ok');
    if (failed) return { status: 'evaluated', kind: failed.outcome.kind, fn, program, outcomes };
    const scoresPerTest = new Map<string, number>();
    for (const { input, outcome } of outcomes)
      if (outcome.kind === 'ok') scoresPerTest.set(input, outcome.score);
    return { status: 'evaluated', kind: 'ok', fn, program, outcomes, scoresPerTest };
  }
}
