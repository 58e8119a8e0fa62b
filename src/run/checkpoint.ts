/**
 * The checkpoint of a run: the database (islands, clusters, random state) and the counters, in one
 * JSON file written atomically, so a `kill -9` at any moment leaves the previous or the next one.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { DatabaseSnapshot } from '../database/snapshot.js';
import { UserError } from '../errors.js';
import { writeFileAtomic } from './atomic-file.js';
import { type RunStats, runStatsSchema } from './stats.js';

export const CHECKPOINT_FILE = 'checkpoint.json';

export interface Checkpoint {
  format: 'funsearch-checkpoint';
  version: 1;
  savedAt: string;
  /** Set once the run ended by itself (budget reached); a resume of it only runs with raised budgets. */
  finished: boolean;
  stats: RunStats;
  database: DatabaseSnapshot;
}

const checkpointSchema = z.object({
  format: z.literal('funsearch-checkpoint'),
  version: z.literal(1),
  savedAt: z.string(),
  finished: z.boolean(),
  stats: runStatsSchema,
  // Checked by ProgramsDatabase.fromJSON, which knows its own schema.
  database: z.unknown(),
});

export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(checkpoint));
}

export async function readCheckpoint(path: string): Promise<Checkpoint> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UserError(
      `${path}: cannot read the checkpoint (${(error as NodeJS.ErrnoException).code ?? error}); is --resume a run directory?`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${path}: the checkpoint is not valid JSON (${(error as Error).message})`);
  }
  const parsed = checkpointSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new UserError(`${path}: not a funsearch checkpoint (${problems.join('; ')})`);
  }
  return parsed.data as Checkpoint;
}
