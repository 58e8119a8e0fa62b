/**
 * Reading and writing checkpoint.json (its format is in formats.ts): one JSON file written
 * atomically, so a `kill -9` at any moment leaves the previous or the next one.
 */
import { UserError } from '../errors.js';
import { readUserFile } from '../user-file.js';
import { writeFileAtomic } from './atomic-file.js';
import { type Checkpoint, checkpointSchema, versionProblem } from './formats.js';

export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(checkpoint));
}

export async function readCheckpoint(path: string): Promise<Checkpoint> {
  const text = await readUserFile({ path, what: 'the checkpoint', fix: 'is --resume a run directory?' });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${path}: the checkpoint is not valid JSON (${(error as Error).message})`);
  }
  const header = (json ?? {}) as { format?: unknown; version?: unknown };
  if (header.format === 'funsearch-checkpoint') {
    const problem = versionProblem('checkpoint', header.version);
    if (problem) throw new UserError(`${path}: cannot resume: ${problem}`);
  }
  const parsed = checkpointSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new UserError(`${path}: not a funsearch checkpoint (${problems.join('; ')})`);
  }
  return parsed.data;
}
