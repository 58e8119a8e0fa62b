/** Runs the built CLI (the package's bin, rebuilt from the current source by tests/helpers/build.ts) as a user would. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What `npx funsearch` runs: the bundle in dist/bin/ (scripts/bundle-cli.mjs). */
export const CLI = `${ROOT}${(JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { bin: { funsearch: string } }).bin.funsearch}`;

/**
 * For a CLI run whose point is not its concurrency: one evaluation slot, so one harness or container
 * to start (and remove) instead of one per core, each about a CPU-second on the test machines.
 */
export const ONE_SLOT = ['--num-evaluators', '1'];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Called once the process is spawned, e.g. to send it signals. */
  onSpawn?: (child: ChildProcess) => void;
  /** Kill the CLI if it runs longer than this (a hang is a failure, reported as signal SIGKILL). */
  killAfterMs?: number;
}

/** An environment without the caller's API tokens, so tests never depend on (or leak) real ones. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of [
    'PATH',
    'HOME',
    'LANG',
    'TMPDIR',
    'DOCKER_HOST',
    'OPENBLAS_CORETYPE',
    'OPENBLAS_L2_SIZE',
  ]) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return { ...env, ...extra };
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: (options.env ?? cleanEnv()) as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    options.onSpawn?.(child);
  });
}
