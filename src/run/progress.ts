/**
 * What a person watching the run sees: on a terminal, a status block redrawn in place (log lines
 * print above it); elsewhere, one plain progress line every few seconds.
 */
import type { Config } from '../config.js';
import type { ProgramsDatabase } from '../database/programs-database.js';
import type { SandboxStatus } from '../sandbox/sandbox.js';
import { budgetUsage } from './budget.js';
import { SAMPLE_OUTCOMES } from './formats.js';
import { type ModelFigures, modelStatus } from './model-figures.js';
import { type RunStats, repeatRate, totalSamples } from './stats.js';

export interface ProgressSource {
  config: Config;
  stats: RunStats;
  database: ProgramsDatabase;
  /** Per-model figures; a line of their own when the run mixes models. */
  models?: readonly ModelFigures[];
  /** A sandbox with workers (a Redis queue): they get a line of their own. */
  sandbox?: SandboxStatus | undefined;
}

// Evaluated outcomes other than ok; LLM failures have their own count in the first line.
const FAILURE_KINDS = SAMPLE_OUTCOMES.filter(
  (kind) => kind !== 'ok' && kind !== 'llm-error' && kind !== 'not-evaluated',
);

export function statusLines({ config, stats, database, models, sandbox }: ProgressSource): string[] {
  const seconds = stats.elapsedMs / 1000;
  const ok = stats.outcomes.ok ?? 0;
  const failures = FAILURE_KINDS.filter((kind) => stats.outcomes[kind])
    .map((kind) => `${kind} ${stats.outcomes[kind]}`)
    .join(', ');
  const latency = stats.samplesOk
    ? `${(stats.llmLatencyTotalMs / stats.samplesOk / 1000).toFixed(2)} s`
    : '-';
  const rate = seconds > 0 ? (stats.evaluations / seconds).toFixed(2) : '0.00';
  const budget = Object.entries(budgetUsage(config, stats))
    .map(([name, used]) => `${name} ${Math.min(100, used * 100).toFixed(0)}%`)
    .join(', ');
  const islands = database
    .islandStats()
    .map((island) => (Number.isFinite(island.bestScore) ? formatScore(island.bestScore) : '-'))
    .join(' ');
  const lines = [
    `funsearch  ${formatDuration(seconds)}  best ${formatScore(database.bestScore)}  samples ${totalSamples(stats)} (ok ${stats.samplesOk}, failed ${stats.samplesFailed})  LLM latency ${latency}`,
    `evaluations ${stats.evaluations} (${rate}/s): ok ${ok}${failures ? `, ${failures}` : ''}  registered ${database.programsRegistered}${cacheText(config, stats)}`,
    `islands best: ${islands}`,
    `budget: ${budget}`,
    ...(sandbox ? [workersLine(sandbox)] : []),
  ];
  if (models && models.length > 1) lines.splice(3, 0, `models: ${modelStatus(models)}`);
  return lines;
}

/** The workers of a queue sandbox, or that the run waits for the first one. */
export function workersLine(status: SandboxStatus): string {
  const live = status.workers.filter((w) => w.live);
  if (live.length === 0)
    return 'workers: none yet, waiting for the first (start one: funsearch worker --redis URL)';
  const busy = live.reduce((n, w) => n + w.busy, 0);
  const each = [...status.workers]
    .sort((a, b) => b.evaluations - a.evaluations)
    .slice(0, 4)
    .map(
      (w) => `${w.id}${w.live ? '' : ' (gone)'} ${w.perMinute.toFixed(1)}/min ${Math.round(100 * w.share)}%`,
    )
    .join(', ');
  const more = status.workers.length > 4 ? `, +${status.workers.length - 4} more` : '';
  return `workers: ${live.length} live, ${busy}/${status.capacity} slots busy; ${each}${more}`;
}

/** The evaluation cache's share: repeats not run again, and the sandbox time they did not take. */
function cacheText(config: Config, stats: RunStats): string {
  if (!config.eval_cache.enabled) return '  eval cache off';
  const share = (100 * repeatRate(stats)).toFixed(0);
  return `  repeats ${stats.cacheHits} (${share}%, ${(stats.sandboxMsSaved / 1000).toFixed(1)} s sandbox time saved)`;
}

export function progressLine(source: ProgressSource): string {
  return statusLines(source).join(' | ');
}

function formatScore(score: number): string {
  if (!Number.isFinite(score)) return '-';
  return Number.isInteger(score) ? String(score) : score.toPrecision(6);
}

function formatDuration(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** Renders the status block on a TTY, keeping log lines above it. */
export class TerminalStatus {
  private drawn = 0;

  constructor(private readonly out: NodeJS.WriteStream) {}

  draw(lines: string[]): void {
    const width = Math.max(20, (this.out.columns ?? 120) - 1);
    this.clear();
    this.out.write(`${lines.map((line) => line.slice(0, width)).join('\n')}\n`);
    this.drawn = lines.length;
  }

  /** Writes a log line above the status block. */
  log(line: string): void {
    this.clear();
    this.out.write(`${line}\n`);
    this.drawn = 0;
  }

  clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }
}
