/** Loading what every command that runs candidates needs: the env, the spec, the inputs, the evaluator. */
import { readFile } from 'node:fs/promises';
import { parse as parseDotenv } from 'dotenv';
import type { Config } from '../config.js';
import { UserError } from '../errors.js';
import { createLanguageModel } from '../llm/index.js';
import type { Completion, LanguageModel } from '../llm/language-model.js';
import type { UsageMeter } from '../llm/usage.js';
import type { Random } from '../random.js';
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

/** The language model the config names, with its retry policy and usage meter. */
export function languageModelFor(
  config: Config,
  parts: { env: Record<string, string | undefined>; random: Random; meter: UsageMeter },
): LanguageModel {
  const { llm } = config;
  return createLanguageModel({
    llm: llm.provider,
    model: llm.model,
    env: parts.env,
    random: parts.random,
    params: llm.params,
    endpoint: llm.openai_endpoint,
    mockResponsesFile: llm.mock_responses,
    latencyMs: llm.mock_latency_ms,
    faultRate: llm.mock_fault_rate,
    meter: parts.meter,
    pricePerMillionTokens: llm.price_per_million_tokens,
    retry: {
      maxRetries: llm.max_retries,
      ...(llm.request_timeout === undefined ? {} : { requestTimeoutMs: llm.request_timeout * 1000 }),
    },
  });
}

/** USD for one completion at the model's known or configured price; 0 when unknown. */
export function costOf(meter: UsageMeter, llm: LanguageModel, completion: Completion): number {
  const price = meter.priceOf(llm.modelId);
  if (!price || !completion.usage) return 0;
  return (
    ((completion.usage.inputTokens ?? 0) * price.input +
      (completion.usage.outputTokens ?? 0) * price.output) /
    1e6
  );
}
