/** Loading what every command that runs candidates needs: the env, the spec, the inputs, the evaluator. */
import { parse as parseDotenv } from 'dotenv';
import type { Config } from '../config.js';
import { createLanguageModel, modelOptionsFromConfig } from '../llm/index.js';
import type { LanguageModel } from '../llm/language-model.js';
import type { UsageMeter } from '../llm/usage.js';
import type { Random } from '../random.js';
import { Evaluator } from '../run/evaluator.js';
import { readTestInputs, type TestInput } from '../run/test-inputs.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { parseSpec, type Spec } from '../spec/parse.js';
import { initParser } from '../spec/parser.js';
import { readUserFile, readUserFileIfPresent } from '../user-file.js';

export interface LoadedSpec extends Spec {
  specFile: string;
  specText: string;
}

export async function loadSpec(specFile: string): Promise<LoadedSpec> {
  const specText = await readUserFile({
    path: specFile,
    what: 'the specification file',
    fix: 'check -s/--specification-file',
  });
  await initParser();
  return { specFile, specText, ...parseSpec(specText, specFile) };
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
  const file = { path: envFile ?? '.env', what: 'the env file', fix: 'check --env-file' };
  // The default `.env` may be absent; a file named with --env-file must exist.
  const text = envFile === undefined ? await readUserFileIfPresent(file) : await readUserFile(file);
  const fromFile = text === undefined ? {} : parseDotenv(text);
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

/** The language model the config names, with its retry policy and usage meter. */
export function languageModelFor(
  config: Config,
  parts: { env: Record<string, string | undefined>; random: Random; meter: UsageMeter },
): LanguageModel {
  const { llm } = config;
  return createLanguageModel({
    ...modelOptionsFromConfig(llm),
    env: parts.env,
    random: parts.random,
    endpoint: llm.openai_endpoint,
    latencyMs: llm.mock_latency_ms,
    faultRate: llm.mock_fault_rate,
    meter: parts.meter,
    retry: {
      maxRetries: llm.max_retries,
      ...(llm.request_timeout === undefined ? {} : { requestTimeoutMs: llm.request_timeout * 1000 }),
    },
  });
}
