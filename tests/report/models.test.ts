import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/report/index.js';
import { CHEAP, MIXED_EVENTS, STRONG } from '../helpers/model-events.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'funsearch-report-models-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const cheap = CHEAP;
const strong = STRONG;

/** A run directory with an event log of `events` (sample events with `model`) and the config given. */
async function runDir(name: string, events: Record<string, unknown>[], files: Record<string, unknown> = {}) {
  const dir = join(root, name);
  await mkdir(dir);
  const start = Date.parse('2026-11-29T10:00:00Z');
  const lines = events.map((event, i) =>
    JSON.stringify({
      time: new Date(start + i * 100).toISOString(),
      elapsedMs: i * 100,
      island: 0,
      islandGeneration: 0,
      version: 1,
      ...event,
    }),
  );
  await writeFile(join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
  for (const [file, content] of Object.entries(files)) {
    await writeFile(join(dir, file), JSON.stringify(content));
  }
  return dir;
}

/** The cells of the model table's row for `model`, as text. */
function row(html: string, model: string): string[] {
  const match = new RegExp(`<tr data-model="${model}">(.*?)</tr>`).exec(html);
  if (!match) throw new Error(`no row for ${model}`);
  return [...match[1]!.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((cell) => cell[1]!.replace(/<[^>]+>/g, ''));
}

describe('the report of a run with several models', () => {
  it('shows each model’s samples, valid rate, registered, new bests, tokens, cost and median latency', async () => {
    const events = [
      { model: 'initial', outcome: 'ok', reason: 'initial program', island: null, score: 1 },
      ...MIXED_EVENTS,
    ];
    const config = {
      llm: {
        models: [
          { provider: 'openai', model: 'gpt-4o-mini', weight: 3 },
          {
            provider: 'gemini',
            model: 'gemini-2.5-pro',
            weight: 1,
            price_per_million_tokens: { input: 2, output: 20 },
          },
        ],
      },
    };
    const html = await renderHtmlReport(await runDir('mixed', events, { 'config.json': config }));

    expect(html).toContain('<section id="models">');
    // model, samples, share, valid rate, registered, new bests, tokens, cost, median latency
    expect(row(html, cheap)).toEqual([
      'openai:gpt-4o-mini',
      '5',
      '71.4 %',
      '50.0 %',
      '2',
      '1',
      '4,000 in · 800 out',
      '$0.0011',
      '975 ms',
    ]);
    expect(row(html, strong)).toEqual([
      'gemini:gemini-2.5-pro',
      '2',
      '28.6 %',
      '100.0 %',
      '1',
      '1',
      '4,000 in · 1,500 out',
      '$0.0380',
      '7.00 s',
    ]);
    expect(html).not.toContain('data-model="initial"');
  });

  it('shows how a UCB selection moved the weights, from summary.json', async () => {
    const weightHistory = Array.from({ length: 40 }, (_, i) => ({
      observations: i * 10,
      weights: i < 2 ? [0.5, 0.5] : [0.2, 0.8],
    }));
    const summary = {
      models: [
        {
          model: cheap,
          samples: 100,
          llmErrors: 0,
          evaluated: 100,
          valid: 40,
          validRate: 0.4,
          registered: 40,
          newBests: 1,
          inputTokens: 1,
          outputTokens: 1,
          costUsd: 0.01,
          medianLatencyMs: 900,
        },
        {
          model: strong,
          samples: 300,
          llmErrors: 0,
          evaluated: 300,
          valid: 210,
          validRate: 0.7,
          registered: 200,
          newBests: 4,
          inputTokens: 1,
          outputTokens: 1,
          costUsd: 0.5,
          medianLatencyMs: 7000,
        },
      ],
      modelSelection: { kind: 'ucb', models: [cheap, strong], weightHistory },
    };
    const html = await renderHtmlReport(
      await runDir('ucb', [{ model: cheap, outcome: 'ok' }], { 'summary.json': summary }),
    );

    expect(row(html, strong).slice(1, 4)).toEqual(['300', '75.0 %', '70.0 %']);
    const weights = /<table id="model-weights">(.*?)<\/table>/.exec(html)![1]!;
    const points = [...weights.matchAll(/<tr data-observations="(\d+)">(.*?)<\/tr>/g)];
    expect(points.length).toBeLessThanOrEqual(12);
    expect(points[0]![1]).toBe('0');
    expect(points.at(-1)![1]).toBe('390');
    expect(points[0]![2]).toContain('50.0 %');
    expect(points.at(-1)![2]).toMatch(/20\.0 %.*80\.0 %/);
    expect(html).toContain('UCB selection');
  });

  it('has no models section for a run with one model', async () => {
    const html = await renderHtmlReport(
      await runDir('single', [
        { model: 'mock:mock', outcome: 'ok' },
        { model: 'mock:mock', outcome: 'crash' },
      ]),
    );
    expect(html).not.toContain('<section id="models">');
  });
});
