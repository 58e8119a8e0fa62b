import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config.js';
import { ProgramsDatabase } from '../../src/database/programs-database.js';
import { Random } from '../../src/random.js';
import { progressLine, statusLines, TerminalStatus } from '../../src/run/progress.js';
import { emptyStats } from '../../src/run/stats.js';
import { parseSpec } from '../../src/spec/parse.js';
import { initParser } from '../../src/spec/parser.js';

beforeAll(async () => {
  await initParser();
});

function source() {
  const config = parseConfig({
    num_samplers: 2,
    total_llm_samples: 10,
    budget: { duration: 100 },
    programs_database: { num_islands: 3 },
  });
  const spec = parseSpec(
    '@funsearch.run\ndef evaluate(n):\n  return priority(n)\n\n@funsearch.evolve\ndef priority(n):\n  return 0.0\n',
    's.py',
  );
  const database = new ProgramsDatabase({
    config: config.programs_database,
    template: spec.program,
    functionToEvolve: 'priority',
    random: new Random(1),
    clock: new ManualClock(),
  });
  database.registerInitial(spec.program.getFunction('priority'), new Map([['3', 8]]));
  const stats = emptyStats(2);
  Object.assign(stats, {
    prompts: 5,
    samplesOk: 18,
    samplesFailed: 2,
    evaluations: 16,
    registered: 9,
    elapsedMs: 3_725_000,
    llmLatencyTotalMs: 18 * 1500,
  });
  stats.outcomes = { ok: 9, timeout: 4, crash: 3 };
  return { config, stats, database };
}

describe('the status', () => {
  it('shows samples, outcomes, best scores, latency, rate, budget and elapsed time', () => {
    const lines = statusLines(source());
    expect(lines[0]).toContain('1:02:05');
    expect(lines[0]).toContain('best 8');
    expect(lines[0]).toContain('samples 20 (ok 18, failed 2)');
    expect(lines[0]).toContain('LLM latency 1.50 s');
    expect(lines[1]).toContain('evaluations 16 (0.00/s): ok 9, timeout 4, crash 3');
    expect(lines[1]).toContain('repeats 0 (0%, 0.0 s sandbox time saved)');
    expect(lines[2]).toBe('islands best: 8 8 8');
    // 5 of 2 x 10 prompts; 3725 of 100 seconds is capped at 100%.
    expect(lines[3]).toBe('budget: total_llm_samples 25%, duration 100%');
    expect(progressLine(source())).toBe(lines.join(' | '));
  });

  it('shows the repeats the evaluation cache reused and the sandbox time they saved, or that it is off', () => {
    const withRepeats = source();
    Object.assign(withRepeats.stats, { sandboxRuns: 9, cacheHits: 3, sandboxMsSaved: 4_250 });
    expect(statusLines(withRepeats)[1]).toMatch(
      /registered \d+ {2}repeats 3 \(25%, 4\.3 s sandbox time saved\)$/,
    );
    const off = source();
    off.config = parseConfig({ ...off.config, eval_cache: { enabled: false } });
    expect(statusLines(off)[1]).toMatch(/ {2}eval cache off$/);
  });

  it('is redrawn in place on a terminal, with log lines above it', () => {
    const out = new PassThrough();
    let written = '';
    out.on('data', (chunk: Buffer) => {
      written += chunk.toString();
    });
    const status = new TerminalStatus(
      Object.assign(out, { columns: 80, isTTY: true }) as unknown as NodeJS.WriteStream,
    );
    status.draw(['a', 'b']);
    status.draw(['c', 'd']);
    status.log('log line');
    expect(written).toBe('a\nb\n\x1b[2A\x1b[0Jc\nd\n\x1b[2A\x1b[0Jlog line\n');
  });
});
