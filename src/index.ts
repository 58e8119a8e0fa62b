/**
 * The library API. Spec functions other than `initParser` are synchronous and need one
 * `await initParser()` first (it loads the WebAssembly grammar); they throw a clear error otherwise.
 */

export { type Clock, ManualClock, systemClock } from './clock.js';
export {
  type BudgetConfig,
  type Config,
  ConfigError,
  configSchema,
  defaultConfig,
  type LlmConfig,
  type ProgramsDatabaseConfig,
  parseConfig,
  programsDatabaseConfigSchema,
  type SandboxConfig,
  sandboxConfigSchema,
} from './config.js';
export { ProgramsDatabase, type RegisterResult } from './database/programs-database.js';
export type { Prompt } from './database/prompt.js';
export { reduceScore, type ScoresPerTest } from './database/scores.js';
export { ExitError, InfrastructureError, UserError } from './errors.js';
export { LlmApiError } from './llm/errors.js';
export { type CreateLanguageModelOptions, createLanguageModel } from './llm/index.js';
export type { Completion, LanguageModel, TokenUsage } from './llm/language-model.js';
export { UsageMeter } from './llm/usage.js';
export type { Logger } from './logger.js';
export {
  EvaluationWorker,
  type EvaluationWorkerOptions,
  openQueueSandbox,
  QueueSandbox,
  type QueueSandboxOptions,
} from './queue/index.js';
export { Random } from './random.js';
export { renderHtmlReport, writeHtmlReport } from './report/index.js';
export { type CandidateResult, Evaluator } from './run/evaluator.js';
export type { Checkpoint, RunStatus, SampleEvent, Summary } from './run/formats.js';
export {
  InitialProgramError,
  Run,
  type RunOptions,
  type RunResult,
  type RunSpec,
  type RunView,
} from './run/run.js';
export { DirectoryStore, MemoryStore, type RunStore } from './run/store.js';
export { parseTestInputs, readTestInputs, type TestInput } from './run/test-inputs.js';
export { buildImage, type CreateSandboxOptions, closeAllSandboxes, createSandbox } from './sandbox/index.js';
export type {
  Outcome,
  OutcomeKind,
  Sandbox,
  SandboxBatchJob,
  SandboxJob,
  SandboxStatus,
  SandboxWorkerStatus,
} from './sandbox/sandbox.js';
export {
  bodyFromCandidateFile,
  buildCandidate,
  callsAncestor,
  functionToString,
  getFunctionsCalled,
  initParser,
  Program,
  type PyFunction,
  parseSpec,
  renameFunctionCalls,
  textToFunction,
  textToProgram,
  trimFunctionBody,
  yieldDecorated,
} from './spec/index.js';
export { isPythonLiteral } from './spec/literal.js';
