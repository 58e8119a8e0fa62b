/**
 * What the page says, gathered from the run's files: the headline from summary.json (the run's own
 * counters; from the event log while no summary exists yet), programs from the checkpoint, charts
 * from the event log.
 */
import { basename } from 'node:path';
import type { WeightSnapshot } from '../llm/model-selection.js';
import { type Price, UsageMeter } from '../llm/usage.js';
import { type ModelFigures, modelFigures } from '../run/model-figures.js';
import type { SandboxWorkerStatus } from '../sandbox/sandbox.js';
import { functionToString, Program, type PyFunction } from '../spec/program.js';
import type { RunData, RunEvent } from './read-run.js';
import { buildSeries, type ReportSeries } from './series.js';

/** Distinct programs (by signature) listed below the best one. */
export const TOP_PROGRAMS = 5;
/** Lines of one program listing; longer ones are cut with a note (the .py files hold them whole). */
export const MAX_PROGRAM_LINES = 400;

export interface Headline {
  /** Where the numbers come from: the run's summary, or counted from events.jsonl before the first summary. */
  source: 'summary' | 'events';
  status: string | null;
  stopReason: string | null;
  error: string | null;
  bestScore: number | null;
  initialScore: number | null;
  samples: number | null;
  evaluations: number | null;
  failures: number | null;
  failureRate: number | null;
  llmFailures: number | null;
  registered: number | null;
  islandResets: number | null;
  tokensInput: number | null;
  tokensOutput: number | null;
  tokensTotal: number | null;
  costUsd: number | null;
  elapsedSeconds: number | null;
  samplesPerSecond: number | null;
  evaluationsPerSecond: number | null;
  meanLlmLatencyMs: number | null;
  meanEvaluationMs: number | null;
  /** Whether the evaluation cache was on; null when the files do not say (older runs). */
  evalCacheOn: boolean | null;
  /** Candidates run in a sandbox, and repeats whose outcome the evaluation cache reused. */
  sandboxRuns: number | null;
  cacheHits: number | null;
  /** cacheHits / (sandboxRuns + cacheHits). */
  repeatRate: number | null;
  /** Sandbox time the reused outcomes did not take again. */
  sandboxSecondsSaved: number | null;
  model: string | null;
  specFile: string | null;
  startedAt: string | null;
  updatedAt: string | null;
  outcomes: Record<string, number>;
}

export interface ProgramListing {
  text: string;
  /** Lines left out of `text`. */
  cutLines: number;
}

export interface TopProgram {
  score: number;
  signature: number[];
  islands: number[];
  /** Programs in the cluster(s) with this signature. */
  programs: number;
  listing: ProgramListing;
}

export interface IslandRow {
  id: number;
  bestScore: number | null;
  clusters: number | null;
  programs: number | null;
  generation: number | null;
}

export interface ReportModel {
  title: string;
  runDir: string;
  headline: Headline;
  testInputs: string[];
  best: {
    score: number;
    island: number | null;
    scoresPerTest: [string, number][];
    program: ProgramListing;
    function: string;
  } | null;
  initialFunction: string | null;
  islands: IslandRow[];
  topPrograms: TopProgram[];
  config: Record<string, unknown> | null;
  /** One row per model when the run mixed several; empty for a run with one model. */
  models: ModelFigures[];
  /** How the mix picked its models over time (absent for one model). */
  modelSelection: { kind: string; models: string[]; weightHistory: WeightSnapshot[] } | null;
  series: ReportSeries;
  sessions: number;
  notes: string[];
  generatedAt: string;
  /** With `--redis`: the workers of the last session, from summary.json. */
  workers: ReportWorkers | null;
}

export interface ReportWorkers {
  capacity: number | null;
  workers: SandboxWorkerStatus[];
}

