/**
 * `funsearch evaluate`: one candidate against every test input, printed as one JSON object, so a
 * user can debug a spec (or a suspicious sample) before spending money on a run.
 */
import { randomUUID } from 'node:crypto';
import type { Config, ScoreReduction } from '../config.js';
import { largestInputIndex, reduceScore } from '../database/scores.js';
import { ExitError, UserError } from '../errors.js';
import { previewInput } from '../run/test-inputs.js';
import { createSandbox } from '../sandbox/index.js';
import { bodyFromCandidateFile } from '../spec/candidate.js';
import { readUserFile } from '../user-file.js';
import { evaluatorFor, loadInputs, loadSpec } from './shared.js';

export interface EvaluateCommandOptions {
  specFile: string;
  inputsFile: string;
  /** A file holding the body of the evolved function, or a whole `def` of it; the spec's own when absent. */
  candidateFile?: string;
  config: Config;
  /** BASE_IMAGE if the sandbox image must be built first. */
  baseImage?: string;
  /** Where the JSON goes (stdout in the CLI). */
  write: (text: string) => void;
  /** Progress and warnings (stderr in the CLI). */
  log: (line: string) => void;
}

export async function evaluateCommand(options: EvaluateCommandOptions): Promise<void> {
  const { config } = options;
  const spec = await loadSpec(options.specFile);
  const inputs = await loadInputs(options.inputsFile);
  const evolved = spec.program.getFunction(spec.functionToEvolve);
  const sample = options.candidateFile
    ? await readCandidate(options.candidateFile, evolved.indent, spec.functionToEvolve)
    : evolved.body;

  // One candidate, its inputs run one after another: one worker, whatever the CPU count.
  const sandbox = createSandbox({
    kind: config.sandbox.kind,
    config,
    poolSize: 1,
    onProgress: options.log,
    baseImage: options.baseImage,
    preload: spec.imports,
  });
  const sandboxUsed = {
    kind: sandbox.kind,
    ...(sandbox.kind === 'docker' ? { image: config.docker_image } : {}),
    workers: sandbox.capacity,
  };
  if (sandbox.warning) options.log(`warning: ${sandbox.warning}`);
  // Ctrl-C / SIGTERM: abort the evaluation, remove the containers (finally), exit 130 / 143.
  const abort = new AbortController();
  let stopSignal: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stopSignal ??= signal;
    abort.abort(new ExitError(signal === 'SIGINT' ? 130 : 143, `stopped by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await sandbox.start();
    const evaluator = evaluatorFor(sandbox, spec, inputs, config.timeout);
    const result = await evaluator.evaluate(sample, { stopAtFirstFailure: false, signal: abort.signal });
    const reduction = config.programs_database.score_reduction;
    const report =
      result.status === 'rejected'
        ? {
            ok: false,
            kind: result.kind,
            reason: result.reason,
            sandbox: sandboxUsed,
            outcomes: [],
            score: null,
          }
        : {
            ok: result.kind === 'ok',
            kind: result.kind,
            sandbox: sandboxUsed,
            // Inputs run in file order, one outcome each (stopAtFirstFailure is off).
            outcomes: result.outcomes.map(({ outcome }, i) => ({
              line: inputs[i]!.line,
              input: previewInput(inputs[i]!.text),
              ...outcome,
            })),
            ...(result.scoresPerTest
              ? {
                  score: reduceScore(result.scoresPerTest, reduction),
                  scoreType: reducedScoreType(
                    result.outcomes.map(({ outcome }) =>
                      outcome.kind === 'ok' ? outcome.scoreType : undefined,
                    ),
                    reduction,
                    largestInputIndex(inputs.map((input) => input.text)),
                  ),
                }
              : { score: null }),
            scoreReduction: reduction,
          };
    options.write(`${toJsonKeepingFloats(report)}\n`);
    if (!report.ok) throw new ExitError(1, `candidate failed: ${report.kind}`);
  } catch (error) {
    if (stopSignal) throw new ExitError(stopSignal === 'SIGINT' ? 130 : 143, `stopped by ${stopSignal}`);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await sandbox.close();
  }
}

/**
 * Whether the reduced score is an int or a float, as Python would compute it from the per-input
 * scores: `last` and `max-key` pick one input's score, a sum of ints is an int, a mean is a float.
 */
function reducedScoreType(
  types: readonly ('int' | 'float' | undefined)[],
  reduction: ScoreReduction,
  maxKeyIndex: number,
): 'int' | 'float' | undefined {
  switch (reduction) {
    case 'last':
      return types[types.length - 1];
    case 'max-key':
      return types[maxKeyIndex];
    case 'sum':
      return types.every((type) => type === 'int') ? 'int' : 'float';
    case 'mean':
      return 'float';
  }
}

/**
 * JSON in which a float score keeps its float-ness as Python's `json.dumps` writes it (`-212.0`,
 * `1e+16`) and an int never has a decimal point; JSON.stringify alone would print both as `-212`.
 * Every object with `scoreType: 'float'` has its `score` written that way.
 */
export function toJsonKeepingFloats(value: unknown): string {
  // A fresh nonce, so no string a candidate prints can pass for a marker.
  const marker = `\u0000float:${randomUUID()}:`;
  const json = JSON.stringify(
    value,
    function (this: Record<string, unknown>, key: string, field: unknown) {
      if (key === 'score' && this.scoreType === 'float' && typeof field === 'number') {
        return `${marker}${pythonFloatRepr(field)}`;
      }
      return field;
    },
    2,
  );
  return json.replaceAll(new RegExp(`"\\\\u0000${marker.slice(1)}([^"]*)"`, 'g'), '$1');
}

/** Python's `repr` of a finite float: shortest round-trip digits, exponent below 1e-4 and from 1e16. */
export function pythonFloatRepr(x: number): string {
  const [mantissa, exponentText] = x.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const fixed = Object.is(x, -0) ? '-0' : String(x);
  return fixed.includes('.') ? fixed : `${fixed}.0`;
}

async function readCandidate(file: string, indent: string, functionName: string): Promise<string> {
  const text = await readUserFile({ path: file, what: 'the candidate file', fix: 'check --candidate' });
  const body = bodyFromCandidateFile(text, { fileName: file, indent, functionName });
  if (!body.trim())
    throw new UserError(
      `${file}: no function body found; write the body of the evolved function or a whole def`,
    );
  return body;
}
