import { describe, expect, it } from 'vitest';
import { HISTORY_LIMIT, ModelSelector, UCB } from '../../src/llm/model-selection.js';
import { Random } from '../../src/random.js';

interface Arm {
  /** Chance that a sample of this model improves on its prompt. */
  improves: number;
  /** USD per answer. */
  cost: number;
}

/**
 * A simulated run: each round picks a model, pays its cost, and rewards it 1 when its sample
 * improved (drawn from a generator of its own, so the environment never depends on the picks).
 */
function simulate(selector: ModelSelector, arms: Arm[], rounds: number, seed = 99): number[] {
  const outcomes = arms.map((_, i) => new Random(seed + i));
  const picks: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const i = selector.pick();
    picks.push(i);
    selector.recordCost(i, arms[i]!.cost);
    selector.recordReward(i, outcomes[i]!.next() < arms[i]!.improves ? 1 : 0);
  }
  return picks;
}

const share = (picks: number[], arm: number, from = 0) =>
  picks.slice(from).filter((i) => i === arm).length / (picks.length - from);

describe('UCB model selection', () => {
  it('tries every model first, then moves most prompts to the model that improves more often', () => {
    const selector = new ModelSelector('ucb', [1, 1], new Random(3));
    const picks = simulate(
      selector,
      [
        { improves: 0.05, cost: 1 },
        { improves: 0.3, cost: 1 },
      ],
      2000,
    );

    expect(new Set(picks.slice(0, 2))).toEqual(new Set([0, 1]));
    expect(share(picks, 1, 1000)).toBeGreaterThan(0.7);
    expect(selector.probabilities()).toEqual([UCB.epsilon, 1 - UCB.epsilon]);
  });

  it('is cost-aware: a model that improves almost as often at a tenth of the cost wins', () => {
    const selector = new ModelSelector('ucb', [1, 1], new Random(3));
    const picks = simulate(
      selector,
      [
        { improves: 0.3, cost: 0.01 },
        { improves: 0.25, cost: 0.001 },
      ],
      2000,
    );
    expect(share(picks, 1, 1000)).toBeGreaterThan(0.7);
  });

  it('without any known cost, cost plays no part', () => {
    const withCost = new ModelSelector('ucb', [1, 1], new Random(3));
    const unknown = new ModelSelector('ucb', [1, 1], new Random(3));
    for (const [i, reward] of [
      [0, 1],
      [1, 0],
      [0, 0],
      [1, 1],
      [0, 1],
    ] as const) {
      withCost.recordCost(i, i === 0 ? 10 : 0.1);
      withCost.recordReward(i, reward);
      unknown.recordReward(i, reward);
    }
    expect(unknown.scores()[0]).toBeGreaterThan(unknown.scores()[1]!);
    expect(withCost.scores()[0]).toBeLessThan(withCost.scores()[1]!);
  });

  it('is deterministic under a seed: same results in, same picks and weight history out', () => {
    const arms = [
      { improves: 0.1, cost: 0.002 },
      { improves: 0.2, cost: 0.02 },
      { improves: 0.15, cost: 0.005 },
    ];
    const run = (seed: number) => {
      const selector = new ModelSelector('ucb', [1, 1, 1], new Random(seed));
      return { picks: simulate(selector, arms, 600), history: selector.weightHistory() };
    };
    expect(run(11)).toEqual(run(11));
    expect(run(11).picks).not.toEqual(run(12).picks);
  });

  it('records how the weights moved, bounded in size, from the uniform start to the learned end', () => {
    const selector = new ModelSelector('ucb', [1, 1], new Random(3));
    simulate(
      selector,
      [
        { improves: 0.05, cost: 1 },
        { improves: 0.3, cost: 1 },
      ],
      5000,
    );
    const history = selector.weightHistory();

    expect(history.length).toBeLessThanOrEqual(HISTORY_LIMIT);
    expect(history.length).toBeGreaterThan(HISTORY_LIMIT / 4);
    expect(history[0]).toEqual({ observations: 0, weights: [0.5, 0.5] });
    expect(history.at(-1)!.weights).toEqual([UCB.epsilon, 1 - UCB.epsilon]);
    const observations = history.map((point) => point.observations);
    expect(observations).toEqual([...observations].sort((a, b) => a - b));
    expect(observations.at(-1)).toBeGreaterThan(4000);
  });

  it('resumes from its checkpointed state', () => {
    const arms = [
      { improves: 0.1, cost: 1 },
      { improves: 0.2, cost: 1 },
    ];
    const original = new ModelSelector('ucb', [1, 1], new Random(3));
    simulate(original, arms, 300);
    // Another seed: after the restore, the picks are the ones the original goes on to make.
    const restored = new ModelSelector('ucb', [1, 1], new Random(99));
    restored.restore(JSON.parse(JSON.stringify(original.toJSON())));
    expect(restored.scores()).toEqual(original.scores());
    expect(restored.weightHistory()).toEqual(original.weightHistory());
    const picks = (selector: ModelSelector) => Array.from({ length: 50 }, () => selector.pick());
    expect(picks(restored)).toEqual(picks(original));
    // A checkpoint of an older release has no generator state: the rest still resumes.
    const { random: _, ...older } = original.toJSON();
    const fromOlder = new ModelSelector('ucb', [1, 1], new Random(4));
    fromOlder.restore(older);
    expect(fromOlder.scores()).toEqual(original.scores());
    expect(() => new ModelSelector('weighted', [1, 1], new Random(1)).restore(original.toJSON())).toThrow(
      RangeError,
    );
  });
});

describe('weighted model selection', () => {
  it('keeps the configured weights whatever the results', () => {
    const selector = new ModelSelector('weighted', [1, 3], new Random(3));
    const picks = simulate(
      selector,
      [
        { improves: 0.9, cost: 0.001 },
        { improves: 0, cost: 1 },
      ],
      4000,
    );
    expect(Math.abs(share(picks, 1) - 0.75)).toBeLessThan(4 * Math.sqrt((0.75 * 0.25) / 4000));
    expect(selector.probabilities()).toEqual([0.25, 0.75]);
  });

  it('refuses a weight that is not a positive number', () => {
    expect(() => new ModelSelector('weighted', [1, 0], new Random(1))).toThrow(/finite number > 0, got `0`/);
  });
});
