/** A sub-population of the database: its programs grouped in clusters by signature, evolving apart. */
import type { ProgramsDatabaseConfig } from '../config.js';
import type { Random } from '../random.js';
import type { PyFunction } from '../spec/program.js';
import { Cluster } from './cluster.js';
import { argsort, clusterTemperature, softmax } from './sampling.js';
import { getSignature, reduceScore, type ScoresPerTest, type Signature, signatureKey } from './scores.js';

export type IslandSettings = Pick<
  ProgramsDatabaseConfig,
  | 'functions_per_prompt'
  | 'cluster_sampling_temperature_init'
  | 'cluster_sampling_temperature_period'
  | 'score_reduction'
>;

export interface IslandStats {
  id: number;
  /** Counts the resets of this island; a prompt carries it so late results for a replaced island are dropped. */
  generation: number;
  /** `-Infinity` while empty. */
  bestScore: number;
  clusterCount: number;
  /** Programs registered since the island was last (re)created; drives the temperature schedule. */
  programCount: number;
}

export class Island {
  /** Keyed by `signatureKey`; insertion order is the order clusters appeared, as the original's dict. */
  readonly clusters = new Map<string, Cluster>();
  programCount = 0;
  bestScore = Number.NEGATIVE_INFINITY;
  bestProgram: PyFunction | undefined;
  bestScoresPerTest: ScoresPerTest | undefined;

  constructor(
    readonly id: number,
    readonly generation: number,
    private readonly settings: IslandSettings,
  ) {}

  /** Files `program` in the cluster of its signature; returns whether it raised the island's best score. */
  register(program: PyFunction, scoresPerTest: ScoresPerTest): boolean {
    const signature = getSignature(scoresPerTest);
    const score = reduceScore(scoresPerTest, this.settings.score_reduction);
    const key = signatureKey(signature);
    const cluster = this.clusters.get(key);
    if (cluster) cluster.register(program);
    else this.clusters.set(key, new Cluster(signature, score, program));
    this.programCount++;
    if (score > this.bestScore) {
      this.bestScore = score;
      this.bestProgram = program;
      this.bestScoresPerTest = scoresPerTest;
      return true;
    }
    return false;
  }

  /** Refills a fresh island from a checkpoint, clusters in their saved order and members in theirs. */
  restore(
    clusters: readonly { signature: Signature; score: number; programs: readonly PyFunction[] }[],
    programCount: number,
  ): void {
    for (const saved of clusters) {
      const [first, ...rest] = saved.programs;
      if (!first) throw new Error(`island ${this.id}: a saved cluster has no programs`);
      const cluster = new Cluster(saved.signature, saved.score, first);
      for (const program of rest) cluster.register(program);
      this.clusters.set(signatureKey(saved.signature), cluster);
    }
    this.programCount = programCount;
  }

  temperature(): number {
    return clusterTemperature(
      this.settings.cluster_sampling_temperature_init,
      this.settings.cluster_sampling_temperature_period,
      this.programCount,
    );
  }

  /** The probability of each cluster (in `clusters` order) being chosen for a prompt. */
  clusterProbabilities(): number[] {
    return softmax(
      [...this.clusters.values()].map((cluster) => cluster.score),
      this.temperature(),
    );
  }

  /**
   * The versions for a prompt, in ascending score order: `functions_per_prompt` clusters (fewer while
   * the island has fewer clusters) drawn with replacement by the softmax, one program from each.
   */
  sampleImplementations(random: Random): PyFunction[] {
    if (this.clusters.size === 0) {
      throw new Error(`island ${this.id} is empty: register the initial program before asking for prompts`);
    }
    const clusters = [...this.clusters.values()];
    const probabilities = this.clusterProbabilities();
    const count = Math.min(clusters.length, this.settings.functions_per_prompt);
    const chosen: Cluster[] = [];
    for (let i = 0; i < count; i++) chosen.push(clusters[random.weightedIndex(probabilities)]!);
    const implementations = chosen.map((cluster) => cluster.sample(random));
    return argsort(chosen.map((cluster) => cluster.score)).map((index) => implementations[index]!);
  }

  stats(): IslandStats {
    return {
      id: this.id,
      generation: this.generation,
      bestScore: this.bestScore,
      clusterCount: this.clusters.size,
      programCount: this.programCount,
    };
  }
}