export function buildReportModel(run: RunData, now: Date = new Date()): ReportModel {
  const { summary, checkpoint } = run;
  const database = checkpoint?.database;
  const numIslands =
    summary?.islands?.length ??
    database?.islands?.length ??
    numberAt(run.config, 'programs_database', 'num_islands') ??
    0;
  const series = buildSeries(run.events, numIslands, run.eventLog.sessionStarts);
  const headline = summary ? headlineFromSummary(run) : headlineFromEvents(run.events, series.samples);
  // A resumed session's summary has no initial score (its database came from the checkpoint); the log has it.
  headline.initialScore ??= run.events.find((event) => event.initial)?.score ?? null;
  const notes = [...run.warnings];
  if (!summary)
    notes.push('summary.json has not been written yet: the numbers above are counted from events.jsonl.');
  if (run.eventsAfterSummary > 0) {
    notes.push(
      `The run is still writing: events.jsonl has ${run.eventsAfterSummary} event(s) newer than summary.json (updated ${summary?.updatedAt}). The numbers above are as of that time; the charts include every event.`,
    );
  }
  if (run.eventLog.partialLastLine)
    notes.push('The last line of events.jsonl was still being written and is left out.');

  const template = database?.template;
  const functionToEvolve = database?.functionToEvolve;
  const initial = template?.functions?.find((fn) => fn.name === functionToEvolve);
  return {
    title: specName(summary?.specFile, run.runDir),
    runDir: run.runDir,
    headline,
    testInputs: summary?.testInputs ?? Object.keys(summary?.bestProgram?.scoresPerTest ?? {}),
    best: bestProgram(run),
    initialFunction: initial ? functionToString(initial).trimEnd() : null,
    islands: islandRows(run, numIslands),
    topPrograms: topPrograms(run),
    config: run.config,
    ...modelsOf(run),
    series,
    sessions: 1 + run.eventLog.sessionStarts.length,
    notes,
    generatedAt: now.toISOString(),
    workers: workersOf(run),
  };
}

function workersOf(run: RunData): ReportWorkers | null {
  const concurrency = run.summary?.concurrency;
  const workers = (concurrency?.workers ?? []).flatMap((w) =>
    w && typeof w.id === 'string'
      ? [
          {
            id: w.id,
            host: w.host ?? '?',
            sandbox: w.sandbox ?? '?',
            concurrency: w.concurrency ?? 0,
            busy: w.busy ?? 0,
            live: w.live ?? false,
            evaluations: w.evaluations ?? 0,
            perMinute: w.perMinute ?? 0,
            share: w.share ?? 0,
          },
        ]
      : [],
  );
  return workers.length ? { capacity: concurrency?.capacity ?? null, workers } : null;
}

function headlineFromSummary(run: RunData): Headline {
  const s = run.summary!;
  const evaluations = s.evaluations ?? s.counts?.evaluations ?? null;
  const failures = s.counts?.failures ?? null;
  return {
    source: 'summary',
    status: s.status ?? null,
    stopReason: s.stopReason ?? null,
    error: s.error ?? null,
    bestScore: s.bestScore ?? null,
    initialScore: s.initialScore ?? null,
    samples: s.samples ?? null,
    evaluations,
    failures,
    failureRate: evaluations && failures !== null ? failures / evaluations : null,
    llmFailures: s.counts?.samplesFailed ?? null,
    registered: s.counts?.registered ?? null,
    islandResets: s.counts?.islandResets ?? null,
    tokensInput: s.tokens?.input ?? null,
    tokensOutput: s.tokens?.output ?? null,
    tokensTotal: s.tokens?.total ?? null,
    costUsd: s.costUsd ?? null,
    elapsedSeconds: s.timings?.elapsedSeconds ?? null,
    samplesPerSecond: s.timings?.samplesPerSecond ?? null,
    evaluationsPerSecond: s.timings?.evaluationsPerSecond ?? null,
    meanLlmLatencyMs: s.timings?.meanLlmLatencyMs ?? null,
    meanEvaluationMs: s.timings?.meanEvaluationMs ?? null,
    evalCacheOn: s.evalCache === null ? false : s.evalCache ? true : null,
    sandboxRuns: s.counts?.sandboxRuns ?? null,
    cacheHits: s.counts?.cacheHits ?? null,
    repeatRate: s.evalCache?.repeatRate ?? null,
    sandboxSecondsSaved: s.evalCache?.sandboxSecondsSaved ?? null,
    model: s.model ?? null,
    specFile: s.specFile ?? null,
    startedAt: s.startedAt ?? null,
    updatedAt: s.updatedAt ?? null,
    outcomes: { ...(s.counts?.outcomes ?? {}) },
  };
}

