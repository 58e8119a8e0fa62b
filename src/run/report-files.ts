/**
 * The files a run leaves in its directory: `summary.json` (machine-readable), `report.txt` and
 * `island_<i>_best_program.py` (as the original, but each a whole runnable program).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { ProgramsDatabase } from '../database/programs-database.js';
import { functionToString } from '../spec/program.js';
import { writeFileAtomic } from './atomic-file.js';
import type { StopReason } from './budget.js';
import { budgetUsage } from './budget.js';
import { type RunStats, totalSamples } from './stats.js';

export type RunStatus = 'running' | 'finished' | 'interrupted' | 'failed';

export interface SummaryContext {
  config: Config;
  database: ProgramsDatabase;
  stats: RunStats;
  status: RunStatus;
  stopReason?: StopReason;
  error?: string;
  model: string;
  specFile: string;
  testInputs: string[];
  startedAt: string;
  initialScore?: number;
}

export function buildSummary(context: SummaryContext): Record<string, unknown> {
  const { database, stats, config } = context;
  const best = database.bestRecord;
  const seconds = stats.elapsedMs / 1000;
  const template = database.template;
  const wholeProgram = (fn: Parameters<typeof functionToString>[0]) =>
    template.withFunction(database.functionToEvolve, fn).toString();
  return {
    bestScore: best ? best.score : null,
    samples: totalSamples(stats),
    evaluations: stats.evaluations,
    status: context.status,
    stopReason: context.stopReason ?? null,
    error: context.error ?? null,
    initialScore: context.initialScore ?? null,
    bestProgram: best
      ? {
          score: best.score,
          island: best.islandId,
          scoresPerTest: Object.fromEntries(best.scoresPerTest),
          function: functionToString(best.program).trimEnd(),
          program: wholeProgram(best.program),
        }
      : null,
    islands: database.islandReports().map((island) => ({
      id: island.id,
      bestScore: Number.isFinite(island.bestScore) ? island.bestScore : null,
      bestScoresPerTest: island.bestScoresPerTest ? Object.fromEntries(island.bestScoresPerTest) : null,
      clusters: island.clusterCount,
      programs: island.programCount,
      generation: island.generation,
    })),
    counts: {
      prompts: stats.prompts,
      samplesOk: stats.samplesOk,
      samplesFailed: stats.samplesFailed,
      evaluations: stats.evaluations,
      outcomes: stats.outcomes,
      failures: stats.evaluations - (stats.outcomes.ok ?? 0),
      registered: stats.registered,
      staleDropped: stats.staleDropped,
      islandResets: database.resetCount,
    },
    tokens: {
      input: stats.inputTokens,
      output: stats.outputTokens,
      total: stats.inputTokens + stats.outputTokens,
    },
    costUsd: stats.costUsd,
    timings: {
      elapsedSeconds: seconds,
      samplesPerSecond: seconds > 0 ? totalSamples(stats) / seconds : 0,
      evaluationsPerSecond: seconds > 0 ? stats.evaluations / seconds : 0,
      meanLlmLatencyMs: stats.samplesOk > 0 ? stats.llmLatencyTotalMs / stats.samplesOk : null,
      meanEvaluationMs: stats.evaluations > 0 ? stats.evaluationTotalMs / stats.evaluations : null,
    },
    budgetUsed: budgetUsage(config, stats),
    model: context.model,
    specFile: context.specFile,
    testInputs: context.testInputs,
    startedAt: context.startedAt,
    updatedAt: new Date().toISOString(),
    config,
  };
}

export async function writeReports(runDir: string, context: SummaryContext): Promise<void> {
  const { database } = context;
  await writeFileAtomic(join(runDir, 'summary.json'), `${JSON.stringify(buildSummary(context), null, 2)}\n`);
  const islands = database.islandReports();
  let text = `FunSearch run: ${context.status}${context.stopReason ? ` (${context.stopReason})` : ''}\n`;
  text += `Best score: ${database.bestRecord?.score ?? 'none'}\n\nBest score per islands:\n`;
  for (const island of islands) {
    const scores = island.bestScoresPerTest
      ? [...island.bestScoresPerTest].map(([input, score]) => `${input}: ${score}`).join(', ')
      : '';
    text += `Island ${island.id}: {${scores}}\n`;
  }
  await writeFile(join(runDir, 'report.txt'), text);
  await Promise.all(
    islands.map((island) =>
      island.bestProgram
        ? writeFile(
            join(runDir, `island_${island.id}_best_program.py`),
            database.template.withFunction(database.functionToEvolve, island.bestProgram).toString(),
          )
        : Promise.resolve(),
    ),
  );
}
