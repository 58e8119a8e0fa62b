import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffLines } from '../../src/report/diff.js';
import { escapeHtml, highlightPython } from '../../src/report/highlight.js';
import { changes, chartAssets, jsonForScript } from '../../src/report/html.js';
import { renderHtmlReport } from '../../src/report/index.js';
import { listing, MAX_PROGRAM_LINES } from '../../src/report/model.js';
import { writeSyntheticRun } from './synthetic-run.js';

/** The page budget for a 100 000-sample run, stated in docs/report.md. */
const PAGE_BUDGET_BYTES = 512 * 1024;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'funsearch-report-html-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

describe('highlightPython', () => {
  const code = [
    '@functools.cache',
    'def priority(el: tuple[int, ...], n: int) -> float:',
    '  """Doc with <b> & "quotes".',
    '  over two lines"""',
    '  s = f\'{n}\' + r"\\d"  # a <comment>',
    '  return 1.5e-3 * len(el) if n > 0x1F else None',
  ].join('\n');
  const html = highlightPython(code);

  it('keeps the text exactly, escaped', () => {
    expect(textOf(html)).toBe(code);
    expect(html).not.toContain('<b>');
    expect(html).not.toMatch(/<(?!\/?span)/);
  });

  it('marks keywords, names, strings, comments, numbers and decorators', () => {
    expect(html).toContain('<span class="tok-decorator">@functools.cache</span>');
    expect(html).toContain('<span class="tok-keyword">def</span> <span class="tok-function">priority</span>');
    expect(html).toContain(
      '<span class="tok-string">&quot;&quot;&quot;Doc with &lt;b&gt; &amp; &quot;quotes&quot;.\n  over two lines&quot;&quot;&quot;</span>',
    );
    expect(html).toContain('<span class="tok-comment"># a &lt;comment&gt;</span>');
    expect(html).toContain('<span class="tok-number">1.5e-3</span>');
    expect(html).toContain('<span class="tok-number">0x1F</span>');
    expect(html).toContain('<span class="tok-builtin">len</span>');
    expect(html).toContain('<span class="tok-string">f&#39;{n}&#39;</span>');
    expect(html).toContain('<span class="tok-keyword">None</span>');
  });

  it('survives an unterminated string', () => {
    expect(textOf(highlightPython('x = """never closed\n  y = 1'))).toBe('x = """never closed\n  y = 1');
    expect(escapeHtml('<&>')).toBe('&lt;&amp;&gt;');
  });
});

describe('diffLines', () => {
  it('gives a minimal line diff', () => {
    const before = 'def f():\n  """Doc."""\n  return 0.0\n';
    const after = 'def f():\n  """Doc."""\n  x = 1\n  return x\n';
    expect(diffLines(before, after)).toEqual([
      { op: ' ', text: 'def f():' },
      { op: ' ', text: '  """Doc."""' },
      { op: '-', text: '  return 0.0' },
      { op: '+', text: '  x = 1' },
      { op: '+', text: '  return x' },
    ]);
    expect(diffLines('a', 'a')).toEqual([{ op: ' ', text: 'a' }]);
    expect(diffLines('', 'a\nb')).toEqual([
      { op: '+', text: 'a' },
      { op: '+', text: 'b' },
    ]);
  });
});

