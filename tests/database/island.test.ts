import { describe, expect, it } from 'vitest';
import { Cluster } from '../../src/database/cluster.js';
import { Island } from '../../src/database/island.js';
import { softmax } from '../../src/database/sampling.js';
import { Random } from '../../src/random.js';
import { functionToString } from '../../src/spec/program.js';
import { chiSquare, dbConfig, one, priority } from './helpers.js';

// Critical values of chi-square at p = 0.001: with a fixed seed the draw is deterministic, and a
// wrong distribution would exceed them by far on 20k draws.
const CHI2_DF1 = 10.83;
const CHI2_DF2 = 13.82;

describe('Island clustering', () => {
  it('puts programs with the same per-test scores in one cluster and different ones apart', () => {
    const island = new Island(0, 0, dbConfig());
    island.register(
      priority('  return 1'),
      new Map([
        ['3', 1],
        ['4', 2],
      ]),
    );
    island.register(
      priority('  return 2'),
      new Map([
        ['3', 1],
        ['4', 2],
      ]),
    );
    island.register(
      priority('  return 3'),
      new Map([
        ['3', 2],
        ['4', 1],
      ]),
    );
    island.register(
      priority('  return 4'),
      new Map([
        ['3', 2],
        ['4', 2],
      ]),
    );
    expect(island.clusters.size).toBe(3);
    expect([...island.clusters.values()].map((cluster) => cluster.size)).toEqual([2, 1, 1]);
    // Under `last`, two signatures share a score yet stay separate clusters.
    expect([...island.clusters.values()].map((cluster) => cluster.score)).toEqual([2, 1, 2]);
    expect(island.stats()).toEqual({ id: 0, generation: 0, bestScore: 2, clusterCount: 3, programCount: 4 });
  });

  it('keeps the first program reaching the best score as the island best', () => {
    const island = new Island(0, 0, dbConfig());
    expect(island.register(priority('  return 1'), one(3))).toBe(true);
    expect(island.register(priority('  return 2'), one(3))).toBe(false);
    expect(island.register(priority('  return 3'), one(1))).toBe(false);
    expect(island.bestProgram?.body).toBe('  return 1');
    expect(island.bestScore).toBe(3);
  });
});

describe('Island cluster sampling', () => {
  function islandWithScores(scores: number[], settings = {}): Island {
    const island = new Island(0, 0, dbConfig({ functions_per_prompt: 1, ...settings }));
    scores.forEach((score, i) => {
      island.register(priority(`  return ${i}`), one(score));
    });
    return island;
  }

  it('uses the softmax of cluster scores at the scheduled temperature', () => {
    const island = islandWithScores([2, 1, 0.1], {
      cluster_sampling_temperature_init: 1,
      cluster_sampling_temperature_period: 4,
    });
    // Three programs registered: temperature 1 * (1 - 3/4) = 0.25.
    expect(island.temperature()).toBe(0.25);
    expect(island.clusterProbabilities()).toEqual(softmax([2, 1, 0.1], 0.25));
    island.register(priority('  return 9'), one(2));
    // Four programs: the schedule wraps to the initial temperature.
    expect(island.temperature()).toBe(1);
    expect(island.clusterProbabilities()).toEqual(softmax([2, 1, 0.1], 1));
  });

  it('draws clusters with the softmax probabilities (chi-square over 20k draws)', () => {
    const island = islandWithScores([2, 1, 0.1], {
      cluster_sampling_temperature_init: 1,
      cluster_sampling_temperature_period: 30_000,
    });
    const expected = softmax([2, 1, 0.1], 1 - 3 / 30_000);
    expect(island.clusterProbabilities()).toEqual(expected);
    const random = new Random(2024);
    const counts = [0, 0, 0];
    for (let i = 0; i < 20_000; i++) {
      const [chosen] = island.sampleImplementations(random);
      counts[Number(chosen!.body.replace('  return ', ''))]!++;
    }
    expect(chiSquare(counts, expected)).toBeLessThan(CHI2_DF2);
    // And a uniform choice would be rejected by the same test.
    expect(chiSquare(counts, [1 / 3, 1 / 3, 1 / 3])).toBeGreaterThan(CHI2_DF2);
  });

  it('returns the chosen versions in ascending score order', () => {
    const scores = [5, -1, 3, 0.5];
    const island = islandWithScores(scores, {
      functions_per_prompt: 3,
      cluster_sampling_temperature_init: 10,
    });
    const random = new Random(1);
    for (let i = 0; i < 200; i++) {
      const chosen = island.sampleImplementations(random);
      expect(chosen).toHaveLength(3);
      const chosenScores = chosen.map((fn) => scores[Number(fn.body.replace('  return ', ''))]!);
      expect(chosenScores).toEqual([...chosenScores].sort((a, b) => a - b));
    }
  });

  it('puts fewer versions in a prompt while the island has fewer clusters than functions_per_prompt', () => {
    const island = islandWithScores([1, 1, 2], { functions_per_prompt: 5 });
    expect(island.clusters.size).toBe(2);
    const random = new Random(3);
    for (let i = 0; i < 20; i++) expect(island.sampleImplementations(random)).toHaveLength(2);
  });

  it('refuses to sample an empty island', () => {
    expect(() => new Island(4, 0, dbConfig()).sampleImplementations(new Random(1))).toThrow(
      /island 4 is empty/,
    );
  });
});

describe('Cluster program sampling', () => {
  it('prefers shorter programs with the softmax over normalised negative lengths', () => {
    const short = priority('  return 0');
    const medium = priority(`  x = ${'1 + '.repeat(20)}1\n  return x`);
    const long = priority(`  x = ${'1 + '.repeat(80)}1\n  return x`);
    const cluster = new Cluster([1], 1, short);
    cluster.register(medium);
    cluster.register(long);
    const lengths = [short, medium, long].map((fn) => functionToString(fn).length);
    const min = Math.min(...lengths);
    const max = Math.max(...lengths);
    const expected = softmax(
      lengths.map((length) => -(length - min) / (max + 1e-6)),
      1,
    );
    expect(cluster.probabilities()).toEqual(expected);
    expect(expected[0]).toBeGreaterThan(expected[1]!);
    expect(expected[1]).toBeGreaterThan(expected[2]!);

    const random = new Random(99);
    const counts = [0, 0, 0];
    const members = [short, medium, long];
    for (let i = 0; i < 20_000; i++) counts[members.indexOf(cluster.sample(random))]!++;
    expect(chiSquare(counts, expected)).toBeLessThan(CHI2_DF2);
    expect(counts[0]).toBeGreaterThan(counts[2]!);
  });

  it('samples equally long programs uniformly', () => {
    const cluster = new Cluster([1], 1, priority('  return 1'));
    cluster.register(priority('  return 2'));
    expect(cluster.probabilities()).toEqual([0.5, 0.5]);
    const random = new Random(5);
    let first = 0;
    for (let i = 0; i < 20_000; i++) if (cluster.sample(random).body === '  return 1') first++;
    expect(chiSquare([first, 20_000 - first], [0.5, 0.5])).toBeLessThan(CHI2_DF1);
  });
});
