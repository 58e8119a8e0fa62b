/**
 * The one format of the Redis queue: what a run enqueues (an evaluation job) and what a worker
 * returns. Both directions cross a trust boundary (anyone who can write to the Redis can write
 * either), so both are checked here with size caps; outcomes go through the same validation as a
 * local harness's replies (protocol.ts's wire schema, then score.ts's `toOutcome`).
 */
import { z } from 'zod';
import { sandboxConfigSchema } from '../config.js';
import { wireOutcomeSchema } from '../sandbox/protocol.js';
import type { Outcome, SandboxBatchJob } from '../sandbox/sandbox.js';
import { MAX_EXACT_INT, toOutcome } from '../sandbox/score.js';

export const JOB_FORMAT_VERSION = 1;
/** Characters of program text one job may carry. */
export const MAX_PROGRAM_CHARS = 512 * 1024;
/** Test inputs one job may carry, and characters of all of them together. */
export const MAX_TEST_INPUTS = 1000;
export const MAX_TEST_INPUT_CHARS = 4 * 1024 * 1024;

/** Run, session, sample and worker ids: safe in Redis keys and BullMQ job ids (no `:`). */
const idSchema = z.string().regex(/^[A-Za-z0-9._-]{1,120}$/, 'expected 1-120 of A-Z a-z 0-9 . _ -');

/** The limits a worker applies to the job's candidate: the run's `sandbox` config, bounded. */
export const jobLimitsSchema = sandboxConfigSchema
  .omit({ kind: true })
  .extend({
    memory_mb: z.number().int().positive().max(65_536),
    pids_limit: z.number().int().positive().max(4096),
    tmpfs_mb: z.number().int().positive().max(16_384),
    cpus: z.number().positive().max(64),
    output_limit_bytes: z
      .number()
      .int()
      .positive()
      .max(64 * 1024 * 1024),
  })
  .strict();
export type JobLimits = z.infer<typeof jobLimitsSchema>;

/** Modules the worker's harnesses import before forking candidates (the run's spec's imports). */
export const jobPreloadSchema = z
  .array(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'expected a module name')
      .max(200),
  )
  .max(200);

export const evaluationJobSchema = z
  .object({
    v: z.literal(JOB_FORMAT_VERSION),
    run: idSchema,
    session: idSchema,
    sample: idSchema,
    program: z.string().max(MAX_PROGRAM_CHARS),
    functionToRun: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,199}$/),
    testInputs: z
      .array(z.string())
      .min(1)
      .max(MAX_TEST_INPUTS)
      .refine((inputs) => inputs.reduce((n, t) => n + t.length, 0) <= MAX_TEST_INPUT_CHARS, {
        message: `test inputs exceed ${MAX_TEST_INPUT_CHARS} characters`,
      }),
    timeoutSeconds: z.number().positive().max(86_400),
    limits: jobLimitsSchema,
    // Optional: a job without it (an older run) gets the worker's default, numpy.
    preload: jobPreloadSchema.optional(),
  })
  .strict();
export type EvaluationJob = z.infer<typeof evaluationJobSchema>;

export const evaluationResultSchema = z
  .object({
    v: z.literal(JOB_FORMAT_VERSION),
    worker: idSchema,
    outcomes: z.array(wireOutcomeSchema).min(1).max(MAX_TEST_INPUTS),
  })
  .strict();
export type EvaluationResult = z.infer<typeof evaluationResultSchema>;

/** The BullMQ job id of an evaluation: one per sample of one session of one run. */
export function jobIdOf(job: Pick<EvaluationJob, 'run' | 'session' | 'sample'>): string {
  return `${job.run}/${job.session}/${job.sample}`;
}

/** First problem of a zod parse as `path: message`. */
function problemOf(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || '(job)'}: ${issue.message}`;
}

export function buildJob(
  batch: SandboxBatchJob,
  scope: { run: string; session: string; sample: string },
  limits: JobLimits,
  preload?: readonly string[],
): { job: EvaluationJob } | { problem: string } {
  const parsed = evaluationJobSchema.safeParse({
    v: JOB_FORMAT_VERSION,
    ...scope,
    program: batch.program,
    functionToRun: batch.functionToRun,
    testInputs: [...batch.testInputs],
    timeoutSeconds: batch.timeoutSeconds,
    limits,
    ...(preload ? { preload: [...preload] } : {}),
  });
  return parsed.success ? { job: parsed.data } : { problem: problemOf(parsed.error) };
}

/** A worker's check of what it dequeued. */
export function parseJob(data: unknown): { job: EvaluationJob } | { problem: string } {
  const parsed = evaluationJobSchema.safeParse(data);
  return parsed.success ? { job: parsed.data } : { problem: problemOf(parsed.error) };
}

/** What a worker returns for the outcomes its local sandbox gave. */
export function resultOf(worker: string, outcomes: readonly Outcome[]): EvaluationResult {
  return {
    v: JOB_FORMAT_VERSION,
    worker,
    outcomes: outcomes.map((o) =>
      o.kind === 'ok'
        ? {
            kind: 'ok',
            durationMs: o.durationMs,
            stderr: o.stderr,
            score: o.score,
            // The local sandbox already typed the score; a JSON number keeps only its value.
            scoreType: Number.isInteger(o.score) && Math.abs(o.score) <= MAX_EXACT_INT ? 'int' : 'float',
          }
        : { kind: o.kind, durationMs: o.durationMs, stderr: o.stderr, reason: o.reason },
    ),
  };
}

/**
 * The run's check of a worker's answer: the schema, then the batch contract (every outcome but
 * the last is `ok`, no more outcomes than inputs), then each outcome as a harness reply is checked.
 */
export function parseResult(
  value: unknown,
  inputs: number,
): { worker: string; outcomes: Outcome[] } | { problem: string } {
  const parsed = evaluationResultSchema.safeParse(value);
  if (!parsed.success) return { problem: `malformed result (${problemOf(parsed.error)})` };
  const { outcomes, worker } = parsed.data;
  if (outcomes.length > inputs) return { problem: `${outcomes.length} outcomes for ${inputs} inputs` };
  if (outcomes.slice(0, -1).some((o) => o.kind !== 'ok'))
    return { problem: 'an outcome after a failed input' };
  if (outcomes.length < inputs && outcomes.at(-1)!.kind === 'ok')
    return { problem: `${outcomes.length} outcomes for ${inputs} inputs, all ok` };
  return { worker, outcomes: outcomes.map(toOutcome) };
}
