/**
 * Turns the event log into the few hundred points the charts draw. A 100 000-sample run has
 * 100 000 events; the page carries step points (only where a best changes), fixed time bins and a
 * latency histogram instead, so its size does not grow with the run.
 */

import { SAMPLE_OUTCOMES } from '../run/formats.js';
import type { RunEvent } from './read-run.js';

export interface BestSeries {
  /** Run time of each point, seconds. */
  t: number[];
  /** Samples drawn by then (the initial program is sample 0). */
  n: number[];
  overall: (number | null)[];
  /** One line per island, `null` where the island's best is not known (after a reset without founder). */
  islands: (number | null)[][];
}

export interface Marker {
  t: number;
  n: number;
}

export interface ResetMarker extends Marker {
  islands: number[];
  /** Whether the event named each reset island's founder (else its line has a gap). */
  founders: boolean;
}

export interface OutcomeBins {
  /** Centre of each bin, run-time seconds. */
  t: number[];
  binSeconds: number;
  kinds: string[];
  /** `counts[k][b]`: events of `kinds[k]` in bin `b`. */
  counts: number[][];
  samplesPerSecond: number[];
  evaluationsPerSecond: number[];
}

export interface Histogram {
  /** Lower edge of each bin. */
  edges: number[];
  binWidth: number;
  counts: number[];
  /** Values above the last bin, counted in it (the tail is summarised by the percentiles). */
  overflow: number;
  n: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface ReportSeries {
  numIslands: number;
  samples: number;
  best: BestSeries;
  resets: ResetMarker[];
  resumes: Marker[];
  outcomes: OutcomeBins;
  latency: Histogram;
  evaluation: Histogram;
}

/** Outcome kinds in the order the outcome chart stacks them; kinds not listed follow. */
export const OUTCOME_ORDER = SAMPLE_OUTCOMES;

/** Outcomes that did not reach an evaluator (they are samples, not evaluations). */
const NOT_EVALUATED = new Set(['llm-error', 'not-evaluated']);

export const LIMITS = {
  /** Step points of the best-score chart; fewer with many islands (see `bestPointLimit`). */
  bestPoints: 1000,
  /** Values (points × lines) of the best-score chart, which bounds the page for any island count. */
  bestValues: 24_000,
  outcomeBins: 120,
  histogramBins: 40,
} as const;

export function bestPointLimit(numIslands: number): number {
  return Math.min(LIMITS.bestPoints, Math.max(200, Math.floor(LIMITS.bestValues / (numIslands + 1))));
}

export function buildSeries(
  events: readonly RunEvent[],
  numIslands: number,
  sessionStarts: readonly number[] = [],
): ReportSeries {
  // Spreading 100 000 values into Math.max would overflow the call stack: a loop instead.
  let islands = numIslands;
  for (const event of events)
    if (event.island !== null && event.island >= islands) islands = event.island + 1;
  const { best, resets, samples } = bestSeries(events, islands);
  const starts = new Set(sessionStarts);
  const resumes: Marker[] = [];
  let n = 0;
  events.forEach((event, index) => {
    if (!event.initial) n++;
    if (starts.has(index)) resumes.push({ t: seconds(event.elapsedMs), n });
  });
  return {
    numIslands: islands,
    samples,
    best: downsampleSteps(best, bestPointLimit(islands)),
    resets,
    resumes,
    outcomes: outcomeBins(events, LIMITS.outcomeBins),
    latency: histogram(valuesOf(events, 'llmLatencyMs'), LIMITS.histogramBins),
    evaluation: histogram(valuesOf(events, 'evaluationMs'), LIMITS.histogramBins),
  };
}

/**
 * The best score so far, overall and per island, as step points: one point per event that changed
 * one of them, and a last point at the last event so the lines reach the end of the run.
 */
export function bestSeries(
  events: readonly RunEvent[],
  numIslands: number,
): { best: BestSeries; resets: ResetMarker[]; samples: number } {
  const best: BestSeries = {
    t: [],
    n: [],
    overall: [],
    islands: Array.from({ length: numIslands }, () => []),
  };
  const resets: ResetMarker[] = [];
  let overall: number | null = null;
  const islandBest: (number | null)[] = Array.from({ length: numIslands }, () => null);
  let n = 0;
  let lastPushed = -1;
  const push = (event: RunEvent) => {
    best.t.push(seconds(event.elapsedMs));
    best.n.push(n);
    best.overall.push(overall);
    islandBest.forEach((value, i) => {
      best.islands[i]!.push(value);
    });
  };
  events.forEach((event, index) => {
    if (!event.initial) n++;
    let changed = false;
    if (event.score !== undefined) {
      if (overall === null || event.score > overall) {
        overall = event.score;
        changed = true;
      }
      if (event.registered) {
        const targets = event.island === null ? islandBest.map((_, i) => i) : [event.island];
        for (const i of targets) {
          const current = islandBest[i];
          if (i < numIslands && (current === null || current === undefined || event.score > current)) {
            islandBest[i] = event.score;
            changed = true;
          }
        }
      }
    }
    if (event.resetIslands && event.resetIslands.length > 0) {
      // A reset island restarts from its founder's best; without the founder its best is unknown.
      const before = [...islandBest];
      event.resetIslands.forEach((id, j) => {
        const founder = event.resetFounders?.[j];
        if (id < numIslands) islandBest[id] = founder !== undefined ? (before[founder] ?? null) : null;
      });
      resets.push({
        t: seconds(event.elapsedMs),
        n,
        islands: [...event.resetIslands],
        founders: event.resetFounders?.length === event.resetIslands.length,
      });
      changed = true;
    }
    if (changed) {
      push(event);
      lastPushed = index;
    }
  });
  const last = events[events.length - 1];
  if (last && lastPushed !== events.length - 1) push(last);
  return { best, resets, samples: n };
}

/**
 * At most `maxPoints` step points, evenly over run time: within each slice of time only the last
 * point is kept (for a step line that is the value the slice ends with). First and last survive.
 */
export function downsampleSteps(series: BestSeries, maxPoints: number): BestSeries {
  const count = series.t.length;
  if (count <= maxPoints || count < 3) return series;
  const t0 = series.t[0]!;
  const span = series.t[count - 1]! - t0;
  const keep: number[] = [0];
  const slices = maxPoints - 2;
  for (let i = 1; i < count - 1; i++) {
    const slice = span > 0 ? Math.floor(((series.t[i]! - t0) / span) * slices) : i;
    const nextSlice = span > 0 ? Math.floor(((series.t[i + 1]! - t0) / span) * slices) : i + 1;
    if (slice !== nextSlice) keep.push(i);
  }
  keep.push(count - 1);
  const pick = <T>(values: T[]) => keep.map((i) => values[i]!);
  return {
    t: pick(series.t),
    n: pick(series.n),
    overall: pick(series.overall),
    islands: series.islands.map(pick),
  };
}

/** Counts by outcome and throughput in equal slices of run time (a round number of seconds each). */
export function outcomeBins(events: readonly RunEvent[], maxBins: number): OutcomeBins {
  const samples = events.filter((e) => !e.initial);
  const kindsSeen = new Set(samples.map((e) => e.outcome));
  const kinds = [
    ...OUTCOME_ORDER.filter((kind) => kindsSeen.has(kind)),
    ...[...kindsSeen].filter((kind) => !(OUTCOME_ORDER as readonly string[]).includes(kind)).sort(),
  ];
  const empty: OutcomeBins = {
    t: [],
    binSeconds: 0,
    kinds,
    counts: kinds.map(() => []),
    samplesPerSecond: [],
    evaluationsPerSecond: [],
  };
  if (samples.length === 0) return empty;
  const first = seconds(samples[0]!.elapsedMs);
  const last = seconds(samples[samples.length - 1]!.elapsedMs);
  const binSeconds = niceStep(Math.max((last - first) / maxBins, 0.1));
  const start = Math.floor(first / binSeconds) * binSeconds;
  const bins = Math.min(maxBins + 1, Math.floor((last - start) / binSeconds) + 1);
  const counts = kinds.map(() => new Array<number>(bins).fill(0));
  const sampleCounts = new Array<number>(bins).fill(0);
  const evaluationCounts = new Array<number>(bins).fill(0);
  const kindIndex = new Map(kinds.map((kind, i) => [kind, i]));
  for (const event of samples) {
    const bin = Math.min(bins - 1, Math.floor((seconds(event.elapsedMs) - start) / binSeconds));
    counts[kindIndex.get(event.outcome)!]![bin]!++;
    sampleCounts[bin]!++;
    if (!NOT_EVALUATED.has(event.outcome)) evaluationCounts[bin]!++;
  }
  const t: number[] = [];
  const samplesPerSecond: number[] = [];
  const evaluationsPerSecond: number[] = [];
  for (let b = 0; b < bins; b++) {
    const binStart = start + b * binSeconds;
    t.push(round(binStart + binSeconds / 2));
    // The last bin is only partly over when the run stopped (or is still going): divide by what it covers.
    const covered =
      b === bins - 1 ? Math.min(binSeconds, Math.max(last - binStart, binSeconds / 10)) : binSeconds;
    samplesPerSecond.push(round(sampleCounts[b]! / covered));
    evaluationsPerSecond.push(round(evaluationCounts[b]! / covered));
  }
  return { t, binSeconds, kinds, counts, samplesPerSecond, evaluationsPerSecond };
}

/** Linear bins from 0 to the 99th percentile; the rare tail above it goes into the last bin. */
export function histogram(values: number[], maxBins: number): Histogram {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) {
    return {
      edges: [],
      binWidth: 0,
      counts: [],
      overflow: 0,
      n: 0,
      mean: null,
      p50: null,
      p90: null,
      p99: null,
      max: null,
    };
  }
  const p99 = percentile(sorted, 0.99);
  const max = sorted[n - 1]!;
  const top = p99 > 0 ? p99 : max > 0 ? max : 1;
  const binWidth = niceStep(top / maxBins);
  const bins = Math.max(1, Math.min(maxBins, Math.ceil(top / binWidth + 1e-9)));
  const counts = new Array<number>(bins).fill(0);
  let overflow = 0;
  let sum = 0;
  for (const value of sorted) {
    sum += value;
    let bin = Math.floor(value / binWidth);
    if (bin >= bins) {
      overflow++;
      bin = bins - 1;
    }
    counts[Math.max(0, bin)]!++;
  }
  return {
    edges: counts.map((_, i) => round(i * binWidth)),
    binWidth,
    counts,
    overflow,
    n,
    mean: round(sum / n),
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99,
    max,
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('percentile of no values');
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/** The smallest of 1, 2, 5 × 10^k that is at least `value`, so axes and bins fall on round numbers. */
export function niceStep(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const factor of [1, 2, 5, 10]) {
    const step = factor * power;
    if (step >= value * (1 - 1e-12)) return round(step);
  }
  return round(10 * power);
}

function valuesOf(events: readonly RunEvent[], key: 'llmLatencyMs' | 'evaluationMs'): number[] {
  const values: number[] = [];
  for (const event of events) {
    const value = event[key];
    // A failed request's time is time to give up (retries included), not the model's latency.
    if (value !== undefined && !event.initial && event.outcome !== 'llm-error') values.push(value);
  }
  return values;
}

function seconds(ms: number): number {
  return round(ms / 1000);
}

/** Three decimals: enough for any axis, and it keeps the page's JSON short. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
