/**
 * The report page: one HTML file with uPlot, its styles, the data and the drawing script inline, so
 * it opens offline, as an attachment or in a paper's supplement. Numbers in the headline are written
 * as text (they read without JavaScript); charts are drawn by the script from the inline JSON.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CLIENT_SCRIPT } from './client-script.js';
import { diffLines } from './diff.js';
import {
  formatCount,
  formatDuration,
  formatMs,
  formatPercent,
  formatRate,
  formatScore,
  formatUsd,
} from './format.js';
import { escapeHtml, highlightPython } from './highlight.js';
import type { ProgramListing, ReportModel } from './model.js';
import { OUTCOME_ORDER, type ReportSeries } from './series.js';
import { workersSection } from './workers.js';

/** Reset and resume markers carried by the page; more would only blacken the chart. */
const MAX_MARKERS = 500;

export interface ChartAssets {
  script: string;
  css: string;
  version: string;
}

let cachedAssets: ChartAssets | undefined;

/** uPlot's own distribution files, read from node_modules and inlined into every page. */
export function chartAssets(): ChartAssets {
  if (!cachedAssets) {
    const require = createRequire(import.meta.url);
    const read = (path: string) => readFileSync(require.resolve(path), 'utf8');
    cachedAssets = {
      script: read('uplot/dist/uPlot.iife.min.js'),
      css: read('uplot/dist/uPlot.min.css'),
      version: (JSON.parse(read('uplot/package.json')) as { version: string }).version,
    };
  }
  return cachedAssets;
}

export function renderReportHtml(model: ReportModel, assets: ChartAssets = chartAssets()): string {
  const h = model.headline;
  const status = h.status ?? 'unknown';
  const title = `FunSearch run: ${model.title}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="funsearch report">
<title>${escapeHtml(title)}</title>
<style>${inlineStyle(assets.css)}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)} <span class="badge status-${escapeHtml(status)}" data-field="status">${escapeHtml(status)}</span></h1>
<p class="meta">${metaLine(model)}</p>
</header>
<main>
${headlineSection(model)}
${bestChartSection(model)}
${outcomesSection(model)}
${islandsSection(model)}
${modelsSection(model)}
${bestProgramSection(model)}
${topProgramsSection(model)}
${throughputSection(model)}
${workersSection(model.workers)}
${configSection(model)}
</main>
<footer>Generated ${escapeHtml(model.generatedAt)} by <code>funsearch report</code> from <code>${escapeHtml(model.runDir)}</code>. Charts: uPlot ${escapeHtml(assets.version)} (MIT), inlined; this page loads nothing from the network.</footer>
<script>${inlineScript(assets.script)}</script>
<script type="application/json" id="report-data">${jsonForScript(chartData(model.series))}</script>
<script>${inlineScript(CLIENT_SCRIPT)}</script>
</body>
</html>
`;
}

function metaLine(model: ReportModel): string {
  const h = model.headline;
  const parts: string[] = [];
  if (h.stopReason) parts.push(`stopped: ${escapeHtml(h.stopReason)}`);
  if (h.startedAt) parts.push(`started ${escapeHtml(h.startedAt)}`);
  if (h.updatedAt) parts.push(`updated ${escapeHtml(h.updatedAt)}`);
  if (model.sessions > 1)
    parts.push(`<span data-field="sessions">${model.sessions}</span> sessions (resumed)`);
  return parts.join(' · ');
}

function stat(field: string, label: string, text: string, value: unknown, detail = ''): string {
  const raw = value === null || value === undefined ? '' : String(value);
  return `<div class="stat"><div class="label">${escapeHtml(label)}</div><div class="value" data-field="${field}" data-value="${escapeHtml(raw)}">${escapeHtml(text)}</div>${detail ? `<div class="detail">${detail}</div>` : ''}</div>`;
}

