import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/report/read-run.js';
import { readRun } from '../../src/report/read-run.js';
import {
  bestPointLimit,
  bestSeries,
  buildSeries,
  downsampleSteps,
  histogram,
  niceStep,
  outcomeBins,
  percentile,
} from '../../src/report/series.js';
import { writeSyntheticRun } from './synthetic-run.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'funsearch-report-series-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function ev(elapsedMs: number, fields: Partial<RunEvent> = {}): RunEvent {
  return { elapsedMs, wallMs: elapsedMs, island: 0, outcome: 'ok', initial: false, ...fields };
}

describe('bestSeries', () => {
  it('follows the best overall and per island, including stale results and resets', () => {
    const events: RunEvent[] = [
      ev(0, { island: null, score: 5, registered: true, initial: true }),
      ev(1000, { island: 0, score: 7, registered: true }),
      ev(2000, { island: 1, outcome: 'crash' }),
      // A stale result: best overall, but its island does not take it.
      ev(3000, { island: 1, score: 9, registered: false }),
      ev(4000, { island: 2, score: 6, registered: true, resetIslands: [1, 2], resetFounders: [0, 0] }),
      ev(5000, { island: 2, score: 3, registered: true, resetIslands: [0], resetFounders: undefined }),
    ];
    const { best, resets, samples } = bestSeries(events, 3);
    expect(samples).toBe(5);
    expect(best.t).toEqual([0, 1, 3, 4, 5]);
    expect(best.n).toEqual([0, 1, 3, 4, 5]);
    expect(best.overall).toEqual([5, 7, 9, 9, 9]);
    expect(best.islands[0]).toEqual([5, 7, 7, 7, null]);
    expect(best.islands[1]).toEqual([5, 5, 5, 7, 7]);
    expect(best.islands[2]).toEqual([5, 5, 5, 7, 7]);
    expect(resets).toEqual([
      { t: 4, n: 4, islands: [1, 2], founders: true },
      { t: 5, n: 5, islands: [0], founders: false },
    ]);
  });

  it('ends with a point at the last event so the lines reach the end of the run', () => {
    const { best } = bestSeries([ev(0, { score: 1, registered: true }), ev(9000, { outcome: 'timeout' })], 1);
    expect(best.t).toEqual([0, 9]);
    expect(best.overall).toEqual([1, 1]);
  });

  it('ends with the per-island and overall bests of summary.json for a run with resets', async () => {
    const run = await writeSyntheticRun(join(root, 'resets'), {
      samples: 4000,
      islands: 6,
      resetEvery: 700,
      seed: 9,
    });
    const data = await readRun(run.dir);
    const series = buildSeries(data.events, 6);
    expect(series.resets).toHaveLength(5);
    expect(series.best.overall.at(-1)).toBe(run.summary.bestScore);
    expect(series.best.islands.map((line) => line.at(-1))).toEqual(
      run.summary.islands.map((i) => i.bestScore),
    );
    expect(series.samples).toBe(run.summary.samples);
    // The latency histogram holds the answered samples, as the summary's mean latency does.
    const counts = run.summary.counts as unknown as { samplesOk: number };
    expect(series.latency.n).toBe(counts.samplesOk);
    const timings = run.summary.timings as { meanLlmLatencyMs: number };
    expect(series.latency.mean).toBeCloseTo(timings.meanLlmLatencyMs, 2);
  });
});

describe('downsampleSteps', () => {
  it('keeps at most the limit, the first and the last point, and the value each slice ends with', () => {
    const count = 10_000;
    const t = Array.from({ length: count }, (_, i) => i / 10);
    const overall = t.map((_, i) => i);
    const series = { t, n: t.map((_, i) => i), overall, islands: [overall.map((v) => v * 2)] };
    const small = downsampleSteps(series, 500);
    expect(small.t.length).toBeLessThanOrEqual(500);
    expect(small.t.length).toBeGreaterThan(400);
    expect(small.t[0]).toBe(0);
    expect(small.t.at(-1)).toBe(t.at(-1));
    expect(small.overall.at(-1)).toBe(count - 1);
    expect(small.islands[0]!.at(-1)).toBe(2 * (count - 1));
    // Still a step function of the original: each kept value is the original value at that time.
    expect(small.overall).toEqual(small.t.map((time) => Math.round(time * 10)));
    expect(downsampleSteps(series, 20_000)).toBe(series);
  });

  it('gives fewer points per line with more islands, so the page has a bound', () => {
    expect(bestPointLimit(10)).toBe(1000);
    expect(bestPointLimit(50) * 51).toBeLessThanOrEqual(24_000);
    expect(bestPointLimit(1000)).toBe(200);
  });
});

describe('outcomeBins', () => {
  it('counts every sample once, by kind, in round bins', async () => {
    const run = await writeSyntheticRun(join(root, 'bins'), { samples: 5000, seed: 2 });
    const data = await readRun(run.dir);
    const bins = outcomeBins(data.events, 120);
    expect(bins.t.length).toBeLessThanOrEqual(121);
    const mantissa = bins.binSeconds / 10 ** Math.floor(Math.log10(bins.binSeconds));
    expect([1, 2, 5]).toContain(Number(mantissa.toFixed(6)));
    const totals = Object.fromEntries(
      bins.kinds.map((kind, k) => [kind, bins.counts[k]!.reduce((a, b) => a + b, 0)]),
    );
    for (const [kind, n] of Object.entries(run.summary.counts.outcomes)) expect(totals[kind]).toBe(n);
    expect(totals['llm-error']).toBe(run.summary.counts.samplesFailed);
    const all = Object.values(totals).reduce((a, b) => a + b, 0);
    expect(all).toBe(run.summary.samples);
    expect(bins.kinds.slice(0, 2)).toEqual(['ok', 'timeout']);
    // Rates times bin width give back the counts (the last, partial bin aside).
    const fromRates = bins.samplesPerSecond.slice(0, -1).reduce((a, r) => a + r * bins.binSeconds, 0);
    const counted = bins.kinds.reduce(
      (a, _, k) => a + bins.counts[k]!.slice(0, -1).reduce((x, y) => x + y, 0),
      0,
    );
    expect(fromRates).toBeCloseTo(counted, 0);
  });

  it('is empty without samples', () => {
    expect(outcomeBins([ev(0, { initial: true, score: 1 })], 120).t).toEqual([]);
  });
});

describe('histogram and percentiles', () => {
  it('bins values up to the 99th percentile and puts the tail in the last bin', () => {
    const values = [
      ...Array.from({ length: 990 }, (_, i) => i),
      ...Array.from({ length: 10 }, () => 100_000),
    ];
    const h = histogram(values, 40);
    expect(h.n).toBe(1000);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(h.p50).toBe(499);
    expect(h.p99).toBe(989);
    expect(h.max).toBe(100_000);
    expect(h.overflow).toBeGreaterThanOrEqual(10);
    expect(h.counts.length).toBeLessThanOrEqual(40);
    expect(h.binWidth).toBe(niceStep(989 / 40));
  });

  it('handles no values and identical values', () => {
    expect(histogram([], 40)).toMatchObject({ n: 0, counts: [], p50: null });
    const same = histogram([0, 0, 0], 40);
    expect(same.counts.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('uses nearest-rank percentiles and round steps', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.99)).toBe(4);
    expect(niceStep(0.03)).toBe(0.05);
    expect(niceStep(7)).toBe(10);
    expect(niceStep(20)).toBe(20);
    expect(niceStep(0)).toBe(1);
  });
});
