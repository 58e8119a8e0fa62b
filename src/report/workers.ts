/** The report's "Workers" section: who evaluated a `--redis` run, how fast, and what share. */
import { formatCount, formatPercent } from './format.js';
import { escapeHtml } from './highlight.js';
import type { ReportWorkers } from './model.js';

export function workersSection(status: ReportWorkers | null): string {
  if (!status || status.workers.length === 0) return '';
  const rows = [...status.workers]
    .sort((a, b) => b.evaluations - a.evaluations)
    .map(
      (w) =>
        `<tr><td><code>${escapeHtml(w.id)}</code></td><td>${escapeHtml(w.host)}</td><td>${escapeHtml(w.sandbox)}</td><td class="num">${w.concurrency}</td><td>${w.live ? 'live' : 'gone'}</td><td class="num">${escapeHtml(formatCount(w.evaluations))}</td><td class="num">${w.perMinute.toFixed(1)}</td><td class="num">${escapeHtml(formatPercent(w.share))}</td></tr>`,
    )
    .join('');
  return `<section id="workers">
<h2>Workers</h2>
<p class="caption">Evaluations of this run went through a Redis queue to these workers; capacity at the last update: ${status.capacity ?? '?'} slot(s). Throughput is this run's evaluations per minute over the time each worker served it.</p>
<table id="workers-table"><thead><tr><th>worker</th><th>host</th><th>sandbox</th><th>slots</th><th>state</th><th>evaluations</th><th>per minute</th><th>share</th></tr></thead><tbody>${rows}</tbody></table>
</section>`;
}
