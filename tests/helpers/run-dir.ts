/** Reading what a CLI run left in its report directory, for tests that spawn whole runs. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';

// biome-ignore lint/suspicious/noExplicitAny: parsed report files are read field by field in assertions
export type Json = Record<string, any>;

/**
 * The run directory under `reports` of a run still being created or running, if it exists yet.
 * A new run's directory first appears as a hidden staging directory that is then renamed: that
 * one is not it.
 */
export async function runDirSoFar(reports: string): Promise<string | undefined> {
  const entries = (await readdir(reports).catch(() => [] as string[])).filter(
    (name) => !name.startsWith('.'),
  );
  return entries[0] === undefined ? undefined : join(reports, entries[0]);
}

/** Files in a directory, none when it is not there (yet). */
export async function filesIn(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/** The one run directory under `reports`. */
export async function runDirOf(reports: string): Promise<string> {
  const entries = await readdir(reports);
  expect(entries).toHaveLength(1);
  return join(reports, entries[0]!);
}

export async function readJson(path: string): Promise<Json> {
  return JSON.parse(await readFile(path, 'utf8')) as Json;
}

/** Every line of the run's events.jsonl. */
export async function readEvents(runDir: string): Promise<Json[]> {
  const text = await readFile(join(runDir, 'events.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Json);
}
