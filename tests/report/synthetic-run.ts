/**
 * Writes a run directory as the run writes it (summary.json, events.jsonl, checkpoint.json, …) from
 * a seeded simulation of a cap-set search, so report tests can build any run state: finished,
 * still going (summary older than the log, half-written last line), interrupted, resumed.
 * The summary's counters are computed from the simulated events, as the run computes them.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config.js';
import { Random } from '../../src/random.js';
import type { SampleEvent } from '../../src/run/formats.js';
import { functionToString, Program, type PyFunction } from '../../src/spec/program.js';

export interface SyntheticRunOptions {
  /** Samples in the run's counters (events after the initial program, superseded ones not counted). */
  samples: number;
  islands?: number;
  seed?: number;
  /** Samples between island resets; 0 for none. */
  resetEvery?: number;
  /** Whether reset events name each reset island's founder (`resetFounders`). */
  founders?: boolean;
  status?: 'finished' | 'running' | 'interrupted';
  /** Resumes: at each of these sample counts a new session starts; the old one had lost `lost` events after its checkpoint. */
  resumes?: { atSample: number; lost: number }[];
  /** Events written after summary.json (a running run). */
  eventsAfterSummary?: number;
  /** Append the first half of one more event line, without its newline. */
  partialLastLine?: boolean;
  clustersPerIsland?: number;
  /** Mean run time between samples, ms. */
  msPerSample?: number;
  /** No checkpoint.json (a run that has not reached its first checkpoint). */
  noCheckpoint?: boolean;
  noSummary?: boolean;
}

export interface SyntheticRun {
  dir: string;
  summary: Record<string, unknown> & {
    bestScore: number;
    samples: number;
    evaluations: number;
    counts: { outcomes: Record<string, number>; failures: number; samplesFailed: number };
    islands: { id: number; bestScore: number | null }[];
    bestProgram: { score: number; scoresPerTest: Record<string, number> };
  };
  /** Every event line written (including superseded ones and those after the summary). */
  lines: number;
  /** Events a reader should keep. */
  kept: SampleEvent[];
  superseded: number;
}

const TEST_INPUTS = ['3', '4'];
const MODEL = 'mock:cap-set';

const OUTCOMES: [string, number][] = [
  ['ok', 0.72],
  ['timeout', 0.05],
  ['memory', 0.01],
  ['crash', 0.08],
  ['syntax-error', 0.05],
  ['invalid-score', 0.02],
  ['calls-ancestor', 0.01],
  ['empty', 0.01],
  ['llm-error', 0.04],
  ['not-evaluated', 0.01],
];

function fn(name: string, args: string, returnType: string, docstring: string, body: string): PyFunction {
  return { name, args, returnType, docstring, body, indent: '  ', decorators: [] };
}

export const TEMPLATE = new Program('"""Finds large cap sets."""\nimport itertools\n\nimport numpy as np', [
  fn(
    'evaluate',
    'n: int',
    'int',
    'Returns the size of an `n`-dimensional cap set.',
    '  capset = solve(n)\n  return len(capset)',
  ),
  fn(
    'solve',
    'n: int',
    'np.ndarray',
    'Returns a large cap set in `n` dimensions.',
    '  all_vectors = np.array(list(itertools.product((0, 1, 2), repeat=n)), dtype=np.int32)\n  priorities = np.array([priority(tuple(v), n) for v in all_vectors])\n  return all_vectors[priorities > 0]',
  ),
  fn(
    'priority',
    'el: tuple[int, ...], n: int',
    'float',
    'Returns the priority with which we want to add `element` to the cap set.',
    '  return 0.0',
  ),
]);

export function candidate(seed: number): PyFunction {
  const r = new Random(seed);
  const lines = ['  score = 0.0'];
  const count = 2 + r.int(6);
  for (let i = 0; i < count; i++) {
    lines.push(`  if el[${r.int(4)}] == ${r.int(3)}:  # rule ${i} < "${seed}"`);
    lines.push(`    score += ${(r.next() * 2).toFixed(3)} * n`);
  }
  lines.push('  return score');
  return { ...TEMPLATE.getFunction('priority'), body: lines.join('\n') };
}

