/**
 * The host's half of score validation. The harness already checked the candidate's return value
 * (exact int or float type, finite, |int| <= 2**53); the host checks again, because the reply
 * crossed a process boundary and a mistake there must not turn into a registered score.
 */
import type { Outcome, OutcomeKind } from './sandbox.js';

/** Integers beyond this magnitude are `invalid-score`: a double cannot hold all of them exactly. */
export const MAX_EXACT_INT = 2 ** 53;
/** Characters of the candidate's stderr kept per outcome. */
export const STDERR_EXCERPT_CHARS = 4096;
/** Characters of a reason kept per outcome. */
export const REASON_CHARS = 500;

/** An outcome as the harness reports it (see protocol.ts). */
export interface WireOutcome {
  kind: OutcomeKind;
  durationMs: number;
  stderr: string;
  reason?: string | undefined;
  score?: number | undefined;
  scoreType?: 'int' | 'float' | undefined;
}

/** Returns why `score` is not a valid score of type `scoreType`, or undefined when it is. */
export function scoreProblem(score: unknown, scoreType: unknown): string | undefined {
  if (typeof score !== 'number') return `score is ${score === undefined ? 'missing' : typeof score}`;
  if (!Number.isFinite(score)) return `score ${score} is not finite`;
  if (scoreType === 'int') {
    if (!Number.isInteger(score)) return `int score ${score} is not an integer`;
    if (Math.abs(score) > MAX_EXACT_INT) return 'int score beyond 2**53';
    return undefined;
  }
  if (scoreType === 'float') return undefined;
  return `unknown score type ${JSON.stringify(scoreType)}`;
}

export function excerpt(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 3)}...`;
}

/** Builds a failure outcome; for failures the host itself detects (silence, harness death). */
export function failure(
  kind: Exclude<OutcomeKind, 'ok'>,
  reason: string,
  durationMs: number,
  stderr = '',
): Outcome {
  return {
    kind,
    reason: excerpt(reason, REASON_CHARS),
    durationMs,
    stderr: excerpt(stderr, STDERR_EXCERPT_CHARS),
  };
}

/**
 * Turns a harness-reported outcome into an Outcome, re-validating an `ok` score. A timeout's reason
 * ends with the next step: the `--timeout` flag (config key `timeout`) and its value in this job.
 */
export function toOutcome(wire: WireOutcome, timeoutSeconds: number): Outcome {
  const stderr = excerpt(wire.stderr, STDERR_EXCERPT_CHARS);
  if (wire.kind === 'ok') {
    const problem = scoreProblem(wire.score, wire.scoreType);
    if (problem !== undefined) return failure('invalid-score', problem, wire.durationMs, stderr);
    const scoreType = wire.scoreType as 'int' | 'float';
    return { kind: 'ok', score: wire.score as number, scoreType, durationMs: wire.durationMs, stderr };
  }
  const reason = wire.reason || wire.kind;
  if (wire.kind === 'timeout')
    return failure('timeout', withTimeoutHint(reason, timeoutSeconds), wire.durationMs, stderr);
  return failure(wire.kind, reason, wire.durationMs, stderr);
}

/** `reason`, then how to give each input more time. */
export function withTimeoutHint(reason: string, timeoutSeconds: number): string {
  return `${reason}; raise --timeout (now ${timeoutSeconds} s per input) if the candidate needs longer`;
}