/** Before the first summary.json: the same numbers, counted from the events. */
function headlineFromEvents(events: readonly RunEvent[], samples: number): Headline {
  const outcomes: Record<string, number> = {};
  let best: number | null = null;
  let initialScore: number | null = null;
  let evaluations = 0;
  let llmFailures = 0;
  let registered = 0;
  let resets = 0;
  let latencyTotal = 0;
  let latencyCount = 0;
  let evaluationTotal = 0;
  for (const event of events) {
    if (event.score !== undefined && (best === null || event.score > best)) best = event.score;
    if (event.initial) {
      initialScore = event.score ?? null;
      continue;
    }
    if (event.outcome === 'llm-error') llmFailures++;
    else if (event.outcome !== 'not-evaluated') {
      evaluations++;
      outcomes[event.outcome] = (outcomes[event.outcome] ?? 0) + 1;
      if (event.llmLatencyMs !== undefined) {
        latencyTotal += event.llmLatencyMs;
        latencyCount++;
      }
      evaluationTotal += event.evaluationMs ?? 0;
    }
    if (event.registered) registered++;
    if (event.resetIslands?.length) resets++;
  }
  const failures = evaluations - (outcomes.ok ?? 0);
  const last = events[events.length - 1];
  const elapsedSeconds = last ? last.elapsedMs / 1000 : null;
  return {
    source: 'events',
    status: 'running',
    stopReason: null,
    error: null,
    bestScore: best,
    initialScore,
    samples,
    evaluations,
    failures,
    failureRate: evaluations > 0 ? failures / evaluations : null,
    llmFailures,
    registered,
    islandResets: resets,
    tokensInput: null,
    tokensOutput: null,
    tokensTotal: null,
    costUsd: null,
    elapsedSeconds,
    samplesPerSecond: elapsedSeconds ? samples / elapsedSeconds : null,
    evaluationsPerSecond: elapsedSeconds ? evaluations / elapsedSeconds : null,
    meanLlmLatencyMs: latencyCount > 0 ? latencyTotal / latencyCount : null,
    meanEvaluationMs: evaluations > 0 ? evaluationTotal / evaluations : null,
    ...cacheFromEvents(events),
    model: null,
    specFile: null,
    startedAt: null,
    updatedAt: null,
    outcomes,
  };
}

/** Before the first summary: the repeats marked in the log, and the sandbox time of the runs they reused. */
function cacheFromEvents(
  events: readonly RunEvent[],
): Pick<Headline, 'evalCacheOn' | 'sandboxRuns' | 'cacheHits' | 'repeatRate' | 'sandboxSecondsSaved'> {
  const sandboxMs = new Map<string, number>();
  for (const event of events)
    if (event.sample && !event.cached) sandboxMs.set(event.sample, event.sandboxMs ?? 0);
  let cacheHits = 0;
  let savedMs = 0;
  for (const event of events) {
    if (!event.cached) continue;
    cacheHits++;
    savedMs += event.cachedFrom ? (sandboxMs.get(event.cachedFrom) ?? 0) : 0;
  }
  // Which other samples ran in a sandbox the log does not say for sure (a rejection has no run).
  return {
    evalCacheOn: cacheHits > 0 ? true : null,
    sandboxRuns: null,
    cacheHits,
    repeatRate: null,
    sandboxSecondsSaved: savedMs / 1000,
  };
}

function bestProgram(run: RunData): ReportModel['best'] {
  const fromSummary = run.summary?.bestProgram;
  if (fromSummary && typeof fromSummary.score === 'number') {
    return {
      score: fromSummary.score,
      island: fromSummary.island ?? null,
      scoresPerTest: Object.entries(fromSummary.scoresPerTest ?? {}),
      program: listing(fromSummary.program ?? fromSummary.function ?? ''),
      function: fromSummary.function ?? '',
    };
  }
  const database = run.checkpoint?.database;
  const best = database?.best;
  if (!best || !database?.template || !database.functionToEvolve) return null;
  const template = new Program(database.template.preface, database.template.functions);
  let program: string;
  try {
    program = template.withFunction(database.functionToEvolve, best.program).toString();
  } catch {
    program = functionToString(best.program);
  }
  return {
    score: best.score,
    island: best.islandId,
    scoresPerTest: best.scoresPerTest.map(([input, score]) => [String(input), score]),
    program: listing(program),
    function: functionToString(best.program).trimEnd(),
  };
}

