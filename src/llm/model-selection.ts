/**
 * How a run that mixes several models picks the model of each prompt: by fixed weights, or by a
 * cost-aware UCB bandit that moves the weights toward models whose samples improve on their
 * prompts at a lower cost (after ShinkaEvolve's asymmetric UCB; see docs/llm.md for the formula).
 * Every draw comes from the run's seeded Random, so a run's choices follow from `--seed` and the
 * order in which results come back.
 */
import type { Random } from '../random.js';

export type SelectionKind = 'weighted' | 'ucb';

/** The selection probabilities after `observations` rewards had come in. */
export interface WeightSnapshot {
  observations: number;
  weights: number[];
}

export interface ArmState {
  /** Prompts sent to this model. */
  picks: number;
  /** Rewards received (one per sample, failures included, as 0). */
  rewards: number;
  rewardSum: number;
  /** Completions whose cost was known. */
  costs: number;
  costSum: number;
}

export interface SelectorState {
  kind: SelectionKind;
  arms: ArmState[];
  history: WeightSnapshot[];
  /** Rewards between two history points (doubles each time the history is thinned). */
  stride: number;
  /**
   * The position of the generator that draws the picks, so a resumed run picks as the run would
   * have gone on (absent in checkpoints of older releases: the picks then follow a fresh draw).
   */
  random?: [number, number, number, number];
}

/** UCB constants (ShinkaEvolve's "balanced" settings; see docs/llm.md). */
export const UCB = {
  /** Size of the exploration bonus c·√(2 ln t / n). */
  exploration: 1,
  /** Blend of the cost side into the final score: 0 ignores cost, 1 looks at cost only. */
  costWeight: 0.3,
  /** Probability mass spread over the models that do not have the best score. */
  epsilon: 0.2,
} as const;

/** Points kept in the weight history; past it every other point is dropped, so memory stays bounded. */
export const HISTORY_LIMIT = 512;

export class ModelSelector {
  private readonly arms: ArmState[];
  private history: WeightSnapshot[] = [];
  private stride = 1;

  constructor(
    readonly kind: SelectionKind,
    private readonly weights: readonly number[],
    private readonly random: Random,
  ) {
    if (weights.length === 0) throw new RangeError('Expected at least one model');
    for (const weight of weights) {
      if (!(Number.isFinite(weight) && weight > 0)) {
        throw new RangeError(`Expected every model weight to be a finite number > 0, got \`${weight}\``);
      }
    }
    this.arms = weights.map(() => ({ picks: 0, rewards: 0, rewardSum: 0, costs: 0, costSum: 0 }));
    this.history.push({ observations: 0, weights: this.probabilities() });
  }

  /** The index of the model for the next prompt. */
  pick(): number {
    const index = this.random.weightedIndex(this.probabilities());
    this.arms[index]!.picks++;
    return index;
  }

  /** How a sample of model `index` fared, in [0, 1] (clamped). */
  recordReward(index: number, reward: number): void {
    const arm = this.arm(index);
    arm.rewards++;
    arm.rewardSum += Number.isFinite(reward) ? Math.min(1, Math.max(0, reward)) : 0;
    const observations = this.observations();
    if (observations % this.stride === 0) this.remember(observations);
  }

  /** What one answer of model `index` cost, USD; unknown costs are left out. */
  recordCost(index: number, costUsd: number | undefined): void {
    if (costUsd === undefined || !Number.isFinite(costUsd) || costUsd < 0) return;
    const arm = this.arm(index);
    arm.costs++;
    arm.costSum += costUsd;
  }

  /** The probability of each model for the next prompt. */
  probabilities(): number[] {
    if (this.kind === 'weighted') {
      const total = this.weights.reduce((a, b) => a + b, 0);
      return this.weights.map((weight) => weight / total);
    }
    // A model without any result yet has no estimate to compare: those are tried first.
    const unseen = this.unseen();
    if (unseen.length > 0) return this.arms.map((_, i) => (unseen.includes(i) ? 1 / unseen.length : 0));
    const scores = this.scores();
    const best = Math.max(...scores);
    const winners = scores.map((score) => best - score <= 1e-12);
    const count = winners.filter(Boolean).length;
    const others = scores.length - count;
    if (others === 0) return scores.map(() => 1 / count);
    return winners.map((winner) => (winner ? (1 - UCB.epsilon) / count : UCB.epsilon / others));
  }

  /** UCB score of each model: reward plus exploration, blended with relative cheapness. */
  scores(): number[] {
    const t = this.observations();
    const means = this.arms.map((arm) => (arm.rewards > 0 ? arm.rewardSum / arm.rewards : 0));
    // Rewards scaled so the best model's mean is 1: the exploration bonus then means the same
    // whether improvements are common or rare in this problem.
    const top = Math.max(...means);
    const rewardScores = this.arms.map((arm, i) => {
      const normalised = top > 0 ? means[i]! / top : 0;
      const bonus =
        arm.rewards > 0 ? UCB.exploration * Math.sqrt((2 * Math.log(Math.max(t, 1))) / arm.rewards) : 0;
      return normalised + bonus;
    });
    // The cost side counts only once every model has a known cost; until then it is neutral.
    const costKnown = this.arms.every((arm) => arm.costs > 0);
    const meanCosts = this.arms.map((arm) => (arm.costs > 0 ? arm.costSum / arm.costs : 0));
    const cheapest = Math.min(...meanCosts);
    return rewardScores.map((reward, i) => {
      const cheapness = !costKnown || meanCosts[i]! <= 0 ? 1 : cheapest / meanCosts[i]!;
      return (1 - UCB.costWeight) * reward + UCB.costWeight * cheapness;
    });
  }

  /** How the selection probabilities moved, one point per `stride` rewards (bounded). */
  weightHistory(): WeightSnapshot[] {
    return this.history.map((point) => ({ observations: point.observations, weights: [...point.weights] }));
  }

  armStates(): ArmState[] {
    return this.arms.map((arm) => ({ ...arm }));
  }

  /** Plain JSON for a checkpoint. */
  toJSON(): SelectorState {
    return {
      kind: this.kind,
      arms: this.armStates(),
      history: this.weightHistory(),
      stride: this.stride,
      random: this.random.getState(),
    };
  }

  /** Continues from a checkpoint's state; throws RangeError when it does not fit these models. */
  restore(state: SelectorState): void {
    if (state.kind !== this.kind || state.arms.length !== this.arms.length) {
      throw new RangeError(
        `Expected a ${this.kind} selection over ${this.arms.length} models, got ${state.kind} over ${state.arms.length}`,
      );
    }
    if (state.random) this.random.setState(state.random);
    for (const [i, arm] of state.arms.entries()) Object.assign(this.arms[i]!, arm);
    this.history = state.history.map((point) => ({ ...point, weights: [...point.weights] }));
    this.stride = state.stride;
  }

  private remember(observations: number): void {
    this.history.push({ observations, weights: this.probabilities() });
    if (this.history.length > HISTORY_LIMIT) {
      // Keep the first point and every other one after it; record half as often from now on.
      this.history = this.history.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
    }
  }

  private observations(): number {
    return this.arms.reduce((sum, arm) => sum + arm.rewards, 0);
  }

  private unseen(): number[] {
    return this.arms.flatMap((arm, i) => (arm.rewards === 0 ? [i] : []));
  }

  private arm(index: number): ArmState {
    const arm = this.arms[index];
    if (!arm) throw new RangeError(`Expected a model index below ${this.arms.length}, got \`${index}\``);
    return arm;
  }
}
