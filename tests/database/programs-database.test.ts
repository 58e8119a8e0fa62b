import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { ProgramsDatabaseConfig } from '../../src/config.js';
import { ProgramsDatabase } from '../../src/database/programs-database.js';
import { Random } from '../../src/random.js';
import { textToProgram } from '../../src/spec/parse.js';
import { initParser } from '../../src/spec/parser.js';
import type { Program } from '../../src/spec/program.js';
import { dbConfig, one, priority } from './helpers.js';

const SKELETON = `"""Finds large cap sets."""
import numpy as np
import utils_capset


def evaluate(n: int) -> int:
  """Returns the size of an \`n\`-dimensional cap set."""
  capset = solve(n)
  return len(capset)


def priority(element, n):
  """Returns the priority with which we want to add \`element\` to the cap set."""
  return 0.0
`;

let template: Program;

beforeAll(async () => {
  await initParser();
  template = textToProgram(SKELETON);
});

function database(
  config: Partial<ProgramsDatabaseConfig> = {},
  { seed = 0, clock = new ManualClock() }: { seed?: number; clock?: ManualClock } = {},
): ProgramsDatabase {
  return new ProgramsDatabase({
    config: dbConfig(config),
    template,
    functionToEvolve: 'priority',
    random: new Random(seed),
    clock,
  });
}

describe('ProgramsDatabase prompts', () => {
  it('gives a first prompt with the initial program as v0 and the header of v1', () => {
    const db = database({ functions_per_prompt: 5 });
    db.registerInitial(template.getFunction('priority'), one(-1));
    const prompt = db.getPrompt();
    expect(prompt.code).toBe(
      `"""Finds large cap sets."""
import numpy as np
import utils_capset


def priority_v0(element, n):
  """Returns the priority with which we want to add \`element\` to the cap set."""
  return 0.0


def priority_v1(element, n):
  """Improved version of \`priority_v0\`."""

`,
    );
    expect(prompt.versionGenerated).toBe(1);
    expect(prompt.islandGeneration).toBe(0);
    expect(prompt.islandId).toBeGreaterThanOrEqual(0);
    expect(prompt.islandId).toBeLessThan(10);
  });

  it('refuses a prompt before the initial program is registered', () => {
    const db = database();
    expect(db.populated).toBe(false);
    expect(() => db.getPrompt()).toThrow(/register the initial program/);
  });

  it('chooses islands uniformly and draws prompts only from the chosen island', () => {
    const db = database({ num_islands: 4, functions_per_prompt: 2 });
    db.registerInitial(priority('  return 0.0'), one(0));
    for (let island = 0; island < 4; island++) {
      db.registerProgram(priority(`  return ${island + 1}.0`), island, 0, one(island + 1));
    }
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 400; i++) {
      const prompt = db.getPrompt();
      counts[prompt.islandId]!++;
      for (let other = 0; other < 4; other++) {
        if (other !== prompt.islandId) expect(prompt.code).not.toContain(`return ${other + 1}.0`);
      }
    }
    for (const count of counts) expect(count).toBeGreaterThan(60);
  });
});

describe('ProgramsDatabase registration', () => {
  it('registers the initial program on every island and tracks the best per island and overall', () => {
    const db = database({ num_islands: 3 });
    const initial = db.registerInitial(priority('  return 0.0'), one(1));
    expect(initial).toMatchObject({ registered: true, islandIds: [0, 1, 2], improvedIslandIds: [0, 1, 2] });
    expect(db.islandStats().map((s) => [s.bestScore, s.programCount, s.clusterCount])).toEqual([
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 1],
    ]);
    const better = db.registerProgram(priority('  return 9.0'), 1, 0, one(5));
    expect(better).toMatchObject({ registered: true, islandIds: [1], improvedIslandIds: [1], newBest: true });
    expect(db.bestScore).toBe(5);
    expect(db.bestProgram?.body).toBe('  return 9.0');
    expect(db.islandStats().map((s) => s.bestScore)).toEqual([1, 5, 1]);
    expect(db.programsRegistered).toBe(2);
  });

  it('keeps its own copy of a registered function', () => {
    const db = database({ num_islands: 1 });
    const fn = priority('  return 1');
    db.registerInitial(fn, one(1));
    fn.body = '  return 2';
    expect(db.bestProgram?.body).toBe('  return 1');
    expect(db.getPrompt().code).toContain('  return 1\n');
  });

  it('clusters by the signature in input order, and max-key reduces by the largest input', () => {
    const db = database({ num_islands: 1, score_reduction: 'max-key' });
    // Inputs 3 and 10: the seed sorted them as strings ('10' < '3').
    const a = new Map([
      ['3', 9],
      ['10', 4],
    ]);
    const b = new Map([
      ['3', 1],
      ['10', 5],
    ]);
    db.registerInitial(priority('  return 0'), a);
    db.registerProgram(priority('  return 1'), 0, 0, b);
    expect(db.bestScore).toBe(5);
    expect(db.bestProgram?.body).toBe('  return 1');
    const clusters = db.toJSON().islands[0]!.clusters;
    expect(clusters.map((c) => [c.signature, c.score])).toEqual([
      [[9, 4], 4],
      [[1, 5], 5],
    ]);
  });

  it('rejects an unknown island, a missing generation and non-finite scores', () => {
    const db = database({ num_islands: 2 });
    expect(() => db.registerProgram(priority('  return 1'), 2, 0, one(1))).toThrow(/islandId/);
    expect(() => db.registerProgram(priority('  return 1'), 0, null, one(1))).toThrow(/islandGeneration/);
    expect(() => db.registerProgram(priority('  return 1'), 0, 0, one(Number.NaN))).toThrow(/finite/);
    expect(db.programsRegistered).toBe(0);
  });
});

