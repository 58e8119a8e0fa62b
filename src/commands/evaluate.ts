/**
 * `funsearch evaluate`: one candidate against every test input, printed as one JSON object, so a
 * user can debug a spec (or a suspicious sample) before spending money on a run.
 */
import { readFile } from 'node:fs/promises';
import type { Config } from '../config.js';
import { reduceScore } from '../database/scores.js';
import { ExitError, UserError } from '../errors.js';
import { createSandbox } from '../sandbox/index.js';
import { bodyFromCandidateFile } from '../spec/candidate.js';
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

  const sandbox = createSandbox({
    kind: config.sandbox.kind,
    config,
    onProgress: options.log,
    baseImage: options.baseImage,
  });
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
    const report =
      result.status === 'rejected'
        ? { ok: false, kind: result.kind, reason: result.reason, outcomes: [], score: null }
        : {
            ok: result.kind === 'ok',
            kind: result.kind,
            outcomes: result.outcomes.map(({ input, outcome }) => ({ input, ...outcome })),
            score: result.scoresPerTest
              ? reduceScore(result.scoresPerTest, config.programs_database.score_reduction)
              : null,
            scoreReduction: config.programs_database.score_reduction,
          };
    options.write(`${JSON.stringify(report, null, 2)}\n`);
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

async function readCandidate(file: string, indent: string, functionName: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError(
      `${file}: cannot read the candidate file (${(error as NodeJS.ErrnoException).code ?? error}); check --candidate`,
    );
  }
  const body = bodyFromCandidateFile(text, { fileName: file, indent, functionName });
  if (!body.trim())
    throw new UserError(
      `${file}: no function body found; write the body of the evolved function or a whole def`,
    );
  return body;
}
