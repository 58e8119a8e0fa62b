/**
 * What a run's reports say: summary.json (format in formats.ts), `report.txt` and
 * `island_<i>_best_program.py` (as the original, but each a whole runnable program). Where they
 * go is the store's business.
 */
import type { Config } from '../config.js';
import type { ProgramsDatabase } from '../database/programs-database.js';
import { functionToString } from '../spec/program.js';
import type { StopReason } from './budget.js';
import { budgetUsage } from './budget.js';
import { FORMAT_VERSIONS, type RunStatus, type Summary } from './formats.js';
import { type RunStats, repeatRate, totalSamples } from './stats.js';
import type { RunReports } from './store.js';

export interface SummaryContext {
  config: Config;
  database: ProgramsDatabase;
  stats: RunStats;
  status: RunStatus;
  stopReason?: StopReason | undefined;
  error?: string | undefined;
  model: string;
  /** Per-model figures, and for a mix its selection. */
  models: Pick<Summary, 'models' | 'modelSelection'>;
  specFile: string;
  testInputs: string[];
  startedAt: string;
  concurrency: Summary['concurrency'];
  /** The evaluation cache's size now; undefined when it is off. */
  evalCache?: { entries: number; maxEntries: number; evictions: number } | undefined;
}

export function buildSummary(context: SummaryContext): Summary {
  const { database, stats, config } = context;
  const best = database.bestRecord;
  const seconds = stats.elapsedMs / 1000;
  const evaluated = stats.evaluations;
  return {
    format: 'funsearch-summary',
    version: FORMAT_VERSIONS.summary,
    bestScore: best ? best.score : null,
    samples: totalSamples(stats),
    evaluations: evaluated,
    status: context.status,
    stopReason: context.stopReason ?? null,
    error: context.error ?? null,
    initialScore: stats.initialScore ?? null,
    bestProgram: best
      ? {
          score: best.score,
          island: best.islandId,
          scoresPerTest: Object.fromEntries(best.scoresPerTest),
          function: functionToString(best.program).trimEnd(),
          program: database.template.withFunction(database.functionToEvolve, best.program).toString(),
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
      evaluations: evaluated,
      outcomes: stats.outcomes,
      failures: evaluated - (stats.outcomes.ok ?? 0),
      registered: database.programsRegistered,
      staleDropped: database.staleResultsDropped,
      islandResets: database.resetCount,
      notEvaluated: stats.notEvaluated,
      sandboxRuns: stats.sandboxRuns,
      cacheHits: stats.cacheHits,
    },
    evalCache: context.evalCache
      ? {
          ...context.evalCache,
          repeatRate: repeatRate(stats),
          sandboxSecondsSaved: stats.sandboxMsSaved / 1000,
        }
      : null,
    concurrency: context.concurrency,
    tokens: {
      input: stats.inputTokens,
      output: stats.outputTokens,
      total: stats.inputTokens + stats.outputTokens,
    },
    costUsd: stats.costUsd,
    timings: {
      elapsedSeconds: seconds,
      samplesPerSecond: seconds > 0 ? totalSamples(stats) / seconds : 0,
      evaluationsPerSecond: seconds > 0 ? evaluated / seconds : 0,
      meanLlmLatencyMs: stats.samplesOk > 0 ? stats.llmLatencyTotalMs / stats.samplesOk : null,
      meanEvaluationMs: evaluated > 0 ? stats.evaluationTotalMs / evaluated : null,
    },
    budgetUsed: budgetUsage(config, stats),
    model: context.model,
    ...context.models,
    specFile: context.specFile,
    testInputs: context.testInputs,
    startedAt: context.startedAt,
    updatedAt: new Date().toISOString(),
    config: config as unknown as Record<string, unknown>,
  };
}

export function buildReports(context: SummaryContext): RunReports {
  const { database } = context;
  const islands = database.islandReports();
  let reportText = `FunSearch run: ${context.status}${context.stopReason ? ` (${context.stopReason})` : ''}\n`;
  reportText += `Best score: ${database.bestRecord?.score ?? 'none'}\n\nBest score per islands:\n`;
  const programs = new Map<string, string>();
  for (const island of islands) {
    const scores = island.bestScoresPerTest
      ? [...island.bestScoresPerTest].map(([input, score]) => `${input}: ${score}`).join(', ')
      : '';
    reportText += `Island ${island.id}: {${scores}}\n`;
    if (island.bestProgram) {
      programs.set(
        `island_${island.id}_best_program.py`,
        database.template.withFunction(database.functionToEvolve, island.bestProgram).toString(),
      );
    }
  }
  return { summary: buildSummary(context), reportText, programs };
}
