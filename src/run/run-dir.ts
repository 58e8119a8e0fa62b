/**
 * A run's directory under `report_dir`: it holds copies of the spec, the inputs and the config,
 * so `--resume DIR` needs nothing else, plus everything the run writes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { UserError } from '../errors.js';
import { readUserFile } from '../user-file.js';
import { writeFileAtomic } from './atomic-file.js';
import { summarySchema } from './formats.js';

export const RUN_FILES = {
  spec: 'spec.py',
  inputs: 'test-inputs.txt',
  config: 'config.json',
  checkpoint: 'checkpoint.json',
  events: 'events.jsonl',
  log: 'run.log',
  summary: 'summary.json',
} as const;

export async function writeRunConfig(dir: string, config: Config): Promise<void> {
  await writeFileAtomic(join(dir, RUN_FILES.config), `${JSON.stringify(config, null, 2)}\n`);
}

export async function readRunConfig(dir: string): Promise<Record<string, unknown>> {
  const path = join(dir, RUN_FILES.config);
  const fix = 'is --resume a run directory?';
  const text = await readUserFile({ path, what: "the run's config", fix });
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new UserError(`${path}: the run's config is not valid JSON (${(error as Error).message}); ${fix}`);
  }
}

/**
 * Whether the run's last session was evaluated by workers through Redis: its summary lists them.
 * The Redis URL itself is not saved (it may hold a password). A missing or unreadable summary
 * says no: this only decides a warning.
 */
export async function servedByWorkers(dir: string): Promise<boolean> {
  try {
    const summary = JSON.parse(await readFile(join(dir, RUN_FILES.summary), 'utf8')) as {
      concurrency?: unknown;
    };
    const concurrency = summarySchema.shape.concurrency.safeParse(summary.concurrency);
    return concurrency.success && (concurrency.data.workers?.length ?? 0) > 0;
  } catch {
    return false;
  }
}
