/**
 * `funsearch run` (the default command): sets up a run (or resumes one), runs the loop, and makes
 * sure that on every path — budget, Ctrl-C, SIGTERM, a fault — the checkpoint and the reports are
 * written and every container is removed.
 */
import { join, resolve } from 'node:path';
import { resolveConfig } from '../cli/load-config.js';
import { systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { ProgramsDatabase } from '../database/programs-database.js';
import { ExitError, UserError } from '../errors.js';
import { createLanguageModel } from '../llm/index.js';
import type { Completion, LanguageModel } from '../llm/language-model.js';
import { UsageMeter } from '../llm/usage.js';
import { Random } from '../random.js';
import { writeHtmlReport } from '../report/index.js';
import { removeStaleTemporaries } from '../run/atomic-file.js';
import { type Checkpoint, readCheckpoint, writeCheckpoint } from '../run/checkpoint.js';
import { EventLog } from '../run/event-log.js';
import { describeFailure, FunSearch, InitialProgramError, type RunLogger } from '../run/funsearch.js';
import { createRunLogger } from '../run/logger.js';
import { progressLine, statusLines, TerminalStatus } from '../run/progress.js';
import { type RunStatus, writeReports } from '../run/report-files.js';
import { createRunDir, RUN_FILES, readRunConfig, writeRunConfig } from '../run/run-dir.js';
import { emptyStats } from '../run/stats.js';
import { createSandbox } from '../sandbox/index.js';
import type { SandboxLogger } from '../sandbox/sandbox.js';
import { evaluatorFor, loadEnv, loadInputs, loadSpec } from './shared.js';

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
}

