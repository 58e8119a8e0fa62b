/**
 * The evaluation cache: a candidate whose program is, after `normaliseForCache`, one already run
 * in the sandbox is not run again; it gets the first run's outcomes (scores, or the failure with
 * its reason, timeouts and memory failures included). The run registers it as usual, so the
 * programs database sees every sample exactly as if the sandbox had run it again.
 *
 * Bounded: at most `maxEntries` programs, least recently used evicted first. A program evicted
 * and drawn again is simply run again (and cached again). Entries hold a program's hash (sha256),
 * never its text. One cache serves one evaluation context (function to run, test inputs, timeout,
 * sandbox limits): a snapshot taken under another context is not restored.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { OUTCOME_KINDS, type Outcome } from '../sandbox/sandbox.js';
import { normaliseForCache } from '../spec/normalise.js';

/** Characters of a cached outcome's stderr kept (its end: where a traceback names the error). */
export const CACHED_STDERR_CHARS = 1024;

export interface EvalCacheOptions {
  /** Programs kept at most; beyond it the least recently used one is forgotten. */
  maxEntries: number;
  /** `contextFingerprint(...)` of what, besides the program, decides an outcome. */
  context: string;
}

export interface EvaluateOptions {
  /** Who runs it (the run's sample id), remembered with the outcomes. */
  origin?: string;
  /** Called when this call starts waiting for a concurrent run of the same program (maybe more than once). */
  onWait?: () => void;
}

/** How a candidate's outcomes were obtained. */
export type CacheSource = 'sandbox' | 'cache' | 'in-flight';

export interface CachedOutcomes {
  outcomes: Outcome[];
  /** `sandbox`: this call ran it; `cache`: a finished earlier run; `in-flight`: a concurrent run of the same program. */
  source: CacheSource;
  /** The id given by the call that ran it in the sandbox (the run's sample id), when known. */
  origin?: string;
  /** For a reuse: the sandbox time the first run took (the candidate's own running time), ms. */
  savedMs: number;
}

interface Entry {
  outcomes: Outcome[];
  origin?: string;
}

type Running = Promise<Entry | undefined>;

/** sha256 of a JSON value: the fingerprint of an evaluation context. */
export function contextFingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

export class EvalCache {
  private readonly entries = new Map<string, Entry>();
  private readonly running = new Map<string, Running>();
  private evicted = 0;
  readonly maxEntries: number;
  readonly context: string;

