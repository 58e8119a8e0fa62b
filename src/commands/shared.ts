/** Loading what every command that runs candidates needs: the env, the spec, the inputs, the evaluator. */
import { readFile } from 'node:fs/promises';
import { parse as parseDotenv } from 'dotenv';
import { UserError } from '../errors.js';
import { Evaluator } from '../run/evaluator.js';
import { readTestInputs, type TestInput } from '../run/test-inputs.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { parseSpec } from '../spec/parse.js';
import { initParser } from '../spec/parser.js';
import type { Program } from '../spec/program.js';

export interface LoadedSpec {
  specFile: string;
  specText: string;
  program: Program;
  functionToEvolve: string;
  functionToRun: string;
}

export async function loadSpec(specFile: string): Promise<LoadedSpec> {
  let specText: string;
  try {
    specText = await readFile(specFile, 'utf8');
  } catch (error) {
    throw new UserError(
      `${specFile}: cannot read the specification file (${(error as NodeJS.ErrnoException).code ?? error}); check -s/--specification-file`,
    );
  }
  await initParser();
  const { program, functionToEvolve, functionToRun } = parseSpec(specText, specFile);
  return { specFile, specText, program, functionToEvolve, functionToRun };
}

export async function loadInputs(inputsFile: string): Promise<TestInput[]> {
  await initParser();
  return readTestInputs(inputsFile);
}

/**
 * The variables the tool reads: the `.env` file (or `--env-file`) under the process environment,
 * which wins as dotenv does. Nothing here ever reaches a candidate: sandboxes start from an empty env.
 */
export async function loadEnv(
  envFile: string | undefined,
  processEnv: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, string | undefined>> {
  const file = envFile ?? '.env';
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parseDotenv(await readFile(file, 'utf8'));
  } catch (error) {
    if (envFile !== undefined || (error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new UserError(
        `${file}: cannot read the env file (${(error as NodeJS.ErrnoException).code ?? error}); check --env-file`,
      );
    }
  }
  return { ...fromFile, ...processEnv };
}

/** The evaluator of a loaded spec: its template, its two functions, the inputs, the timeout. */
export function evaluatorFor(
  sandbox: Sandbox,
  spec: LoadedSpec,
  inputs: TestInput[],
  timeoutSeconds: number,
): Evaluator {
  return new Evaluator({
    sandbox,
    template: spec.program,
    functionToEvolve: spec.functionToEvolve,
    functionToRun: spec.functionToRun,
    testInputs: inputs,
    timeoutSeconds,
  });
}