describe('ProgramsDatabase resets', () => {
  const SCORES = [7, 3, 5, 6, 7, -2, 0, 17, 4, 3];

  function tenIslands(clock = new ManualClock(), seed = 0): ProgramsDatabase {
    const db = database({ num_islands: 10, reset_period: 60 }, { clock, seed });
    [7, 3, 5, 6, 7, -2, 0, -1, 4, 3].forEach((score, island) => {
      db.registerProgram(priority(`  return ${score}`), island, 0, one(score));
    });
    db.registerProgram(priority('  return 17'), 7, 0, one(17));
    return db;
  }

  it('resets the weaker half and re-seeds each with the best of a surviving island (ported case)', () => {
    const db = tenIslands();
    expect(db.islandStats().map((s) => s.bestScore)).toEqual(SCORES);
    const report = db.resetIslands();
    const kept = [0, 2, 3, 4, 7];
    expect([...report.resetIslandIds].sort()).toEqual([1, 5, 6, 8, 9]);
    const stats = db.islandStats();
    for (const id of kept) expect(stats[id]).toMatchObject({ bestScore: SCORES[id], generation: 0 });
    report.resetIslandIds.forEach((id, i) => {
      const founder = report.founderIslandIds[i]!;
      expect(kept).toContain(founder);
      // A reset island holds exactly its founder's best program.
      expect(stats[id]).toMatchObject({
        bestScore: SCORES[founder],
        generation: 1,
        programCount: 1,
        clusterCount: 1,
      });
      expect(db.islandReports()[id]!.bestProgram?.body).toBe(`  return ${SCORES[founder]}`);
    });
    expect(db.resetCount).toBe(1);
    // The best program of the run is never lost.
    expect(db.bestScore).toBe(17);
  });

  it('has nothing to reset with a single island', () => {
    const db = database({ num_islands: 1 });
    db.registerInitial(priority('  return 0'), one(1));
    expect(db.resetIslands()).toEqual({ resetIslandIds: [], founderIslandIds: [] });
    expect(db.islandStats()[0]).toMatchObject({ generation: 0, programCount: 1 });
  });

  it('breaks ties with noise from the seeded generator', () => {
    const resetSet = (seed: number) => {
      const db = database({ num_islands: 6 }, { seed });
      db.registerInitial(priority('  return 0'), one(1));
      return [...db.resetIslands().resetIslandIds].sort().join(',');
    };
    const sets = new Set([1, 2, 3, 4, 5, 6, 7, 8].map(resetSet));
    // Equal islands: which half goes depends on the noise, and so on the seed...
    expect(sets.size).toBeGreaterThan(1);
    // ...and only on the seed.
    expect(resetSet(3)).toBe(resetSet(3));
  });

  it('resets when a registration finds more than reset_period seconds elapsed, then waits a full period again', () => {
    const clock = new ManualClock(1_000_000);
    const db = tenIslands(clock);
    clock.advance(60_000);
    expect(db.registerProgram(priority('  return 1'), 0, 0, one(1)).reset).toBeUndefined();
    clock.advance(1);
    const result = db.registerProgram(priority('  return 1'), 0, 0, one(1));
    expect(result.registered).toBe(true);
    expect(result.reset?.resetIslandIds).toHaveLength(5);
    expect(db.resetCount).toBe(1);
    clock.advance(59_000);
    expect(db.registerProgram(priority('  return 1'), 0, 0, one(1)).reset).toBeUndefined();
    clock.advance(2_000);
    expect(db.registerProgram(priority('  return 1'), 0, 0, one(1)).reset).toBeDefined();
    expect(db.resetCount).toBe(2);
  });

  it('drops a result for an island reset after its prompt was made, but keeps it as the overall best', () => {
    const clock = new ManualClock();
    const db = database({ num_islands: 2, reset_period: 60 }, { clock, seed: 11 });
    db.registerInitial(priority('  return 0'), one(0));
    db.registerProgram(priority('  return 1'), 1, 0, one(1));
    // Island 0 is now the weaker one; take a prompt from it.
    let prompt = db.getPrompt();
    while (prompt.islandId !== 0) prompt = db.getPrompt();
    expect(prompt.islandGeneration).toBe(0);
    clock.advance(61_000);
    const trigger = db.registerProgram(priority('  return 2'), 1, 0, one(1));
    expect(trigger.reset).toEqual({ resetIslandIds: [0], founderIslandIds: [1] });
    expect(db.islandStats()[0]).toMatchObject({ generation: 1, programCount: 1, bestScore: 1 });

    const late = db.registerProgram(
      priority('  return 3'),
      prompt.islandId,
      prompt.islandGeneration,
      one(50),
    );
    expect(late).toEqual({ registered: false, reason: 'stale-island', score: 50, newBest: true });
    expect(db.islandStats()[0]).toMatchObject({ generation: 1, programCount: 1, bestScore: 1 });
    expect(db.staleResultsDropped).toBe(1);
    expect(db.bestScore).toBe(50);
    expect(db.bestRecord).toMatchObject({ islandId: 0, program: { body: '  return 3' } });
    // A prompt of the new generation is accepted.
    let fresh = db.getPrompt();
    while (fresh.islandId !== 0) fresh = db.getPrompt();
    expect(fresh.islandGeneration).toBe(1);
    expect(db.registerProgram(priority('  return 4'), 0, fresh.islandGeneration, one(2)).registered).toBe(
      true,
    );
  });
});

