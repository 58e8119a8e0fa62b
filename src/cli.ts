#!/usr/bin/env node
/**
 * The command line, and the error boundary: the only module that reads argv, prints a user
 * mistake as one line, and calls process.exit. Commands are plain async functions, imported when
 * chosen: what one needs (SDKs, the Docker and Redis clients) never slows another's start.
 */
import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError, Option } from 'commander';
import { CONFIG_FLAGS, defaultOf } from './cli/config-flags.js';
import { configFromFlags, normaliseArgv, readConfigFile, resolveConfig } from './cli/load-config.js';
import { type Config, SANDBOX_KINDS } from './config.js';
import { ExitError, UserError } from './errors.js';

// The spec parser's WebAssembly (tree-sitter's grammar) is compiled by V8's baseline compiler only:
// the optimising tier cost about 0.2 CPU-seconds at every start that parses, and what it gains
// (about 0.1 ms of a 0.5 ms parse) a run never earns back. Set here, not in the library, whose host
// process is the user's.
setFlagsFromString('--liftoff-only');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function addConfigOptions(command: Command): Command {
  command
    .option('--config <file>', 'JSON file of config fields (snake_case, as the original); flags override it')
    .addOption(
      new Option('--env-file <file>', 'file of environment variables (API tokens)').default(
        undefined,
        '.env',
      ),
    )
    .addOption(
      new Option('--log-level <level>', 'verbosity on the terminal').choices(LOG_LEVELS).default('info'),
    )
    .option('--verbose', 'print stack traces of errors');
  for (const flag of CONFIG_FLAGS) {
    const value =
      flag.kind === 'switch-off'
        ? ''
        : flag.kind === 'key-value'
          ? ' <key=value...>'
          : flag.kind === 'model-entry'
            ? ' <provider:model=weight...>'
            : flag.kind === 'int' || flag.kind === 'number'
              ? ' <n>'
              : ' <value>';
    // Defaults live in the config schema, not in commander, so that an unset flag never overrides a
    // config file; help shows them in the description instead.
    const shown = defaultOf(flag);
    const option = new Option(
      `--${flag.flag}${value}`,
      shown === undefined ? flag.description : `${flag.description} (default: ${shown})`,
    );
    if (Array.isArray(flag.kind)) option.choices(flag.kind);
    command.addOption(option);
  }
  return command;
}

async function configFor(options: Record<string, unknown>, base?: Record<string, unknown>): Promise<Config> {
  const fileName = options.config as string | undefined;
  const fromFile = fileName ? await readConfigFile(fileName) : undefined;
  return resolveConfig({ base, fromFile, fileName, fromFlags: configFromFlags(options) });
}