function headlineSection(model: ReportModel): string {
  const h = model.headline;
  const tokensDetail =
    h.tokensInput !== null
      ? `${escapeHtml(formatCount(h.tokensInput))} in · ${escapeHtml(formatCount(h.tokensOutput))} out`
      : '';
  const failuresDetail = `<span data-field="failures" data-value="${h.failures ?? ''}">${escapeHtml(formatCount(h.failures))}</span> of ${escapeHtml(formatCount(h.evaluations))} evaluations`;
  const stats = [
    stat(
      'bestScore',
      'Best score',
      formatScore(h.bestScore),
      h.bestScore,
      h.initialScore !== null ? `initial ${escapeHtml(formatScore(h.initialScore))}` : '',
    ),
    stat('samples', 'Samples', formatCount(h.samples), h.samples),
    stat(
      'evaluations',
      'Evaluations',
      formatCount(h.evaluations),
      h.evaluations,
      h.registered !== null ? `${escapeHtml(formatCount(h.registered))} registered` : '',
    ),
    stat('failureRate', 'Failure rate', formatPercent(h.failureRate), h.failureRate, failuresDetail),
    stat(
      'llmFailures',
      'LLM failures',
      formatCount(h.llmFailures),
      h.llmFailures,
      'samples that failed after retries',
    ),
    stat('tokens', 'Tokens', formatCount(h.tokensTotal), h.tokensTotal, tokensDetail),
    stat('costUsd', 'Cost (estimated)', formatUsd(h.costUsd), h.costUsd),
    stat(
      'elapsedSeconds',
      'Wall time',
      formatDuration(h.elapsedSeconds),
      h.elapsedSeconds,
      'run time over every session',
    ),
    stat('islandResets', 'Island resets', formatCount(h.islandResets), h.islandResets),
  ];
  const notes = model.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('');
  const settings = keySettings(model.config);
  const configLine =
    h.model || settings
      ? `<p class="config-line" id="config-line">${h.model ? `Model <code data-field="model">${escapeHtml(h.model)}</code>` : ''}${h.model && settings ? ' · ' : ''}${settings}${model.config ? ' · <a href="#config">full config</a>' : ''}</p>`
      : '';
  const error = h.error ? `<p class="error">Run error: ${escapeHtml(h.error)}</p>` : '';
  return `<section id="headline">
<h2>Headline</h2>
${error}<div class="stats">${stats.join('\n')}</div>
${configLine}
${notes ? `<ul class="notes" id="notes">${notes}</ul>` : ''}
${bestScoresTable(model)}
</section>`;
}

/** The settings that shape a run, in one line; the whole config is at the end of the page. */
function keySettings(config: Record<string, unknown> | null): string {
  if (!config) return '';
  const at = (...path: string[]): unknown =>
    path.reduce<unknown>(
      (value, key) =>
        value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined,
      config,
    );
  const parts: [string, unknown][] = [
    ['islands', at('programs_database', 'num_islands')],
    ['samplers', at('num_samplers')],
    ['evaluators', at('num_evaluators')],
    ['samples per prompt', at('samples_per_prompt')],
    ['sandbox', at('sandbox', 'kind')],
    ['timeout', at('timeout') !== undefined ? `${at('timeout')} s` : undefined],
    ['seed', at('seed')],
  ];
  return parts
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([label, value]) => `${escapeHtml(label)} <b>${escapeHtml(String(value))}</b>`)
    .join(' · ');
}

function bestScoresTable(model: ReportModel): string {
  const best = model.best;
  const inputs =
    model.testInputs.length > 0 ? model.testInputs : (best?.scoresPerTest.map(([input]) => input) ?? []);
  if (inputs.length === 0) return '';
  const scores = new Map(best?.scoresPerTest ?? []);
  const rows = inputs
    .map((input) => {
      const value = scores.get(String(input));
      return `<tr><td><code>${escapeHtml(String(input))}</code></td><td class="num" data-test-input="${escapeHtml(String(input))}" data-value="${value ?? ''}">${escapeHtml(formatScore(value))}</td></tr>`;
    })
    .join('');
  const where = best && best.island !== null ? ` (found on island ${best.island})` : '';
  return `<h3>Test inputs and the best program's scores${escapeHtml(where)}</h3>
<table class="scores" id="best-scores"><thead><tr><th>test input</th><th>score</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function bestChartSection(model: ReportModel): string {
  const s = model.series;
  const resets = s.resets.length;
  let caption = 'The best score so far, overall (black) and per island.';
  if (resets > 0) {
    caption += ` <span class="key reset"></span> island reset (${resets}${resets > MAX_MARKERS ? `, the first ${MAX_MARKERS} marked` : ''}): the weaker half of the islands restarts from a surviving island's best`;
    caption += s.resets.some((reset) => !reset.founders)
      ? '; events.jsonl does not name the founders, so a reset island’s line has a gap until its next registered program.'
      : '.';
  }
  if (s.resumes.length > 0) caption += ' <span class="key resume"></span> resumed from a checkpoint.';
  return `<section id="best">
<h2>Best score</h2>
<div class="toolbar" role="group" aria-label="x axis"><button type="button" data-best-mode="time" aria-pressed="true">over run time</button><button type="button" data-best-mode="samples" aria-pressed="false">over samples</button></div>
<div class="chart" id="chart-best"></div>
<p class="caption">${caption}</p>
</section>`;
}

