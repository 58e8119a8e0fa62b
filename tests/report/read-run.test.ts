import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { readEvents, readRun } from '../../src/report/read-run.js';
import { writeSyntheticRun } from './synthetic-run.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'funsearch-report-read-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({
    time: new Date(Date.parse('2026-01-01T00:00:00Z') + (fields.elapsedMs as number)).toISOString(),
    island: 0,
    model: 'm',
    ...fields,
  });

describe('readRun', () => {
  it('reads a finished run with every event', async () => {
    const run = await writeSyntheticRun(join(root, 'finished'), { samples: 300, seed: 1 });
    const data = await readRun(run.dir);
    expect(data.summary?.samples).toBe(300);
    expect(data.events).toHaveLength(301);
    expect(data.events[0]!.initial).toBe(true);
    expect(data.events.filter((e) => e.initial)).toHaveLength(1);
    expect(data.eventLog).toMatchObject({
      partialLastLine: false,
      corruptLines: 0,
      superseded: 0,
      sessionStarts: [],
    });
    expect(data.eventsAfterSummary).toBe(0);
    expect(data.checkpoint?.database?.functionToEvolve).toBe('priority');
    expect(data.warnings).toEqual([]);
  });

  it('skips a half-written last line and counts events written after summary.json', async () => {
    const run = await writeSyntheticRun(join(root, 'running'), {
      samples: 200,
      eventsAfterSummary: 25,
      partialLastLine: true,
      status: 'running',
    });
    const data = await readRun(run.dir);
    expect(data.events).toHaveLength(run.kept.length);
    expect(data.eventLog.partialLastLine).toBe(true);
    expect(data.eventLog.corruptLines).toBe(0);
    expect(data.eventsAfterSummary).toBe(25);
    // The half line carried a score of 99; it must not reach the charts.
    expect(data.events.some((e) => e.score === 99)).toBe(false);
  });

  it('drops the events a resume superseded and keeps run time going forward', async () => {
    const run = await writeSyntheticRun(join(root, 'resumed'), {
      samples: 600,
      resumes: [
        { atSample: 200, lost: 30 },
        { atSample: 450, lost: 5 },
      ],
    });
    const data = await readRun(run.dir);
    expect(run.superseded).toBe(35);
    expect(data.eventLog.superseded).toBe(35);
    expect(data.eventLog.sessionStarts).toEqual([200, 450]);
    expect(data.events).toHaveLength(run.kept.length);
    for (let i = 1; i < data.events.length; i++) {
      expect(data.events[i]!.elapsedMs).toBeGreaterThanOrEqual(data.events[i - 1]!.elapsedMs);
    }
    expect(data.warnings.join(' ')).toContain(
      '35 event(s) of a session that stopped after its last checkpoint',
    );
  });

  it('finds a resume that lost nothing by the wall-clock gap', async () => {
    const dir = join(root, 'clean-resume');
    await mkdir(dir);
    const lines = [
      line({
        elapsedMs: 0,
        island: null,
        outcome: 'ok',
        score: 1,
        registered: true,
        reason: 'initial program',
      }),
      line({ elapsedMs: 1000, outcome: 'crash' }),
      // Same run time as where the first session stopped, an hour later on the wall clock.
      JSON.stringify({
        time: '2026-01-01T01:00:02.000Z',
        elapsedMs: 1100,
        island: 1,
        model: 'm',
        outcome: 'ok',
        score: 2,
      }),
    ];
    await writeFile(join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
    const { events, info } = await readEvents(join(dir, 'events.jsonl'));
    expect(events).toHaveLength(3);
    expect(info.sessionStarts).toEqual([2]);
    expect(info.superseded).toBe(0);
  });

  it('skips a line broken by a crash mid-write that the next session appended to', async () => {
    const dir = join(root, 'corrupt');
    await mkdir(dir);
    const whole = line({ elapsedMs: 500, outcome: 'timeout' });
    await writeFile(
      join(dir, 'events.jsonl'),
      `${line({ elapsedMs: 0, outcome: 'ok' })}\n${whole.slice(0, 30)}${line({ elapsedMs: 400, outcome: 'ok' })}\n${line({ elapsedMs: 450, outcome: 'crash' })}\n`,
    );
    const data = await readRun(dir);
    expect(data.events.map((e) => e.outcome)).toEqual(['ok', 'crash']);
    expect(data.eventLog.corruptLines).toBe(1);
    expect(data.eventLog.partialLastLine).toBe(false);
    expect(data.warnings.join(' ')).toContain('1 line(s) are not valid events');
  });

  it('reports an unreadable summary.json as a warning, not an error', async () => {
    const run = await writeSyntheticRun(join(root, 'bad-summary'), { samples: 50 });
    await writeFile(join(run.dir, 'summary.json'), '{"bestScore": 3,');
    const data = await readRun(run.dir);
    expect(data.summary).toBeNull();
    expect(data.warnings.join(' ')).toContain('summary.json: not valid JSON');
    expect(data.events).toHaveLength(51);
  });

  it('refuses a directory that is not a run', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty);
    await expect(readRun(empty)).rejects.toThrow(UserError);
    await expect(readRun(empty)).rejects.toThrow(/not a run directory/);
    await expect(readRun(join(root, 'missing'))).rejects.toThrow(/not a run directory \(ENOENT\)/);
  });

  it('reads an event log that is still growing between two reads', async () => {
    const run = await writeSyntheticRun(join(root, 'growing'), { samples: 40 });
    const first = await readRun(run.dir);
    await appendFile(
      join(run.dir, 'events.jsonl'),
      `${line({ elapsedMs: 10_000_000, outcome: 'ok', score: 1 })}\n{"time":`,
    );
    const second = await readRun(run.dir);
    expect(second.events).toHaveLength(first.events.length + 1);
    expect(second.eventLog.partialLastLine).toBe(true);
  });
});