describe('ProgramsDatabase checkpoints', () => {
  function busyDatabase(clock: ManualClock): ProgramsDatabase {
    const db = database(
      { num_islands: 4, functions_per_prompt: 3, reset_period: 100, score_reduction: 'mean' },
      { clock, seed: 5 },
    );
    db.registerInitial(
      template.getFunction('priority'),
      new Map([
        ['3', 1],
        ['10', 2],
      ]),
    );
    for (let i = 0; i < 40; i++) {
      const prompt = db.getPrompt();
      clock.advance(7_000);
      const body = `  return element * ${i % 7}${i % 3 === 0 ? ' + 1' : ''}`;
      db.registerProgram(
        priority(body, { returnType: i % 2 ? 'float' : undefined }),
        prompt.islandId,
        prompt.islandGeneration,
        new Map([
          ['3', i % 5],
          ['10', (i * 7) % 11],
        ]),
      );
    }
    return db;
  }

  it('round-trips through JSON exactly and then makes the same prompts and resets', () => {
    const clock = new ManualClock();
    const db = busyDatabase(clock);
    expect(db.resetCount).toBeGreaterThan(0);
    const text = JSON.stringify(db.toJSON());
    const restoredClock = new ManualClock(123_456_789);
    const restored = ProgramsDatabase.fromJSON(JSON.parse(text), {
      random: new Random(999),
      clock: restoredClock,
    });
    expect(JSON.stringify(restored.toJSON())).toBe(text);
    expect(restored.islandStats()).toEqual(db.islandStats());
    expect(restored.bestRecord).toEqual(db.bestRecord);

    for (let i = 0; i < 30; i++) {
      const a = db.getPrompt();
      const b = restored.getPrompt();
      expect(b).toEqual(a);
      clock.advance(9_000);
      restoredClock.advance(9_000);
      const fn = priority(`  return ${i}`);
      const scores = new Map([
        ['3', i % 4],
        ['10', i % 6],
      ]);
      expect(restored.registerProgram(fn, b.islandId, b.islandGeneration, scores)).toEqual(
        db.registerProgram(fn, a.islandId, a.islandGeneration, scores),
      );
    }
    expect(JSON.stringify(restored.toJSON())).toBe(JSON.stringify(db.toJSON()));
  });

  it('holds -Infinity best scores of empty islands as null', () => {
    const db = database({ num_islands: 2 });
    const json = JSON.parse(JSON.stringify(db.toJSON()));
    expect(json.islands[0].best).toBeNull();
    const restored = ProgramsDatabase.fromJSON(json, { random: new Random(1), clock: new ManualClock() });
    expect(restored.islandStats()[0]!.bestScore).toBe(Number.NEGATIVE_INFINITY);
    expect(restored.bestScore).toBe(Number.NEGATIVE_INFINITY);
  });

  it('rejects a damaged checkpoint with the path of each problem', () => {
    const json = JSON.parse(JSON.stringify(busyDatabase(new ManualClock()).toJSON()));
    json.islands[1].clusters[0].score = 'high';
    delete json.random;
    expect(() =>
      ProgramsDatabase.fromJSON(json, { random: new Random(1), clock: new ManualClock() }),
    ).toThrow(/islands\.1\.clusters\.0\.score: .*random: /s);
    const wrongCount = JSON.parse(JSON.stringify(database({ num_islands: 2 }).toJSON()));
    wrongCount.config.num_islands = 3;
    expect(() =>
      ProgramsDatabase.fromJSON(wrongCount, { random: new Random(1), clock: new ManualClock() }),
    ).toThrow(/2 islands but num_islands is 3/);
  });
});