function outcomesSection(model: ReportModel): string {
  const h = model.headline;
  const counts: Record<string, number> = { ...h.outcomes };
  if (h.llmFailures) counts['llm-error'] = h.llmFailures;
  const kinds = [
    ...OUTCOME_ORDER.filter((kind) => counts[kind] !== undefined),
    ...Object.keys(counts)
      .filter((kind) => !(OUTCOME_ORDER as readonly string[]).includes(kind))
      .sort(),
  ];
  const total = kinds.reduce((sum, kind) => sum + (counts[kind] ?? 0), 0);
  const rows = kinds
    .map(
      (kind) =>
        `<tr><td>${escapeHtml(kind)}</td><td class="num" data-outcome="${escapeHtml(kind)}" data-value="${counts[kind]}">${escapeHtml(formatCount(counts[kind]))}</td><td class="num">${escapeHtml(formatPercent(total > 0 ? counts[kind]! / total : null))}</td></tr>`,
    )
    .join('');
  const bin = model.series.outcomes.binSeconds;
  return `<section id="outcomes">
<h2>Outcomes over time</h2>
<div class="chart" id="chart-outcomes"></div>
<p class="caption">Samples per ${escapeHtml(bin > 0 ? formatDuration(bin) : 'time')} of run time, by outcome. <code>llm-error</code>: the LLM request failed after retries; <code>not-evaluated</code>: the run stopped before the sample was evaluated.</p>
${rows ? `<table class="outcomes" id="outcome-totals"><thead><tr><th>outcome</th><th>count</th><th>share</th></tr></thead><tbody>${rows}</tbody></table>` : ''}
</section>`;
}

function islandsSection(model: ReportModel): string {
  if (model.islands.length === 0) return '';
  const rows = model.islands
    .map(
      (island) =>
        `<tr data-island="${island.id}"><td>${island.id}</td><td class="num" data-value="${island.bestScore ?? ''}">${escapeHtml(formatScore(island.bestScore))}</td><td class="num">${escapeHtml(formatCount(island.clusters))}</td><td class="num">${escapeHtml(formatCount(island.programs))}</td><td class="num">${escapeHtml(formatCount(island.generation))}</td></tr>`,
    )
    .join('');
  return `<section id="islands">
<h2>Islands</h2>
<table id="island-table"><thead><tr><th>island</th><th>best score</th><th>clusters</th><th>programs registered</th><th>generation</th></tr></thead><tbody>${rows}</tbody></table>
</section>`;
}

/** Points of the weight history shown; a long run's history is thinned to these. */
const WEIGHT_ROWS = 12;

function modelsSection(model: ReportModel): string {
  if (model.models.length === 0) return '';
  const total = model.models.reduce((sum, row) => sum + row.samples, 0);
  const rows = model.models
    .map(
      (row) =>
        `<tr data-model="${escapeHtml(row.model)}"><td><code>${escapeHtml(row.model)}</code></td><td class="num" data-field="samples" data-value="${row.samples}">${escapeHtml(formatCount(row.samples))}</td><td class="num">${escapeHtml(formatPercent(total > 0 ? row.samples / total : null))}</td><td class="num" data-field="validRate" data-value="${row.validRate ?? ''}">${escapeHtml(formatPercent(row.validRate))}</td><td class="num" data-field="registered">${escapeHtml(formatCount(row.registered))}</td><td class="num" data-field="newBests">${escapeHtml(formatCount(row.newBests))}</td><td class="num">${escapeHtml(formatCount(row.inputTokens))} in · ${escapeHtml(formatCount(row.outputTokens))} out</td><td class="num" data-field="costUsd">${escapeHtml(formatUsd(row.costUsd))}</td><td class="num" data-field="medianLatencyMs">${escapeHtml(formatMs(row.medianLatencyMs))}</td></tr>`,
    )
    .join('');
  return `<section id="models">
<h2>Models</h2>
<table id="model-table"><thead><tr><th>model</th><th>samples</th><th>share</th><th>valid rate</th><th>registered</th><th>new bests</th><th>tokens</th><th>cost (estimated)</th><th>median LLM latency</th></tr></thead><tbody>${rows}</tbody></table>
<p class="caption">Valid rate: evaluated samples whose program ran and scored. New bests: samples that raised the run's best score.</p>
${weightsTable(model)}
</section>`;
}

