/**
 * The programs database of FunSearch: islands of programs that evolve apart, prompts built from one
 * island's clusters, and the periodic reset of the weaker half of the islands.
 *
 * Synchronous on purpose: Node runs one callback at a time, so a registration (and the reset it may
 * trigger) can never interleave with a prompt being built, and no lock is needed.
 */
import type { Clock } from '../clock.js';
import type { ProgramsDatabaseConfig } from '../config.js';
import type { Random } from '../random.js';
import { Program, type PyFunction } from '../spec/program.js';
import { Island, type IslandStats } from './island.js';
import { buildPrompt, type Prompt } from './prompt.js';
import { argsort, gaussian } from './sampling.js';
import { checkScores, reduceScore, type ScoresPerTest } from './scores.js';
import {
  type BestSnapshot,
  canonicalFunction,
  type DatabaseSnapshot,
  type IslandSnapshot,
  parseSnapshot,
} from './snapshot.js';

export type { IslandStats } from './island.js';
export type { Prompt } from './prompt.js';
export type { ScoreKey, ScoresPerTest } from './scores.js';

export interface ProgramsDatabaseOptions {
  config: ProgramsDatabaseConfig;
  /** The parsed spec; its preface heads every prompt. */
  template: Program;
  /** Name of the `@funsearch.evolve` function. */
  functionToEvolve: string;
  /** The run's one generator: every choice of the database draws from it. */
  random: Random;
  clock: Clock;
}

export interface ResetReport {
  /** The weaker half, emptied and given a new generation. */
  resetIslandIds: number[];
  /** For each reset island (same order), the surviving island whose best program re-seeded it. */
  founderIslandIds: number[];
}

export type RegisterResult =
  | {
      registered: true;
      score: number;
      /** Islands that received the program (all of them for the initial program). */
      islandIds: number[];
      /** Islands whose best score the program raised. */
      improvedIslandIds: number[];
      /** Whether it is the best program the database has seen. */
      newBest: boolean;
      /** Present when this registration was the one to find the reset period elapsed. */
      reset?: ResetReport;
    }
  | {
      registered: false;
      /** Its island was reset after the prompt was made: the result belongs to a population that is gone. */
      reason: 'stale-island';
      score: number;
      /** A dropped result still counts for the overall best (see docs/database.md). */
      newBest: boolean;
      reset?: ResetReport;
    };

export interface BestProgram {
  score: number;
  program: PyFunction;
  scoresPerTest: ScoresPerTest;
  /** The island it was registered for; `null` for the initial program. */
  islandId: number | null;
}

export interface IslandReport extends IslandStats {
  bestProgram: PyFunction | undefined;
  bestScoresPerTest: ScoresPerTest | undefined;
}

export class ProgramsDatabase {
  readonly config: ProgramsDatabaseConfig;
  readonly template: Program;
  readonly functionToEvolve: string;
  private readonly random: Random;
  private readonly clock: Clock;
  private readonly islands: Island[] = [];
  private lastResetTime: number;
  private best: BestProgram | undefined;
  private resets = 0;
  private registered = 0;
  private staleDropped = 0;

  constructor(options: ProgramsDatabaseOptions) {
    this.config = options.config;
    this.template = options.template;
    this.functionToEvolve = options.functionToEvolve;
    this.random = options.random;
    this.clock = options.clock;
    // Fail now rather than at the first prompt.
    this.template.getFunction(this.functionToEvolve);
    for (let id = 0; id < this.config.num_islands; id++) this.islands.push(this.newIsland(id, 0));
    this.lastResetTime = this.clock.now();
  }

  /** Registers the spec's own version of the evolved function on every island. */
  registerInitial(fn: PyFunction, scoresPerTest: ScoresPerTest): RegisterResult {
    return this.registerProgram(fn, null, null, scoresPerTest);
  }