function buildProgram(): Command {
  const program = new Command('funsearch')
    .description('FunSearch: evolve a Python function with a code LLM, scored in a locked-down sandbox.')
    .showHelpAfterError('(run funsearch --help for usage)')
    .exitOverride();

  addConfigOptions(
    program
      .command('run', { isDefault: true })
      .description('run a FunSearch experiment (the default command)')
      .option(
        '-s, --specification-file <file>',
        'Python spec with one @funsearch.evolve and one @funsearch.run function',
      )
      .option('-t, --test-inputs-file <file>', 'test inputs: one Python literal per line')
      .option('--resume <run-dir>', 'continue a stopped or killed run from its directory')
      .option(
        '--redis <url>',
        'evaluate on `funsearch worker`s through this Redis: redis://[:password@]host:port, rediss:// for TLS (or FUNSEARCH_REDIS_URL)',
      )
      .option(
        '--base-image <image>',
        'base image when the sandbox image must be built (e.g. funsearch-base:local)',
      ),
  ).action(async (options: Record<string, unknown>) => {
    const configFile = options.config as string | undefined;
    await (await import('./commands/run.js')).runCommand({
      specFile: options.specificationFile as string | undefined,
      inputsFile: options.testInputsFile as string | undefined,
      resumeDir: options.resume as string | undefined,
      fromFile: configFile ? await readConfigFile(configFile) : undefined,
      configFile,
      fromFlags: configFromFlags(options),
      envFile: options.envFile as string | undefined,
      logLevel: options.logLevel as string,
      baseImage: options.baseImage as string | undefined,
      ...(options.redis === undefined ? {} : { redis: options.redis as string }),
    });
  });

  addConfigOptions(
    program
      .command('evaluate')
      .description('evaluate one candidate against every test input and print the outcomes as JSON')
      .requiredOption('-s, --specification-file <file>', 'Python spec')
      .requiredOption('-t, --test-inputs-file <file>', 'test inputs: one Python literal per line')
      .option('--candidate <file>', "body or whole def of the evolved function (default: the spec's own)")
      .option(
        '--base-image <image>',
        'base image when the sandbox image must be built (e.g. funsearch-base:local)',
      ),
  ).action(async (options: Record<string, unknown>) => {
    await (await import('./commands/evaluate.js')).evaluateCommand({
      specFile: options.specificationFile as string,
      inputsFile: options.testInputsFile as string,
      candidateFile: options.candidate as string | undefined,
      baseImage: options.baseImage as string | undefined,
      config: await configFor(options),
      write: (text) => process.stdout.write(text),
      log: (line) => process.stderr.write(`${line}\n`),
    });
  });

  program
    .command('build-image')
    .description('build the sandbox image from the bundled Dockerfile')
    .option('--docker-image <tag>', 'tag of the image to build', 'funsearch_evaluator:latest')
    .option(
      '--base-image <image>',
      'BASE_IMAGE build argument (python:3.11-slim, or funsearch-base:local offline)',
    )
    .option('--verbose', 'print stack traces of errors')
    .action(async (options: { dockerImage: string; baseImage?: string }) => {
      await (await import('./commands/build-image.js')).buildImageCommand({
        tag: options.dockerImage,
        baseImage: options.baseImage,
        log: (line) => process.stderr.write(`${line}\n`),
      });
    });

  program
    .command('worker')
    .description('evaluate candidates for runs that use --redis, in a local sandbox, until stopped')
    .option(
      '--redis <url>',
      'the Redis of the runs: redis://[:password@]host:port, rediss:// for TLS (or FUNSEARCH_REDIS_URL)',
    )
    .addOption(
      new Option('--sandbox <kind>', 'where candidates run').choices(SANDBOX_KINDS).default('docker'),
    )
    .option(
      '--concurrency <n>',
      'candidates run at once (default: CPU count)',
      parsePositiveInt('--concurrency'),
    )
    .option('--docker-image <tag>', 'sandbox image', 'funsearch_evaluator:latest')
    .option(
      '--base-image <image>',
      'base image when the sandbox image must be built (e.g. funsearch-base:local)',
    )
    .option(
      '--unsafe-process-sandbox',
      'allow --sandbox process, where candidates could reach Redis and forge results',
    )
    .addOption(
      new Option(
        '--lock-duration <ms>',
        "job lock lifetime: a dead worker's job is recovered after about this",
      )
        .argParser(parsePositiveInt('--lock-duration'))
        .hideHelp(),
    )
    .addOption(
      new Option('--stalled-interval <ms>', "how often dead workers' jobs are looked for")
        .argParser(parsePositiveInt('--stalled-interval'))
        .hideHelp(),
    )
    .addOption(
      new Option('--max-stalled <n>', 'times a job is recovered from dead workers before it fails')
        .argParser(parsePositiveInt('--max-stalled'))
        .hideHelp(),
    )
    .addOption(
      new Option('--log-level <level>', 'verbosity on the terminal').choices(LOG_LEVELS).default('info'),
    )
    .option('--verbose', 'print stack traces of errors')
    .action(async (options: Record<string, unknown>) => {
      const stop = signalPromises();
      try {
        await (await import('./commands/worker.js')).workerCommand({
          redis: options.redis as string | undefined,
          sandbox: options.sandbox as Config['sandbox']['kind'],
          concurrency: options.concurrency as number | undefined,
          dockerImage: options.dockerImage as string,
          baseImage: options.baseImage as string | undefined,
          unsafeProcessSandbox: options.unsafeProcessSandbox === true,
          timings: {
            ...(options.lockDuration ? { lockDurationMs: options.lockDuration as number } : {}),
            ...(options.stalledInterval ? { stalledIntervalMs: options.stalledInterval as number } : {}),
            ...(options.maxStalled ? { maxStalledCount: options.maxStalled as number } : {}),
          },
          logLevel: options.logLevel as string,
          stopRequested: stop.first,
          releaseRequested: stop.second,
        });
      } finally {
        stop.dispose();
      }
    });

  program
    .command('report')
    .description('write the self-contained HTML report of a run (also written by the run itself)')
    .argument('<run-dir>', 'the run directory (under report_dir)')
    .option('-o, --output <file>', 'where to write the page', undefined)
    .option('--verbose', 'print stack traces of errors')
    .action(async (runDir: string, options: { output?: string }) => {
      await (await import('./commands/report.js')).reportCommand({
        runDir,
        output: options.output,
        log: (line) => process.stderr.write(`${line}\n`),
      });
    });

  return program;
}

function parsePositiveInt(flag: string): (raw: string) => number {
  return (raw) => {
    if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1)
      throw new UserError(`${flag}: expected an integer >= 1, got \`${raw}\``);
    return Number(raw);
  };
}

/** The first and the second SIGINT/SIGTERM, as promises (a long-lived command stops on the first). */
function signalPromises(): {
  first: Promise<NodeJS.Signals>;
  second: Promise<NodeJS.Signals>;
  dispose: () => void;
} {
  const resolvers: ((signal: NodeJS.Signals) => void)[] = [];
  const first = new Promise<NodeJS.Signals>((resolve) => resolvers.push(resolve));
  const second = new Promise<NodeJS.Signals>((resolve) => resolvers.push(resolve));
  let count = 0;
  const onSignal = (signal: NodeJS.Signals) => resolvers[count++]?.(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    first,
    second,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = normaliseArgv(argv);
  const verbose = args.includes('--verbose');
  const program = buildProgram();
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every usage mistake is a user error (commander already printed it).
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof ExitError) {
      if (error.print) process.stderr.write(`funsearch: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof UserError) {
      process.stderr.write(`funsearch: ${error.message}\n`);
      if (verbose && error.stack) process.stderr.write(`${error.stack}\n`);
      return 2;
    }
    process.stderr.write(`funsearch: internal error: ${(error as Error)?.message ?? error}\n`);
    if (verbose || !(error instanceof Error)) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    else process.stderr.write('(run again with --verbose for the stack trace; please report it)\n');
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`funsearch: ${error}\n`);
    process.exit(1);
  },
);