function weightsTable(model: ReportModel): string {
  const selection = model.modelSelection;
  if (!selection || selection.weightHistory.length === 0) return '';
  const history = selection.weightHistory;
  const step = Math.max(1, Math.ceil((history.length - 1) / (WEIGHT_ROWS - 1)));
  const shown = history.filter((_, i) => i % step === 0 || i === history.length - 1);
  const head = selection.models.map((name) => `<th><code>${escapeHtml(name)}</code></th>`).join('');
  const rows = shown
    .map(
      (point) =>
        `<tr data-observations="${point.observations}"><td class="num">${escapeHtml(formatCount(point.observations))}</td>${point.weights.map((w) => `<td class="num">${escapeHtml(formatPercent(w))}</td>`).join('')}</tr>`,
    )
    .join('');
  const how =
    selection.kind === 'ucb'
      ? 'UCB selection: the chance of each model for the next prompt after that many results came back (each model is tried first, then most prompts go to the best score of improvement plus exploration, blended with cheapness).'
      : 'Weighted selection: the configured weights, fixed for the whole run.';
  return `<h3>Model weights over time</h3>
<table id="model-weights"><thead><tr><th>results</th>${head}</tr></thead><tbody>${rows}</tbody></table>
<p class="caption">${escapeHtml(how)}</p>`;
}

function codeBlock(listing: ProgramListing, id?: string): string {
  const cut =
    listing.cutLines > 0
      ? `<p class="caption">… ${listing.cutLines} more line(s) not shown; the run directory's <code>.py</code> files hold the whole program.</p>`
      : '';
  return `<pre class="code"${id ? ` id="${id}"` : ''}><code>${highlightPython(listing.text)}</code></pre>${cut}`;
}

function bestProgramSection(model: ReportModel): string {
  const best = model.best;
  if (!best)
    return `<section id="best-program"><h2>Best program</h2><p>No program has been scored yet.</p></section>`;
  let diff =
    '<p class="caption">The initial function is in checkpoint.json, which this run has not written yet.</p>';
  if (model.initialFunction !== null) {
    const lines = diffLines(model.initialFunction, best.function);
    if (!lines) diff = '<p class="caption">The functions are too long to compare here.</p>';
    else if (lines.every((line) => line.op === ' '))
      diff = '<p class="caption">The best function is the initial one.</p>';
    else {
      const added = lines.filter((line) => line.op === '+').length;
      const removed = lines.filter((line) => line.op === '-').length;
      const body = lines
        .map((line) => {
          const kind = line.op === '+' ? 'add' : line.op === '-' ? 'del' : 'ctx';
          return `<span class="diff-${kind}">${escapeHtml(line.op)} ${escapeHtml(line.text)}</span>`;
        })
        .join('');
      diff = `<p class="caption">${added} line(s) added, ${removed} removed.</p><pre class="code diff" id="best-diff"><code>${body}</code></pre>`;
    }
  }
  return `<section id="best-program">
<h2>Best program <span class="score">score ${escapeHtml(formatScore(best.score))}</span></h2>
${codeBlock(best.program, 'best-program-code')}
<h3>Against the initial function</h3>
${diff}
</section>`;
}