describe('page assembly', () => {
  it('encodes step lines as changes and escapes JSON for a script element', () => {
    expect(changes([1, 1, 2, 2, null, null, 3])).toEqual([
      [0, 1],
      [2, 2],
      [4, null],
      [6, 3],
    ]);
    expect(changes([0.1234567891234])).toEqual([[0, 0.12345679]]);
    const json = jsonForScript({ a: '</script><script>alert(1)</script>', b: '\u2028' });
    expect(json).not.toContain('</script');
    expect(JSON.parse(json)).toEqual({ a: '</script><script>alert(1)</script>', b: '\u2028' });
  });

  it('caps program listings', () => {
    const long = Array.from({ length: MAX_PROGRAM_LINES + 25 }, (_, i) => `x${i} = ${i}`).join('\n');
    expect(listing(long)).toMatchObject({ cutLines: 25 });
    expect(listing(long).text.split('\n')).toHaveLength(MAX_PROGRAM_LINES);
    expect(listing('a\nb\n')).toEqual({ text: 'a\nb', cutLines: 0 });
  });

  it('inlines uPlot and loads nothing from elsewhere', async () => {
    const run = await writeSyntheticRun(join(root, 'offline'), { samples: 100 });
    const html = await renderHtmlReport(run.dir);
    const assets = chartAssets();
    expect(assets.script.length).toBeGreaterThan(30_000);
    expect(html).toContain(assets.script.slice(0, 200));
    expect(html).not.toMatch(/<(script|img|iframe|link)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/@import|url\(\s*['"]?https?:/i);
    expect(html.match(/<script/g)).toHaveLength(3);
  });

  it('keeps a hostile program from closing its script or markup', async () => {
    const run = await writeSyntheticRun(join(root, 'hostile'), { samples: 20 });
    const summaryPath = join(run.dir, 'summary.json');
    const hostile =
      'def priority(el, n):\n  return 0  # </script><script>alert(1)</script><img src=x onerror=alert(2)>';
    await writeFile(
      summaryPath,
      JSON.stringify({
        ...run.summary,
        bestProgram: { ...run.summary.bestProgram, program: hostile, function: hostile },
      }),
    );
    const html = await renderHtmlReport(run.dir);
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)');
  });
});

describe('the evaluation cache', () => {
  it('says off when the run had it off', async () => {
    const run = await writeSyntheticRun(join(root, 'cache-off'), { samples: 20 });
    await writeFile(join(run.dir, 'summary.json'), JSON.stringify({ ...run.summary, evalCache: null }));
    expect(await renderHtmlReport(run.dir)).toMatch(/data-field="repeatRate" data-value="">off</);
  });
});

describe('a run before its first summary.json', () => {
  it('counts the headline from events.jsonl and says so', async () => {
    const run = await writeSyntheticRun(join(root, 'early'), {
      samples: 120,
      noSummary: true,
      noCheckpoint: true,
      seed: 8,
    });
    const html = await renderHtmlReport(run.dir);
    const samples = run.kept.filter((e) => e.reason !== 'initial program').length;
    expect(samples).toBe(120);
    expect(html).toContain(`data-field="samples" data-value="120"`);
    const evaluations = run.kept.filter((e) => e.evaluationMs !== undefined).length;
    expect(html).toContain(`data-field="evaluations" data-value="${evaluations}"`);
    const best = Math.max(...run.kept.map((e) => e.score ?? Number.NEGATIVE_INFINITY));
    expect(html).toContain(`data-field="bestScore" data-value="${best}"`);
    expect(html).toContain('summary.json has not been written yet');
    expect(html).toContain('data-field="status">running<');
  });
});

describe('page size for 100 000 samples', () => {
  it(`stays under ${PAGE_BUDGET_BYTES / 1024} KB for a realistic run`, async () => {
    const run = await writeSyntheticRun(join(root, 'large'), {
      samples: 100_000,
      islands: 10,
      resetEvery: 20_000,
      clustersPerIsland: 300,
      msPerSample: 36,
      seed: 6,
    });
    const bytes = Buffer.byteLength(await renderHtmlReport(run.dir));
    console.log(`report.html for a realistic 100 000-sample run: ${(bytes / 1024).toFixed(0)} KB`);
    expect(bytes).toBeLessThan(PAGE_BUDGET_BYTES);
  });

  it(`stays under ${PAGE_BUDGET_BYTES / 1024} KB when every sample is a new best on its island`, async () => {
    const dir = join(root, 'worst');
    await mkdir(dir);
    const start = Date.parse('2026-03-01T10:00:00Z');
    const lines = [
      JSON.stringify({
        time: new Date(start).toISOString(),
        elapsedMs: 0,
        island: null,
        outcome: 'ok',
        score: 0.1,
        registered: true,
        reason: 'initial program',
      }),
    ];
    for (let i = 1; i <= 100_000; i++) {
      const ms = i * 36;
      lines.push(
        JSON.stringify({
          time: new Date(start + ms).toISOString(),
          elapsedMs: ms,
          island: i % 10,
          model: 'm',
          outcome: 'ok',
          score: 0.1 + (i / 100_000) * Math.PI + ((i * 7919) % 1000) * 1e-12,
          registered: true,
          llmLatencyMs: 100 + (i % 900),
          evaluationMs: i % 50,
        }),
      );
    }
    await writeFile(join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
    const bytes = Buffer.byteLength(await renderHtmlReport(dir));
    console.log(
      `report.html when every one of 100 000 samples is a new best: ${(bytes / 1024).toFixed(0)} KB`,
    );
    expect(bytes).toBeLessThan(PAGE_BUDGET_BYTES);
  });
});