function islandRows(run: RunData, numIslands: number): IslandRow[] {
  const fromSummary = run.summary?.islands;
  if (fromSummary && fromSummary.length > 0) {
    return fromSummary.map((island) => ({
      id: island.id,
      bestScore: island.bestScore ?? null,
      clusters: island.clusters ?? null,
      programs: island.programs ?? null,
      generation: island.generation ?? null,
    }));
  }
  const islands = run.checkpoint?.database?.islands;
  if (islands) {
    return islands.map((island, id) => ({
      id,
      bestScore: island.clusters.reduce<number | null>(
        (best, c) => (best === null || c.score > best ? c.score : best),
        null,
      ),
      clusters: island.clusters.length,
      programs: island.programCount,
      generation: island.generation,
    }));
  }
  // Only events so far: each island's best from its registered samples.
  const best = run.events.length > 0 ? buildSeries(run.events, numIslands).best : null;
  return Array.from({ length: numIslands }, (_, id) => ({
    id,
    bestScore: best?.islands[id]?.at(-1) ?? null,
    clusters: null,
    programs: null,
    generation: null,
  }));
}

/** The best few clusters over every island, one per signature (the same signature may live on several islands). */
function topPrograms(run: RunData): TopProgram[] {
  const islands = run.checkpoint?.database?.islands ?? [];
  const bySignature = new Map<
    string,
    { score: number; signature: number[]; islands: Set<number>; programs: PyFunction[] }
  >();
  islands.forEach((island, id) => {
    for (const cluster of island.clusters ?? []) {
      const key = JSON.stringify(cluster.signature);
      const entry = bySignature.get(key);
      if (entry) {
        entry.islands.add(id);
        entry.programs.push(...cluster.programs);
        entry.score = Math.max(entry.score, cluster.score);
      } else {
        bySignature.set(key, {
          score: cluster.score,
          signature: cluster.signature,
          islands: new Set([id]),
          programs: [...cluster.programs],
        });
      }
    }
  });
  return [...bySignature.values()]
    .sort((a, b) => b.score - a.score)
    .slice(0, TOP_PROGRAMS)
    .map((entry) => {
      // The shortest program of a cluster stands for it, as the original prefers shorter programs.
      const texts = entry.programs.map((fn) => functionToString(fn).trimEnd());
      const shortest = texts.reduce((a, b) => (b.length < a.length ? b : a));
      return {
        score: entry.score,
        signature: entry.signature,
        islands: [...entry.islands].sort((a, b) => a - b),
        programs: entry.programs.length,
        listing: listing(shortest),
      };
    });
}

export function listing(text: string): ProgramListing {
  const lines = text.replace(/\n+$/, '').split('\n');
  if (lines.length <= MAX_PROGRAM_LINES) return { text: lines.join('\n'), cutLines: 0 };
  return { text: lines.slice(0, MAX_PROGRAM_LINES).join('\n'), cutLines: lines.length - MAX_PROGRAM_LINES };
}

function specName(specFile: string | undefined, runDir: string): string {
  if (specFile) return basename(specFile);
  return basename(runDir);
}

/**
 * The per-model figures: the run's own (summary.json) when it wrote them, else counted from the
 * event log with the configured or built-in prices.
 */
function modelsOf(run: RunData): Pick<ReportModel, 'models' | 'modelSelection'> {
  const selection = run.summary?.modelSelection;
  const modelSelection =
    selection?.models && selection.weightHistory
      ? {
          kind: selection.kind ?? 'weighted',
          models: selection.models,
          weightHistory: selection.weightHistory,
        }
      : null;
  let models = Array.isArray(run.summary?.models) ? (run.summary.models as ModelFigures[]) : undefined;
  if (!models) {
    const meter = new UsageMeter();
    const configured = new Map<string, Price>();
    const entries = (run.config?.llm as { models?: unknown } | undefined)?.models;
    for (const entry of Array.isArray(entries) ? entries : []) {
      const { provider, model, price_per_million_tokens: price } = entry as Record<string, unknown>;
      if (typeof provider === 'string' && typeof model === 'string' && price && typeof price === 'object') {
        configured.set(`${provider}:${model}`, price as Price);
      }
    }
    const priceOf = (key: string) => configured.get(key) ?? meter.priceOf(key.slice(key.indexOf(':') + 1));
    models = modelFigures(run.events, priceOf, modelSelection?.models ?? []);
  }
  return { models: models.length > 1 || modelSelection ? models : [], modelSelection };
}

function numberAt(object: Record<string, unknown> | null, ...path: string[]): number | undefined {
  let value: unknown = object;
  for (const key of path)
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof value === 'number' ? value : undefined;
}