function topProgramsSection(model: ReportModel): string {
  if (model.topPrograms.length === 0) return '';
  const inputs = model.testInputs;
  const items = model.topPrograms
    .map((program, rank) => {
      const signature = program.signature
        .map(
          (value, i) =>
            `${inputs[i] !== undefined ? `${escapeHtml(inputs[i]!)}: ` : ''}${escapeHtml(formatScore(value))}`,
        )
        .join(', ');
      const where = `island${program.islands.length > 1 ? 's' : ''} ${program.islands.join(', ')}`;
      return `<details class="program"${rank === 0 ? ' open' : ''}><summary><span class="score" data-value="${program.score}">${escapeHtml(formatScore(program.score))}</span> · ${escapeHtml(where)} · ${program.programs} program(s) · per input: ${signature}</summary>${codeBlock(program.listing)}</details>`;
    })
    .join('\n');
  return `<section id="top-programs">
<h2>Top ${model.topPrograms.length} distinct programs</h2>
<p class="caption">From the last checkpoint: the best clusters over all islands, one per signature (scores on every test input); each is shown by its shortest program.</p>
${items}
</section>`;
}

function throughputSection(model: ReportModel): string {
  const h = model.headline;
  const latency = model.series.latency;
  const evaluation = model.series.evaluation;
  const row = (label: string, hist: typeof latency) =>
    `<tr><td>${label}</td><td class="num">${formatCount(hist.n)}</td><td class="num">${formatMs(hist.mean)}</td><td class="num">${formatMs(hist.p50)}</td><td class="num">${formatMs(hist.p90)}</td><td class="num">${formatMs(hist.p99)}</td><td class="num">${formatMs(hist.max)}</td></tr>`;
  return `<section id="throughput">
<h2>Throughput</h2>
<div class="stats">
${stat('samplesPerSecond', 'Samples per second', formatRate(h.samplesPerSecond), h.samplesPerSecond)}
${stat('evaluationsPerSecond', 'Evaluations per second', formatRate(h.evaluationsPerSecond), h.evaluationsPerSecond)}
${stat('meanLlmLatencyMs', 'Mean LLM latency', formatMs(h.meanLlmLatencyMs), h.meanLlmLatencyMs)}
${stat('meanEvaluationMs', 'Mean evaluation time', formatMs(h.meanEvaluationMs), h.meanEvaluationMs)}
${repeatsStat(h)}
</div>
<div class="chart" id="chart-throughput"></div>
<p class="caption">Samples and evaluations per second in each slice of run time.</p>
<h3>LLM latency</h3>
<div class="chart" id="chart-latency"></div>
<p class="caption">Distribution of LLM latency per answered sample (failed requests are left out)${latency.overflow > 0 ? `; the last bar also holds the ${latency.overflow} slowest (above the 99th percentile)` : ''}.</p>
<table id="latency-table"><thead><tr><th></th><th>count</th><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr></thead><tbody>${row('LLM latency', latency)}${row('evaluation', evaluation)}</tbody></table>
</section>`;
}

/** The evaluation cache: the share of candidates that were repeats and the sandbox time it saved. */
function repeatsStat(h: ReportModel['headline']): string {
  if (h.evalCacheOn === false) {
    return stat('repeatRate', 'Repeats reused', 'off', null, 'evaluation cache off: every candidate ran');
  }
  const candidates = h.sandboxRuns !== null && h.cacheHits !== null ? h.sandboxRuns + h.cacheHits : null;
  const detail = `<span data-field="cacheHits" data-value="${h.cacheHits ?? ''}">${escapeHtml(formatCount(h.cacheHits))}</span>${candidates !== null ? ` of ${escapeHtml(formatCount(candidates))} candidates` : ' repeats'} not run again · <span data-field="sandboxSecondsSaved" data-value="${h.sandboxSecondsSaved ?? ''}">${escapeHtml(formatDuration(h.sandboxSecondsSaved))}</span> sandbox time saved`;
  return stat('repeatRate', 'Repeats reused', formatPercent(h.repeatRate), h.repeatRate, detail);
}

function configSection(model: ReportModel): string {
  if (!model.config) return '';
  return `<section id="config">
<h2>Config</h2>
<details><summary>config.json of this run</summary><pre class="code"><code>${escapeHtml(JSON.stringify(model.config, null, 2))}</code></pre></details>
</section>`;
}

/** What the drawing script needs, and nothing else (programs and the headline are in the HTML). */
function chartData(series: ReportSeries): unknown {
  return {
    numIslands: series.numIslands,
    best: {
      t: series.best.t,
      n: series.best.n,
      overall: changes(series.best.overall),
      islands: series.best.islands.map(changes),
    },
    resets: series.resets.slice(0, MAX_MARKERS),
    resumes: series.resumes.slice(0, MAX_MARKERS),
    outcomes: series.outcomes,
    latency: series.latency,
  };
}