  /**
   * Registers an evaluated program on the island its prompt came from (`islandId` and
   * `islandGeneration` from the `Prompt`), or on every island when `islandId` is null. A result for an
   * island reset since its prompt was made is dropped. Afterwards, if `reset_period` seconds have
   * passed since the last reset, the weaker half of the islands is reset.
   */
  registerProgram(
    fn: PyFunction,
    islandId: number | null,
    islandGeneration: number | null,
    scoresPerTest: ScoresPerTest,
  ): RegisterResult {
    checkScores(scoresPerTest);
    if (islandId !== null) this.checkIsland(islandId, islandGeneration);
    const program = copyFunction(fn);
    const scores: ScoresPerTest = new Map(scoresPerTest);
    const score = reduceScore(scores, this.config.score_reduction);
    const newBest = score > (this.best?.score ?? Number.NEGATIVE_INFINITY);
    if (newBest) this.best = { score, program, scoresPerTest: scores, islandId };

    if (islandId !== null && islandGeneration !== this.islands[islandId]!.generation) {
      this.staleDropped++;
      return withReset({ registered: false, reason: 'stale-island', score, newBest }, this.resetIfDue());
    }

    const islandIds = islandId === null ? this.islands.map((island) => island.id) : [islandId];
    const improvedIslandIds = islandIds.filter((id) => this.islands[id]!.register(program, scores));
    this.registered++;
    return withReset({ registered: true, score, islandIds, improvedIslandIds, newBest }, this.resetIfDue());
  }

  /** A prompt built from a uniformly chosen island. */
  getPrompt(): Prompt {
    const island = this.islands[this.random.int(this.islands.length)]!;
    const implementations = island.sampleImplementations(this.random);
    const { code, versionGenerated } = buildPrompt(this.template, this.functionToEvolve, implementations);
    return { code, versionGenerated, islandId: island.id, islandGeneration: island.generation };
  }

  /**
   * Empties the weaker half of the islands (`floor(num_islands / 2)`, ties broken by tiny random
   * noise) and re-seeds each with the best program of a randomly chosen surviving island.
   */
  resetIslands(): ResetReport {
    const noisy = this.islands.map((island) => island.bestScore + gaussian(this.random) * 1e-6);
    const order = argsort(noisy);
    const resetCount = Math.floor(this.config.num_islands / 2);
    const resetIslandIds = order.slice(0, resetCount);
    const keepIslandIds = order.slice(resetCount);
    const founderIslandIds: number[] = [];
    for (const id of resetIslandIds) {
      const island = this.newIsland(id, this.islands[id]!.generation + 1);
      this.islands[id] = island;
      const founderId = this.random.pick(keepIslandIds);
      founderIslandIds.push(founderId);
      const founder = this.islands[founderId]!;
      if (founder.bestProgram && founder.bestScoresPerTest) {
        island.register(founder.bestProgram, founder.bestScoresPerTest);
      }
    }
    this.resets++;
    return { resetIslandIds, founderIslandIds };
  }

  /** The best score ever registered (`-Infinity` before the first registration). */
  get bestScore(): number {
    return this.best?.score ?? Number.NEGATIVE_INFINITY;
  }

  get bestProgram(): PyFunction | undefined {
    return this.best?.program;
  }

  /** The best program with its scores; it survives the reset of its island and a stale drop. */
  get bestRecord(): BestProgram | undefined {
    return this.best;
  }

  get resetCount(): number {
    return this.resets;
  }

  /** Results accepted on islands (the initial program counts once). */
  get programsRegistered(): number {
    return this.registered;
  }

  get staleResultsDropped(): number {
    return this.staleDropped;
  }

  /** Whether a prompt can be made (the original's `populated` event). */
  get populated(): boolean {
    return this.registered > 0;
  }

  get numIslands(): number {
    return this.islands.length;
  }

  islandStats(): IslandStats[] {
    return this.islands.map((island) => island.stats());
  }

  /** Per-island stats with each island's best program, for reports. */
  islandReports(): IslandReport[] {
    return this.islands.map((island) => ({
      ...island.stats(),
      bestProgram: island.bestProgram,
      bestScoresPerTest: island.bestScoresPerTest,
    }));
  }

