/**
 * `funsearch run` (the default command): builds the parts of a run from the config, hands them to
 * `Run`, turns Ctrl-C / SIGTERM into `run.stop()`, and maps the result to an exit code.
 */
import { join, resolve } from 'node:path';
import { resolveConfig } from '../cli/load-config.js';
import type { Config } from '../config.js';
import { ExitError, UserError } from '../errors.js';
import { UsageMeter } from '../llm/usage.js';
import { Random } from '../random.js';
import { createRunLogger } from '../run/logger.js';
import { progressLine, statusLines, TerminalStatus } from '../run/progress.js';
import { InitialProgramError, Run, type RunResult } from '../run/run.js';
import { RUN_FILES, readRunConfig, servedByWorkers } from '../run/run-dir.js';
import { DirectoryStore } from '../run/store.js';
import { createSandbox } from '../sandbox/index.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { languageModelFor, loadEnv, loadInputs, loadSpec } from './shared.js';

export interface RunCommandOptions {
  specFile?: string;
  inputsFile?: string;
  resumeDir?: string;
  /** Config fields from `--config FILE`, and from flags (only those given). */
  fromFile?: Record<string, unknown>;
  configFile?: string;
  fromFlags: Record<string, unknown>;
  envFile?: string;
  logLevel: string;
  baseImage?: string;
  /** Where status and log lines go (stderr in the CLI). */
  stderr?: NodeJS.WriteStream;
  /** Seconds that evaluations in flight get to finish after Ctrl-C / SIGTERM. */
  graceSeconds?: number;
  /** `--redis`: evaluations go to workers through this Redis (FUNSEARCH_REDIS_URL when absent). */
  redis?: string;
}

export async function runCommand(options: RunCommandOptions): Promise<void> {
  const stderr = options.stderr ?? process.stderr;
  const { config, spec, inputs, store } = await loadRun(options);
  const status = stderr.isTTY ? new TerminalStatus(stderr) : undefined;
  const printLine = (line: string) => (status ? status.log(line) : stderr.write(`${line}\n`));
  const logger = createRunLogger({ file: store.log, terminalLevel: options.logLevel, printLine });
  const random = new Random(config.seed ?? Math.floor(Math.random() * 2 ** 31));
  const meter = new UsageMeter();
  const env = await loadEnv(options.envFile);
  const llm = languageModelFor(config, { env, random: random.fork(), meter });
  const redis = options.redis ?? env.FUNSEARCH_REDIS_URL;
  const sandbox: Sandbox = redis
    ? await (await import('../queue/index.js')).openQueueSandbox({
        url: redis,
        source: options.redis !== undefined ? '--redis' : 'FUNSEARCH_REDIS_URL',
        runDir: () => store.dir,
        sandbox: config.sandbox,
        preload: spec.imports,
        logger,
      })
    : createSandbox({
        kind: config.sandbox.kind,
        config,
        logger,
        baseImage: options.baseImage,
        onProgress: (line: string) => logger.info({}, line),
        preload: spec.imports,
      });
  if (sandbox.warning) logger.warn({}, sandbox.warning);
  if (options.resumeDir && !redis && store.dir && (await servedByWorkers(store.dir))) {
    logger.warn(
      {},
      `${store.dir}: its last session was evaluated by workers through Redis; this one evaluates on the local ${config.sandbox.kind} sandbox (give --redis or FUNSEARCH_REDIS_URL to go on with the workers)`,
    );
  }
  const run = new Run({
    config,
    spec,
    inputs,
    sandbox,
    llm,
    store,
    random,
    logger,
    prices: meter,
    onTick: (view) => (status ? status.draw(statusLines(view)) : printLine(progressLine(view))),
    tickMs: status ? 500 : 5000,
    ...(options.graceSeconds === undefined ? {} : { graceMs: options.graceSeconds * 1000 }),
  });
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    printLine(
      signalled
        ? `${signal}: cancelling evaluations in flight`
        : `${signal}: stopping; evaluations in flight get ${Math.round(run.graceMs / 1000)} s (press Ctrl-C again to cancel them)`,
    );
    signalled ??= signal;
    run.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: RunResult;
  try {
    result = await run.start();
  } catch (error) {
    if (signalled) throw signalExit(signalled);
    if (error instanceof InitialProgramError) throw new ExitError(1, error.message, true);
    if (isUserFault(error)) throw new UserError((error as Error).message);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    status?.clear();
  }
  const view = run.view();
  if (view) stderr.write(`${progressLine(view)}\nreports in ${result.runDir}\n`);
  exitFor(result, signalled);
}

function exitFor(result: RunResult, signalled: NodeJS.Signals | undefined): void {
  if (signalled) throw signalExit(signalled);
  if (result.status !== 'failed') return;
  const error = result.error as Error;
  if (isUserFault(error)) throw new UserError(error.message);
  throw new ExitError(1, `run failed: ${error?.message ?? error}`, true);
}

/** A mistake the user fixes (a refused key, an unknown model): exit 2 with its one line. */
function isUserFault(error: unknown): boolean {
  return error instanceof UserError || (error as { fatal?: boolean } | undefined)?.fatal === true;
}

function signalExit(signal: NodeJS.Signals): ExitError {
  return new ExitError(signal === 'SIGINT' ? 130 : 143);
}

interface LoadedRun {
  config: Config;
  spec: Awaited<ReturnType<typeof loadSpec>>;
  inputs: Awaited<ReturnType<typeof loadInputs>>;
  store: DirectoryStore;
}

/** The config, spec and inputs of a new run, or of the run directory to resume; nothing is written yet. */
async function loadRun(options: RunCommandOptions): Promise<LoadedRun> {
  const { fromFile, configFile: fileName, fromFlags } = options;
  if (options.resumeDir) {
    const runDir = resolve(options.resumeDir);
    // Flags and --config override the saved settings and budgets; islands come from the checkpoint.
    const config = resolveConfig({ base: await readRunConfig(runDir), fromFile, fileName, fromFlags });
    const spec = await loadSpec(join(runDir, RUN_FILES.spec));
    const inputs = await loadInputs(join(runDir, RUN_FILES.inputs));
    return { config, spec, inputs, store: DirectoryStore.forResume(runDir, config) };
  }
  if (!options.specFile)
    throw new UserError(
      'missing -s/--specification-file: give the Python spec to evolve (or --resume RUN_DIR)',
    );
  if (!options.inputsFile)
    throw new UserError(
      'missing -t/--test-inputs-file: give the file of test inputs, one Python literal per line',
    );
  const config = resolveConfig({ fromFile, fileName, fromFlags });
  const spec = await loadSpec(options.specFile);
  const inputs = await loadInputs(options.inputsFile);
  const store = DirectoryStore.forNewRun({
    reportDir: config.report_dir,
    specFile: options.specFile,
    inputsFile: options.inputsFile,
    config,
  });
  return { config, spec, inputs, store };
}
