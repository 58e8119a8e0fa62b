import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../../src/commands/report.js';
import { UserError } from '../../src/errors.js';
import { writeHtmlReport } from '../../src/report/index.js';
import { writeSyntheticRun } from './synthetic-run.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'funsearch-report-command-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('reportCommand', () => {
  it('writes report.html into the run directory and says where', async () => {
    const run = await writeSyntheticRun(join(root, 'run'), { samples: 60 });
    const lines: string[] = [];
    const path = await reportCommand({ runDir: run.dir, log: (line) => lines.push(line) });
    expect(path).toBe(join(run.dir, 'report.html'));
    const html = await readFile(path, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('FunSearch run: cap_set.py');
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^wrote ${path} \\(\\d+ KB\\)$`))]);
    // Written atomically: no temporary file is left beside it.
    expect((await readdir(run.dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('writes to -o FILE instead', async () => {
    const run = await writeSyntheticRun(join(root, 'run-o'), { samples: 10 });
    const output = join(root, 'elsewhere.html');
    expect(await reportCommand({ runDir: run.dir, output, log: () => {} })).toBe(output);
    expect(await readFile(output, 'utf8')).toContain('<title>FunSearch run: cap_set.py</title>');
    expect((await readdir(run.dir)).includes('report.html')).toBe(false);
  });

  it('fails as a user error for a directory that is not a run, or an output it cannot write', async () => {
    const notRun = join(root, 'not-a-run');
    await mkdir(notRun);
    await expect(reportCommand({ runDir: notRun, log: () => {} })).rejects.toThrow(UserError);
    const run = await writeSyntheticRun(join(root, 'run-bad-o'), { samples: 10 });
    const error = await reportCommand({
      runDir: run.dir,
      output: join(root, 'no', 'such', 'dir', 'r.html'),
      log: () => {},
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain('cannot write the report (ENOENT)');
  });

  it('writeHtmlReport rewrites the page as the run goes on', async () => {
    const run = await writeSyntheticRun(join(root, 'live'), { samples: 30, status: 'running' });
    const path = await writeHtmlReport(run.dir);
    const first = await readFile(path, 'utf8');
    await writeSyntheticRun(run.dir, { samples: 90, status: 'finished' });
    await writeHtmlReport(run.dir);
    const second = await readFile(path, 'utf8');
    expect(first).toContain('data-field="samples" data-value="30"');
    expect(second).toContain('data-field="samples" data-value="90"');
    expect(second).toContain('status-finished');
  });
});
