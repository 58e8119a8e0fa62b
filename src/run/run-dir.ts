/**
 * A run's directory under `report_dir`: it holds copies of the spec, the inputs and the config,
 * so `--resume DIR` needs nothing else, plus everything the run writes.
 */
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Config } from '../config.js';
import { UserError } from '../errors.js';
import { writeFileAtomic } from './atomic-file.js';

export const RUN_FILES = {
  spec: 'spec.py',
  inputs: 'test-inputs.txt',
  config: 'config.json',
  checkpoint: 'checkpoint.json',
  events: 'events.jsonl',
  log: 'run.log',
  summary: 'summary.json',
} as const;

export async function createRunDir(options: {
  config: Config;
  specFile: string;
  inputsFile: string;
  now?: Date;
}): Promise<string> {
  const now = options.now ?? new Date();
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  const name = basename(options.specFile, extname(options.specFile)).replace(/[^A-Za-z0-9_.-]/g, '_');
  let dir = join(options.config.report_dir, `${stamp}_${name}`);
  try {
    await mkdir(options.config.report_dir, { recursive: true });
  } catch (error) {
    throw new UserError(
      `${options.config.report_dir}: cannot create the report directory (${(error as NodeJS.ErrnoException).code}); check --report-dir`,
    );
  }
  // Two runs started in the same second get distinct directories.
  for (let suffix = 2; await exists(dir); suffix++)
    dir = join(options.config.report_dir, `${stamp}_${name}_${suffix}`);
  await mkdir(dir, { recursive: true });
  await copyFile(options.specFile, join(dir, RUN_FILES.spec));
  await copyFile(options.inputsFile, join(dir, RUN_FILES.inputs));
  await writeRunConfig(dir, options.config);
  return dir;
}

export async function writeRunConfig(dir: string, config: Config): Promise<void> {
  await writeFileAtomic(join(dir, RUN_FILES.config), `${JSON.stringify(config, null, 2)}\n`);
}

export async function readRunConfig(dir: string): Promise<Record<string, unknown>> {
  const path = join(dir, RUN_FILES.config);
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new UserError(
      `${path}: cannot read the run's config (${(error as Error).message}); is --resume a run directory?`,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