export async function writeSyntheticRun(dir: string, options: SyntheticRunOptions): Promise<SyntheticRun> {
  const random = new Random(options.seed ?? 1);
  const islands = options.islands ?? 4;
  const msPerSample = options.msPerSample ?? 40;
  const start = Date.parse('2026-03-01T10:00:00.000Z');
  const resumes = new Map((options.resumes ?? []).map((r) => [r.atSample, r.lost]));
  const afterSummary = options.eventsAfterSummary ?? 0;
  const total = options.samples + afterSummary;

  const config = structuredClone(defaultConfig);
  config.programs_database.num_islands = islands;
  config.llm.provider = 'mock';

  const lines: string[] = [];
  const kept: SampleEvent[] = [];
  let superseded = 0;
  let elapsed = 0;
  let wall = start;
  // Wall time minus run time: grows by the pause before each resumed session.
  let wallOffset = 0;
  const islandBest: number[] = [];
  const islandGeneration: number[] = Array.from({ length: islands }, () => 0);
  const islandPrograms: number[] = Array.from({ length: islands }, () => 1);
  let best = { score: 8, scoresPerTest: { '3': 4, '4': 8 }, island: null as number | null, seed: 0 };
  const counts = {
    samplesOk: 0,
    samplesFailed: 0,
    evaluations: 0,
    registered: islands,
    staleDropped: 0,
    resets: 0,
  };
  const outcomes: Record<string, number> = {};
  let tokensIn = 0;
  let tokensOut = 0;
  let llmTotal = 0;
  let evalTotal = 0;
  let summarySnapshot: Record<string, unknown> | undefined;

  const event = (partial: Partial<SampleEvent>): SampleEvent => ({
    time: new Date(wall).toISOString(),
    elapsedMs: Math.round(elapsed),
    island: null,
    islandGeneration: null,
    version: null,
    model: MODEL,
    outcome: 'ok',
    ...partial,
  });

  const initial = event({
    score: 8,
    scoresPerTest: { '3': 4, '4': 8 },
    registered: true,
    newBest: true,
    reason: 'initial program',
  });
  lines.push(JSON.stringify(initial));
  kept.push(initial);
  for (let i = 0; i < islands; i++) islandBest.push(8);

  const makeSummary = () => {
    const samples = counts.samplesOk + counts.samplesFailed;
    const seconds = elapsed / 1000;
    return {
      bestScore: best.score,
      samples,
      evaluations: counts.evaluations,
      status: options.status ?? 'finished',
      stopReason:
        options.status === 'running'
          ? null
          : options.status === 'interrupted'
            ? 'interrupted'
            : 'total-llm-samples',
      error: null,
      initialScore: 8,
      bestProgram: {
        score: best.score,
        island: best.island,
        scoresPerTest: best.scoresPerTest,
        function: functionToString(
          best.seed ? candidate(best.seed) : TEMPLATE.getFunction('priority'),
        ).trimEnd(),
        program: TEMPLATE.withFunction(
          'priority',
          best.seed ? candidate(best.seed) : TEMPLATE.getFunction('priority'),
        ).toString(),
      },
      islands: islandBest.map((score, id) => ({
        id,
        bestScore: score,
        bestScoresPerTest: { '3': 4, '4': score },
        clusters: Math.min(islandPrograms[id]!, options.clustersPerIsland ?? 30),
        programs: islandPrograms[id]!,
        generation: islandGeneration[id]!,
      })),
      counts: {
        prompts: Math.ceil(samples / 4),
        samplesOk: counts.samplesOk,
        samplesFailed: counts.samplesFailed,
        evaluations: counts.evaluations,
        outcomes: { ...outcomes },
        failures: counts.evaluations - (outcomes.ok ?? 0),
        registered: counts.registered,
        staleDropped: counts.staleDropped,
        islandResets: counts.resets,
      },
      tokens: { input: tokensIn, output: tokensOut, total: tokensIn + tokensOut },
      costUsd: (tokensIn * 0.5 + tokensOut * 1.5) / 1e6,
      timings: {
        elapsedSeconds: seconds,
        samplesPerSecond: seconds > 0 ? samples / seconds : 0,
        evaluationsPerSecond: seconds > 0 ? counts.evaluations / seconds : 0,
        meanLlmLatencyMs: counts.samplesOk > 0 ? llmTotal / counts.samplesOk : null,
        meanEvaluationMs: counts.evaluations > 0 ? evalTotal / counts.evaluations : null,
      },
      budgetUsed: {},
      model: MODEL,
      specFile: 'specs/cap_set.py',
      testInputs: TEST_INPUTS,
      startedAt: new Date(start).toISOString(),
      updatedAt: new Date(wall).toISOString(),
      config,
    };
  };

  const draw = (index: number, record: boolean): SampleEvent => {
    const progress = index / Math.max(1, total);
    const outcome = OUTCOMES[random.weightedIndex(OUTCOMES.map(([, p]) => p))]![0];
    const island = random.int(islands);
    elapsed += msPerSample * (0.5 + random.next());
    wall = start + elapsed + wallOffset;
    const latency = Math.round(
      200 + 800 * random.next() ** 2 + (random.next() < 0.01 ? 20_000 * random.next() : 0),
    );
    const e = event({
      island,
      islandGeneration: islandGeneration[island]!,
      version: 1 + random.int(3),
      outcome,
      llmLatencyMs: latency,
    });
    if (outcome === 'llm-error') {
      e.reason = 'HTTP 503 after 3 retries';
      if (record) counts.samplesFailed++;
      return e;
    }
    e.inputTokens = 400 + random.int(200);
    e.outputTokens = 100 + random.int(150);
    if (outcome === 'not-evaluated') {
      e.reason = 'run stopped before this sample was evaluated';
      if (record) {
        counts.samplesOk++;
        llmTotal += latency;
        tokensIn += e.inputTokens;
        tokensOut += e.outputTokens;
      }
      return e;
    }
    e.evaluationMs = Math.round(20 + 200 * random.next());
    if (record) {
      counts.samplesOk++;
      counts.evaluations++;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      tokensIn += e.inputTokens;
      tokensOut += e.outputTokens;
      llmTotal += latency;
      evalTotal += e.evaluationMs;
    }
    if (outcome !== 'ok') {
      e.reason = `${outcome}: on input 4`;
      return e;
    }
    const top = Math.min(20, 8 + Math.floor((2 + 12 * Math.sqrt(progress)) * random.next()));
    const scores = { '3': 4 + random.int(6), '4': top };
    e.score = top;
    e.scoresPerTest = scores;
    const stale = random.next() < 0.01;
    e.registered = !stale;
    e.newBest = top > best.score;
    if (!record) return e;
    if (stale) counts.staleDropped++;
    else {
      counts.registered++;
      islandPrograms[island]!++;
      if (top > islandBest[island]!) islandBest[island] = top;
    }
    if (top > best.score) best = { score: top, scoresPerTest: scores, island, seed: 1000 + index };
    return e;
  };

  for (let index = 1; index <= total; index++) {
    const lost = resumes.get(index);
    if (lost !== undefined) {
      // The old session went on past its last checkpoint; those events are in the log but not in the counters.
      const savedElapsed = elapsed;
      const savedRandom = random.getState();
      elapsed += 1000;
      for (let j = 0; j < lost; j++) {
        lines.push(JSON.stringify(draw(index + j, false)));
        superseded++;
      }
      random.setState(savedRandom);
      random.next();
      elapsed = savedElapsed;
      wallOffset += 3_600_000; // the resumed session starts an hour later
    }
    const e = draw(index, index <= options.samples);
    if (options.resetEvery && index % options.resetEvery === 0 && index <= options.samples) {
      const order = islandBest
        .map((score, id) => ({ score: score + random.next() * 1e-3, id }))
        .sort((a, b) => a.score - b.score);
      const reset = order.slice(0, Math.floor(islands / 2)).map((o) => o.id);
      const keep = order.slice(Math.floor(islands / 2)).map((o) => o.id);
      const founders = reset.map(() => random.pick(keep));
      reset.forEach((id, j) => {
        islandBest[id] = islandBest[founders[j]!]!;
        islandGeneration[id]!++;
        islandPrograms[id] = 1;
      });
      e.resetIslands = reset;
      if (options.founders !== false)
        (e as SampleEvent & { resetFounders?: number[] }).resetFounders = founders;
      counts.resets++;
    }
    lines.push(JSON.stringify(e));
    kept.push(e);
    if (index === options.samples) summarySnapshot = makeSummary();
  }
  summarySnapshot ??= makeSummary();

  let text = `${lines.join('\n')}\n`;
  if (options.partialLastLine) {
    const extra = JSON.stringify(
      event({ island: 0, outcome: 'ok', score: 99, registered: true, newBest: true }),
    );
    text += extra.slice(0, Math.floor(extra.length / 2));
  }

  await mkdir(dir, { recursive: true });
  const spec = await readFile(new URL('../../specs/cap_set.py', import.meta.url), 'utf8');
  const writes: Promise<void>[] = [
    writeFile(join(dir, 'spec.py'), spec),
    writeFile(join(dir, 'test-inputs.txt'), `${TEST_INPUTS.join('\n')}\n`),
    writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`),
    writeFile(join(dir, 'events.jsonl'), text),
    writeFile(join(dir, 'run.log'), 'synthetic run\n'),
  ];
  if (!options.noSummary)
    writes.push(writeFile(join(dir, 'summary.json'), `${JSON.stringify(summarySnapshot, null, 2)}\n`));
  if (!options.noCheckpoint)
    writes.push(
      writeFile(join(dir, 'checkpoint.json'), JSON.stringify(checkpoint(random, islands, best, options))),
    );
  await Promise.all(writes);
  return {
    dir,
    summary: summarySnapshot as unknown as SyntheticRun['summary'],
    lines: lines.length + (options.partialLastLine ? 1 : 0),
    kept,
    superseded,
  };
}

function checkpoint(
  random: Random,
  islands: number,
  best: { score: number; scoresPerTest: Record<string, number>; island: number | null; seed: number },
  options: SyntheticRunOptions,
): unknown {
  const perIsland = options.clustersPerIsland ?? 30;
  let seed = 10;
  const database = {
    format: 'funsearch-programs-database',
    version: 1,
    config: { ...defaultConfig.programs_database, num_islands: islands },
    functionToEvolve: 'priority',
    template: { preface: TEMPLATE.preface, functions: TEMPLATE.functions },
    islands: Array.from({ length: islands }, (_, id) => {
      const clusters = Array.from({ length: perIsland }, () => {
        const signature = [4 + random.int(6), 8 + random.int(Math.max(1, best.score - 8))];
        return {
          signature,
          score: signature[1]!,
          programs: Array.from({ length: 1 + random.int(3) }, () => candidate(seed++)),
        };
      });
      if (id === (best.island ?? 0)) {
        clusters.push({
          signature: [best.scoresPerTest['3']!, best.scoresPerTest['4']!],
          score: best.score,
          programs: [candidate(best.seed || 1)],
        });
      }
      return { generation: 0, programCount: clusters.length, best: null, clusters };
    }),
    best: {
      score: best.score,
      program: candidate(best.seed || 1),
      scoresPerTest: Object.entries(best.scoresPerTest),
      islandId: best.island,
    },
    resetCount: 0,
    programsRegistered: 0,
    staleResultsDropped: 0,
    secondsSinceLastReset: 0,
    random: [1, 2, 3, 4],
  };
  return {
    format: 'funsearch-checkpoint',
    version: 1,
    savedAt: new Date().toISOString(),
    finished: options.status === 'finished',
    stats: {},
    database,
  };
}
