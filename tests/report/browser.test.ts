/**
 * The report as a person sees it: rendered in headless Chromium with no network, charts drawn,
 * numbers equal to summary.json, no console errors — for a finished, a running, a resumed and a
 * 100 000-sample run.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeHtmlReport } from '../../src/report/index.js';
import { describeWithSystem } from '../helpers/system.js';
import { type Browser, launchBrowser, type OpenedPage, openReport, seriesPixels } from './browser.js';
import { type SyntheticRun, writeSyntheticRun } from './synthetic-run.js';

const ISLAND_1 = [0xff, 0x7f, 0x0e] as [number, number, number];
const OK_GREEN = [0x2c, 0xa0, 0x2c] as [number, number, number];
const SAMPLES_BLUE = [0x1f, 0x77, 0xb4] as [number, number, number];
const LATENCY_PURPLE = [0x6a, 0x51, 0xa3] as [number, number, number];

let root: string;
let browser: Browser;

function launchOnce(): void {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'funsearch-report-browser-'));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });
}

async function render(
  name: string,
  options: Parameters<typeof writeSyntheticRun>[1],
): Promise<{ run: SyntheticRun; opened: OpenedPage }> {
  const run = await writeSyntheticRun(join(root, name), options);
  const file = await writeHtmlReport(run.dir);
  return { run, opened: await openReport(browser, file) };
}

async function field(opened: OpenedPage, name: string): Promise<{ text: string; value: string | null }> {
  const element = opened.page.locator(`[data-field="${name}"]`).first();
  return { text: (await element.textContent())!.trim(), value: await element.getAttribute('data-value') };
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

async function expectChartsDrawn(opened: OpenedPage): Promise<void> {
  expect(await seriesPixels(opened.page, 'chart-best', ISLAND_1)).toBeGreaterThan(50);
  expect(await seriesPixels(opened.page, 'chart-outcomes', OK_GREEN)).toBeGreaterThan(500);
  expect(await seriesPixels(opened.page, 'chart-throughput', SAMPLES_BLUE)).toBeGreaterThan(50);
  expect(await seriesPixels(opened.page, 'chart-latency', LATENCY_PURPLE)).toBeGreaterThan(200);
}

async function expectHeadlineMatches(opened: OpenedPage, summary: SyntheticRun['summary']): Promise<void> {
  const best = await field(opened, 'bestScore');
  expect(best.value).toBe(String(summary.bestScore));
  expect(best.text).toBe(String(summary.bestScore));
  expect((await field(opened, 'samples')).text).toBe(count(summary.samples));
  expect((await field(opened, 'evaluations')).text).toBe(count(summary.evaluations));
  const failures = summary.counts.failures;
  expect((await field(opened, 'failures')).text).toBe(count(failures));
  expect((await field(opened, 'failureRate')).text).toBe(
    `${((failures / summary.evaluations) * 100).toFixed(1)} %`,
  );
  expect((await field(opened, 'llmFailures')).text).toBe(count(summary.counts.samplesFailed));
  const tokens = summary.tokens as { total: number };
  expect((await field(opened, 'tokens')).text).toBe(count(tokens.total));
  expect((await field(opened, 'costUsd')).value).toBe(String(summary.costUsd));
  const timings = summary.timings as { elapsedSeconds: number };
  expect((await field(opened, 'elapsedSeconds')).value).toBe(String(timings.elapsedSeconds));
  expect((await field(opened, 'model')).text).toBe(summary.model);
  expect((await field(opened, 'status')).text).toBe(summary.status);
  for (const [input, score] of Object.entries(summary.bestProgram.scoresPerTest)) {
    expect(await opened.page.locator(`[data-test-input="${input}"]`).getAttribute('data-value')).toBe(
      String(score),
    );
  }
  for (const island of summary.islands) {
    const cell = opened.page.locator(`tr[data-island="${island.id}"] td`).nth(1);
    expect(await cell.getAttribute('data-value')).toBe(String(island.bestScore));
  }
  for (const [kind, n] of Object.entries(summary.counts.outcomes)) {
    expect(await opened.page.locator(`[data-outcome="${kind}"]`).getAttribute('data-value')).toBe(String(n));
  }
}

await describeWithSystem('chromium', 'report page in Chromium', () => {
  launchOnce();
  it('draws every chart and shows the numbers of summary.json for a finished run', async () => {
    const { run, opened } = await render('finished', {
      samples: 3000,
      islands: 4,
      resetEvery: 1000,
      seed: 3,
    });
    expect(opened.errors).toEqual([]);
    expect(opened.blocked).toEqual([]);
    await expectChartsDrawn(opened);
    await expectHeadlineMatches(opened, run.summary);
    // The best program is shown highlighted, with a diff against the initial `return 0.0`.
    expect(await opened.page.locator('#best-program-code .tok-keyword').count()).toBeGreaterThan(3);
    expect(await opened.page.locator('#best-diff .diff-del').first().textContent()).toContain('return 0.0');
    expect(await opened.page.locator('#top-programs details.program').count()).toBe(5);

    // Switching the best-score chart to samples redraws it, still without errors.
    await opened.page.click('[data-best-mode="samples"]');
    expect(await opened.page.locator('[data-best-mode="samples"]').getAttribute('aria-pressed')).toBe('true');
    expect(await seriesPixels(opened.page, 'chart-best', ISLAND_1)).toBeGreaterThan(50);
    expect(opened.errors).toEqual([]);
    await opened.page.close();
  });

  it('reads a running run: summary older than the log, half-written last line', async () => {
    const { run, opened } = await render('running', {
      samples: 800,
      eventsAfterSummary: 150,
      partialLastLine: true,
      status: 'running',
      seed: 4,
    });
    expect(opened.errors).toEqual([]);
    expect(opened.blocked).toEqual([]);
    await expectChartsDrawn(opened);
    await expectHeadlineMatches(opened, run.summary);
    const notes = (await opened.page.locator('#notes').textContent())!;
    expect(notes).toContain('150 event(s) newer than summary.json');
    expect(notes).toContain('last line of events.jsonl was still being written');
    await opened.page.close();
  });

  it('reads a resumed run and marks the resume', async () => {
    const { run, opened } = await render('resumed', {
      samples: 1500,
      resumes: [{ atSample: 700, lost: 40 }],
      status: 'interrupted',
      seed: 5,
    });
    expect(opened.errors).toEqual([]);
    await expectChartsDrawn(opened);
    await expectHeadlineMatches(opened, run.summary);
    expect((await field(opened, 'sessions')).text).toBe('2');
    // A resume marker is drawn on the best chart in its own dotted colour.
    expect(await seriesPixels(opened.page, 'chart-best', [0x1f, 0x77, 0xb4])).toBeGreaterThan(0);
    await opened.page.close();
  });

  it('renders a page for a run with no summary, no checkpoint and no events yet', async () => {
    const dir = join(root, 'empty');
    await writeSyntheticRun(dir, { samples: 0, noSummary: true, noCheckpoint: true });
    await writeFile(join(dir, 'events.jsonl'), '');
    const opened = await openReport(browser, await writeHtmlReport(dir));
    expect(opened.errors).toEqual([]);
    expect(await opened.page.locator('#chart-best.empty').count()).toBe(1);
    await opened.page.close();
  });

  it('stays small and draws quickly enough for 100 000 samples', async () => {
    const { run, opened } = await render('large', {
      samples: 100_000,
      islands: 10,
      resetEvery: 20_000,
      clustersPerIsland: 300,
      msPerSample: 36,
      seed: 6,
    });
    expect(opened.errors).toEqual([]);
    await expectChartsDrawn(opened);
    await expectHeadlineMatches(opened, run.summary);
    await opened.page.close();
  });
});