/**
 * A step line as `[index, value]` where it changes: most points change one island only, so the
 * full aligned arrays would repeat every other island's value at every point. The page expands them.
 */
export function changes(values: readonly (number | null)[]): [number, number | null][] {
  const result: [number, number | null][] = [];
  values.forEach((value, i) => {
    if (i === 0 || value !== values[i - 1]) result.push([i, value === null ? null : significant(value)]);
  });
  return result;
}

/** Eight significant digits: the chart shows six, and a long float would take 19 characters. */
function significant(value: number): number {
  return Number(value.toPrecision(8));
}

/** JSON inside a script element: `<` escaped so no `</script>` or `<!--` can end it early. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1');
}

function inlineStyle(css: string): string {
  return css.replace(/<\/(style)/gi, '<\\/$1');
}

const PAGE_CSS = `
:root { --fg: #1d2430; --muted: #5b6575; --line: #dde2ea; --bg: #fff; --panel: #f6f8fb; --accent: #1f77b4; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 1120px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 18px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 8px; }
.meta, .caption, footer { color: var(--muted); }
.caption { font-size: 13px; margin: 6px 0; }
footer { font-size: 12px; padding: 24px 20px 32px; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 2px 8px; border-radius: 10px; vertical-align: middle; background: #e5e7eb; }
.status-finished { background: #d1f0d8; color: #14532d; }
.status-running { background: #dbeafe; color: #1e3a8a; }
.status-interrupted { background: #fef3c7; color: #78350f; }
.status-failed { background: #fee2e2; color: #7f1d1d; }
.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.stat { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.stat .label { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.stat .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.stat .detail { font-size: 12px; color: var(--muted); }
.config-line { margin: 10px 0 0; color: var(--muted); }
.config-line b { color: var(--fg); font-weight: 600; }
.notes { background: #fffbeb; border: 1px solid #fcd34d; border-radius: 8px; padding: 8px 12px 8px 28px; margin: 12px 0; }
.error { background: #fee2e2; border: 1px solid #fca5a5; border-radius: 8px; padding: 8px 12px; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid var(--line); }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { width: 100%; min-height: 60px; }
.chart.empty { color: var(--muted); padding: 20px; background: var(--panel); border-radius: 8px; }
.toolbar { margin-bottom: 6px; }
.toolbar button { font: inherit; font-size: 12px; padding: 3px 10px; border: 1px solid var(--line); background: var(--panel); cursor: pointer; }
.toolbar button:first-child { border-radius: 6px 0 0 6px; }
.toolbar button:last-child { border-radius: 0 6px 6px 0; }
.toolbar button[aria-pressed="true"] { background: var(--accent); color: #fff; border-color: var(--accent); }
.key { display: inline-block; width: 18px; height: 0; vertical-align: middle; margin: 0 3px; }
.key.reset { border-top: 2px dashed rgba(214, 39, 40, .8); }
.key.resume { border-top: 2px dotted rgba(31, 119, 180, .9); }
pre.code { background: #fafbfc; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; overflow-x: auto; max-height: 560px; }
#best-program-code { max-height: none; }
h2 .score { font-size: 14px; font-weight: 500; color: var(--muted); margin-left: 8px; }
details.program { border: 1px solid var(--line); border-radius: 8px; padding: 6px 10px; margin: 8px 0; }
details.program summary { cursor: pointer; }
details.program .score { font-weight: 600; }
.tok-keyword { color: #a626a4; font-weight: 600; }
.tok-string { color: #50a14f; }
.tok-comment { color: #a0a1a7; font-style: italic; }
.tok-number { color: #986801; }
.tok-decorator { color: #c18401; }
.tok-function, .tok-class { color: #4078f2; font-weight: 600; }
.tok-builtin { color: #0184bc; }
.diff-add { display: block; background: #e6ffed; color: #22863a; }
.diff-del { display: block; background: #ffeef0; color: #b31d28; }
.diff-ctx { display: block; color: #4b5563; }
pre.diff code { white-space: pre; }
`;