  /** Plain JSON data from which `fromJSON` rebuilds this database exactly, including the `Random`'s state. */
  toJSON(): DatabaseSnapshot {
    return {
      format: 'funsearch-programs-database',
      version: 1,
      config: { ...this.config },
      functionToEvolve: this.functionToEvolve,
      template: { preface: this.template.preface, functions: this.template.functions.map(canonicalFunction) },
      islands: this.islands.map((island) => ({
        generation: island.generation,
        programCount: island.programCount,
        best:
          island.bestProgram && island.bestScoresPerTest
            ? bestToJSON(island.bestScore, island.bestProgram, island.bestScoresPerTest)
            : null,
        clusters: [...island.clusters.values()].map((cluster) => ({
          signature: [...cluster.signature],
          score: cluster.score,
          programs: cluster.members.map(canonicalFunction),
        })),
      })),
      best: this.best
        ? {
            ...bestToJSON(this.best.score, this.best.program, this.best.scoresPerTest),
            islandId: this.best.islandId,
          }
        : null,
      resetCount: this.resets,
      programsRegistered: this.registered,
      staleResultsDropped: this.staleDropped,
      secondsSinceLastReset: Math.max(0, (this.clock.now() - this.lastResetTime) / 1000),
      random: this.random.getState(),
    };
  }

  /**
   * Rebuilds a database from `toJSON()` output (parsed JSON is fine). Sets `random` to the saved
   * state, and resumes the reset timer from the saved elapsed time on `clock`.
   */
  static fromJSON(json: unknown, deps: { random: Random; clock: Clock }): ProgramsDatabase {
    const snapshot = parseSnapshot(json);
    const database = new ProgramsDatabase({
      config: snapshot.config,
      template: new Program(snapshot.template.preface, snapshot.template.functions.map(copyFunction)),
      functionToEvolve: snapshot.functionToEvolve,
      random: deps.random,
      clock: deps.clock,
    });
    snapshot.islands.forEach((saved, id) => {
      database.islands[id] = database.restoreIsland(id, saved);
    });
    database.best = snapshot.best
      ? { ...bestFromJSON(snapshot.best), islandId: snapshot.best.islandId }
      : undefined;
    database.resets = snapshot.resetCount;
    database.registered = snapshot.programsRegistered;
    database.staleDropped = snapshot.staleResultsDropped;
    database.lastResetTime = deps.clock.now() - snapshot.secondsSinceLastReset * 1000;
    deps.random.setState(snapshot.random);
    return database;
  }

  private restoreIsland(id: number, saved: IslandSnapshot): Island {
    const island = this.newIsland(id, saved.generation);
    island.restore(
      saved.clusters.map((cluster) => ({ ...cluster, programs: cluster.programs.map(copyFunction) })),
      saved.programCount,
    );
    if (saved.best) {
      const best = bestFromJSON(saved.best);
      island.bestScore = best.score;
      island.bestProgram = best.program;
      island.bestScoresPerTest = best.scoresPerTest;
    }
    return island;
  }

  private resetIfDue(): ResetReport | undefined {
    const now = this.clock.now();
    if (now - this.lastResetTime <= this.config.reset_period * 1000) return undefined;
    this.lastResetTime = now;
    return this.resetIslands();
  }

  private newIsland(id: number, generation: number): Island {
    return new Island(id, generation, this.config);
  }

  private checkIsland(islandId: number, islandGeneration: number | null): void {
    if (!Number.isInteger(islandId) || islandId < 0 || islandId >= this.islands.length) {
      throw new RangeError(
        `Expected \`islandId\` to be an integer in [0, ${this.islands.length}) or null, got \`${islandId}\``,
      );
    }
    if (!Number.isInteger(islandGeneration) || islandGeneration! < 0) {
      throw new RangeError(
        `Expected \`islandGeneration\` (from the prompt) to be an integer >= 0, got \`${islandGeneration}\``,
      );
    }
  }
}

function withReset<T extends object>(result: T, reset: ResetReport | undefined): T & { reset?: ResetReport } {
  return reset ? { ...result, reset } : result;
}

function copyFunction(fn: PyFunction): PyFunction {
  return { ...fn, decorators: [...fn.decorators] };
}

function bestToJSON(score: number, program: PyFunction, scoresPerTest: ScoresPerTest): BestSnapshot {
  return { score, program: canonicalFunction(program), scoresPerTest: [...scoresPerTest.entries()] };
}

function bestFromJSON(saved: BestSnapshot): {
  score: number;
  program: PyFunction;
  scoresPerTest: ScoresPerTest;
} {
  return {
    score: saved.score,
    program: copyFunction(saved.program),
    scoresPerTest: new Map(saved.scoresPerTest),
  };
}
