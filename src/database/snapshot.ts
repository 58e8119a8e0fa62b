/**
 * The database as plain JSON for checkpoints, and its strict schema: a checkpoint read back after a
 * crash is checked before any of it is trusted.
 */
import { z } from 'zod';
import { type ProgramsDatabaseConfig, programsDatabaseConfigSchema } from '../config.js';
import type { PyFunction } from '../spec/program.js';
import type { ScoreKey } from './scores.js';

const finite = z.number().finite();
const count = z.number().int().nonnegative();

/** `PyFunction`; unknown fields are kept so a newer model of a function survives a round trip. */
export const pyFunctionSchema = z.looseObject({
  name: z.string(),
  args: z.string(),
  returnType: z.string().optional(),
  docstring: z.string().optional(),
  body: z.string(),
  indent: z.string(),
  decorators: z.array(z.string()),
  isAsync: z.boolean().optional(),
  trailer: z.string().optional(),
});

/** Per-test scores as `[input, score]` pairs in input order (a Map has no JSON form). */
const scoresSchema = z.array(z.tuple([z.union([z.string(), z.number()]), finite])).min(1);

const bestSchema = z.object({ score: finite, program: pyFunctionSchema, scoresPerTest: scoresSchema });

const clusterSchema = z.object({
  signature: z.array(finite).min(1),
  score: finite,
  programs: z.array(pyFunctionSchema).min(1),
});

const islandSchema = z.object({
  generation: count,
  programCount: count,
  /** `null` while the island is empty (its best score is then -Infinity, which JSON cannot hold). */
  best: bestSchema.nullable(),
  clusters: z.array(clusterSchema),
});

export const databaseSnapshotSchema = z.object({
  format: z.literal('funsearch-programs-database'),
  version: z.literal(1),
  config: programsDatabaseConfigSchema,
  functionToEvolve: z.string().min(1),
  template: z.object({ preface: z.string(), functions: z.array(pyFunctionSchema) }),
  islands: z.array(islandSchema).min(1),
  /** The best program ever scored, on an island or not. */
  best: bestSchema.extend({ islandId: count.nullable() }).nullable(),
  resetCount: count,
  programsRegistered: count,
  staleResultsDropped: count,
  /** Time since the last reset when the snapshot was taken; the reset timer resumes from it. */
  secondsSinceLastReset: z.number().finite().nonnegative(),
  /** The state of the run's `Random` when the snapshot was taken. */
  random: z.tuple([count, count, count, count]),
});

// Written out rather than inferred: the loose function schema infers an index signature that
// `PyFunction` lacks. `parseSnapshot` checks at compile time that the schema's output fits these.
export interface BestSnapshot {
  score: number;
  program: PyFunction;
  scoresPerTest: [ScoreKey, number][];
}

export interface ClusterSnapshot {
  signature: number[];
  score: number;
  programs: PyFunction[];
}

export interface IslandSnapshot {
  generation: number;
  programCount: number;
  best: BestSnapshot | null;
  clusters: ClusterSnapshot[];
}

export interface DatabaseSnapshot {
  format: 'funsearch-programs-database';
  version: 1;
  config: ProgramsDatabaseConfig;
  functionToEvolve: string;
  template: { preface: string; functions: PyFunction[] };
  islands: IslandSnapshot[];
  best: (BestSnapshot & { islandId: number | null }) | null;
  resetCount: number;
  programsRegistered: number;
  staleResultsDropped: number;
  secondsSinceLastReset: number;
  random: [number, number, number, number];
}

const FUNCTION_KEYS = [
  'name',
  'args',
  'returnType',
  'docstring',
  'body',
  'indent',
  'decorators',
  'isAsync',
  'trailer',
] as const;

/**
 * A copy of `fn` with its fields in one fixed order and unset fields left out, so a snapshot's text
 * does not depend on how each function object happened to be built.
 */
export function canonicalFunction(fn: PyFunction): PyFunction {
  const copy: Record<string, unknown> = {};
  const source = fn as unknown as Record<string, unknown>;
  const extra = Object.keys(source)
    .filter((key) => !(FUNCTION_KEYS as readonly string[]).includes(key))
    .sort();
  for (const key of [...FUNCTION_KEYS, ...extra]) {
    if (source[key] !== undefined) copy[key] = key === 'decorators' ? [...fn.decorators] : source[key];
  }
  return copy as unknown as PyFunction;
}

/** Validates parsed JSON as a snapshot; the error lists each problem as `path: message`. */
export function parseSnapshot(json: unknown): DatabaseSnapshot {
  const parsed = databaseSnapshotSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new Error(`invalid programs database checkpoint: ${problems.join('; ')}`);
  }
  const snapshot: DatabaseSnapshot = parsed.data;
  if (snapshot.islands.length !== snapshot.config.num_islands) {
    throw new Error(
      `invalid programs database checkpoint: ${snapshot.islands.length} islands but num_islands is ${snapshot.config.num_islands}`,
    );
  }
  return snapshot;
}
