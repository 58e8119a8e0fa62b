/**
 * The HTML run report: `renderHtmlReport` builds the page for a run directory, `writeHtmlReport`
 * writes it (atomically, so a browser open on a running search never sees half a page).
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../run/atomic-file.js';
import { renderReportHtml } from './html.js';
import { buildReportModel } from './model.js';
import { readRun } from './read-run.js';

export const REPORT_FILE = 'report.html';

export async function renderHtmlReport(runDir: string, options: { now?: Date } = {}): Promise<string> {
  const run = await readRun(runDir);
  return renderReportHtml(buildReportModel(run, options.now));
}

/** Writes the report of `runDir` to `output` (default `<runDir>/report.html`); returns the path written. */
export async function writeHtmlReport(
  runDir: string,
  output: string = join(runDir, REPORT_FILE),
): Promise<string> {
  await writeFileAtomic(output, await renderHtmlReport(runDir));
  return output;
}

export { chartAssets, jsonForScript, renderReportHtml } from './html.js';
export { buildReportModel, type ReportModel } from './model.js';
export { type RunData, type RunEvent, readEvents, readRun } from './read-run.js';
export { buildSeries, downsampleSteps, histogram, LIMITS } from './series.js';