  constructor({ maxEntries, context }: EvalCacheOptions) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`Expected \`maxEntries\` to be a positive integer, got \`${maxEntries}\``);
    }
    this.maxEntries = maxEntries;
    this.context = context;
  }

  /** Programs currently cached. */
  get size(): number {
    return this.entries.size;
  }

  /** Programs forgotten to stay under `maxEntries`, since this cache was created. */
  get evictions(): number {
    return this.evicted;
  }

  /**
   * The key of a program: sha256 of its normalised text. A program that does not parse is keyed
   * by its exact text, tagged so it can never share a key with a normalised one.
   */
  static keyOf(program: string): string {
    const normalised = normaliseForCache(program);
    const tagged = normalised === undefined ? `raw\0${program}` : `python\0${normalised}`;
    return createHash('sha256').update(tagged).digest('hex');
  }

  /** The cached outcomes of a program (marking it recently used), or undefined. */
  get(key: string): Outcome[] | undefined {
    return this.touch(key)?.outcomes;
  }

  /**
   * The outcomes of `program`: from the cache, from a concurrent run of the same program (waited
   * for: `onWait` is called first, so the caller can give up its evaluation slot meanwhile), or by
   * calling `run`, which takes the slot and runs the sandbox. `run` resolving undefined means it did
   * not run (the run is stopping): nothing is cached and concurrent waiters get undefined too. If
   * `run` throws, its caller gets the error and each waiter tries again on its own (one of them
   * runs it), as it would without the cache.
   */
  async evaluate(
    program: string,
    run: () => Promise<Outcome[] | undefined>,
    { origin, onWait }: EvaluateOptions = {},
  ): Promise<CachedOutcomes | undefined> {
    const key = EvalCache.keyOf(program);
    for (;;) {
      const entry = this.touch(key);
      if (entry) return reuse(entry, 'cache');
      const pending = this.running.get(key);
      if (!pending) break;
      onWait?.();
      let settled: Awaited<Running>;
      try {
        settled = await pending;
      } catch {
        continue; // the first run failed: try again, maybe as the one that runs it
      }
      return settled && reuse(settled, 'in-flight');
    }
    const ownRun = run();
    const shared: Running = ownRun.then((outcomes) => {
      if (!outcomes) return undefined;
      this.set(key, outcomes, origin);
      return this.entries.get(key);
    });
    shared.catch(() => undefined); // the caller gets ownRun's error; waiters retry
    this.running.set(key, shared);
    try {
      const outcomes = await ownRun;
      return outcomes && { outcomes, source: 'sandbox', ...withOrigin(origin), savedMs: 0 };
    } finally {
      this.running.delete(key);
    }
  }

  /** Caches the outcomes of the program with this key (stderr cut to its end), evicting the oldest beyond the cap. */
  set(key: string, outcomes: readonly Outcome[], origin?: string): void {
    this.entries.delete(key);
    this.entries.set(key, { outcomes: outcomes.map(trimmed), ...withOrigin(origin) });
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
      this.evicted++;
    }
  }

  /** The cache as JSON for the checkpoint, least recently used first. */
  toJSON(): EvalCacheSnapshot {
    return {
      format: 'funsearch-eval-cache',
      version: 1,
      context: this.context,
      entries: [...this.entries].map(([key, entry]) => ({ key, ...entry })),
    };
  }

  /**
   * A cache holding a checkpoint's entries (the most recent `maxEntries` of them). Never throws:
   * the cache only saves work, so a snapshot that cannot be used gives an empty cache and a `note`
   * saying why (for the run's log).
   */
  static restore(snapshot: unknown, options: EvalCacheOptions): { cache: EvalCache; note?: string } {
    const cache = new EvalCache(options);
    const parsed = snapshotSchema.safeParse(snapshot);
    if (!parsed.success) {
      const problem = parsed.error.issues[0]!;
      return {
        cache,
        note: `the checkpoint's evaluation cache is unreadable (${problem.path.join('.') || '(root)'}: ${problem.message}); starting with an empty cache`,
      };
    }
    if (parsed.data.context !== options.context) {
      return {
        cache,
        note: 'the test inputs, timeout, function to run or sandbox limits differ from the checkpoint; its evaluation cache is not reused',
      };
    }
    for (const { key, outcomes, origin } of parsed.data.entries.slice(-options.maxEntries)) {
      cache.set(key, outcomes as Outcome[], origin);
    }
    return { cache };
  }

  private touch(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }
}

function reuse(entry: Entry, source: 'cache' | 'in-flight'): CachedOutcomes {
  return {
    outcomes: entry.outcomes.map((o) => ({ ...o })),
    source,
    ...withOrigin(entry.origin),
    savedMs: entry.outcomes.reduce((sum, o) => sum + o.durationMs, 0),
  };
}

function withOrigin(origin: string | undefined): { origin?: string } {
  return origin === undefined ? {} : { origin };
}

function trimmed(outcome: Outcome): Outcome {
  if (outcome.stderr.length <= CACHED_STDERR_CHARS) return { ...outcome };
  return { ...outcome, stderr: outcome.stderr.slice(-CACHED_STDERR_CHARS) };
}

const outcomeSchema = z.union([
  z
    .object({
      kind: z.literal('ok'),
      score: z.number(),
      durationMs: z.number().nonnegative(),
      stderr: z.string(),
    })
    .strict(),
  z
    .object({
      kind: z.enum(OUTCOME_KINDS.filter((k) => k !== 'ok') as [Exclude<Outcome['kind'], 'ok'>]),
      reason: z.string(),
      durationMs: z.number().nonnegative(),
      stderr: z.string(),
    })
    .strict(),
]);

const snapshotSchema = z.object({
  format: z.literal('funsearch-eval-cache'),
  version: z.literal(1),
  context: z.string(),
  entries: z.array(
    z.object({
      key: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest'),
      outcomes: z.array(outcomeSchema).min(1),
      origin: z.string().optional(),
    }),
  ),
});

export type EvalCacheSnapshot = z.infer<typeof snapshotSchema>;