export async function runCommand(options: RunCommandOptions): Promise<void> {
  const stderr = options.stderr ?? process.stderr;
  const setup = await prepare(options);
  const { config, runDir, spec, inputs } = setup;

  const tty = stderr.isTTY === true;
  const status = tty ? new TerminalStatus(stderr) : undefined;
  const printLine = (line: string) => (status ? status.log(line) : stderr.write(`${line}\n`));
  const { logger, close: closeLogger } = createRunLogger({
    logFile: join(runDir, RUN_FILES.log),
    terminalLevel: options.logLevel,
    printLine,
  });
  logger.info(`run directory ${runDir}`);

  const env = await loadEnv(options.envFile);
  const seed = config.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = new Random(seed);
  const meter = new UsageMeter();
  const llm = createLanguageModel({
    llm: config.llm.provider,
    model: config.llm.model,
    env,
    random: random.fork(),
    params: config.llm.params,
    endpoint: config.llm.openai_endpoint,
    mockResponsesFile: config.llm.mock_responses,
    latencyMs: config.llm.mock_latency_ms,
    faultRate: config.llm.mock_fault_rate,
    meter,
    pricePerMillionTokens: config.llm.price_per_million_tokens,
    retry: {
      maxRetries: config.llm.max_retries,
      ...(config.llm.request_timeout === undefined
        ? {}
        : { requestTimeoutMs: config.llm.request_timeout * 1000 }),
    },
  });
  const sandbox = createSandbox({
    kind: config.sandbox.kind,
    config,
    logger: sandboxLogger(logger),
    baseImage: options.baseImage,
    onProgress: (line: string) => logger.info(line),
  });
  if (sandbox.warning) logger.warn(sandbox.warning);

  const events = new EventLog(join(runDir, RUN_FILES.events));
  const startedAt = new Date().toISOString();
  let database: ProgramsDatabase | undefined;
  let search: FunSearch | undefined;
  let runStatus: RunStatus = 'running';
  let stopSignal: NodeJS.Signals | undefined;
  let error: unknown;
  const stats = setup.checkpoint?.stats ?? emptyStats(config.num_samplers);
  while (stats.promptsPerSampler.length < config.num_samplers) stats.promptsPerSampler.push(0);

  let lastCheckpointAt = Date.now();
  let registeredAtCheckpoint = stats.registered;
  let lastHtmlAt = 0;
  let checkpointing: Promise<void> = Promise.resolve();
  const saveCheckpoint = (finished: boolean): Promise<void> => {
    if (!database) return Promise.resolve();
    const db = database;
    // Counted as done when scheduled, so evaluations finishing during the write do not queue more.
    lastCheckpointAt = Date.now();
    registeredAtCheckpoint = stats.registered;
    // After a failed write the next one still runs (a rejected chain would skip every later write).
    checkpointing = checkpointing
      .catch(() => undefined)
      .then(async () => {
        search?.updateElapsed();
        const checkpoint: Checkpoint = {
          format: 'funsearch-checkpoint',
          version: 1,
          savedAt: new Date().toISOString(),
          finished,
          stats: structuredClone(stats),
          database: db.toJSON(),
        };
        await writeCheckpoint(join(runDir, RUN_FILES.checkpoint), checkpoint);
        await writeReports(runDir, summaryContext());
        // The page reads all of events.jsonl (most of a second at 100 000 samples): at most once a
        // minute while running, and always at the end. It is a view: failing to draw it must not stop the run.
        if (finished || runStatus !== 'running' || Date.now() - lastHtmlAt >= HTML_REPORT_INTERVAL_MS) {
          lastHtmlAt = Date.now();
          await writeHtmlReport(runDir).catch((e) =>
            logger.warn('writing report.html failed', { error: String(e) }),
          );
        }
      });
    return checkpointing;
  };
  const checkpointIfDue = (): void => {
    const dueByCount = stats.registered - registeredAtCheckpoint >= config.checkpoint.every_registrations;
    const dueByTime = Date.now() - lastCheckpointAt >= config.checkpoint.every_seconds * 1000;
    // Evaluators do not wait for the write; a failed write is logged and the next one tries again.
    if (dueByCount || dueByTime) {
      saveCheckpoint(false).catch((e) => logger.error('checkpoint failed', { error: String(e) }));
    }
  };
  const summaryContext = () => ({
    config,
    database: database!,
    stats,
    status: runStatus,
    stopReason: search?.stopped,
    error: error === undefined ? undefined : String((error as Error)?.message ?? error),
    model: `${llm.provider}:${llm.modelId}`,
    specFile: spec.specFile,
    testInputs: inputs.map((input) => input.text),
    startedAt,
    initialScore: stats.initialScore,
  });

  const grace = (options.graceSeconds ?? Math.max(10, config.timeout * inputs.length + 5)) * 1000;
  let graceTimer: NodeJS.Timeout | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal === undefined) {
      stopSignal = signal;
      printLine(
        `${signal}: stopping; evaluations in flight get ${Math.round(grace / 1000)} s (press Ctrl-C again to cancel them)`,
      );
      search?.requestStop('interrupted');
      graceTimer = setTimeout(() => search?.cancelEvaluations(), grace);
      graceTimer.unref();
    } else {
      printLine(`${signal}: cancelling evaluations in flight`);
      search?.cancelEvaluations();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const render = () => {
    if (!database) return;
    search?.updateElapsed();
    const source = { config, stats, database };
    if (status) status.draw(statusLines(source));
    else printLine(progressLine(source));
  };
  const ticker = setInterval(
    () => {
      search?.checkBudget();
      render();
      checkpointIfDue();
    },
    tty ? 500 : 5000,
  );
  ticker.unref();

  try {
    if (config.llm.provider !== 'mock' && config.llm.check && llm.check) {
      logger.info(`checking ${llm.provider} credentials and model ${llm.modelId}`);
      await llm.check();
    }
    await sandbox.start();
    database = setup.checkpoint
      ? ProgramsDatabase.fromJSON(setup.checkpoint.database, { random, clock: systemClock })
      : new ProgramsDatabase({
          config: config.programs_database,
          template: spec.program,
          functionToEvolve: spec.functionToEvolve,
          random,
          clock: systemClock,
        });
    const evaluator = evaluatorFor(sandbox, spec, inputs, config.timeout);
    search = new FunSearch({
      config,
      database,
      evaluator,
      llm,
      clock: systemClock,
      stats,
      costOf: (completion) => estimateCost(meter, llm, completion),
      onEvent: (event) => events.write(event),
      onProgress: checkpointIfDue,
      logger,
    });
    if (stopSignal) search.requestStop('interrupted');
    const reason = await search.run();
    runStatus = reason === 'interrupted' ? 'interrupted' : 'finished';
    logger.info(`run ${runStatus}: ${reason}; best score ${database.bestScore}`);
  } catch (caught) {
    error = caught;
    runStatus = stopSignal ? 'interrupted' : 'failed';
    if (caught instanceof InitialProgramError) {
      logger.error(`the spec's own ${spec.functionToEvolve} fails: ${describeFailure(caught.result)}`);
    }
  } finally {
    clearInterval(ticker);
    if (graceTimer) clearTimeout(graceTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await sandbox.close().catch((e) => logger.error('closing the sandbox failed', { error: String(e) }));
    if (database?.populated) {
      await checkpointing.catch(() => undefined);
      await saveCheckpoint(runStatus === 'finished').catch((e) =>
        logger.error('final checkpoint failed', { error: String(e) }),
      );
    }
    status?.clear();
    events.close();
    await closeLogger();
  }

  if (database) {
    stderr.write(`${progressLine({ config, stats, database })}\nreports in ${runDir}\n`);
  }
  if (error instanceof InitialProgramError) {
    throw new ExitError(1, error.message);
  }
  if (error instanceof UserError) throw error;
  if (error !== undefined && !stopSignal) {
    if ((error as { fatal?: boolean }).fatal) throw new UserError((error as Error).message);
    stderr.write(`funsearch: run failed: ${(error as Error)?.message ?? error}\n`);
    throw new ExitError(1);
  }
  if (stopSignal) throw new ExitError(stopSignal === 'SIGINT' ? 130 : 143);
}

/** The sandbox logs pino-style (fields first); the run's logger takes the message first. */
function sandboxLogger(logger: RunLogger): SandboxLogger {
  const adapt =
    (level: keyof RunLogger) =>
    (fields: object, message?: string): void =>
      logger[level](message ?? '', fields as Record<string, unknown>);
  return { debug: adapt('debug'), info: adapt('info'), warn: adapt('warn'), error: adapt('error') };
}

/** USD for one completion at the model's known or configured price; 0 when unknown. */
function estimateCost(meter: UsageMeter, llm: LanguageModel, completion: Completion): number {
  const price = meter.priceOf(llm.modelId);
  if (!price || !completion.usage) return 0;
  return (
    ((completion.usage.inputTokens ?? 0) * price.input +
      (completion.usage.outputTokens ?? 0) * price.output) /
    1e6
  );
}

const HTML_REPORT_INTERVAL_MS = 60_000;

interface Prepared {
  config: Config;
  runDir: string;
  spec: Awaited<ReturnType<typeof loadSpec>>;
  inputs: Awaited<ReturnType<typeof loadInputs>>;
  checkpoint?: Checkpoint;
}

async function prepare(options: RunCommandOptions): Promise<Prepared> {
  if (options.resumeDir) {
    const runDir = resolve(options.resumeDir);
    const saved = await readRunConfig(runDir);
    // Flags and --config override the saved settings and budgets; islands come from the checkpoint.
    const config = resolveConfig({
      base: saved,
      fromFile: options.fromFile,
      fileName: options.configFile,
      fromFlags: options.fromFlags,
    });
    const spec = await loadSpec(join(runDir, RUN_FILES.spec));
    const inputs = await loadInputs(join(runDir, RUN_FILES.inputs));
    const checkpoint = await readCheckpoint(join(runDir, RUN_FILES.checkpoint));
    await removeStaleTemporaries(runDir);
    await writeRunConfig(runDir, config);
    return { config, runDir, spec, inputs, checkpoint };
  }
  if (!options.specFile)
    throw new UserError(
      'missing -s/--specification-file: give the Python spec to evolve (or --resume RUN_DIR)',
    );
  if (!options.inputsFile)
    throw new UserError(
      'missing -t/--test-inputs-file: give the file of test inputs, one Python literal per line',
    );
  const config = resolveConfig({
    fromFile: options.fromFile,
    fileName: options.configFile,
    fromFlags: options.fromFlags,
  });
  const spec = await loadSpec(options.specFile);
  const inputs = await loadInputs(options.inputsFile);
  const runDir = await createRunDir({ config, specFile: options.specFile, inputsFile: options.inputsFile });
  return { config, runDir, spec, inputs };
}
